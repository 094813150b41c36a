package communecter_test

import (
	"context"
	"sync"
	"testing"

	ap "github.com/go-ap/activitypub"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fedi-go/fedi"
	"github.com/fedi-go/fedi/behaviour/communecter"
	"github.com/fedi-go/fedi/inbox"
	"github.com/fedi-go/fedi/internal/fedtest"
	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/vocab"
)

// TestStacked: the rules Communecter shares patterns with (Gathio's
// answers to Invites of events, Mobilizon's Joins and Leaves, other
// Invites and Offers) get what is not about a project, an organization
// or a badge.
func TestStacked(t *testing.T) {
	ctx := context.Background()
	var (
		mu  sync.Mutex
		got []string
	)
	below := func(pattern string) inbox.Rule[vocab.Item] {
		return inbox.Rule[vocab.Item]{Doc: "the rule below", Apply: func(ctx context.Context, a *inbox.Activity, _ vocab.Item) error {
			mu.Lock()
			got = append(got, pattern)
			mu.Unlock()
			return nil
		}}
	}
	patterns := []string{"Join", "Leave", "Invite", "Offer", "Accept Invite", "Reject Invite", "Accept Offer", "Accept Join"}
	w := &world{}
	w.srv = fedtest.New(t, fedtest.Config{Setup: func(f *fedi.Federation) {
		for _, p := range patterns {
			inbox.Handle(f.Mux, p, below(p))
		}
		o := communecter.Options{Outbox: f.Outbox, Store: f.Store, Actors: f.LocalActors}
		communecter.Register(f.Mux, o)
		var err error
		w.c, err = communecter.New(o)
		require.NoError(t, err)
	}})
	w.alice = w.srv.User(t, "alice")
	w.rem = fedtest.NewRemote(t)
	w.bob = w.rem.Actor(t, "bob", 0)

	// Both rules are listed, for FEDERATION.md.
	n := map[string]int{}
	for _, r := range w.srv.Mux.Routes() {
		n[r.Pattern]++
		assert.NotEmpty(t, r.Doc)
	}
	for _, p := range patterns {
		assert.Equal(t, 2, n[p], p)
	}

	// An event of alice's, and her Invite of bob to it, as Gathio sends
	// them.
	ev := w.alice.IRI + "/event/1"
	require.NoError(t, w.srv.Store.Objects.Put(ctx, storage.Object{IRI: ev, Type: "Event", Owner: w.alice.IRI,
		Data: []byte(`{"id":"` + ev + `","type":"Event","name":"Picnic","attributedTo":"` + w.alice.IRI + `"}`)}))
	inv, err := w.srv.Send(ctx, func() *vocab.Activity {
		a := vocab.NewActivity("Invite", "", ap.IRI(w.alice.IRI), ap.IRI(w.bob))
		a.Target = ap.IRI(ev)
		return a
	}())
	require.NoError(t, err)
	remoteEvent := w.bob + "/events/1"
	w.rem.Put(t, remoteEvent, `{"id":"`+remoteEvent+`","type":"Event","name":"Meetup","attributedTo":"`+w.bob+`"}`)
	note := w.bob + "/notes/1"

	posts := []struct {
		pattern string
		body    []byte
	}{
		{"Accept Invite", fedtest.JSON(`{"id":%q,"type":"Accept","actor":%q,"object":%q}`, w.bob+"/accept/1", w.bob, inv)},
		{"Reject Invite", fedtest.JSON(`{"id":%q,"type":"Reject","actor":%q,"object":%q}`, w.bob+"/reject/1", w.bob, inv)},
		{"Join", fedtest.JSON(`{"id":%q,"type":"Join","actor":%q,"object":%q,"target":%q,"to":[%q]}`, w.bob+"/join/1", w.bob, w.bob, remoteEvent, w.alice.IRI)},
		{"Leave", fedtest.JSON(`{"id":%q,"type":"Leave","actor":%q,"object":%q,"target":%q,"to":[%q]}`, w.bob+"/leave/1", w.bob, w.bob, remoteEvent, w.alice.IRI)},
		// Mobilizon's invitation to a group: the group as object, the
		// invitee as target.
		{"Invite", fedtest.JSON(`{"id":%q,"type":"Invite","actor":%q,"object":%q,"target":%q}`, w.bob+"/invite/1", w.bob, w.bob, w.alice.IRI)},
		{"Invite", fedtest.JSON(`{"id":%q,"type":"Invite","actor":%q,"object":%q,"target":%q}`, w.bob+"/invite/2", w.bob, w.alice.IRI, remoteEvent)},
		{"Offer", fedtest.JSON(`{"id":%q,"type":"Offer","actor":%q,"object":%q,"target":%q}`, w.bob+"/offer/1", w.bob, note, w.alice.IRI)},
	}
	for _, p := range posts {
		status, msg := fedtest.Do(t, w.rem.Signed(t, w.bob, w.alice.IRI+"/inbox", p.body))
		require.Equal(t, 202, status, "%s: %s", p.pattern, msg)
	}
	want := make([]string, len(posts))
	for i, p := range posts {
		want[i] = p.pattern
	}
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, want, got)
}
