package communecter_test

import (
	"fmt"
	"testing"
	"time"

	ap "github.com/go-ap/activitypub"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fedi-go/fedi/internal/testpayload"
	"github.com/fedi-go/fedi/vocab"
	"github.com/fedi-go/fedi/vocab/communecter"
)

var reg = vocab.MustRegistry(communecter.Vocabulary)

func TestProject(t *testing.T) {
	it := testpayload.Decode(t, reg, "communecter__fedidevs-docs__objects-project__ex1-Project.json")
	p, ok := communecter.ProjectOf(it)
	require.True(t, ok)
	assert.Equal(t, "EcoSmart Homes Initiative", vocab.TextOf(p.Name))
	assert.Equal(t, "Ongoing", p.Progress)
	assert.Contains(t, p.ShortDescription, "knowledge-sharing platform")
	place, ok := p.Place()
	require.True(t, ok)
	addr, ok := place.PostalAddress()
	require.True(t, ok)
	assert.Equal(t, "Fianarantsoa", addr.AddressLocality)
	assert.Equal(t, "MG", addr.AddressCountry)
}

func TestBadge(t *testing.T) {
	it := testpayload.Decode(t, reg, "communecter__fedidevs-docs__objects-badge__ex1-Badge.json")
	b, ok := communecter.BadgeOf(it)
	require.True(t, ok)
	// "+0000" offsets are read.
	assert.True(t, b.Published.Equal(time.Date(2024, 7, 2, 11, 47, 35, 0, time.UTC)))

	it = testpayload.Decode(t, reg, "communecter__fedidevs-docs__activities-create__ex2-Create.json")
	_, ok = communecter.BadgeOf(it.(*vocab.Activity).Object)
	assert.True(t, ok)
}

func TestRoles(t *testing.T) {
	it := testpayload.Decode(t, reg, "communecter__fedidevs-docs__activities-join__ex2-Join.json")
	a := it.(*vocab.Activity)
	role, ok := communecter.RoleOf(a)
	require.True(t, ok)
	assert.Equal(t, communecter.Role{Name: communecter.RoleContributor}, role)
	// Join: object is the actor, target the project.
	assert.Equal(t, a.Actor, a.Object)
	assert.Equal(t, ap.IRI("https://communecter.org/api/activitypub/activity/id/649d514eba30c"), a.Target)

	it = testpayload.Decode(t, reg, "communecter__fedidevs-docs__activities-accept__ex2-Accept.json")
	role, ok = communecter.RoleOf(it.(*vocab.Activity))
	require.True(t, ok)
	assert.Equal(t, communecter.Role{Name: "adminandrole", Rules: []string{"Partenaire", "Directeur"}}, role)

	_, ok = communecter.RoleOf(vocab.NewActivity("Join", "", ap.IRI("https://a"), ap.IRI("https://b")))
	assert.False(t, ok)

	join := communecter.NewJoin("https://c.example/u/a", "https://c.example/p/1", communecter.RoleAdmin)
	assert.Equal(t, join.Actor, join.Object)
	role, _ = communecter.RoleOf(join)
	assert.Equal(t, communecter.RoleAdmin, role.Name)
	for _, a := range []*vocab.Activity{
		communecter.NewInvite("https://c/u/a", "https://c/u/b", "https://c/p/1", communecter.RoleContributor),
		communecter.NewOffer("https://c/u/a", "https://c/u/b", "https://c/p/1", communecter.RoleAsAdmin),
		communecter.NewAccept("https://c/u/b", "https://c/act/1", "https://c/p/1", communecter.RoleContributor),
	} {
		r, ok := communecter.RoleOf(a)
		assert.True(t, ok, a.Type)
		assert.NotEmpty(t, r.Name)
		assert.Equal(t, ap.IRI("https://c/p/1"), a.Target)
	}
	leave := communecter.NewLeave("https://c/u/a", "https://c/p/1")
	assert.Equal(t, leave.Actor, leave.Object)
	assert.Nil(t, communecter.NewReject("https://c/u/b", "https://c/act/1").Target)
}

