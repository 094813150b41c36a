package communecter_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/behaviour/communecter"
	"github.com/fedi-go/fedi/storage"
)

// TestJoin: a Join of one of our projects, in Communecter's shape and
// the plain one, makes a member (with its role), answered Accept, or a
// pending one where membership is moderated or the admin role is asked.
func TestJoin(t *testing.T) {
	ctx := context.Background()

	t.Run("Communecter's shape makes a contributor", func(t *testing.T) {
		w := newWorld(t)
		p := w.project(t, false)
		join := w.joinMember(t, w.bob, p, "contributor")
		m := w.member(t, w.col(p, communecter.Members), w.bob)
		assert.Equal(t, storage.Accepted, m.State)
		assert.Equal(t, join, m.Activity)
		members, err := w.c.Members(ctx, p)
		require.NoError(t, err)
		require.Len(t, members, 2)
		assert.Equal(t, w.bob, members[0].IRI)
		assert.Equal(t, "contributor", members[0].Role.Name)
		assert.False(t, members[0].Admin)
		assert.Equal(t, w.alice.IRI, members[1].IRI)
		assert.True(t, members[1].Admin, "the creator is an admin")

		accepts := w.sent(t, w.alice.IRI, "Accept")
		require.Len(t, accepts, 1)
		assert.Equal(t, join, string(accepts[0].Object.GetLink()))
		assert.Equal(t, p, string(accepts[0].Target.GetLink()))
		assert.Equal(t, w.bob, string(accepts[0].To[0].GetLink()))

		// The same member joining again is answered again, and keeps
		// its membership.
		w.joinMember(t, w.bob, p, "")
		assert.Equal(t, join, w.member(t, w.col(p, communecter.Members), w.bob).Activity)
		assert.Len(t, w.sent(t, w.alice.IRI, "Accept"), 2)
	})

	t.Run("delivered to two of our actors, applied once", func(t *testing.T) {
		w := newWorld(t)
		dave := w.srv.User(t, "dave")
		p := w.project(t, false)
		body := payload(t, "fedidevs-docs__activities-join__ex2-Join.json", map[string]any{
			"id": w.id(w.bob, "join"), "actor": w.bob, "object": w.bob, "target": p, "instrument": nil,
			"to": []string{w.alice.IRI, dave.IRI},
		})
		status, msg := w.postTo(t, w.bob, w.srv.URL+"/inbox", body)
		require.Equal(t, http.StatusAccepted, status, msg)
		assert.Contains(t, msg, "2 recipient")
		assert.Equal(t, storage.Accepted, w.member(t, w.col(p, communecter.Members), w.bob).State)
		assert.Len(t, w.sent(t, w.alice.IRI, "Accept"), 1, "one Accept")
	})

	t.Run("a moderated project keeps it pending for an admin", func(t *testing.T) {
		w := newWorld(t)
		p := w.project(t, true)
		join := w.joinMember(t, w.bob, p, "contributor")
		assert.Equal(t, storage.Pending, w.member(t, w.col(p, communecter.Members), w.bob).State)
		assert.Equal(t, []string{"Join"}, w.pendingTypes())
		assert.Empty(t, w.sent(t, w.alice.IRI, "Accept"))

		_, err := w.c.AnswerJoin(ctx, w.alice.IRI, p, w.bob, true)
		require.NoError(t, err)
		m := w.member(t, w.col(p, communecter.Members), w.bob)
		assert.Equal(t, storage.Accepted, m.State)
		assert.Equal(t, join, m.Activity)
		assert.Len(t, w.sent(t, w.alice.IRI, "Accept"), 1)
	})

	t.Run("a moderated project's rejected Join leaves no member", func(t *testing.T) {
		w := newWorld(t)
		p := w.project(t, true)
		w.joinMember(t, w.bob, p, "")
		_, err := w.c.AnswerJoin(ctx, w.alice.IRI, p, w.bob, false)
		require.NoError(t, err)
		w.absent(t, w.col(p, communecter.Members), w.bob)
		assert.Len(t, w.sent(t, w.alice.IRI, "Reject"), 1)
	})

	t.Run("asking for the admin role waits for an admin", func(t *testing.T) {
		w := newWorld(t)
		p := w.project(t, false)
		id := w.id(w.bob, "join")
		w.mustPost(t, w.bob, payload(t, "fedidevs-docs__activities-join__ex3-Join.json", map[string]any{
			"id": id, "actor": w.bob, "object": w.bob, "target": p, "to": []string{w.alice.IRI},
		}))
		assert.Equal(t, storage.Pending, w.member(t, w.col(p, communecter.Members), w.bob).State)
		ok, err := w.c.IsAdmin(ctx, p, w.bob)
		require.NoError(t, err)
		assert.False(t, ok)
	})

	t.Run("the plain shape, object the project", func(t *testing.T) {
		w := newWorld(t)
		p := w.project(t, false)
		w.mustPost(t, w.bob, payload(t, "fedidevs-docs__activities-join__ex4-Join.json", map[string]any{
			"id": w.id(w.bob, "join"), "actor": w.bob, "object": p,
		}))
		assert.Equal(t, storage.Accepted, w.member(t, w.col(p, communecter.Members), w.bob).State)
	})

	t.Run("Leave removes the member", func(t *testing.T) {
		w := newWorld(t)
		p := w.project(t, false)
		w.joinMember(t, w.bob, p, "contributor")
		w.mustPost(t, w.bob, payload(t, "fedidevs-docs__activities-leave__ex1-Leave.json", map[string]any{
			"id": w.id(w.bob, "leave"), "actor": w.bob, "object": w.bob, "target": p, "to": []string{w.alice.IRI},
		}))
		w.absent(t, w.col(p, communecter.Members), w.bob)
	})

	t.Run("a Join of something else passes to the rule below", func(t *testing.T) {
		w := newWorld(t)
		note := w.alice.IRI + "/note/1"
		require.NoError(t, w.srv.Store.Objects.Put(ctx, storage.Object{IRI: note, Type: "Note", Owner: w.alice.IRI,
			Data: []byte(`{"id":"` + note + `","type":"Note","attributedTo":"` + w.alice.IRI + `"}`)}))
		w.joinMember(t, w.bob, note, "")
		n, err := w.srv.Store.Collections.Count(ctx, w.col(note, communecter.Members), storage.Accepted)
		require.NoError(t, err)
		assert.Zero(t, n)
		in, err := w.srv.Store.Collections.Count(ctx, w.col(w.alice.IRI, actor.Inbox), storage.Accepted)
		require.NoError(t, err)
		assert.Equal(t, 1, in, "the fallback keeps it in alice's inbox")
	})

	t.Run("refused: a Join of someone else", func(t *testing.T) {
		w := newWorld(t)
		p := w.project(t, false)
		w.refused(t, w.bob, payload(t, "fedidevs-docs__activities-join__ex2-Join.json", map[string]any{
			"id": w.id(w.bob, "join"), "actor": w.bob, "object": w.eve, "target": p,
		}), http.StatusForbidden, "has the actor as object")
	})
}

