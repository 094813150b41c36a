package mobilizon_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	ap "github.com/go-ap/activitypub"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fedi-go/fedi"
	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/behaviour/mobilizon"
	"github.com/fedi-go/fedi/internal/fedtest"
	"github.com/fedi-go/fedi/internal/mobilizontest"
	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/vocab"
	vmz "github.com/fedi-go/fedi/vocab/mobilizon"
)

// received returns the documents r received, in order, since skip.
func received(t *testing.T, r *fedtest.Remote, skip int) []map[string]any {
	t.Helper()
	var out []map[string]any
	for i, b := range r.Received["/inbox"] {
		if i < skip {
			continue
		}
		var m map[string]any
		require.NoError(t, json.Unmarshal(b, &m))
		out = append(out, m)
	}
	return out
}

// TestRelay: instances follow relay@host; it announces every public
// Create, Update and Delete of local content to them, and the Update and
// Delete of what it announced reach every instance it announced it to,
// even one that has unfollowed since.
func TestRelay(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	other := fedtest.NewRemote(t)
	carol := other.Actor(t, "carol", 2) // another instance's relay
	followers := w.Srv.Scheme.Collection(w.relay, actor.Followers)

	follow := func(r *fedtest.Remote, who string) []byte {
		return fedtest.JSON(`{"@context":"https://www.w3.org/ns/activitystreams","id":%q,"type":"Follow","actor":%q,"object":%q}`, who+"/follow/relay", who, w.relay)
	}
	status, msg := w.Post(t, w.Bob, w.Inbox(w.relay), follow(w.Rem, w.Bob))
	mobilizontest.Status(t, http.StatusAccepted, status, msg)
	status, msg = fedtest.Do(t, other.Signed(t, carol, w.Inbox(w.relay), follow(other, carol)))
	mobilizontest.Status(t, http.StatusAccepted, status, msg)
	for _, who := range []string{w.Bob, carol} {
		_, ok := w.Member(t, followers, who)
		require.True(t, ok, "%s follows the relay", who)
	}
	accepts := w.Received(t, "Accept")
	require.Len(t, accepts, 1, "the relay accepts")
	assert.Equal(t, w.relay, accepts[0]["actor"])
	seenBob, seenCarol := len(w.Rem.Received["/inbox"]), len(other.Received["/inbox"])

	ev := w.event(t, vmz.JoinFree, 0)
	w.Srv.Drain(t)
	for _, got := range [][]map[string]any{received(t, w.Rem, seenBob), received(t, other, seenCarol)} {
		require.Len(t, got, 1)
		assert.Equal(t, "Announce", got[0]["type"])
		assert.Equal(t, w.relay, got[0]["actor"])
		assert.Equal(t, ev, got[0]["object"], "the created event, by IRI")
	}
	relayed := w.Srv.Scheme.Collection(ev, mobilizon.Relayed)
	for _, who := range []string{w.Bob, carol} {
		_, ok := w.Member(t, relayed, who)
		assert.True(t, ok, "the share to %s is recorded", who)
	}
	_, shared := w.Member(t, w.Srv.Scheme.Collection(ev, actor.Shares), w.relay)
	assert.True(t, shared, "the relay is among the event's shares")
	seenBob, seenCarol = len(w.Rem.Received["/inbox"]), len(other.Received["/inbox"])

	// carol's instance unsubscribes (Undo{Follow}, core's).
	undo := fedtest.JSON(`{"@context":"https://www.w3.org/ns/activitystreams","id":%q,"type":"Undo","actor":%q,"object":{"id":%q,"type":"Follow","actor":%q,"object":%q}}`,
		carol+"/undo/1", carol, carol+"/follow/relay", carol, w.relay)
	status, msg = fedtest.Do(t, other.Signed(t, carol, w.Inbox(w.relay), undo))
	mobilizontest.Status(t, http.StatusAccepted, status, msg)
	_, ok := w.Member(t, followers, carol)
	require.False(t, ok, "carol's instance no longer follows the relay")

	doc := w.stored(t, ev)
	doc.Name = vocab.Text("Picnic, moved indoors")
	_, err := mobilizon.UpdateEvent(ctx, w.d, w.alice.IRI, doc)
	require.NoError(t, err)
	w.Srv.Drain(t)
	for _, got := range [][]map[string]any{received(t, w.Rem, seenBob), received(t, other, seenCarol)} {
		require.Len(t, got, 1, "the Update reaches every instance the event was announced to")
		assert.Equal(t, "Announce", got[0]["type"])
		inner, _ := got[0]["object"].(map[string]any)
		require.NotNil(t, inner)
		assert.Equal(t, "Update", inner["type"])
		assert.NotContains(t, got[0], "bcc")
	}
	seenBob, seenCarol = len(w.Rem.Received["/inbox"]), len(other.Received["/inbox"])

	del := vocab.NewActivity("Delete", "", ap.IRI(w.alice.IRI), ap.IRI(ev))
	del.To = ap.ItemCollection{ap.IRI(w.Srv.Scheme.Collection(w.alice.IRI, actor.Followers))}
	_, err = w.Srv.Outbox.Send(ctx, del)
	require.NoError(t, err)
	w.Srv.Drain(t)
	for _, got := range [][]map[string]any{received(t, w.Rem, seenBob), received(t, other, seenCarol)} {
		require.Len(t, got, 1, "the Delete, not public, still reaches every instance the event was announced to")
		inner, _ := got[0]["object"].(map[string]any)
		require.NotNil(t, inner)
		assert.Equal(t, "Delete", inner["type"])
	}
}

