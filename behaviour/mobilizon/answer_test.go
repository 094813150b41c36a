package mobilizon_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	ap "github.com/go-ap/activitypub"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fedi-go/fedi/behaviour/mobilizon"
	"github.com/fedi-go/fedi/internal/fedtest"
	"github.com/fedi-go/fedi/internal/mobilizontest"
	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/vocab"
)

// remoteEvent serves a Mobilizon event (the shape of a real one) on the
// remote server, attributed to by and naming actor as its organizer, and
// returns it decoded.
func (w *world) remoteEvent(t *testing.T, path, by, named string) vocab.Item {
	t.Helper()
	iri := w.Rem.URL + path
	doc := mobilizontest.Rewrite(t, mobilizontest.Payload(t, "mobilizon__lemmy-assets__objects_event.json"),
		map[string]any{"id": iri, "url": iri, "attributedTo": by, "actor": named, "contacts": []string{named}, "cc": []string{}})
	w.Rem.Put(t, iri, doc)
	it, err := w.Srv.Registry.Decode(doc)
	require.NoError(t, err)
	return it
}

// answerOf is the organizer's answer (typ) to a Join, naming it by IRI as
// Mobilizon does, or embedding it as Fedify does.
func answerOf(t *testing.T, typ, id, by, join string, embed map[string]any) []byte {
	var obj any = join
	if embed != nil {
		obj = embed
	}
	return fedtest.JSON(`{"@context":"https://www.w3.org/ns/activitystreams","id":%q,"type":%q,"actor":%q,"object":%s,"to":[]}`,
		id, typ, by, mustJSON(t, obj))
}

// TestOurJoins: alice joins events of another server; the organizer's
// Accept and Reject set her participation, and only the organizer's.
func TestOurJoins(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	joins := w.Srv.Scheme.Collection(w.alice.IRI, mobilizon.Joins)
	ev := w.remoteEvent(t, "/events/party", w.Bob, w.Bob)
	evIRI := string(vocab.IRIOf(ev))

	join, err := mobilizon.JoinEvent(ctx, w.d, w.alice.IRI, ev, "count me in")
	require.NoError(t, err)
	got := w.Received(t, "Join")
	require.Len(t, got, 1, "the Join goes to the organizer")
	assert.Equal(t, "count me in", got[0]["participationMessage"])
	assert.Equal(t, []any{w.Bob}, got[0]["to"])
	m, ok := w.Member(t, joins, evIRI)
	require.True(t, ok)
	assert.Equal(t, storage.Pending, m.State, "pending until the organizer accepts")
	assert.Equal(t, join, m.Activity)

	t.Run("an Accept by someone who is not the organizer", func(t *testing.T) {
		before := w.Count.State()
		status, msg := w.Post(t, w.Eve, w.Inbox(w.alice.IRI), answerOf(t, "Accept", w.Eve+"/accept/1", w.Eve, join, nil))
		assert.Equal(t, http.StatusForbidden, status)
		assert.Contains(t, msg, "organizer")
		assert.Equal(t, before, w.Count.State(), "storage is unchanged")
		m, _ := w.Member(t, joins, evIRI)
		assert.Equal(t, storage.Pending, m.State)
	})
	t.Run("the organizer's Accept, naming the Join", func(t *testing.T) {
		status, msg := w.Post(t, w.Bob, w.Inbox(w.alice.IRI), answerOf(t, "Accept", w.Bob+"/accept/1", w.Bob, join, nil))
		mobilizontest.Status(t, http.StatusAccepted, status, msg)
		m, _ := w.Member(t, joins, evIRI)
		assert.Equal(t, storage.Accepted, m.State)
	})
	t.Run("the organizer's Reject, embedding the Join", func(t *testing.T) {
		embedded := map[string]any{"id": join, "type": "Join", "actor": w.alice.IRI, "object": evIRI}
		status, msg := w.Post(t, w.Bob, w.Shared(), answerOf(t, "Reject", w.Bob+"/reject/1", w.Bob, join, embedded))
		mobilizontest.Status(t, http.StatusAccepted, status, msg)
		_, ok := w.Member(t, joins, evIRI)
		assert.False(t, ok, "rejected: no longer a participation")
	})

	t.Run("a group's event: the member Mobilizon names answers", func(t *testing.T) {
		group := w.Rem.URL + "/@club"
		ev := w.remoteEvent(t, "/events/club-night", group, w.Bob)
		evIRI := string(vocab.IRIOf(ev))
		join, err := mobilizon.JoinEvent(ctx, w.d, w.alice.IRI, ev, "")
		require.NoError(t, err)
		got := w.Received(t, "Join")
		assert.ElementsMatch(t, []any{group, w.Bob}, got[len(got)-1]["to"])
		status, msg := w.Post(t, w.Bob, w.Inbox(w.alice.IRI), answerOf(t, "Accept", w.Bob+"/accept/2", w.Bob, join, nil))
		mobilizontest.Status(t, http.StatusAccepted, status, msg)
		m, _ := w.Member(t, joins, evIRI)
		assert.Equal(t, storage.Accepted, m.State)

		_, err = mobilizon.LeaveEvent(ctx, w.d, w.alice.IRI, ev)
		require.NoError(t, err)
		_, ok := w.Member(t, joins, evIRI)
		assert.False(t, ok, "left")
		assert.NotEmpty(t, w.Received(t, "Leave"))
	})
}

