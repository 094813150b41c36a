package communecter_test

import (
	"context"
	"testing"

	ap "github.com/go-ap/activitypub"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/behaviour/communecter"
	"github.com/fedi-go/fedi/storage"
	cvocab "github.com/fedi-go/fedi/vocab/communecter"
)

// invite makes alice invite who to p with role, and returns the Invite's
// id.
func (w *world) invite(t *testing.T, who, p, role string) string {
	t.Helper()
	id, err := w.c.Invite(context.Background(), w.alice.IRI, who, p, role)
	require.NoError(t, err)
	return id
}

// accept posts who's Accept of activity, in Communecter's shape (the
// project as target, a role as instrument).
func (w *world) accept(t *testing.T, who, activity, target string, instrument any) []byte {
	t.Helper()
	return payload(t, "fedidevs-docs__activities-accept__ex1-Accept.json", map[string]any{
		"id": w.id(who, "accept"), "actor": who, "object": activity, "target": target, "instrument": instrument,
		"cc": []string{w.alice.IRI},
	})
}

// TestInvite: an invitation to one of our projects waits for its
// invitee's Accept, which makes it a member with the invitation's role.
func TestInvite(t *testing.T) {
	ctx := context.Background()

	t.Run("accepted", func(t *testing.T) {
		w := newWorld(t)
		p := w.project(t, false)
		inv := w.invite(t, w.bob, p, cvocab.RoleContributor)
		m := w.member(t, w.col(p, communecter.Invited), w.bob)
		assert.Equal(t, storage.Pending, m.State)
		assert.Equal(t, inv, m.Activity)

		sent := w.sent(t, w.alice.IRI, "Invite")
		require.Len(t, sent, 1)
		assert.Equal(t, w.bob, string(sent[0].Object.GetLink()))
		_, embedded := cvocab.ProjectOf(sent[0].Target)
		assert.True(t, embedded, "the project travels with the invitation")
		assert.Equal(t, ap.IRI(cvocab.RoleContributor), sent[0].Instrument)
		assert.Equal(t, w.bob, string(sent[0].To[0].GetLink()))

		// Bob's Accept claims the admin role: the role granted is the
		// invitation's.
		w.mustPost(t, w.bob, w.accept(t, w.bob, inv, p, "admin"))
		m = w.member(t, w.col(p, communecter.Members), w.bob)
		assert.Equal(t, storage.Accepted, m.State)
		assert.Equal(t, inv, m.Activity)
		w.absent(t, w.col(p, communecter.Invited), w.bob)
		admin, err := w.c.IsAdmin(ctx, p, w.bob)
		require.NoError(t, err)
		assert.False(t, admin)

		// A retry of the Accept changes nothing.
		writes := w.count.State()
		w.mustPost(t, w.bob, w.accept(t, w.bob, inv, p, nil))
		assert.Equal(t, storage.Accepted, w.member(t, w.col(p, communecter.Members), w.bob).State)
		assert.Equal(t, writes+1, w.count.State(), "only its dedupe record")
	})

	t.Run("rejected", func(t *testing.T) {
		w := newWorld(t)
		p := w.project(t, false)
		inv := w.invite(t, w.bob, p, "")
		w.mustPost(t, w.bob, payload(t, "fedidevs-docs__activities-reject__ex3-Reject.json", map[string]any{
			"id": w.id(w.bob, "reject"), "actor": w.bob, "object": inv,
		}))
		w.absent(t, w.col(p, communecter.Invited), w.bob)
		w.absent(t, w.col(p, communecter.Members), w.bob)
	})

	t.Run("an admin offered the admin role", func(t *testing.T) {
		w := newWorld(t)
		p := w.project(t, false)
		off, err := w.c.OfferRole(ctx, w.alice.IRI, w.bob, p, cvocab.RoleAsAdmin)
		require.NoError(t, err)
		w.mustPost(t, w.bob, payload(t, "fedidevs-docs__activities-accept__ex2-Accept.json", map[string]any{
			"id": w.id(w.bob, "accept"), "actor": w.bob, "object": off, "target": p,
		}))
		admin, err := w.c.IsAdmin(ctx, p, w.bob)
		require.NoError(t, err)
		assert.True(t, admin, "an accepted asadmin offer makes an admin")

		// Bob, an admin now, offers carol a role the other way
		// Communecter writes it: a Role as object, the project as context.
		off2 := w.id(w.bob, "offer")
		w.mustPost(t, w.bob, payload(t, "fedidevs-docs__activities-offer__ex3-Offer.json", map[string]any{
			"id": off2, "actor": w.bob, "target": w.carol, "context": p, "to": []string{w.alice.IRI},
		}))
		assert.Equal(t, off2, w.member(t, w.col(p, communecter.Invited), w.carol).Activity)
		w.mustPost(t, w.carol, w.accept(t, w.carol, off2, p, nil))
		members, err := w.c.Members(ctx, p)
		require.NoError(t, err)
		require.NotEmpty(t, members)
		assert.Equal(t, w.carol, members[0].IRI)
		assert.Equal(t, "Treasurer", members[0].Role.Name)
	})

	t.Run("by a member of the project", func(t *testing.T) {
		w := newWorld(t)
		p := w.project(t, false)
		w.joinMember(t, w.bob, p, "contributor")
		inv := w.id(w.bob, "invite")
		w.mustPost(t, w.bob, payload(t, "fedidevs-docs__activities-invite__ex2-Invite.json", map[string]any{
			"id": inv, "actor": w.bob, "object": w.carol, "target": p, "to": []string{w.alice.IRI},
		}))
		assert.Equal(t, inv, w.member(t, w.col(p, communecter.Invited), w.carol).Activity)
	})
}

