// Package gathio is the behaviour of Gathio, where an event is an actor:
// people follow the event itself, and the event sends its updates to its
// followers. Attendance rides on invitations (ActivityStreams' RSVP): an
// Invite{Event} is answered with Accept (going), Reject (not going) or
// TentativeAccept (maybe), and each answer is recorded on the event. The
// same answers given to the event itself (Accept{Event}, Gathio's own
// RSVP, which Friendica and Zap send too) count from the event's
// invitees and followers.
//
// Register it after core.Register, whose Follow handler answers the
// Follows of any local actor, events included:
//
//	core.Register(f.Mux, core.Options{Remote: f.Remote})
//	gathio.Register(f.Mux, gathio.Options{})
//	d := gathio.Deps{Store: f.Store, Outbox: f.Outbox}
//
//	ev := vmz.NewEvent("", "", "Picnic", start, end) // vmz: vocab/mobilizon
//	picnic, _ := gathio.CreateEvent(ctx, f.LocalActors, "picnic", ev.Object)
//	// ... people follow picnic@host; then:
//	ev.Name = vocab.Text("Picnic, moved indoors")
//	_, _ = gathio.UpdateEvent(ctx, d, picnic.IRI, ev.Object) // Update{Event} to its followers
//	_, _ = gathio.Invite(ctx, d, picnic.IRI, picnic.IRI, bob) // bob answers Accept: going
//	going, _, _ := gathio.RSVPs(ctx, d, picnic.IRI, gathio.Going, storage.PageOptions{})
//
// # State
//
// In storage.Collections, under Scheme.Collection names:
//   - Going, NotGoing and Maybe, of an event: each actor by its latest
//     answer to an invitation, with that answer (Accept, Reject,
//     TentativeAccept) as its Activity; an actor is in one of them at
//     most. For one of our events, the answers of everyone invited; for
//     another server's, the answers our actors gave.
//   - Invited, of one of our events: the actors invited, with the Invite.
//   - Invitations, of one of our actors: the events it was invited to,
//     Pending until it answers, with the Invite (stored, so that Respond
//     finds it).
package gathio

import (
	"context"
	"errors"
	"fmt"

	ap "github.com/go-ap/activitypub"

	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/behaviour/core"
	"github.com/fedi-go/fedi/inbox"
	"github.com/fedi-go/fedi/outbox"
	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/vocab"
)

// RSVP is an answer to an invitation to an event, and the name of the
// event's collection that records it.
type RSVP string

// The answers, each sent as its activity type.
const (
	Going    RSVP = "going"    // Accept
	NotGoing RSVP = "notgoing" // Reject
	Maybe    RSVP = "maybe"    // TentativeAccept
)

// answers are every RSVP, in the order above.
var answers = []RSVP{Going, NotGoing, Maybe}

// Type returns the activity type that carries the answer.
func (r RSVP) Type() string {
	switch r {
	case Going:
		return "Accept"
	case NotGoing:
		return "Reject"
	case Maybe:
		return "TentativeAccept"
	}
	return ""
}

// String returns the answer in words: "going", "not going", "maybe".
func (r RSVP) String() string {
	if r == NotGoing {
		return "not going"
	}
	return string(r)
}

// The names of the other collections this package keeps. Invitations
// is not Communecter's "invitations", the invitations to projects of the
// same actor, so that both behaviours can be registered together.
const (
	Invited     = "invited"          // the actors invited to one of our events, with the Invite
	Invitations = "eventInvitations" // the events one of our actors is invited to, with the Invite
)

// Sentinel errors of the helpers.
var (
	// ErrNotEvent reports an IRI that is not an event this server knows.
	ErrNotEvent = errors.New("gathio: not a known event")
	// ErrNotOrganizer reports an invitation or update by an actor that
	// is neither the event nor its owner.
	ErrNotOrganizer = errors.New("gathio: not the event or its organizer")
	// ErrNotInvited reports an answer to an invitation that was not
	// addressed to the one answering.
	ErrNotInvited = errors.New("gathio: no such invitation")
	// ErrRSVP reports an answer that is not Going, NotGoing or Maybe.
	ErrRSVP = errors.New("gathio: unknown answer")
)

// Options configures the behaviour. The zero value works.
type Options struct{}

// Deps are what the helpers act through: the store, and the outbox they
// send with (whose registry and scheme they use). Each helper's writes
// and sends are one transaction.
type Deps struct {
	Store  storage.Store
	Outbox *outbox.Outbox
}

// Register registers the Gathio handlers on m. Register core first: the
// answers to invitations go on top of core's Accept and Reject (and of
// another platform's rule for the same pattern, such as invitations to
// projects), which get what is not an invitation to an event.
func Register(m *inbox.Mux, _ Options) {
	share(m, "Invite Event", InviteEvent(), inboxRule())
	share(m, "Accept Invite", Answer(Going), core.Answer("Accept"))
	share(m, "Reject Invite", Answer(NotGoing), core.Answer("Reject"))
	share(m, "TentativeAccept Invite", Answer(Maybe), core.Answer("TentativeAccept"))
	share(m, "Accept Event", AnswerEvent(Going), core.Answer("Accept"))
	share(m, "Reject Event", AnswerEvent(NotGoing), core.Answer("Reject"))
	share(m, "TentativeAccept Event", AnswerEvent(Maybe), core.Answer("TentativeAccept"))
}

