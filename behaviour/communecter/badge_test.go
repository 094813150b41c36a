package communecter_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	ap "github.com/go-ap/activitypub"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/behaviour/communecter"
	"github.com/fedi-go/fedi/storage"
	cvocab "github.com/fedi-go/fedi/vocab/communecter"
)

// badge makes alice create a badge.
func (w *world) badge(t *testing.T, selfAssignable bool) string {
	t.Helper()
	b, err := w.c.CreateBadge(context.Background(), w.alice.IRI, cvocab.NewBadge("", ap.IRI(w.alice.IRI), "Project Leader", "Led a project"), selfAssignable)
	require.NoError(t, err)
	return b
}

// assign makes alice assign badge b to who.
func (w *world) assign(t *testing.T, b, who string) string {
	t.Helper()
	id, err := w.c.AssignBadge(context.Background(), w.alice.IRI, b, who, "for leading the garden")
	require.NoError(t, err)
	return id
}

// offerBadge is an Offer of badge b by as to recipient in Communecter's
// shape.
func (w *world) offerBadge(t *testing.T, as, b, recipient string) (string, []byte) {
	t.Helper()
	id := w.id(as, "offer")
	return id, payload(t, "fedidevs-docs__activities-offer__ex2-Offer.json", map[string]any{
		"id": id, "actor": as, "object": b, "target": recipient, "to": []string{w.alice.IRI},
	})
}

// TestBadge: our badge assigned to a person is held once they accept
// it, and dropped when they reject it.
func TestBadge(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	b := w.badge(t, false)
	off := w.assign(t, b, w.bob)
	m := w.member(t, w.col(b, communecter.Holders), w.bob)
	assert.Equal(t, storage.Pending, m.State)
	assert.Equal(t, off, m.Activity)
	offers := w.sent(t, w.alice.IRI, "Offer")
	require.Len(t, offers, 1)
	as, ok := cvocab.BadgeAssignmentOf(offers[0])
	require.True(t, ok)
	assert.Equal(t, cvocab.BadgeAssignment{Badge: ap.IRI(b), Recipient: ap.IRI(w.bob), Narrative: "for leading the garden", NeedsAcceptance: true}, as)

	w.mustPost(t, w.bob, payload(t, "fedidevs-docs__activities-accept__ex5-Accept.json", map[string]any{
		"id": w.id(w.bob, "accept"), "actor": w.bob, "object": off, "to": []string{w.alice.IRI},
	}))
	assert.Equal(t, storage.Accepted, w.member(t, w.col(b, communecter.Holders), w.bob).State)

	off2 := w.assign(t, b, w.carol)
	w.mustPost(t, w.carol, payload(t, "fedidevs-docs__activities-reject__ex2-Reject.json", map[string]any{
		"id": w.id(w.carol, "reject"), "actor": w.carol, "object": off2,
		"instrument": map[string]any{"revokeAuthor": w.carol, "revokeReason": "not deserved"}, "to": []string{w.alice.IRI},
	}))
	w.absent(t, w.col(b, communecter.Holders), w.carol)

	holders, err := w.c.Holders(ctx, b)
	require.NoError(t, err)
	require.Len(t, holders, 1)
	assert.Equal(t, w.bob, holders[0].IRI)

	// The holders are a collection others can read.
	req, err := http.NewRequest(http.MethodGet, b+"/holders", nil)
	require.NoError(t, err)
	req.Header.Set("Accept", "application/activity+json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var doc struct {
		TotalItems int `json:"totalItems"`
	}
	body, _ := io.ReadAll(resp.Body)
	require.NoError(t, json.Unmarshal(body, &doc), string(body))
	assert.Equal(t, 1, doc.TotalItems)

	// The issuer revokes it.
	_, err = w.c.RevokeBadge(ctx, w.alice.IRI, b, w.bob, "misconduct")
	require.NoError(t, err)
	w.absent(t, w.col(b, communecter.Holders), w.bob)
	rejects := w.sent(t, w.alice.IRI, "Reject")
	require.Len(t, rejects, 1)
	author, reason, ok := cvocab.RevocationOf(rejects[0])
	require.True(t, ok)
	assert.Equal(t, ap.IRI(w.alice.IRI), author)
	assert.Equal(t, "misconduct", reason)
}

// TestBadgeSelfAssign: a self-assignable badge of ours is held at once
// by whoever claims it, and the issuer answers Accept.
func TestBadgeSelfAssign(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	b := w.badge(t, true)
	off, body := w.offerBadge(t, w.eve, b, w.eve)
	w.mustPost(t, w.eve, body)
	m := w.member(t, w.col(b, communecter.Holders), w.eve)
	assert.Equal(t, storage.Accepted, m.State)
	assert.Equal(t, off, m.Activity)
	accepts := w.sent(t, w.alice.IRI, "Accept")
	require.Len(t, accepts, 1)
	assert.Equal(t, off, string(accepts[0].Object.GetLink()))
	assert.Equal(t, w.eve, string(accepts[0].To[0].GetLink()))

	// One of our actors claims it: it holds it at once.
	dave := w.srv.User(t, "dave")
	_, err := w.c.SelfAssignBadge(ctx, dave.IRI, b, "I did lead")
	require.NoError(t, err)
	assert.Equal(t, storage.Accepted, w.member(t, w.col(b, communecter.Holders), dave.IRI).State)
	assert.Equal(t, storage.Accepted, w.member(t, w.col(dave.IRI, communecter.Badges), b).State)
	w.srv.Drain(t)
	assert.Len(t, w.sent(t, w.alice.IRI, "Accept"), 1, "the issuer does not answer a claim already held")
}