// remoteProject serves a project of bob's, in Communecter's shape, and
// returns its IRI.
func (w *world) remoteProject(t *testing.T) string {
	t.Helper()
	iri := w.bob + "/projects/ecosmart"
	w.rem.Put(t, iri, payload(t, "fedidevs-docs__objects-project__ex1-Project.json", map[string]any{
		"@context": "https://www.w3.org/ns/activitystreams", "id": iri, "attributedTo": w.bob,
	}))
	return iri
}

// TestInvitationReceived: one of our actors invited to another server's
// project keeps the invitation until the application answers it.
func TestInvitationReceived(t *testing.T) {
	ctx := context.Background()

	t.Run("accepted", func(t *testing.T) {
		w := newWorld(t)
		p := w.remoteProject(t)
		inv := w.id(w.bob, "invite")
		w.mustPost(t, w.bob, payload(t, "fedidevs-docs__activities-invite__ex2-Invite.json", map[string]any{
			"id": inv, "actor": w.bob, "object": w.alice.IRI, "target": p,
		}))
		assert.Equal(t, []string{"Invite"}, w.pendingTypes())
		invs, err := w.c.Invitations(ctx, w.alice.IRI)
		require.NoError(t, err)
		require.Len(t, invs, 1)
		assert.Equal(t, communecter.Invitation{Project: p, Activity: inv, Inviter: w.bob, Role: cvocab.Role{Name: "contributor"}}, invs[0])

		_, err = w.c.AcceptInvitation(ctx, w.alice.IRI, p)
		require.NoError(t, err)
		accepts := w.sent(t, w.alice.IRI, "Accept")
		require.Len(t, accepts, 1)
		assert.Equal(t, inv, string(accepts[0].Object.GetLink()))
		assert.Equal(t, p, string(accepts[0].Target.GetLink()))
		assert.Equal(t, ap.IRI("contributor"), accepts[0].Instrument)
		assert.Equal(t, w.bob, string(accepts[0].To[0].GetLink()))
		assert.Equal(t, storage.Accepted, w.member(t, w.col(w.alice.IRI, communecter.MemberOf), p).State)
		w.absent(t, w.col(w.alice.IRI, communecter.Invitations), p)
	})

	t.Run("rejected", func(t *testing.T) {
		w := newWorld(t)
		p := w.remoteProject(t)
		w.mustPost(t, w.bob, payload(t, "fedidevs-docs__activities-invite__ex4-Invite.json", map[string]any{
			"id": w.id(w.bob, "invite"), "actor": w.bob, "object": w.alice.IRI, "target": p,
		}))
		_, err := w.c.RejectInvitation(ctx, w.alice.IRI, p)
		require.NoError(t, err)
		assert.Len(t, w.sent(t, w.alice.IRI, "Reject"), 1)
		w.absent(t, w.col(w.alice.IRI, communecter.Invitations), p)
		w.absent(t, w.col(w.alice.IRI, communecter.MemberOf), p)
	})

	t.Run("an Invite to something else passes to the rule below", func(t *testing.T) {
		w := newWorld(t)
		ev := w.bob + "/events/1"
		w.rem.Put(t, ev, `{"id":"`+ev+`","type":"Event","name":"Meetup","attributedTo":"`+w.bob+`"}`)
		w.mustPost(t, w.bob, payload(t, "fedidevs-docs__activities-invite__ex2-Invite.json", map[string]any{
			"id": w.id(w.bob, "invite"), "actor": w.bob, "object": w.alice.IRI, "target": ev,
		}))
		invs, err := w.c.Invitations(ctx, w.alice.IRI)
		require.NoError(t, err)
		assert.Empty(t, invs)
		n, err := w.srv.Store.Collections.Count(ctx, w.col(w.alice.IRI, actor.Inbox), storage.Accepted)
		require.NoError(t, err)
		assert.Equal(t, 1, n)
	})
}

// TestLocalInvite: an invitation between two of our actors goes through
// the outbox and the inbox of the same server.
func TestLocalInvite(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	dave := w.srv.User(t, "dave")
	p := w.project(t, false)
	inv := w.invite(t, dave.IRI, p, cvocab.RoleAdmin)
	w.srv.Drain(t)
	invs, err := w.c.Invitations(ctx, dave.IRI)
	require.NoError(t, err)
	require.Len(t, invs, 1)
	assert.Equal(t, inv, invs[0].Activity)

	_, err = w.c.AcceptInvitation(ctx, dave.IRI, p)
	require.NoError(t, err)
	w.srv.Drain(t)
	admin, err := w.c.IsAdmin(ctx, p, dave.IRI)
	require.NoError(t, err)
	assert.True(t, admin)
	assert.Equal(t, storage.Accepted, w.member(t, w.col(dave.IRI, communecter.MemberOf), p).State)

	// Dave, an admin, invites eve as admin; the Offer of a contributor
	// role by a contributor is fine, the admin role is not.
	_, err = w.c.Invite(ctx, dave.IRI, w.eve, p, cvocab.RoleAdmin)
	require.NoError(t, err)
}
