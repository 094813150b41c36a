package mobilizon_test

import (
	"context"
	"net/http"
	"testing"

	ap "github.com/go-ap/activitypub"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fedi-go/fedi/behaviour/mobilizon"
	"github.com/fedi-go/fedi/internal/fedtest"
	"github.com/fedi-go/fedi/internal/mobilizontest"
	"github.com/fedi-go/fedi/signature"
	"github.com/fedi-go/fedi/vocab"
)

// remoteGroup makes a Mobilizon group on the remote server (the shape of
// a real one), with its members collection (Mobilizon's fixture): bob
// moderates it, eve is a member. The group signs with its own key.
func (w *world) remoteGroup(t *testing.T) string {
	t.Helper()
	g := w.Rem.Actor(t, "club", 2)
	pem, err := signature.PublicKeyPEM(fedtest.Key(2).Public())
	require.NoError(t, err)
	w.Rem.Put(t, g, mobilizontest.Rewrite(t, mobilizontest.Payload(t, "mobilizon__lemmy-assets__objects_group.json"), map[string]any{
		"id": g, "url": g, "inbox": g + "/inbox", "outbox": g + "/outbox", "members": g + "/members", "followers": g + "/followers",
		"preferredUsername": "club", "endpoints": map[string]any{"sharedInbox": w.Rem.URL + "/inbox"},
		"publicKey": map[string]any{"id": g + "#main-key", "owner": g, "publicKeyPem": pem},
	}))
	members := mobilizontest.Rewrite(t, mobilizontest.Payload(t, "mobilizon__mobilizon-fixtures__mobilizon-members-collection.json"), map[string]any{
		"id": g + "/members", "attributedTo": g,
		"first": map[string]any{"id": g + "/members?page=1", "type": "OrderedCollectionPage", "partOf": g + "/members", "orderedItems": []any{
			map[string]any{"id": w.Rem.URL + "/member/1", "type": "Member", "actor": w.Bob, "object": g, "role": "moderator"},
			map[string]any{"id": w.Rem.URL + "/member/2", "type": "Member", "actor": w.Eve, "object": g, "role": "member"},
		}},
	})
	w.Rem.Put(t, g+"/members", members)
	return g
}

// remove is a Remove of obj from group (as its target, or its origin).
func remove(id, by, obj, group, as string) []byte {
	return fedtest.JSON(`{"@context":"https://www.w3.org/ns/activitystreams","id":%q,"type":"Remove","actor":%q,"object":%q,%q:%q,"to":[%q]}`,
		id, by, obj, as, group, group)
}

// cache makes by create a public object (a Note or an Event) on the
// remote server with more properties, cached here, and returns its IRI.
func (w *world) cache(t *testing.T, by, typ, path string, more string) string {
	t.Helper()
	iri := w.Rem.URL + path
	body := fedtest.JSON(`{"@context":"https://www.w3.org/ns/activitystreams","id":%q,"type":"Create","actor":%q,"to":["https://www.w3.org/ns/activitystreams#Public"],
		"object":{"id":%q,"type":%q,"name":"x","content":"y","to":["https://www.w3.org/ns/activitystreams#Public"]%s}}`, iri+"/create", by, iri, typ, more)
	status, msg := w.Post(t, by, w.Shared(), body)
	mobilizontest.Status(t, http.StatusAccepted, status, msg)
	require.NotNil(t, w.Item(t, iri))
	return iri
}

func (w *world) tombstoned(t *testing.T, iri string) bool {
	o, err := w.Srv.Store.Objects.Get(context.Background(), iri)
	require.NoError(t, err)
	return !o.Deleted.IsZero()
}

