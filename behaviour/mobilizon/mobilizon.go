// Package mobilizon is the behaviour of Mobilizon, the federated events
// platform, on top of the default behaviour (behaviour/core): people join
// events, the organizer accepts or rejects them, invitations open events
// that are by invitation only, replies respect the event's moderation
// setting, group moderators remove content, and an instance relay
// announces everything public to the instances that subscribe to it.
//
// Register it after core.Register, in one call, and act with the helpers:
//
//	core.Register(f.Mux, core.Options{Remote: f.Remote})
//	relay, _ := mobilizon.EnsureRelay(ctx, f.LocalActors)
//	mobilizon.Register(f.Mux, mobilizon.Options{Outbox: f.Outbox, Relay: relay.IRI})
//	d := mobilizon.Deps{Store: f.Store, Outbox: f.Outbox}
//
//	ev := vmz.NewEvent("", ap.IRI(alice.IRI), "Picnic", start, end)
//	ev.JoinMode = vmz.JoinRestricted
//	event, _ := mobilizon.CreateEvent(ctx, d, alice.IRI, ev) // Create{Event}, announced by the relay
//	// ... a Join with a participationMessage arrives and waits:
//	pending, _, _ := mobilizon.Participations(ctx, d, event, storage.PageOptions{State: storage.Pending})
//	_, err := mobilizon.Decide(ctx, d, alice.IRI, pending[0].Join, true) // the Accept goes out
//
// (vmz is the vocabulary package, github.com/fedi-go/fedi/vocab/mobilizon.)
//
// # State
//
// Everything is kept in storage.Collections, under Scheme.Collection
// names of the events and actors, so that it is served like any other
// collection (add the names to serve.Options.Collections):
//   - Participants of a local event: each participant, Accepted, or
//     Pending while the organizer decides; its Activity is the Join, which
//     is stored (owned by the participant), so that its
//     participationMessage reads back. The event's stored document keeps
//     participantCount (the accepted participants) and, when it has a
//     maximumAttendeeCapacity, remainingAttendeeCapacity in step.
//   - Invited, of a local event: the actors invited to it, with the
//     Invite.
//   - Joins, of a local actor: the events it asked to join, Pending until
//     the organizer's Accept, Accepted after; a Reject or a Leave removes
//     the event. Its Activity is our Join.
//   - RefusedReplies, of a local event: the replies refused because the
//     event's replies are closed, with the Create that brought each.
//   - Moderators, of a local group: the actors who may remove content
//     from it.
//   - Relayed, of a local object: every instance the relay announced it
//     to, so that its Update and Delete reach them all.
//
// # Refusals
//
// A Join that cannot be had (the event is full, by invitation only and
// the actor was not invited, a draft, cancelled, or its participation is
// external) is refused with a 4xx and leaves no trace: the participation
// never existed. With Options.RejectRefusedJoins, it is answered 202 and
// with the organizer's Reject instead, for peers that wait for an answer;
// it still makes no participation. A reply to an event whose replies are
// closed is answered 202 and with a Reject from the organizer: the reply
// is then not kept.
package mobilizon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/behaviour/core"
	"github.com/fedi-go/fedi/inbox"
	"github.com/fedi-go/fedi/outbox"
	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/vocab"
	vmz "github.com/fedi-go/fedi/vocab/mobilizon"
)

// The names of the collections this package keeps, as Scheme.Collection
// takes them.
const (
	Participants   = "participants"   // a local event's participants, with their Join
	Invited        = "invited"        // a local event's invitees, with the Invite
	Joins          = "joins"          // the events a local actor asked to join, with its Join
	RefusedReplies = "refusedReplies" // a local event's refused replies, with their Create
	Moderators     = "moderators"     // a local group's moderators
	Relayed        = "relayed"        // the instances the relay announced a local object to
)

