package inbox_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fedi-go/fedi"
	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/inbox"
	"github.com/fedi-go/fedi/internal/fedtest"
	"github.com/fedi-go/fedi/storage"
)

// TestInboxStorageFailure: storage fails midway through a Follow's
// effects: the answer is 500, nothing is applied (no follower, no
// Accept, no dedupe record), and the sender's retry is processed in
// full.
func TestInboxStorageFailure(t *testing.T) {
	w := newWorld(t, fedi.Options{})
	follow := fedtest.JSON(`{"id":%q,"type":"Follow","actor":%q,"object":%q}`, w.bob+"/follow/1", w.bob, w.alice.IRI)
	followers := w.srv.Scheme.Collection(w.alice.IRI, actor.Followers)
	for n := 1; n <= 4; n++ {
		t.Run(fmt.Sprintf("write %d fails", n), func(t *testing.T) {
			before := w.count.State()
			w.count.FailAt(n)
			status, msg := w.post(t, w.bob, w.inbox(), follow)
			w.count.FailAt(0)
			assert.Equal(t, http.StatusInternalServerError, status, msg)
			assert.Equal(t, before, w.count.State(), "nothing of the Follow was applied")
			_, err := w.srv.Store.Collections.Contains(context.Background(), followers, w.bob)
			assert.ErrorIs(t, err, storage.ErrNotFound)
			stats, err := w.srv.Store.Queue.Stats(context.Background())
			require.NoError(t, err)
			assert.Zero(t, stats.Ready, "no Accept enqueued")
		})
	}
	// The retry goes through.
	status, msg := w.post(t, w.bob, w.inbox(), follow)
	require.Equal(t, http.StatusAccepted, status, msg)
	m, err := w.srv.Store.Collections.Contains(context.Background(), followers, w.bob)
	require.NoError(t, err)
	assert.Equal(t, storage.Accepted, m.State)
}

// TestInboxReplayWithoutID: an activity without id is deduplicated by
// its bytes, so that a replay within the signature's window has no
// second effect.
func TestInboxReplayWithoutID(t *testing.T) {
	w := newWorld(t, fedi.Options{})
	w.localNote(t, "liked")
	like := fedtest.JSON(`{"type":"Like","actor":%q,"object":%q}`, w.bob, w.alice.IRI+"/note/liked")
	req := w.rem.Signed(t, w.bob, w.inbox(), like)
	status, msg := fedtest.Do(t, req)
	require.Equal(t, http.StatusAccepted, status, msg)
	after := w.count.State()
	// The very same request, signature and all, replayed.
	replay := w.rem.Signed(t, w.bob, w.inbox(), like)
	replay.Header = req.Header.Clone()
	status, msg = fedtest.Do(t, replay)
	require.Equal(t, http.StatusAccepted, status, msg)
	assert.Equal(t, after, w.count.State(), "the replay had no effect")
}

// TestInboxBlocked: the block hook refuses an actor or a whole domain
// before anything is done.
func TestInboxBlocked(t *testing.T) {
	var w *world
	w = newWorld(t, fedi.Options{Blocked: func(_ context.Context, iri string) (bool, error) {
		return iri == w.eve || actor.Origin(iri) == w.other.URL, nil
	}})
	before := w.count.State()
	status, msg := w.post(t, w.eve, w.inbox(), create(w.eve+"/create/1", w.eve, note(w.eve+"/notes/1", w.eve, "x")))
	assert.Equal(t, http.StatusForbidden, status)
	assert.Contains(t, msg, "blocked")
	status, _ = w.post(t, w.carol, w.inbox(), create(w.carol+"/create/1", w.carol, note(w.carol+"/notes/1", w.carol, "x")))
	assert.Equal(t, http.StatusForbidden, status, "a blocked domain")
	assert.Equal(t, before, w.count.State())
	status, msg = w.post(t, w.bob, w.inbox(), create(w.bob+"/create/1", w.bob, note(w.bob+"/notes/1", w.bob, "x")))
	assert.Equal(t, http.StatusAccepted, status, msg)
}

