// Package mobilizon is the vocabulary of Mobilizon, the federated events
// platform: Event with its participation and moderation settings, Join with
// a participation message, groups and their members.
//
// The terms and their JSON-LD definitions follow Mobilizon's federation
// documentation and the @context Mobilizon sends (namespace
// https://joinmobilizon.org/ns#). The event location is a Place with a
// schema.org PostalAddress; see package schema, which this vocabulary
// includes.
//
//	reg, _ := vocab.NewRegistry(mobilizon.Vocabulary)
//	item, _ := reg.Decode(body)
//	if ev, ok := mobilizon.EventOf(item); ok && ev.JoinMode == mobilizon.JoinRestricted {
//		// participations wait for approval
//	}
package mobilizon

import (
	"time"

	ap "github.com/go-ap/activitypub"

	"github.com/fedi-go/fedi/vocab"
	"github.com/fedi-go/fedi/vocab/schema"
)

// JoinMode says how people may join an event or a group.
type JoinMode string

// The join modes.
const (
	JoinFree       JoinMode = "free"       // anyone joins at once
	JoinRestricted JoinMode = "restricted" // joins wait for the organizer's Accept or Reject
	JoinInvite     JoinMode = "invite"     // by invitation only
	JoinExternal   JoinMode = "external"   // participation happens on an external site
)

// RepliesModeration says who may comment on an event.
type RepliesModeration string

// The moderation options.
const (
	RepliesAllowAll  RepliesModeration = "allow_all"
	RepliesClosed    RepliesModeration = "closed"
	RepliesModerated RepliesModeration = "moderated"
)

// Status is the iCalendar status of an event (ical:status).
type Status string

// The event statuses.
const (
	StatusTentative Status = "TENTATIVE"
	StatusConfirmed Status = "CONFIRMED"
	StatusCancelled Status = "CANCELLED"
)

// EventFields are Mobilizon's Event properties.
type EventFields struct {
	JoinMode                      JoinMode
	RepliesModerationOption       RepliesModeration
	Status                        Status // ical:status
	MaximumAttendeeCapacity       *int
	RemainingAttendeeCapacity     *int
	ParticipantCount              *int
	AnonymousParticipationEnabled *bool
	IsOnline                      *bool
	Timezone                      string // an IANA zone name, such as "Europe/Paris"
	Category                      string // such as "MEETING" or "SPORTS"
	Draft                         *bool
	UUID                          string
	InLanguage                    string
	Contacts                      ap.ItemCollection // the actors to contact about the event
}

// JoinFields are Mobilizon's Join properties.
type JoinFields struct {
	// ParticipationMessage is the plain-text note a participant sends to
	// the organizers, for events whose participations are approved by hand.
	ParticipationMessage string
}

// GroupFields are the properties Mobilizon puts on its Group and Person
// actors.
type GroupFields struct {
	Openness    string // "open", "moderated" or "invite_only"
	Members     ap.Item
	MemberCount *int
	Resources   ap.Item
	Todos       ap.Item
	Posts       ap.Item
	Events      ap.Item
	Discussions ap.Item
}

// MemberFields are the properties of a Member, the membership of an actor
// in a group.
type MemberFields struct {
	Role string // "member", "moderator", "administrator", "creator", "invited", "not_approved" or "rejected"
}

