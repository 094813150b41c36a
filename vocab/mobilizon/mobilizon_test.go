package mobilizon_test

import (
	"fmt"
	"testing"
	"time"

	ap "github.com/go-ap/activitypub"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fedi-go/fedi/internal/testpayload"
	"github.com/fedi-go/fedi/vocab"
	"github.com/fedi-go/fedi/vocab/mobilizon"
	"github.com/fedi-go/fedi/vocab/schema"
)

var reg = vocab.MustRegistry(mobilizon.Vocabulary)

func TestEventOf(t *testing.T) {
	it := testpayload.Decode(t, reg, "mobilizon__lemmy-assets__objects_event.json")
	ev, ok := mobilizon.EventOf(it)
	require.True(t, ok)
	assert.Equal(t, mobilizon.JoinFree, ev.JoinMode)
	assert.Equal(t, mobilizon.RepliesAllowAll, ev.RepliesModerationOption)
	assert.Equal(t, mobilizon.RepliesAllowAll, ev.RepliesModeration())
	assert.Equal(t, mobilizon.StatusConfirmed, ev.Status)
	require.NotNil(t, ev.MaximumAttendeeCapacity)
	assert.Equal(t, 0, *ev.MaximumAttendeeCapacity)
	assert.Nil(t, ev.RemainingAttendeeCapacity) // null in the payload
	require.NotNil(t, ev.ParticipantCount)
	require.NotNil(t, ev.AnonymousParticipationEnabled)
	assert.True(t, *ev.AnonymousParticipationEnabled)
	require.NotNil(t, ev.IsOnline)
	assert.False(t, *ev.IsOnline)
	assert.Equal(t, "Europe/London", ev.Timezone)
	assert.Equal(t, "SPORTS", ev.Category)
	assert.Equal(t, "b81c0531-a57c-497d-93ba-af0f8b255498", ev.UUID)
	assert.Equal(t, ap.ItemCollection{ap.IRI("https://rendezvous.nomagic.uk/@emorrp1")}, ev.Contacts)
	require.NotNil(t, ev.CommentsEnabled)
	assert.True(t, *ev.CommentsEnabled)
	assert.True(t, ev.StartTime.Equal(time.Date(2022, 12, 11, 19, 0, 0, 0, time.UTC)))

	place, ok := ev.Place()
	require.True(t, ok)
	assert.Equal(t, 50.66881615, place.Latitude)
	assert.Equal(t, -3.537739788359949, place.Longitude)
	addr, ok := place.PostalAddress()
	require.True(t, ok)
	assert.Equal(t, "Devon Expressway", addr.StreetAddress)
	assert.Equal(t, "EX6 7TW", addr.PostalCode)
	assert.Equal(t, "United Kingdom", addr.AddressCountry)

	_, ok = mobilizon.EventOf(vocab.NewObject("Note", ""))
	assert.False(t, ok)
	_, ok = mobilizon.EventOf(ap.IRI("https://a/e"))
	assert.False(t, ok)
}

func TestRepliesModerationFallback(t *testing.T) {
	for doc, want := range map[string]mobilizon.RepliesModeration{
		`{"type":"Event","repliesModerationOption":"closed","commentsEnabled":true}`: mobilizon.RepliesClosed,
		`{"type":"Event","commentsEnabled":true}`:                                    mobilizon.RepliesAllowAll,
		`{"type":"Event","commentsEnabled":false}`:                                   mobilizon.RepliesClosed,
		`{"type":"Event"}`: "",
	} {
		it, err := reg.Decode([]byte(doc))
		require.NoError(t, err)
		ev, _ := mobilizon.EventOf(it)
		assert.Equal(t, want, ev.RepliesModeration(), doc)
	}
	ev := mobilizon.NewEvent("https://m.example/events/1", "https://m.example/@org", "Picnic",
		time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC), time.Time{})
	ev.SetRepliesModeration(mobilizon.RepliesModerated)
	out, err := reg.Encode(ev)
	require.NoError(t, err)
	assert.Contains(t, string(out), `"repliesModerationOption":"moderated"`)
	assert.Contains(t, string(out), `"commentsEnabled":false`)
}

func TestEventRoundTripAfterEdit(t *testing.T) {
	it := testpayload.Decode(t, reg, "mobilizon__mobilizon-fixtures__mobilizon-post-activity.json")
	a := it.(*vocab.Activity)
	ev, ok := mobilizon.EventOf(a.Object)
	require.True(t, ok)
	ev.JoinMode = mobilizon.JoinRestricted
	capacity := 20
	ev.MaximumAttendeeCapacity = &capacity
	out, err := reg.Encode(it)
	require.NoError(t, err)
	back, err := reg.Decode(out)
	require.NoError(t, err)
	ev2, ok := mobilizon.EventOf(back.(*vocab.Activity).Object)
	require.True(t, ok)
	assert.Equal(t, mobilizon.JoinRestricted, ev2.JoinMode)
	assert.Equal(t, 20, *ev2.MaximumAttendeeCapacity)
	assert.Equal(t, "TODO remove me", ev2.Category)
	assert.Contains(t, string(out), `"joinMode":{"@id":"mz:joinMode","@type":"mz:joinModeType"}`)
}

