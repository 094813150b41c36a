package communecter_test

import (
	"context"
	"testing"

	ap "github.com/go-ap/activitypub"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fedi-go/fedi/behaviour/communecter"
	"github.com/fedi-go/fedi/internal/fedtest"
	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/storage/memory"
	"github.com/fedi-go/fedi/vocab"
	cvocab "github.com/fedi-go/fedi/vocab/communecter"
)

// TestTwoServers: two servers with the Communecter behaviour federate a
// project invitation with a role, a role offer, a Join and a Leave, a
// badge assignment and a badge claim, each accepted across them.
func TestTwoServers(t *testing.T) {
	ctx := context.Background()
	var ca, cb *communecter.Client
	a := server(t, memory.New(), &ca, nil)
	b := server(t, memory.New(), &cb, nil)
	alice := a.User(t, "alice")
	bob, carol := b.User(t, "bob"), b.User(t, "carol")
	member := func(srv *fedtest.Server, coll, who string) storage.Member {
		t.Helper()
		m, err := srv.Store.Collections.Contains(ctx, coll, who)
		require.NoError(t, err, "%s in %s", who, coll)
		return m
	}

	// Alice's project; she invites bob as a contributor.
	p, err := ca.CreateProject(ctx, alice.IRI, cvocab.NewProject("", ap.IRI(alice.IRI), "Community garden", "Vegetables for all"))
	require.NoError(t, err)
	inv, err := ca.Invite(ctx, alice.IRI, bob.IRI, p, cvocab.RoleContributor)
	require.NoError(t, err)
	fedtest.DrainAll(t, a, b)
	invs, err := cb.Invitations(ctx, bob.IRI)
	require.NoError(t, err)
	require.Len(t, invs, 1, "the invitation reached bob's server")
	assert.Equal(t, communecter.Invitation{Project: p, Activity: inv, Inviter: alice.IRI, Role: cvocab.Role{Name: cvocab.RoleContributor}}, invs[0])

	_, err = cb.AcceptInvitation(ctx, bob.IRI, p)
	require.NoError(t, err)
	fedtest.DrainAll(t, a, b)
	members, err := ca.Members(ctx, p)
	require.NoError(t, err)
	require.Len(t, members, 2)
	assert.Equal(t, communecter.Member{IRI: bob.IRI, State: storage.Accepted, Activity: inv, Role: cvocab.Role{Name: cvocab.RoleContributor}}, members[0])
	assert.Equal(t, storage.Accepted, member(b, b.Scheme.Collection(bob.IRI, communecter.MemberOf), p).State)

	// Alice offers bob the admin role; he accepts.
	_, err = ca.OfferRole(ctx, alice.IRI, bob.IRI, p, cvocab.RoleAdmin)
	require.NoError(t, err)
	fedtest.DrainAll(t, a, b)
	_, err = cb.AcceptInvitation(ctx, bob.IRI, p)
	require.NoError(t, err)
	fedtest.DrainAll(t, a, b)
	admin, err := ca.IsAdmin(ctx, p, bob.IRI)
	require.NoError(t, err)
	assert.True(t, admin, "bob is an admin of alice's project")

	// Carol, on bob's server, which knows the project from the
	// invitation, joins it, then leaves.
	join, err := cb.Join(ctx, carol.IRI, p, cvocab.RoleContributor)
	require.NoError(t, err)
	assert.Equal(t, storage.Pending, member(b, b.Scheme.Collection(carol.IRI, communecter.MemberOf), p).State)
	fedtest.DrainAll(t, a, b)
	assert.Equal(t, join, member(a, a.Scheme.Collection(p, communecter.Members), carol.IRI).Activity)
	assert.Equal(t, storage.Accepted, member(b, b.Scheme.Collection(carol.IRI, communecter.MemberOf), p).State, "the project's Accept reached carol's server")
	_, err = cb.Leave(ctx, carol.IRI, p)
	require.NoError(t, err)
	fedtest.DrainAll(t, a, b)
	_, err = a.Store.Collections.Contains(ctx, a.Scheme.Collection(p, communecter.Members), carol.IRI)
	assert.ErrorIs(t, err, storage.ErrNotFound)

	// Alice assigns bob a badge: pending until he accepts it.
	badge, err := ca.CreateBadge(ctx, alice.IRI, cvocab.NewBadge("", ap.IRI(alice.IRI), "Gardener", "Grew tomatoes"), false)
	require.NoError(t, err)
	off, err := ca.AssignBadge(ctx, alice.IRI, badge, bob.IRI, "for the tomatoes")
	require.NoError(t, err)
	fedtest.DrainAll(t, a, b)
	assert.Equal(t, storage.Pending, member(a, a.Scheme.Collection(badge, communecter.Holders), bob.IRI).State)
	assert.Equal(t, storage.Pending, member(b, b.Scheme.Collection(bob.IRI, communecter.Badges), badge).State)
	_, err = cb.AcceptBadge(ctx, bob.IRI, badge)
	require.NoError(t, err)
	fedtest.DrainAll(t, a, b)
	h := member(a, a.Scheme.Collection(badge, communecter.Holders), bob.IRI)
	assert.Equal(t, storage.Accepted, h.State, "bob holds the badge")
	assert.Equal(t, off, h.Activity)
	assert.Equal(t, storage.Accepted, member(b, b.Scheme.Collection(bob.IRI, communecter.Badges), badge).State)

	// Carol follows alice, sees her self-assignable badge, and claims it.
	follow := vocab.NewActivity("Follow", "", ap.IRI(carol.IRI), ap.IRI(alice.IRI))
	_, err = b.Send(ctx, follow)
	require.NoError(t, err)
	fedtest.DrainAll(t, a, b)
	open, err := ca.CreateBadge(ctx, alice.IRI, cvocab.NewBadge("", ap.IRI(alice.IRI), "Visitor", "Came by"), true)
	require.NoError(t, err)
	fedtest.DrainAll(t, a, b)
	_, err = cb.SelfAssignBadge(ctx, carol.IRI, open, "I came by")
	require.NoError(t, err)
	assert.Equal(t, storage.Pending, member(b, b.Scheme.Collection(carol.IRI, communecter.Badges), open).State)
	fedtest.DrainAll(t, a, b)
	assert.Equal(t, storage.Accepted, member(a, a.Scheme.Collection(open, communecter.Holders), carol.IRI).State)
	assert.Equal(t, storage.Accepted, member(b, b.Scheme.Collection(carol.IRI, communecter.Badges), open).State, "the issuer's Accept reached carol's server")
}