// TestLocalJoin: carol, a local actor, joins alice's event, through the
// outbox and our own inbox: both sides of the participation agree.
func TestLocalJoin(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	carol := w.Actor(t, "carol", "Person", nil)
	ev := w.event(t, "restricted", 10)

	join, err := mobilizon.JoinEvent(ctx, w.d, carol.IRI, ap.IRI(ev), "from next door")
	require.NoError(t, err)
	w.Srv.Drain(t)
	ps, _, err := mobilizon.Participations(ctx, w.d, ev, storage.PageOptions{State: storage.Pending})
	require.NoError(t, err)
	require.Len(t, ps, 1)
	assert.Equal(t, mobilizon.Participation{Actor: carol.IRI, Join: join, Message: "from next door", State: storage.Pending}, ps[0])

	_, err = mobilizon.Decide(ctx, w.d, w.alice.IRI, join, true)
	require.NoError(t, err)
	w.Srv.Drain(t)
	m, ok := w.Member(t, w.Srv.Scheme.Collection(carol.IRI, mobilizon.Joins), ev)
	require.True(t, ok)
	assert.Equal(t, storage.Accepted, m.State, "carol's side knows she was accepted")
	assert.Equal(t, 1, *w.stored(t, ev).ParticipantCount)
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

// TestJoinOfGroup: a Join of a group (a Mobilizon membership request) is
// not a participation: it stays out of the actor's Joins, and the group's
// Accept of it is core's.
func TestJoinOfGroup(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	group := w.remoteGroup(t)
	_, err := w.Srv.Remote.Get(ctx, group) // known: fetched before, to show it
	require.NoError(t, err)
	join := vocab.NewActivity("Join", "", ap.IRI(w.alice.IRI), ap.IRI(group))
	join.To = ap.ItemCollection{ap.IRI(group)}
	id, err := w.Srv.Outbox.Send(ctx, join)
	require.NoError(t, err)
	_, ok := w.Member(t, w.Srv.Scheme.Collection(w.alice.IRI, mobilizon.Joins), group)
	assert.False(t, ok)
	status, msg := fedtest.Do(t, w.Rem.Signed(t, group, w.Inbox(w.alice.IRI), answerOf(t, "Accept", group+"/accept/1", group, id, nil)))
	mobilizontest.Status(t, http.StatusAccepted, status, msg)
	_, listed := w.Member(t, w.Inbox(w.alice.IRI), group+"/accept/1")
	assert.True(t, listed, "kept in alice's inbox, for the application")
}