var eventFields = vocab.NewProperties(
	vocab.StringField(vocab.Term{Name: "joinMode", ID: "mz:joinMode", Type: "mz:joinModeType"},
		func(f *EventFields) *JoinMode { return &f.JoinMode }),
	vocab.StringField(vocab.Term{Name: "repliesModerationOption", ID: "mz:repliesModerationOption", Type: "mz:repliesModerationOptionType"},
		func(f *EventFields) *RepliesModeration { return &f.RepliesModerationOption }),
	vocab.StringField(vocab.Term{Name: "ical:status", ID: "ical:status"},
		func(f *EventFields) *Status { return &f.Status }),
	vocab.IntField(vocab.Term{Name: "maximumAttendeeCapacity", ID: "schema:maximumAttendeeCapacity"},
		func(f *EventFields) **int { return &f.MaximumAttendeeCapacity }),
	vocab.IntField(vocab.Term{Name: "remainingAttendeeCapacity", ID: "schema:remainingAttendeeCapacity"},
		func(f *EventFields) **int { return &f.RemainingAttendeeCapacity }),
	vocab.IntField(vocab.Term{Name: "participantCount", ID: "mz:participantCount", Type: "schema:Integer"},
		func(f *EventFields) **int { return &f.ParticipantCount }),
	vocab.BoolField(vocab.Term{Name: "anonymousParticipationEnabled", ID: "mz:anonymousParticipationEnabled", Type: "schema:Boolean"},
		func(f *EventFields) **bool { return &f.AnonymousParticipationEnabled }),
	vocab.BoolField(vocab.Term{Name: "isOnline", ID: "mz:isOnline", Type: "schema:Boolean"},
		func(f *EventFields) **bool { return &f.IsOnline }),
	vocab.StringField(vocab.Term{Name: "timezone", ID: "mz:timezone", Type: "schema:Text"},
		func(f *EventFields) *string { return &f.Timezone }),
	vocab.StringField(vocab.Term{Name: "category", ID: "schema:category"},
		func(f *EventFields) *string { return &f.Category }),
	vocab.BoolField(vocab.Term{Name: "draft", ID: "mz:draft", Type: "schema:Boolean"},
		func(f *EventFields) **bool { return &f.Draft }),
	vocab.StringField(vocab.Term{Name: "uuid", ID: "schema:identifier"},
		func(f *EventFields) *string { return &f.UUID }),
	vocab.StringField(vocab.Term{Name: "inLanguage", ID: "schema:inLanguage"},
		func(f *EventFields) *string { return &f.InLanguage }),
	vocab.ItemsField(vocab.Term{Name: "contacts", ID: "mz:contacts", Type: "@id"},
		func(f *EventFields) *ap.ItemCollection { return &f.Contacts }),
)

var joinFields = vocab.NewProperties(
	vocab.StringField(vocab.Term{Name: "participationMessage", ID: "mz:participationMessage", Type: "schema:Text"},
		func(f *JoinFields) *string { return &f.ParticipationMessage }),
)

var groupFields = vocab.NewProperties(
	vocab.StringField(vocab.Term{Name: "openness", ID: "mz:openness", Type: "@id"},
		func(f *GroupFields) *string { return &f.Openness }),
	vocab.ItemField(vocab.Term{Name: "members", ID: "mz:members", Type: "@id"},
		func(f *GroupFields) *ap.Item { return &f.Members }),
	vocab.IntField(vocab.Term{Name: "memberCount", ID: "mz:memberCount", Type: "schema:Integer"},
		func(f *GroupFields) **int { return &f.MemberCount }),
	vocab.ItemField(vocab.Term{Name: "resources", ID: "mz:resources", Type: "@id"},
		func(f *GroupFields) *ap.Item { return &f.Resources }),
	vocab.ItemField(vocab.Term{Name: "todos", ID: "mz:todos", Type: "@id"},
		func(f *GroupFields) *ap.Item { return &f.Todos }),
	vocab.ItemField(vocab.Term{Name: "posts", ID: "mz:posts", Type: "@id"},
		func(f *GroupFields) *ap.Item { return &f.Posts }),
	vocab.ItemField(vocab.Term{Name: "events", ID: "mz:events", Type: "@id"},
		func(f *GroupFields) *ap.Item { return &f.Events }),
	vocab.ItemField(vocab.Term{Name: "discussions", ID: "mz:discussions", Type: "@id"},
		func(f *GroupFields) *ap.Item { return &f.Discussions }),
)

var memberFields = vocab.NewProperties(
	vocab.StringField(vocab.Term{Name: "role", ID: "mz:role"},
		func(f *MemberFields) *string { return &f.Role }),
)

// Vocabulary is the Mobilizon vocabulary. It includes schema.Vocabulary.
var Vocabulary = vocab.MustVocabulary(vocab.VocabularyDef{
	Name: "mobilizon",
	Terms: []vocab.Term{
		{Name: "mz", ID: "https://joinmobilizon.org/ns#"},
		{Name: "schema", ID: "http://schema.org#"},
		{Name: "ical", ID: "http://www.w3.org/2002/12/cal/ical#"},
		{Name: "rdfs", ID: "http://www.w3.org/2000/01/rdf-schema#"},
		{Name: "joinModeType", ID: "mz:joinModeType", Type: "rdfs:Class"},
		{Name: "repliesModerationOptionType", ID: "mz:repliesModerationOptionType", Type: "rdfs:Class"},
	},
	Types:      []vocab.TypeDef{{Name: "Member", ID: "mz:Member", Shape: vocab.ShapeActivity}},
	Properties: []vocab.PropertySet{eventFields, joinFields, groupFields, memberFields},
	Includes:   []*vocab.Vocabulary{schema.Vocabulary},
})