// Sentinel errors of the helpers.
var (
	// ErrNotOrganizer reports a decision, an invitation or an update by an
	// actor that does not organize the event.
	ErrNotOrganizer = errors.New("mobilizon: not the event's organizer")
	// ErrNotPending reports a decision on a Join that is not waiting for
	// one.
	ErrNotPending = errors.New("mobilizon: no such pending participation")
	// ErrFull reports an acceptance that would take the event beyond its
	// maximumAttendeeCapacity.
	ErrFull = errors.New("mobilizon: the event is full")
	// ErrNotEvent reports an IRI that is not an event this server knows.
	ErrNotEvent = errors.New("mobilizon: not a known event")
	// ErrNotGroup reports a group that is not one of our Groups.
	ErrNotGroup = errors.New("mobilizon: not one of our groups")
)

// Options configures the behaviour.
type Options struct {
	// Outbox is the outbox our actors send with; required. The behaviour
	// watches it (Outbox.OnSend) to keep the Joins of our actors and, with
	// Relay set, to announce what they publish.
	Outbox *outbox.Outbox
	// Relay is the IRI of the instance relay actor (see EnsureRelay); ""
	// means no relay.
	Relay string
	// RejectRefusedJoins answers a Join that the event cannot take (full,
	// by invitation only without an invitation, external, draft,
	// cancelled) with 202 and the organizer's Reject, so that the peer's
	// participation ends as rejected, instead of a 4xx that leaves no
	// trace. Either way the Join makes no participation.
	RejectRefusedJoins bool
}

// Deps are what the helpers act through: the store they read and write,
// and the outbox they send with, whose registry and scheme they use. Each
// helper's writes and sends are one transaction.
type Deps struct {
	Store  storage.Store
	Outbox *outbox.Outbox
}

// Register registers the Mobilizon handlers on m, and its watchers on
// o.Outbox. Register core first: the handlers of Create and Remove and of
// the answers to Joins go on top of core's, and pass to them what is not
// theirs (without core, Register registers core's below them).
func Register(m *inbox.Mux, o Options) {
	if o.Outbox == nil {
		panic("mobilizon: Options.Outbox is required")
	}
	inbox.Handle(m, "Join Event", Join(o))
	inbox.Handle(m, "Leave Event", Leave())
	share(m, "Accept Join", AcceptJoin(), core.Answer("Accept"))
	share(m, "Reject Join", RejectJoin(), core.Answer("Reject"))
	share(m, "Create", ClosedReplies(), core.Create())
	share(m, "Remove", RemoveFromGroup(), core.Remove())
	s := o.Outbox.Scheme()
	o.Outbox.OnSend(func(ctx context.Context, tx storage.Store, act vocab.Item) error {
		return keepJoins(ctx, tx, s, act)
	})
	if o.Relay != "" {
		r := &relay{iri: o.Relay, out: o.Outbox}
		o.Outbox.OnSend(r.onSend)
	}
}

// share registers r for pattern on top of the rule registered there
// before (another platform's, or core's), or of below when there is none:
// what r's Check passes with inbox.ErrPass goes down to it.
func share[O, B vocab.Item](m *inbox.Mux, pattern string, r inbox.Rule[O], below inbox.Rule[B]) {
	if !m.Handles(pattern) {
		inbox.Handle(m, pattern, below)
	}
	inbox.Stack(m, pattern, r)
}

// storedEvent is a local event as stored: its document and its row.
type storedEvent struct {
	vmz.Event
	row storage.Object
}

// localEvent returns the local event iri from st, or ok false when iri is
// not a live local event.
func localEvent(ctx context.Context, st storage.Store, reg *vocab.Registry, s actor.Scheme, iri string) (storedEvent, bool, error) {
	if !s.IsLocal(iri) {
		return storedEvent{}, false, nil
	}
	o, err := st.Objects.Get(ctx, iri)
	if errors.Is(err, storage.ErrNotFound) {
		return storedEvent{}, false, nil
	}
	if err != nil {
		return storedEvent{}, false, err
	}
	if !o.Deleted.IsZero() || o.Owner == "" {
		return storedEvent{}, false, nil
	}
	it, err := reg.Decode(o.Data)
	if err != nil {
		return storedEvent{}, false, fmt.Errorf("mobilizon: stored event %s: %w", iri, err)
	}
	ev, ok := vmz.EventOf(it)
	if !ok {
		return storedEvent{}, false, nil
	}
	return storedEvent{Event: ev, row: o}, true, nil
}