func TestBadgeActivities(t *testing.T) {
	it := testpayload.Decode(t, reg, "communecter__fedidevs-docs__activities-offer__ex2-Offer.json")
	b, ok := communecter.BadgeAssignmentOf(it.(*vocab.Activity))
	require.True(t, ok)
	assert.Equal(t, ap.IRI("https://communecter.org/api/activitypub/users/u/Hajavololona"), b.Recipient)
	assert.Equal(t, "This is a narrative describing the badge assignment activity.", b.Narrative)
	assert.True(t, b.NeedsAcceptance)
	assert.False(t, b.SelfAssigned)

	it = testpayload.Decode(t, reg, "communecter__fedidevs-docs__activities-reject__ex2-Reject.json")
	author, reason, ok := communecter.RevocationOf(it.(*vocab.Activity))
	require.True(t, ok)
	assert.Equal(t, ap.IRI("https://communecter.org/api/activitypub/users/u/ArmelWanes"), author)
	assert.Contains(t, reason, "rejected the offer")

	// What the constructors build reads back the same way after a round
	// trip through JSON.
	for _, tc := range []struct {
		a    *vocab.Activity
		self bool
	}{
		{communecter.NewAssignBadge("https://c/u/a", "https://c/badge/1", "https://c/org/1", "for the meetup"), false},
		{communecter.NewSelfAssignBadge("https://c/u/a", "https://c/badge/1", "I did it"), true},
	} {
		out, err := reg.Encode(tc.a)
		require.NoError(t, err)
		back, err := reg.Decode(out)
		require.NoError(t, err)
		b, ok := communecter.BadgeAssignmentOf(back.(*vocab.Activity))
		require.True(t, ok, "%s", out)
		assert.Equal(t, tc.self, b.SelfAssigned)
		assert.Equal(t, ap.IRI("https://c/badge/1"), b.Badge)
	}
	refuse := communecter.NewRefuseBadge("https://c/u/issuer", "https://c/act/offer/1", "not earned")
	out, err := reg.Encode(refuse)
	require.NoError(t, err)
	back, err := reg.Decode(out)
	require.NoError(t, err)
	author, reason, ok = communecter.RevocationOf(back.(*vocab.Activity))
	require.True(t, ok)
	assert.Equal(t, ap.IRI("https://c/u/issuer"), author)
	assert.Equal(t, "not earned", reason)

	badge := communecter.NewBadge("https://c/badge/1", "https://c/u/issuer", "Helper", "Helped at the meetup")
	for _, a := range []*vocab.Activity{communecter.NewCreateBadge("https://c/u/issuer", badge),
		communecter.NewUpdateBadge("https://c/u/issuer", badge)} {
		_, ok := communecter.BadgeOf(a.Object)
		assert.True(t, ok)
	}
	assert.Equal(t, ap.IRI("https://c/badge/1"), communecter.NewDeleteBadge("https://c/u/issuer", "https://c/badge/1").Object)
	assert.Equal(t, "Accept", string(communecter.NewAcceptBadge("https://c/u/a", "https://c/act/1").Type))
	assert.Equal(t, "Reject", string(communecter.NewRejectBadge("https://c/u/a", "https://c/act/1", "no thanks").Type))
	_, ok = communecter.BadgeAssignmentOf(communecter.NewOffer("https://c/u/a", "https://c/u/b", "https://c/p/1", "admin"))
	assert.False(t, ok)
}

func ExampleRoleOf() {
	reg := vocab.MustRegistry(communecter.Vocabulary)
	item, err := reg.Decode([]byte(`{"type":"Accept","actor":"https://communecter.example/u/a",
		"object":"https://communecter.example/activity/1","target":"https://communecter.example/p/1",
		"instrument":{"as":"adminandrole","rules":"Partenaire,Directeur"}}`))
	if err != nil {
		panic(err)
	}
	role, ok := communecter.RoleOf(item.(*vocab.Activity))
	fmt.Println(ok, role.Name, role.Rules)
	// Output: true adminandrole [Partenaire Directeur]
}

func ExampleNewAssignBadge() {
	reg := vocab.MustRegistry(communecter.Vocabulary)
	offer := communecter.NewAssignBadge("https://communecter.example/u/issuer",
		"https://communecter.example/badge/1", "https://communecter.example/org/1", "For the meetup")
	offer.ID = "https://communecter.example/activity/2"
	out, err := reg.Encode(offer)
	if err != nil {
		panic(err)
	}
	fmt.Println(string(out))
	// Output: {"@context":["https://www.w3.org/ns/activitystreams","https://w3id.org/security/v1",{"communecter":"https://communecter.org/ns#","Project":"communecter:Project","Badge":"communecter:Badge","Role":"communecter:Role","rules":"communecter:rules","narrative":"communecter:narrative","attenteRecepteur":"communecter:attenteRecepteur","revokeAuthor":{"@id":"communecter:revokeAuthor","@type":"@id"},"revokeReason":"communecter:revokeReason"}],"id":"https://communecter.example/activity/2","type":"Offer","actor":"https://communecter.example/u/issuer","object":"https://communecter.example/badge/1","target":"https://communecter.example/org/1","instrument":{"type":"Object","narrative":"For the meetup","attenteRecepteur":true}}
}