// remoteBadge posts bob's Create of a badge of his (Communecter's
// shape) and returns its IRI.
func (w *world) remoteBadge(t *testing.T) string {
	t.Helper()
	iri := w.bob + "/badges/12345"
	create := payload(t, "fedidevs-docs__activities-create__ex2-Create.json", map[string]any{
		"id": w.id(w.bob, "create"), "actor": w.bob, "cc": []string{w.alice.IRI},
		"object": map[string]any{"type": "Badge", "id": iri, "attributedTo": w.bob, "name": "Advanced Training Badge",
			"content": "Earned for completing advanced training courses.", "published": "2023-07-02T10:15:00+0000"},
	})
	w.mustPost(t, w.bob, create)
	return iri
}

// TestBadgeReceived: a badge another server's issuer assigns to one of
// our actors (a person or an organization) waits until the application
// accepts or declines it; the issuer may revoke or delete it.
func TestBadgeReceived(t *testing.T) {
	ctx := context.Background()

	t.Run("accepted, then revoked", func(t *testing.T) {
		w := newWorld(t)
		b := w.remoteBadge(t)
		o, err := w.srv.Store.Objects.Get(ctx, b)
		require.NoError(t, err)
		assert.Equal(t, w.bob, o.Owner, "cached, owned by its issuer")

		off, body := w.offerBadge(t, w.bob, b, w.alice.IRI)
		w.mustPost(t, w.bob, body)
		m := w.member(t, w.col(w.alice.IRI, communecter.Badges), b)
		assert.Equal(t, storage.Pending, m.State)
		assert.Equal(t, []string{"Offer"}, w.pendingTypes())

		_, err = w.c.AcceptBadge(ctx, w.alice.IRI, b)
		require.NoError(t, err)
		assert.Equal(t, storage.Accepted, w.member(t, w.col(w.alice.IRI, communecter.Badges), b).State)
		accepts := w.sent(t, w.alice.IRI, "Accept")
		require.Len(t, accepts, 1)
		assert.Equal(t, off, string(accepts[0].Object.GetLink()))
		assert.Equal(t, w.bob, string(accepts[0].To[0].GetLink()))

		// Only its issuer revokes it: eve's Reject changes nothing.
		w.mustPost(t, w.eve, payload(t, "fedidevs-docs__activities-reject__ex2-Reject.json", map[string]any{
			"id": w.id(w.eve, "reject"), "actor": w.eve, "object": off,
			"instrument": map[string]any{"revokeAuthor": w.eve, "revokeReason": "revoked"}, "to": []string{w.alice.IRI},
		}))
		assert.Equal(t, storage.Accepted, w.member(t, w.col(w.alice.IRI, communecter.Badges), b).State)

		w.mustPost(t, w.bob, payload(t, "fedidevs-docs__activities-reject__ex2-Reject.json", map[string]any{
			"id": w.id(w.bob, "reject"), "actor": w.bob, "object": off,
			"instrument": map[string]any{"revokeAuthor": w.bob, "revokeReason": "revoked"}, "to": []string{w.alice.IRI},
		}))
		w.absent(t, w.col(w.alice.IRI, communecter.Badges), b)
	})

	t.Run("declined", func(t *testing.T) {
		w := newWorld(t)
		b := w.remoteBadge(t)
		_, body := w.offerBadge(t, w.bob, b, w.alice.IRI)
		w.mustPost(t, w.bob, body)
		_, err := w.c.DeclineBadge(ctx, w.alice.IRI, b, "not for me")
		require.NoError(t, err)
		w.absent(t, w.col(w.alice.IRI, communecter.Badges), b)
		assert.Len(t, w.sent(t, w.alice.IRI, "Reject"), 1)
	})

	t.Run("to one of our organizations, the badge embedded", func(t *testing.T) {
		w := newWorld(t)
		org, err := w.c.CreateOrganization(ctx, w.alice.IRI, actor.Actor{Name: "greenearth"}, false)
		require.NoError(t, err)
		b := w.bob + "/badges/embedded"
		body := payload(t, "fedidevs-docs__activities-offer__ex2-Offer.json", map[string]any{
			"id": w.id(w.bob, "offer"), "actor": w.bob, "target": org.IRI,
			"object": map[string]any{"type": "Badge", "id": b, "name": "Green", "attributedTo": w.bob},
		})
		status, msg := w.postTo(t, w.bob, org.IRI+"/inbox", body)
		require.Equal(t, http.StatusAccepted, status, msg)
		assert.Equal(t, storage.Pending, w.member(t, w.col(org.IRI, communecter.Badges), b).State)
		_, err = w.c.AcceptBadge(ctx, org.IRI, b)
		require.NoError(t, err)
		assert.Equal(t, storage.Accepted, w.member(t, w.col(org.IRI, communecter.Badges), b).State)
		o, err := w.srv.Store.Objects.Get(ctx, b)
		require.NoError(t, err, "the embedded badge is cached")
		assert.Equal(t, w.bob, o.Owner)
	})

	t.Run("deleted by its issuer", func(t *testing.T) {
		w := newWorld(t)
		b := w.remoteBadge(t)
		_, body := w.offerBadge(t, w.bob, b, w.alice.IRI)
		w.mustPost(t, w.bob, body)
		w.mustPost(t, w.bob, payload(t, "fedidevs-docs__activities-delete__ex2-Delete.json", map[string]any{
			"id": w.id(w.bob, "delete"), "actor": w.bob, "object": b, "cc": []string{w.alice.IRI},
		}))
		o, err := w.srv.Store.Objects.Get(ctx, b)
		require.NoError(t, err)
		assert.False(t, o.Deleted.IsZero())
		w.absent(t, w.col(w.alice.IRI, communecter.Badges), b)
	})
}