// capacity returns the event's maximumAttendeeCapacity, 0 when it has
// none (Mobilizon writes 0 for no limit).
func capacity(ev vmz.Event) int {
	if ev.MaximumAttendeeCapacity == nil || *ev.MaximumAttendeeCapacity < 0 {
		return 0
	}
	return *ev.MaximumAttendeeCapacity
}

// full reports whether an event with accepted participants has no seat
// left.
func full(ev vmz.Event, accepted int) bool {
	limit := capacity(ev)
	return limit > 0 && accepted >= limit
}

// recount stores the event again with participantCount and
// remainingAttendeeCapacity from its accepted participants, read through
// st.
func recount(ctx context.Context, st storage.Store, reg *vocab.Registry, s actor.Scheme, ev storedEvent) error {
	n, err := st.Collections.Count(ctx, s.Collection(string(ev.ID), Participants), storage.Accepted)
	if err != nil {
		return err
	}
	ev.ParticipantCount = &n
	if limit := capacity(ev.Event); limit > 0 {
		left := max(limit-n, 0)
		ev.RemainingAttendeeCapacity = &left
	}
	data, err := reg.Encode(ev.Object)
	if err != nil {
		return fmt.Errorf("mobilizon: encode %s: %w", ev.ID, err)
	}
	return st.Objects.Put(ctx, storage.Object{IRI: ev.row.IRI, Type: ev.row.Type, Owner: ev.row.Owner, Data: data})
}

// storeActivity keeps a received activity, so that what names it later
// (a decision, a Leave) finds it; one stored before is left as it is.
func storeActivity(ctx context.Context, a *inbox.Activity) error {
	if a.ID == "" {
		return nil
	}
	err := a.Store.Objects.Put(ctx, storage.Object{IRI: a.ID, Type: a.Type, Owner: a.Actor, Data: a.Raw})
	if errors.Is(err, storage.ErrConflict) {
		return nil
	}
	return err
}

// storedItem returns the stored item iri decoded, or nil when it is not
// stored (or tombstoned).
func storedItem(ctx context.Context, st storage.Store, reg *vocab.Registry, iri string) (vocab.Item, storage.Object, error) {
	if iri == "" {
		return nil, storage.Object{}, nil
	}
	o, err := st.Objects.Get(ctx, iri)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, storage.Object{}, nil
	}
	if err != nil {
		return nil, storage.Object{}, err
	}
	if !o.Deleted.IsZero() {
		return nil, o, nil
	}
	it, err := reg.Decode(o.Data)
	if err != nil {
		return nil, o, fmt.Errorf("mobilizon: stored %s: %w", iri, err)
	}
	return it, o, nil
}

// answer returns an Accept or Reject (typ) by who of the activity
// answered, embedded, addressed to its actor.
func answer(who, typ string, answered vocab.Item) *vocab.Activity {
	return core.NewAnswer(who, typ, answered)
}

// each calls fn for every member of coll in state, a page at a time.
func each(ctx context.Context, st storage.Store, coll string, state storage.State, fn func(storage.Member) error) error {
	cursor := ""
	for {
		p, err := st.Collections.Page(ctx, coll, storage.PageOptions{State: state, Cursor: cursor, Limit: storage.MaxPageLimit})
		if err != nil {
			return err
		}
		for _, m := range p.Members {
			if err := fn(m); err != nil {
				return err
			}
		}
		if p.Next == "" {
			return nil
		}
		cursor = p.Next
	}
}

// jsonString reads a JSON string property into dst, and reports whether
// it was a non-empty string.
func jsonString(raw json.RawMessage, dst *string) bool {
	return len(raw) > 0 && json.Unmarshal(raw, dst) == nil && *dst != ""
}