// TestRelayLeavesAlone: what is not public local content is not
// announced: a post to followers only, an actor's own Update, the
// relay's own activities, answers.
func TestRelayLeavesAlone(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	status, msg := w.Post(t, w.Bob, w.Inbox(w.relay), fedtest.JSON(`{"@context":"https://www.w3.org/ns/activitystreams","id":%q,"type":"Follow","actor":%q,"object":%q}`, w.Bob+"/follow/1", w.Bob, w.relay))
	mobilizontest.Status(t, http.StatusAccepted, status, msg)
	w.Srv.Drain(t)

	note := vocab.NewObject("Note", "")
	note.Content = vocab.Text("for my followers")
	create := vocab.NewActivity("Create", "", ap.IRI(w.alice.IRI), note)
	create.To = ap.ItemCollection{ap.IRI(w.Srv.Scheme.Collection(w.alice.IRI, actor.Followers))}
	_, err := w.Srv.Outbox.Send(ctx, create)
	require.NoError(t, err)
	profile, err := actor.Document(ctx, w.Srv.Scheme, nil, w.alice)
	require.NoError(t, err)
	update := vocab.NewActivity("Update", "", ap.IRI(w.alice.IRI), profile)
	update.To = ap.ItemCollection{vocab.PublicIRI}
	_, err = w.Srv.Outbox.Send(ctx, update)
	require.NoError(t, err)

	assert.Empty(t, w.Received(t, "Announce"))
	n, err := w.Srv.Store.Collections.Count(ctx, w.Srv.Scheme.Collection(w.relay, actor.Outbox), storage.Accepted)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "the relay sent its Accept only")
}

// TestRelayShares: another instance's relay shares our event and undoes
// it (core's Announce and Undo{Announce}).
func TestRelayShares(t *testing.T) {
	w := newWorld(t)
	ev := w.event(t, vmz.JoinFree, 0)
	shares := w.Srv.Scheme.Collection(ev, actor.Shares)
	ann := fedtest.JSON(`{"@context":"https://www.w3.org/ns/activitystreams","id":%q,"type":"Announce","actor":%q,"object":%q,"to":["https://www.w3.org/ns/activitystreams#Public"]}`,
		w.Bob+"/announce/1", w.Bob, ev)
	status, msg := w.Post(t, w.Bob, w.Shared(), ann)
	mobilizontest.Status(t, http.StatusAccepted, status, msg)
	_, ok := w.Member(t, shares, w.Bob)
	require.True(t, ok)
	undo := fedtest.JSON(`{"@context":"https://www.w3.org/ns/activitystreams","id":%q,"type":"Undo","actor":%q,"object":%q}`,
		w.Bob+"/undo/1", w.Bob, w.Bob+"/announce/1")
	status, msg = w.Post(t, w.Bob, w.Shared(), undo)
	mobilizontest.Status(t, http.StatusAccepted, status, msg)
	_, ok = w.Member(t, shares, w.Bob)
	assert.False(t, ok, "the share is undone")
}

// TestSubscribe: our relay follows another instance's relay, whose
// Accept makes it a subscription (core's following).
func TestSubscribe(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	follow, err := mobilizon.Subscribe(ctx, w.d, w.relay, w.Bob)
	require.NoError(t, err)
	got := w.Received(t, "Follow")
	require.Len(t, got, 1)
	assert.Equal(t, w.relay, got[0]["actor"])
	following := w.Srv.Scheme.Collection(w.relay, actor.Following)
	m, ok := w.Member(t, following, w.Bob)
	require.True(t, ok)
	assert.Equal(t, storage.Pending, m.State)
	accept := fedtest.JSON(`{"@context":"https://www.w3.org/ns/activitystreams","id":%q,"type":"Accept","actor":%q,"object":%q}`, w.Bob+"/accept/1", w.Bob, follow)
	status, msg := w.Post(t, w.Bob, w.Inbox(w.relay), accept)
	mobilizontest.Status(t, http.StatusAccepted, status, msg)
	m, _ = w.Member(t, following, w.Bob)
	assert.Equal(t, storage.Accepted, m.State, "subscribed")
}

// TestRelayNotYet: a relay named in the Options but not created yet
// announces nothing, and what our actors send goes out as ever.
func TestRelayNotYet(t *testing.T) {
	w := &world{}
	w.World = mobilizontest.New(t, func(f *fedi.Federation) {
		w.relay = f.Scheme.Actor(mobilizon.RelayName)
		mobilizon.Register(f.Mux, mobilizon.Options{Outbox: f.Outbox, Relay: w.relay})
	})
	w.d = mobilizon.Deps{Store: w.Srv.Store, Outbox: w.Srv.Outbox}
	w.alice = w.Actor(t, "alice", "Person", nil)
	ev := w.event(t, vmz.JoinFree, 0)
	assert.NotNil(t, w.Item(t, ev), "the event is created")
	_, shared := w.Member(t, w.Srv.Scheme.Collection(ev, actor.Shares), w.relay)
	assert.False(t, shared)
}
