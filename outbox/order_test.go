package outbox_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	ap "github.com/go-ap/activitypub"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fedi-go/fedi/outbox"
	"github.com/fedi-go/fedi/vocab"
)

// failFirst answers 503 to the first POST of an activity of type typ,
// and 202 to everything else.
func failFirst(typ string) func(post) (int, http.Header) {
	var mu sync.Mutex
	failed := map[string]bool{}
	return func(r post) (int, http.Header) {
		mu.Lock()
		defer mu.Unlock()
		if r.Type == typ && !failed[r.Path] {
			failed[r.Path] = true
			return http.StatusServiceUnavailable, nil
		}
		return http.StatusAccepted, nil
	}
}

// run runs w until the test ends.
func (e *env) run(w *outbox.Worker) {
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan struct{})
	go func() { _ = w.Run(ctx); close(done) }()
	e.t.Cleanup(func() { cancel(); <-done })
}

// typesAt returns the types of the activities POSTed to path, with the
// status each got, in the order they arrived.
func typesAt(p *peer, path string) []string {
	var out []string
	for _, r := range p.postsTo(path) {
		out = append(out, r.Type+" "+http.StatusText(r.Status))
	}
	return out
}

// TestDeleteNeverOvertakesItsCreate: a Delete sent right after its
// Create reaches no inbox before the Create, even when the Create's first
// attempt fails and waits for its retry; an inbox where the Create went
// through at once gets the Delete at once.
func TestDeleteNeverOvertakesItsCreate(t *testing.T) {
	e := newEnv(t)
	alice := e.user("alice")
	slow, fine := newPeer(t), newPeer(t)
	slow.setRespond(failFirst("Create"))
	bob, carol := slow.actor("bob", true), fine.actor("carol", true)
	e.run(e.worker(outbox.WorkerOptions{Poll: 10 * time.Millisecond,
		Retry: outbox.RetryPolicy{Backoff: func(int) time.Duration { return 300 * time.Millisecond }}}))

	create := note(alice, ap.IRI(bob), ap.IRI(carol))
	e.send(create)
	e.send(vocab.NewActivity("Delete", "", ap.IRI(alice), vocab.IRIOf(create.Object)))

	require.Eventually(t, func() bool { return len(slow.posts()) == 3 && len(fine.posts()) == 2 }, 10*time.Second, 5*time.Millisecond)
	assert.Equal(t, []string{"Create Service Unavailable", "Create Accepted", "Delete Accepted"}, typesAt(slow, "/inbox"))
	assert.Equal(t, []string{"Create Accepted", "Delete Accepted"}, typesAt(fine, "/inbox"))
	f := fine.posts()
	s := slow.posts()
	assert.True(t, f[1].At.Before(s[1].At), "the Delete did not wait for the other inbox's retry")
}

// TestUndoNeverOvertakesWhatItUndoes: an Undo sent right after its
// Follow, or its Like, reaches the inbox after it, even when the first
// attempt fails.
func TestUndoNeverOvertakesWhatItUndoes(t *testing.T) {
	for _, typ := range []string{"Follow", "Like"} {
		t.Run(typ, func(t *testing.T) {
			e := newEnv(t)
			alice := e.user("alice")
			p := newPeer(t)
			p.setRespond(failFirst(typ))
			bob := p.actor("bob", true)
			e.run(e.worker(outbox.WorkerOptions{Poll: 10 * time.Millisecond,
				Retry: outbox.RetryPolicy{Backoff: func(int) time.Duration { return 300 * time.Millisecond }}}))

			var act *vocab.Activity
			if typ == "Follow" {
				act = vocab.NewActivity("Follow", "", ap.IRI(alice), ap.IRI(bob))
			} else {
				act = vocab.NewActivity("Like", "", ap.IRI(alice), ap.IRI(p.URL+"/notes/1"))
				act.To = ap.ItemCollection{ap.IRI(bob)}
			}
			id := e.send(act)
			e.send(vocab.NewActivity("Undo", "", ap.IRI(alice), ap.IRI(id)))

			require.Eventually(t, func() bool { return len(p.posts()) == 3 }, 10*time.Second, 5*time.Millisecond)
			assert.Equal(t, []string{typ + " Service Unavailable", typ + " Accepted", "Undo Accepted"}, typesAt(p, "/inbox"))
		})
	}
}

// TestAnnounceOrderedByWhatItIsAbout: a relay's or a community's
// Announce of an embedded Update is ordered by the Update's object, as
// the Announce of its Create was, so that it never overtakes it.
func TestAnnounceOrderedByWhatItIsAbout(t *testing.T) {
	e := newEnv(t)
	alice := e.user("alice")
	note := ap.IRI(alice + "/note/1")
	up := vocab.NewActivity("Update", ap.IRI(alice+"/update/1"), ap.IRI(alice), vocab.NewObject("Note", note))
	ann := vocab.NewActivity("Announce", "", ap.IRI(alice), up)
	ann.To = ap.ItemCollection{vocab.PublicIRI}
	_, err := e.out.Send(e.ctx, ann)
	require.NoError(t, err)
	ds, err := e.mem.Queue.Lease(e.ctx, 10, time.Minute)
	require.NoError(t, err)
	require.Len(t, ds, 1)
	assert.Equal(t, string(note), ds[0].OrderingKey)
}