// Event is a typed view of an Event: go-ap's fields through *vocab.Object
// and Mobilizon's through *EventFields. Reading and writing its fields
// reads and writes the item.
type Event struct {
	*vocab.Object
	*EventFields
}

// EventOf returns the Event view of an item of type Event.
func EventOf(it vocab.Item) (Event, bool) {
	o, ok := it.(*vocab.Object)
	if !ok || !vocab.HasType(o, "Event") {
		return Event{}, false
	}
	return Event{Object: o, EventFields: vocab.PropsOf(o, eventFields)}, true
}

// NewEvent returns an event organized by organizer (its attributedTo).
func NewEvent(id, organizer ap.IRI, name string, start, end time.Time) Event {
	o := vocab.NewObject("Event", id)
	o.AttributedTo = organizer
	o.Name = vocab.Text(name)
	o.StartTime, o.EndTime = start, end
	return Event{Object: o, EventFields: vocab.PropsOf(o, eventFields)}
}

// RepliesModeration returns who may comment: repliesModerationOption, or
// else the PeerTube commentsEnabled fallback (true means allow_all, false
// closed), or "" when the event says neither.
func (e Event) RepliesModeration() RepliesModeration {
	if e.RepliesModerationOption != "" {
		return e.RepliesModerationOption
	}
	if e.CommentsEnabled != nil {
		if *e.CommentsEnabled {
			return RepliesAllowAll
		}
		return RepliesClosed
	}
	return ""
}

// SetRepliesModeration sets repliesModerationOption and the commentsEnabled
// fallback, which Mobilizon sets to true only for allow_all.
func (e Event) SetRepliesModeration(m RepliesModeration) {
	e.RepliesModerationOption = m
	enabled := m == RepliesAllowAll
	e.CommentsEnabled = &enabled
}

// Place returns the event's location as a Place with its schema.org
// address.
func (e Event) Place() (schema.Place, bool) {
	return schema.PlaceOf(e.Location)
}

// Join is a typed view of a Join activity.
type Join struct {
	*vocab.Activity
	*JoinFields
}

// JoinOf returns the Join view of a Join activity.
func JoinOf(it vocab.Item) (Join, bool) {
	a, ok := it.(*vocab.Activity)
	if !ok || !vocab.HasType(a, "Join") {
		return Join{}, false
	}
	return Join{Activity: a, JoinFields: vocab.PropsOf(a, joinFields)}, true
}

// NewJoin returns the Join that actor sends to take part in event, with an
// optional participation message for the organizers.
func NewJoin(actor, event ap.IRI, message string) Join {
	a := vocab.NewActivity("Join", "", actor, event)
	j := Join{Activity: a, JoinFields: vocab.PropsOf(a, joinFields)}
	j.ParticipationMessage = message
	return j
}

// NewLeave returns the Leave that actor sends to cancel its participation.
func NewLeave(actor, event ap.IRI) *vocab.Activity {
	return vocab.NewActivity("Leave", "", actor, event)
}

// NewAccept returns the organizer's approval of a Join (or Follow); the
// original activity is embedded, as Mobilizon does.
func NewAccept(organizer ap.IRI, request vocab.Item) *vocab.Activity {
	return vocab.NewActivity("Accept", "", organizer, request)
}

// NewReject returns the organizer's refusal of a Join (or Follow).
func NewReject(organizer ap.IRI, request vocab.Item) *vocab.Activity {
	return vocab.NewActivity("Reject", "", organizer, request)
}

// NewCreate returns the Create that announces a new event.
func NewCreate(actor ap.IRI, ev Event) *vocab.Activity {
	a := vocab.NewActivity("Create", "", actor, ev.Object)
	a.To, a.CC = ev.To, ev.CC
	return a
}

// Group is a typed view of a Mobilizon Group (or Person) actor.
type Group struct {
	*vocab.Actor
	*GroupFields
}

// GroupOf returns the Group view of an actor.
func GroupOf(it vocab.Item) (Group, bool) {
	a, ok := it.(*vocab.Actor)
	if !ok {
		return Group{}, false
	}
	return Group{Actor: a, GroupFields: vocab.PropsOf(a, groupFields)}, true
}

// Member is a typed view of a Member: Actor is the member, Object the
// group.
type Member struct {
	*vocab.Activity
	*MemberFields
}

// MemberOf returns the Member view of an item of type Member.
func MemberOf(it vocab.Item) (Member, bool) {
	a, ok := it.(*vocab.Activity)
	if !ok || !vocab.HasType(a, "Member") {
		return Member{}, false
	}
	return Member{Activity: a, MemberFields: vocab.PropsOf(a, memberFields)}, true
}