// share registers r for pattern on top of the rule registered there
// before, or of below when there is none: what r's Check passes with
// inbox.ErrPass goes down to it.
func share[O, B vocab.Item](m *inbox.Mux, pattern string, r inbox.Rule[O], below inbox.Rule[B]) {
	if !m.Handles(pattern) {
		inbox.Handle(m, pattern, below)
	}
	inbox.Stack(m, pattern, r)
}

// inboxRule keeps what no rule takes in the recipient's inbox, as the
// inbox's default does.
func inboxRule() inbox.Rule[vocab.Item] {
	return inbox.Rule[vocab.Item]{
		Doc:   "stores the activity and lists it in the recipient's inbox",
		Apply: func(ctx context.Context, a *inbox.Activity, _ vocab.Item) error { return inbox.RecordInInbox(ctx, a) },
	}
}

// CreateEvent creates an event that acts: a local actor named name, of
// type Event, whose document is ev (its name, times, location...) with
// what an actor needs (inbox, outbox, followers, publicKey). People
// follow it like anyone (core's Follow answers them).
func CreateEvent(ctx context.Context, actors *actor.Store, name string, ev *vocab.Object) (*actor.Actor, error) {
	noEmptyOrganizer(ev)
	a, err := actors.Create(ctx, actor.Actor{Name: name, Type: "Event", Profile: ev})
	if err != nil {
		return nil, fmt.Errorf("gathio: create event %s: %w", name, err)
	}
	return a, nil
}

// UpdateEvent replaces the document of event, an event that acts, with
// ev, and sends the event's Update of itself, public and to its
// followers, so that they learn of the change. It returns the Update's
// id.
func UpdateEvent(ctx context.Context, d Deps, event string, ev *vocab.Object) (string, error) {
	s, reg := d.Outbox.Scheme(), d.Outbox.Registry()
	var id string
	err := storage.InTx(ctx, d.Store, func(ctx context.Context, tx storage.Store) error {
		actors := actor.NewStore(tx, s, reg)
		a, err := actors.ByIRI(ctx, event)
		if err != nil {
			return err
		}
		if a.Type != "Event" {
			return fmt.Errorf("%w: %s is a %s", ErrNotEvent, event, a.Type)
		}
		noEmptyOrganizer(ev)
		a.Profile = ev
		if err := actors.Update(ctx, a); err != nil {
			return err
		}
		doc, err := actor.Document(ctx, s, d.Store.Keys, a)
		if err != nil {
			return err
		}
		update := vocab.NewActivity("Update", "", ap.IRI(event), doc)
		update.To = ap.ItemCollection{vocab.PublicIRI}
		update.CC = ap.ItemCollection{ap.IRI(s.Collection(event, actor.Followers))}
		if err := d.Outbox.SendIn(ctx, tx, update); err != nil {
			return err
		}
		id = string(update.ID)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("gathio: update event %s: %w", event, err)
	}
	return id, nil
}

// noEmptyOrganizer drops an attributedTo that is an empty IRI, what
// vocab/mobilizon.NewEvent leaves for an event without organizer: an
// event that acts organizes itself.
func noEmptyOrganizer(ev *vocab.Object) {
	if ev.AttributedTo != nil && ev.AttributedTo.IsLink() && vocab.IRIOf(ev.AttributedTo) == "" {
		ev.AttributedTo = nil
	}
}

// isEvent reports whether iri is stored here as an Event: one of our
// events (an event that acts, or an event object), or a cached one.
func isEvent(ctx context.Context, st storage.Store, iri string) (owner string, ok bool, err error) {
	o, err := st.Objects.Get(ctx, iri)
	if errors.Is(err, storage.ErrNotFound) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return o.Owner, o.Type == "Event" && o.Deleted.IsZero(), nil
}

// storedActivity returns the stored activity iri, or nil.
func storedActivity(ctx context.Context, st storage.Store, reg *vocab.Registry, iri string) (*vocab.Activity, storage.Object, error) {
	if iri == "" {
		return nil, storage.Object{}, nil
	}
	o, err := st.Objects.Get(ctx, iri)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, storage.Object{}, nil
	}
	if err != nil || !o.Deleted.IsZero() {
		return nil, o, err
	}
	it, err := reg.Decode(o.Data)
	if err != nil {
		return nil, o, fmt.Errorf("gathio: stored %s: %w", iri, err)
	}
	act, _ := it.(*vocab.Activity)
	return act, o, nil
}

// invitees returns whom an Invite invites: its target, or, without one,
// its to.
func invitees(inv *vocab.Activity) []string {
	if t := vocab.IRIs(inv.Target); len(t) > 0 {
		return t
	}
	return vocab.IRIs(inv.To)
}
