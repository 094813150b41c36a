package communecter_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	ap "github.com/go-ap/activitypub"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fedi-go/fedi/behaviour/communecter"
	cvocab "github.com/fedi-go/fedi/vocab/communecter"
)

// TestRefusals: what the inbox refuses, with its status and reason,
// leaving storage unchanged.
func TestRefusals(t *testing.T) {
	cases := []struct {
		name   string
		as     func(w *world) string
		body   func(t *testing.T, w *world) []byte
		status int
		reason string
	}{
		{
			name: "an Accept of an invitation by someone who was not invited",
			as:   func(w *world) string { return w.eve },
			body: func(t *testing.T, w *world) []byte {
				p := w.project(t, false)
				inv := w.invite(t, w.bob, p, cvocab.RoleContributor)
				return w.accept(t, w.eve, inv, p, "contributor")
			},
			status: http.StatusForbidden, reason: "only the invitee answers an invitation",
		},
		{
			name: "a Reject of an invitation by someone who was not invited",
			as:   func(w *world) string { return w.eve },
			body: func(t *testing.T, w *world) []byte {
				p := w.project(t, false)
				inv := w.invite(t, w.bob, p, "")
				return payload(t, "fedidevs-docs__activities-reject__ex3-Reject.json", map[string]any{
					"id": w.id(w.eve, "reject"), "actor": w.eve, "object": inv, "to": []string{w.alice.IRI},
				})
			},
			status: http.StatusForbidden, reason: "only the invitee answers an invitation",
		},
		{
			name: "an Accept of an invitation superseded by a newer one",
			as:   func(w *world) string { return w.bob },
			body: func(t *testing.T, w *world) []byte {
				p := w.project(t, false)
				old := w.invite(t, w.bob, p, cvocab.RoleAdmin)
				w.invite(t, w.bob, p, cvocab.RoleContributor)
				return w.accept(t, w.bob, old, p, nil)
			},
			status: http.StatusForbidden, reason: "no pending invitation by this activity",
		},
		{
			name: "a badge accepted by someone it was not assigned to",
			as:   func(w *world) string { return w.eve },
			body: func(t *testing.T, w *world) []byte {
				off := w.assign(t, w.badge(t, false), w.bob)
				return payload(t, "fedidevs-docs__activities-accept__ex5-Accept.json", map[string]any{
					"id": w.id(w.eve, "accept"), "actor": w.eve, "object": off, "to": []string{w.alice.IRI},
				})
			},
			status: http.StatusForbidden, reason: "the badge was not assigned to the actor",
		},
		{
			name: "an admin role offered by a non-admin (Offer, asadmin)",
			as:   func(w *world) string { return w.bob },
			body: func(t *testing.T, w *world) []byte {
				p := w.project(t, false)
				w.joinMember(t, w.bob, p, "contributor")
				return payload(t, "fedidevs-docs__activities-offer__ex1-Offer.json", map[string]any{
					"id": w.id(w.bob, "offer"), "actor": w.bob, "object": w.carol, "target": p, "to": []string{w.alice.IRI},
				})
			},
			status: http.StatusForbidden, reason: "only an admin of the project offers the admin role",
		},
		{
			name: "an admin role offered by a non-admin (Invite, admin)",
			as:   func(w *world) string { return w.bob },
			body: func(t *testing.T, w *world) []byte {
				p := w.project(t, false)
				w.joinMember(t, w.bob, p, "contributor")
				return payload(t, "fedidevs-docs__activities-invite__ex4-Invite.json", map[string]any{
					"id": w.id(w.bob, "invite"), "actor": w.bob, "object": w.carol, "target": p, "to": []string{w.alice.IRI},
				})
			},
			status: http.StatusForbidden, reason: "only an admin of the project offers the admin role",
		},
		{
			name: "an admin role offered by a non-admin (Invite, adminandrole)",
			as:   func(w *world) string { return w.bob },
			body: func(t *testing.T, w *world) []byte {
				p := w.project(t, false)
				w.joinMember(t, w.bob, p, "contributor")
				return payload(t, "fedidevs-docs__activities-invite__ex4-Invite.json", map[string]any{
					"id": w.id(w.bob, "invite"), "actor": w.bob, "object": w.carol, "target": p, "to": []string{w.alice.IRI},
					"instrument": map[string]any{"as": "adminandrole", "rules": "Financeur,Directeur"},
				})
			},
			status: http.StatusForbidden, reason: "only an admin of the project offers the admin role",
		},
		{
			name: "an invitation by one who is not a member",
			as:   func(w *world) string { return w.eve },
			body: func(t *testing.T, w *world) []byte {
				p := w.project(t, false)
				return payload(t, "fedidevs-docs__activities-invite__ex2-Invite.json", map[string]any{
					"id": w.id(w.eve, "invite"), "actor": w.eve, "object": w.carol, "target": p, "to": []string{w.alice.IRI},
				})
			},
			status: http.StatusForbidden, reason: "only a member of the project invites to it",
		},
		{
			name: "a pending member invites",
			as:   func(w *world) string { return w.bob },
			body: func(t *testing.T, w *world) []byte {
				p := w.project(t, true)
				w.joinMember(t, w.bob, p, "")
				return payload(t, "fedidevs-docs__activities-invite__ex2-Invite.json", map[string]any{
					"id": w.id(w.bob, "invite"), "actor": w.bob, "object": w.carol, "target": p, "to": []string{w.alice.IRI},
				})
			},
			status: http.StatusForbidden, reason: "only a member of the project invites to it",
		},
		{
			name: "our badge assigned by one who is not its issuer",
			as:   func(w *world) string { return w.eve },
			body: func(t *testing.T, w *world) []byte {
				_, body := w.offerBadge(t, w.eve, w.badge(t, true), w.carol)
				return body
			},
			status: http.StatusForbidden, reason: "only the badge's issuer assigns it",
		},
		{
			name: "a claim of our badge that does not allow it",
			as:   func(w *world) string { return w.eve },
			body: func(t *testing.T, w *world) []byte {
				_, body := w.offerBadge(t, w.eve, w.badge(t, false), w.eve)
				return body
			},
			status: http.StatusForbidden, reason: "cannot be self-assigned",
		},
		{
			name: "another server's badge assigned to our actor by one who is not its issuer",
			as:   func(w *world) string { return w.eve },
			body: func(t *testing.T, w *world) []byte {
				_, body := w.offerBadge(t, w.eve, w.remoteBadge(t), w.alice.IRI)
				return body
			},
			status: http.StatusForbidden, reason: "only the badge's issuer assigns it",
		},
		{
			name: "a badge created in another's name",
			as:   func(w *world) string { return w.eve },
			body: func(t *testing.T, w *world) []byte {
				return payload(t, "fedidevs-docs__activities-create__ex2-Create.json", map[string]any{
					"id": w.id(w.eve, "create"), "actor": w.eve, "cc": []string{w.alice.IRI},
					"object": map[string]any{"type": "Badge", "id": w.eve + "/badges/1", "attributedTo": w.bob, "name": "Fake"},
				})
			},
			status: http.StatusForbidden, reason: "a badge is created by its issuer",
		},
		{
			name: "a Join of a project of someone else",
			as:   func(w *world) string { return w.bob },
			body: func(t *testing.T, w *world) []byte {
				return payload(t, "fedidevs-docs__activities-join__ex2-Join.json", map[string]any{
					"id": w.id(w.bob, "join"), "actor": w.bob, "object": w.eve, "target": w.project(t, false), "to": []string{w.alice.IRI},
				})
			},
			status: http.StatusForbidden, reason: "has the actor as object",
		},
		{
			name: "an answer to our actor's Join by one who does not speak for the project",
			as:   func(w *world) string { return w.eve },
			body: func(t *testing.T, w *world) []byte {
				p := w.remoteProject(t)
				w.cacheRemoteProject(t, p)
				join, err := w.c.Join(context.Background(), w.alice.IRI, p, "")
				require.NoError(t, err)
				return w.accept(t, w.eve, join, p, nil)
			},
			status: http.StatusForbidden, reason: "only the project answers a Join of it",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t)
			body := c.body(t, w)
			w.refused(t, c.as(w), body, c.status, c.reason)
		})
	}
}