// TestInboxSlowBody: a client that sends its body a byte at a time is
// cut off once BodyTimeout has passed, rather than holding the handler.
func TestInboxSlowBody(t *testing.T) {
	w := newWorld(t, fedi.Options{Inbox: inbox.Options{BodyTimeout: 300 * time.Millisecond}})
	conn, err := net.Dial("tcp", strings.TrimPrefix(w.srv.URL, "http://"))
	require.NoError(t, err)
	defer conn.Close()
	_, err = fmt.Fprintf(conn, "POST /users/alice/inbox HTTP/1.1\r\nHost: %s\r\nContent-Type: application/activity+json\r\nContent-Length: 1000\r\n\r\n{", strings.TrimPrefix(w.srv.URL, "http://"))
	require.NoError(t, err)
	start := time.Now()
	done := make(chan *http.Response, 1)
	go func() {
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err == nil {
			done <- resp
		}
		close(done)
	}()
	// Trickle a byte every 50 ms for up to 5 s.
	ticker := time.NewTicker(50 * time.Millisecond)
	defer ticker.Stop()
	for {
		select {
		case resp := <-done:
			elapsed := time.Since(start)
			require.NotNil(t, resp, "the connection was closed without an answer")
			assert.Equal(t, http.StatusRequestTimeout, resp.StatusCode)
			assert.Less(t, elapsed, 3*time.Second, "the slow body was cut off")
			return
		case <-ticker.C:
			if time.Since(start) > 5*time.Second {
				t.Fatal("a body trickled for 5 s is still being read")
			}
			if _, err := conn.Write([]byte(" ")); err != nil && !errors.Is(err, net.ErrClosed) {
				// The server closed the connection: wait for the answer.
				continue
			}
		}
	}
}

// TestInboxSharedRouting: a shared-inbox delivery reaches each local
// actor it addresses, once, and a delivery addressed to none is applied
// once for the server.
func TestInboxSharedRouting(t *testing.T) {
	w := newWorld(t, fedi.Options{})
	carl := w.srv.User(t, "carl")
	body := fedtest.JSON(`{"id":%q,"type":"Create","actor":%q,"to":[%q,%q],"cc":[%q],"object":%s}`,
		w.bob+"/create/dm", w.bob, w.alice.IRI, carl.IRI, w.alice.IRI, note(w.bob+"/notes/dm", w.bob, "hi both"))
	status, msg := w.post(t, w.bob, w.shared(), body)
	require.Equal(t, http.StatusAccepted, status, msg)
	assert.Contains(t, msg, "2 recipient")
	for _, who := range []string{w.alice.IRI, carl.IRI} {
		_, err := w.srv.Store.Collections.Contains(context.Background(), w.srv.Scheme.Collection(who, actor.Inbox), w.bob+"/create/dm")
		assert.NoError(t, err, "in the inbox of %s", who)
	}

	public := create(w.bob+"/create/public", w.bob, note(w.bob+"/notes/public", w.bob, "to the world"))
	status, msg = w.post(t, w.bob, w.shared(), public)
	require.Equal(t, http.StatusAccepted, status, msg)
	assert.Contains(t, msg, "1 recipient")
	_, ok := w.stored(t, w.bob+"/notes/public")
	assert.True(t, ok, "a public note addressed to no local actor is still applied, for the server")
}

// TestInboxGoneActorDelete: an actor that deleted itself has a server
// answering 410 for it, so its key cannot be fetched; its Delete of
// itself is accepted all the same, as Mastodon does, and it leaves our
// collections. A Delete of an actor that is not gone stays unverified.
func TestInboxGoneActorDelete(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, fedi.Options{})
	follow := fedtest.JSON(`{"id":%q,"type":"Follow","actor":%q,"object":%q}`, w.bob+"/follow/1", w.bob, w.alice.IRI)
	status, msg := w.post(t, w.bob, w.inbox(), follow)
	require.Equal(t, http.StatusAccepted, status, msg)
	followers := w.srv.Scheme.Collection(w.alice.IRI, actor.Followers)
	_, err := w.srv.Store.Collections.Contains(ctx, followers, w.bob)
	require.NoError(t, err)

	// Eve, whose key is not cached, is not gone: her unverifiable
	// "Delete" of herself is refused.
	w.rem.Put(t, w.eve, `{"id":"x"}`)
	del := fedtest.JSON(`{"id":%q,"type":"Delete","actor":%q,"object":%q}`, w.eve+"#delete", w.eve, w.eve)
	status, _ = w.post(t, w.eve, w.inbox(), del)
	assert.Equal(t, http.StatusUnauthorized, status)

	// Bob is gone: a fresh resolver cannot fetch his key, and a Delete
	// of himself is accepted.
	w.rem.Gone(w.bob)
	w.srv.Keys.Forget(w.bob + "#main-key")
	del = fedtest.JSON(`{"id":%q,"type":"Delete","actor":%q,"object":%q}`, w.bob+"#delete", w.bob, w.bob)
	status, msg = w.post(t, w.bob, w.inbox(), del)
	require.Equal(t, http.StatusAccepted, status, msg)
	_, err = w.srv.Store.Collections.Contains(ctx, followers, w.bob)
	assert.ErrorIs(t, err, storage.ErrNotFound, "the gone actor left alice's followers")
	ra, err := w.srv.Store.Actors.Get(ctx, w.bob)
	require.NoError(t, err)
	assert.False(t, ra.Gone.IsZero(), "cached as gone")
}