func TestJoin(t *testing.T) {
	it := testpayload.Decode(t, reg, "mobilizon__mobilizon-docs__activity_pub-md__join-participationMessage.json")
	j, ok := mobilizon.JoinOf(it)
	require.True(t, ok)
	assert.Equal(t, "I want to join\u00a0!", j.ParticipationMessage)
	assert.Equal(t, ap.IRI("http://mobilizon.test/events/some-uuid"), j.Object)

	join := mobilizon.NewJoin("https://a.example/@bob", "https://m.example/events/1", "See you there")
	join.ID = "https://a.example/@bob/join/1"
	out, err := reg.Encode(join)
	require.NoError(t, err)
	assert.JSONEq(t, `{"@context":["https://www.w3.org/ns/activitystreams","https://w3id.org/security/v1",
		{"mz":"https://joinmobilizon.org/ns#","schema":"http://schema.org#","ical":"http://www.w3.org/2002/12/cal/ical#",
		"rdfs":"http://www.w3.org/2000/01/rdf-schema#","joinModeType":{"@id":"mz:joinModeType","@type":"rdfs:Class"},
		"repliesModerationOptionType":{"@id":"mz:repliesModerationOptionType","@type":"rdfs:Class"},"Member":"mz:Member",
		"participationMessage":{"@id":"mz:participationMessage","@type":"schema:Text"}}],
		"id":"https://a.example/@bob/join/1","type":"Join","actor":"https://a.example/@bob",
		"object":"https://m.example/events/1","participationMessage":"See you there"}`, string(out))

	accept := mobilizon.NewAccept("https://m.example/@org", join)
	out, err = reg.Encode(accept)
	require.NoError(t, err)
	assert.Contains(t, string(out), `"type":"Accept","actor":"https://m.example/@org","object":{"id":"https://a.example/@bob/join/1","type":"Join"`)
	assert.Equal(t, "Leave", string(mobilizon.NewLeave("https://a/u", "https://m/e").Type))
	assert.Equal(t, "Reject", string(mobilizon.NewReject("https://m/o", join).Type))
}

func TestMembersAndGroups(t *testing.T) {
	it := testpayload.Decode(t, reg, "mobilizon__mobilizon-fixtures__mobilizon-members-collection.json")
	var roles []string
	vocab.Walk(it, func(_ string, it vocab.Item) bool {
		if m, ok := mobilizon.MemberOf(it); ok {
			roles = append(roles, m.Role+" "+string(vocab.IRIOf(m.Actor)))
		}
		return true
	})
	assert.NotEmpty(t, roles)

	it = testpayload.Decode(t, reg, "mobilizon__lemmy-assets__objects_group.json")
	g, ok := mobilizon.GroupOf(it)
	require.True(t, ok)
	assert.NotEmpty(t, g.Openness)
	assert.NotNil(t, g.Members)
	require.NotNil(t, g.MemberCount)
	assert.Equal(t, 13, *g.MemberCount)
	assert.Equal(t, "open", g.Openness)
	place, ok := schema.PlaceOf(g.Location)
	require.True(t, ok)
	addr, ok := place.PostalAddress()
	require.True(t, ok)
	assert.Empty(t, addr.StreetAddress) // null in the payload
	assert.Nil(t, schema.AddressOf(it).Address)
}

func ExampleEventOf() {
	reg := vocab.MustRegistry(mobilizon.Vocabulary)
	item, err := reg.Decode([]byte(`{
		"type": "Event", "id": "https://mobilizon.example/events/1", "name": "Picnic",
		"joinMode": "restricted", "repliesModerationOption": "allow_all", "ical:status": "CONFIRMED",
		"maximumAttendeeCapacity": 30,
		"location": {"type": "Place", "name": "Parc", "latitude": 45.75, "longitude": 4.84,
			"address": {"type": "PostalAddress", "addressLocality": "Lyon", "addressCountry": "France"}}
	}`))
	if err != nil {
		panic(err)
	}
	ev, ok := mobilizon.EventOf(item)
	fmt.Println(ok, vocab.TextOf(ev.Name), ev.JoinMode == mobilizon.JoinRestricted, ev.Status, *ev.MaximumAttendeeCapacity)
	if place, ok := ev.Place(); ok {
		addr, _ := place.PostalAddress()
		fmt.Println(vocab.TextOf(place.Name), addr.AddressLocality, place.Latitude)
	}
	// Output:
	// true Picnic true CONFIRMED 30
	// Parc Lyon 45.75
}

func ExampleNewJoin() {
	reg := vocab.MustRegistry(mobilizon.Vocabulary)
	join := mobilizon.NewJoin("https://a.example/users/bob", "https://mobilizon.example/events/1", "I can bring a cake")
	join.ID = "https://a.example/users/bob/join/1"
	out, err := reg.Encode(join)
	if err != nil {
		panic(err)
	}
	back, _ := reg.Decode(out)
	j, _ := mobilizon.JoinOf(back)
	fmt.Println(j.Type, j.Actor, j.ParticipationMessage)
	// Output: Join https://a.example/users/bob I can bring a cake
}