// TestRemoveFromGroup: a group's moderators (and the group) remove its
// Notes and Events; nobody else does.
func TestRemoveFromGroup(t *testing.T) {
	type tc struct {
		name   string
		obj    func(w *world, g string) string
		by     func(w *world, g string) string
		as     string // target or origin
		status int
		reason string
	}
	groupEvent := func(w *world, g string) string {
		return w.cache(t, w.Bob, "Event", "/events/1", `,"attributedTo":`+mustJSON(t, g))
	}
	groupNote := func(w *world, g string) string {
		return w.cache(t, w.Eve, "Note", "/notes/1", `,"attributedTo":`+mustJSON(t, w.Eve)+`,"cc":[`+mustJSON(t, g)+`]`)
	}
	bob := func(w *world, g string) string { return w.Bob }
	cases := []tc{
		{name: "a moderator removes the group's event", obj: groupEvent, by: bob, as: "target", status: http.StatusAccepted},
		{name: "a moderator removes a note addressed to the group, origin", obj: groupNote, by: bob, as: "origin", status: http.StatusAccepted},
		{name: "the group removes its event", obj: groupEvent, by: func(w *world, g string) string { return g }, as: "target", status: http.StatusAccepted},
		{name: "a member who does not moderate", obj: groupEvent, by: func(w *world, g string) string { return w.Eve }, as: "target",
			status: http.StatusForbidden, reason: "moderators"},
		{name: "an object that is not the group's", obj: func(w *world, g string) string {
			return w.cache(t, w.Eve, "Note", "/notes/2", `,"attributedTo":`+mustJSON(t, w.Eve))
		}, by: bob, as: "target", status: http.StatusForbidden, reason: "not the group's"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			g := w.remoteGroup(t)
			obj := tc.obj(w, g)
			by := tc.by(w, g)
			before := w.Count.State()
			status, msg := w.Post(t, by, w.Shared(), remove(w.Rem.URL+"/remove/1", by, obj, g, tc.as))
			require.Equal(t, tc.status, status, msg)
			if tc.status != http.StatusAccepted {
				assert.Contains(t, msg, tc.reason)
				assert.Equal(t, before, w.Count.State(), "storage is unchanged")
				assert.False(t, w.tombstoned(t, obj))
				return
			}
			assert.True(t, w.tombstoned(t, obj), "the removed object is a Tombstone")
		})
	}
}

// TestRemoveFromOurGroup: the moderators of one of our groups remove its
// content, ours included.
func TestRemoveFromOurGroup(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	club := w.Actor(t, "club", "Group", nil)
	require.NoError(t, mobilizon.AddModerator(ctx, w.d, club.IRI, w.Bob))
	require.ErrorIs(t, mobilizon.AddModerator(ctx, w.d, w.alice.IRI, w.Bob), mobilizon.ErrNotGroup)

	note := vocab.NewObject("Note", "")
	note.Content = vocab.Text("off topic")
	create := vocab.NewActivity("Create", "", ap.IRI(w.alice.IRI), note)
	create.To = ap.ItemCollection{vocab.PublicIRI, ap.IRI(club.IRI)}
	_, err := w.Srv.Outbox.Send(ctx, create)
	require.NoError(t, err)
	ours := string(note.ID)

	before := w.Count.State()
	status, msg := w.Post(t, w.Eve, w.Shared(), remove(w.Rem.URL+"/remove/0", w.Eve, ours, club.IRI, "target"))
	require.Equal(t, http.StatusForbidden, status, msg)
	assert.Equal(t, before, w.Count.State(), "storage is unchanged")

	status, msg = w.Post(t, w.Bob, w.Shared(), remove(w.Rem.URL+"/remove/1", w.Bob, ours, club.IRI, "target"))
	mobilizontest.Status(t, http.StatusAccepted, status, msg)
	assert.True(t, w.tombstoned(t, ours))
}

// TestRemoveOther: a Remove of something else (a member from a
// collection) is core's: the actor's own collections only.
func TestRemoveOther(t *testing.T) {
	w := newWorld(t)
	before := w.Count.State()
	body := fedtest.JSON(`{"@context":"https://www.w3.org/ns/activitystreams","id":%q,"type":"Remove","actor":%q,"object":%q,"target":%q}`,
		w.Eve+"/remove/1", w.Eve, w.Bob, w.Bob+"/featured")
	status, msg := w.Post(t, w.Eve, w.Shared(), body)
	assert.Equal(t, http.StatusForbidden, status)
	assert.Contains(t, msg, "target collection is not the actor's")
	assert.Equal(t, before, w.Count.State())
}