// cacheRemoteProject has bob's server send an invitation of alice to p
// that embeds it, so that it is cached here, owned by bob.
func (w *world) cacheRemoteProject(t *testing.T, p string) {
	t.Helper()
	w.mustPost(t, w.bob, payload(t, "fedidevs-docs__activities-invite__ex2-Invite.json", map[string]any{
		"id": w.id(w.bob, "invite"), "actor": w.bob, "object": w.alice.IRI,
		"target": map[string]any{"type": "Project", "id": p, "attributedTo": w.bob, "name": "EcoSmart Homes Initiative"},
	}))
}

// TestSendRefusals: what the outbox hook refuses our actors, sending
// nothing and leaving storage unchanged.
func TestSendRefusals(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name string
		// setup prepares the world and returns the refused send.
		setup func(t *testing.T, w *world) func() error
		want  error
	}{
		{"an admin role offered by a non-admin", func(t *testing.T, w *world) func() error {
			p := w.project(t, false)
			dave := w.localMember(t, p, cvocab.RoleContributor)
			return func() error { _, err := w.c.OfferRole(ctx, dave, w.bob, p, cvocab.RoleAsAdmin); return err }
		}, communecter.ErrNotAdmin},
		{"an admin role offered by a non-admin, sent as is", func(t *testing.T, w *world) func() error {
			p := w.project(t, false)
			dave := w.localMember(t, p, cvocab.RoleContributor)
			inv := cvocab.NewInvite(ap.IRI(dave), ap.IRI(w.bob), ap.IRI(p), "adminandrole")
			return func() error { _, err := w.srv.Send(ctx, inv); return err }
		}, communecter.ErrNotAdmin},
		{"an invitation by one who is not a member", func(t *testing.T, w *world) func() error {
			p := w.project(t, false)
			dave := w.srv.User(t, "dave")
			return func() error { _, err := w.c.Invite(ctx, dave.IRI, w.bob, p, ""); return err }
		}, communecter.ErrNotMember},
		{"a Join answered by one who is not an admin", func(t *testing.T, w *world) func() error {
			p := w.project(t, true)
			dave := w.localMember(t, p, cvocab.RoleContributor)
			w.joinMember(t, w.bob, p, "")
			return func() error { _, err := w.c.AnswerJoin(ctx, dave, p, w.bob, true); return err }
		}, communecter.ErrNotAdmin},
		{"a badge assigned by one who is not its issuer", func(t *testing.T, w *world) func() error {
			b := w.badge(t, true)
			dave := w.srv.User(t, "dave")
			return func() error { _, err := w.c.AssignBadge(ctx, dave.IRI, b, w.bob, ""); return err }
		}, communecter.ErrNotIssuer},
		{"a claim of a badge that does not allow it", func(t *testing.T, w *world) func() error {
			b := w.badge(t, false)
			dave := w.srv.User(t, "dave")
			return func() error { _, err := w.c.SelfAssignBadge(ctx, dave.IRI, b, ""); return err }
		}, communecter.ErrNotSelfAssignable},
		{"an Accept of an invitation sent to someone else", func(t *testing.T, w *world) func() error {
			p := w.remoteProject(t)
			inv := w.id(w.bob, "invite")
			w.mustPost(t, w.bob, payload(t, "fedidevs-docs__activities-invite__ex2-Invite.json", map[string]any{
				"id": inv, "actor": w.bob, "object": w.alice.IRI, "target": p,
			}))
			dave := w.srv.User(t, "dave")
			acc := cvocab.NewAccept(ap.IRI(dave.IRI), ap.IRI(inv), ap.IRI(p), "")
			return func() error { _, err := w.srv.Send(ctx, acc); return err }
		}, communecter.ErrNotInvited},
		{"an Accept of a badge already declined", func(t *testing.T, w *world) func() error {
			b := w.remoteBadge(t)
			off, body := w.offerBadge(t, w.bob, b, w.alice.IRI)
			w.mustPost(t, w.bob, body)
			_, err := w.c.DeclineBadge(ctx, w.alice.IRI, b, "")
			require.NoError(t, err)
			acc := cvocab.NewAcceptBadge(ap.IRI(w.alice.IRI), ap.IRI(off))
			return func() error { _, err := w.srv.Send(ctx, acc); return err }
		}, communecter.ErrNotInvited},
		{"an Accept of a badge assigned to someone else", func(t *testing.T, w *world) func() error {
			b := w.remoteBadge(t)
			off, body := w.offerBadge(t, w.bob, b, w.alice.IRI)
			w.mustPost(t, w.bob, body)
			dave := w.srv.User(t, "dave")
			acc := cvocab.NewAcceptBadge(ap.IRI(dave.IRI), ap.IRI(off))
			return func() error { _, err := w.srv.Send(ctx, acc); return err }
		}, communecter.ErrNotInvited},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t)
			send := c.setup(t, w)
			before := w.count.State()
			err := send()
			require.Error(t, err)
			assert.True(t, errors.Is(err, c.want), "%v", err)
			assert.Equal(t, before, w.count.State(), "storage is unchanged")
		})
	}
}

// localMember makes a new local actor, dave, a member of p with role,
// through alice's invitation, and returns its IRI.
func (w *world) localMember(t *testing.T, p, role string) string {
	t.Helper()
	ctx := context.Background()
	dave := w.srv.User(t, "dave")
	w.invite(t, dave.IRI, p, role)
	w.srv.Drain(t)
	_, err := w.c.AcceptInvitation(ctx, dave.IRI, p)
	require.NoError(t, err)
	w.srv.Drain(t)
	return dave.IRI
}