// TestOrganization: our organizations are actors: a Join makes a member,
// answered by the organization itself; a Follow makes a follower
// (core's).
func TestOrganization(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	org, err := w.c.CreateOrganization(ctx, w.alice.IRI, actor.Actor{Name: "greenearth"}, false)
	require.NoError(t, err)
	assert.Equal(t, "Organization", org.Type)
	ok, err := w.c.IsAdmin(ctx, org.IRI, w.alice.IRI)
	require.NoError(t, err)
	assert.True(t, ok, "the creator is an admin")

	body := payload(t, "fedidevs-docs__activities-join__ex4-Join.json", map[string]any{
		"id": w.id(w.bob, "join"), "actor": w.bob, "object": org.IRI,
	})
	status, msg := w.postTo(t, w.bob, org.IRI+"/inbox", body)
	require.Equal(t, http.StatusAccepted, status, msg)
	assert.Equal(t, storage.Accepted, w.member(t, w.col(org.IRI, communecter.Members), w.bob).State)
	accepts := w.sent(t, org.IRI, "Accept")
	require.Len(t, accepts, 1, "the organization answers")

	follow := payload(t, "fedidevs-docs__activities-follow__ex2-Follow.json", map[string]any{
		"id": w.id(w.eve, "follow"), "actor": w.eve, "object": org.IRI,
	})
	status, msg = w.postTo(t, w.eve, org.IRI+"/inbox", follow)
	require.Equal(t, http.StatusAccepted, status, msg)
	assert.Equal(t, storage.Accepted, w.member(t, w.col(org.IRI, actor.Followers), w.eve).State)

	members, err := w.c.Members(ctx, org.IRI)
	require.NoError(t, err)
	require.Len(t, members, 2)
	assert.True(t, members[1].Admin)

	// A moderated organization: the Join waits, and the organization
	// itself (an admin of its own) approves it.
	mod, err := w.c.CreateOrganization(ctx, w.alice.IRI, actor.Actor{Name: "closedcircle"}, true)
	require.NoError(t, err)
	status, msg = w.postTo(t, w.bob, mod.IRI+"/inbox", payload(t, "fedidevs-docs__activities-join__ex4-Join.json", map[string]any{
		"id": w.id(w.bob, "join"), "actor": w.bob, "object": mod.IRI,
	}))
	require.Equal(t, http.StatusAccepted, status, msg)
	assert.Equal(t, storage.Pending, w.member(t, w.col(mod.IRI, communecter.Members), w.bob).State)
	_, err = w.c.AnswerJoin(ctx, mod.IRI, mod.IRI, w.bob, true)
	require.NoError(t, err)
	assert.Equal(t, storage.Accepted, w.member(t, w.col(mod.IRI, communecter.Members), w.bob).State)
}
