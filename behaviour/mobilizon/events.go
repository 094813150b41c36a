package mobilizon

import (
	"context"
	"errors"
	"fmt"

	ap "github.com/go-ap/activitypub"

	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/vocab"
	vmz "github.com/fedi-go/fedi/vocab/mobilizon"
)

// CreateEvent publishes ev, organized by organizer, a local actor (a
// Person, or a Group): it sends the Create{Event}, addressed as ev is or,
// when ev addresses nobody, to the public and the organizer's followers,
// with participantCount 0 and, when ev has a maximumAttendeeCapacity,
// remainingAttendeeCapacity. ev is attributed to the organizer. It
// returns the event's IRI.
func CreateEvent(ctx context.Context, d Deps, organizer string, ev vmz.Event) (string, error) {
	ev.AttributedTo = ap.IRI(organizer)
	zero := 0
	ev.ParticipantCount = &zero
	if c := capacity(ev); c > 0 {
		ev.RemainingAttendeeCapacity = &c
	}
	if len(vocab.Audience(ev.Object)) == 0 {
		ev.To = ap.ItemCollection{vocab.PublicIRI}
		ev.CC = ap.ItemCollection{ap.IRI(d.Outbox.Scheme().Collection(organizer, actor.Followers))}
	}
	if _, err := d.Outbox.Send(ctx, vmz.NewCreate(ap.IRI(organizer), ev)); err != nil {
		return "", fmt.Errorf("mobilizon: create event: %w", err)
	}
	return string(ev.ID), nil
}

// UpdateEvent sends the Update of ev, one of organizer's events, with its
// participantCount and remainingAttendeeCapacity as they stand (the
// organizer's copy of them may be stale), addressed as ev is or, when ev
// addresses nobody, as the stored event was. It returns the Update's id.
func UpdateEvent(ctx context.Context, d Deps, organizer string, ev vmz.Event) (string, error) {
	reg, s := d.Outbox.Registry(), d.Outbox.Scheme()
	var id string
	err := storage.InTx(ctx, d.Store, func(ctx context.Context, tx storage.Store) error {
		cur, ok, err := localEvent(ctx, tx, reg, s, string(ev.ID))
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%w: %s", ErrNotEvent, ev.ID)
		}
		if cur.row.Owner != organizer {
			return fmt.Errorf("%w: %s does not organize %s", ErrNotOrganizer, organizer, ev.ID)
		}
		ev.ParticipantCount, ev.RemainingAttendeeCapacity = cur.ParticipantCount, cur.RemainingAttendeeCapacity
		if limit := capacity(ev); limit > 0 && cur.ParticipantCount != nil {
			left := max(limit-*cur.ParticipantCount, 0)
			ev.RemainingAttendeeCapacity = &left
		} else if limit == 0 {
			ev.RemainingAttendeeCapacity = nil
		}
		if ev.AttributedTo == nil {
			ev.AttributedTo = cur.AttributedTo
		}
		if len(vocab.Audience(ev.Object)) == 0 {
			ev.To, ev.CC = cur.To, cur.CC
		}
		update := vocab.NewActivity("Update", "", ap.IRI(organizer), ev.Object)
		update.To, update.CC = ev.To, ev.CC
		if err := d.Outbox.SendIn(ctx, tx, update); err != nil {
			return err
		}
		id = string(update.ID)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("mobilizon: update event: %w", err)
	}
	return id, nil
}

// JoinEvent sends who's Join of event, with an optional participation
// message for the organizer, to the event's organizers (its attributedTo
// and the actor Mobilizon names on it). event is the event's document, or
// its IRI when the event is stored here (one of ours, or a cached copy).
// The event enters who's Joins, pending until the organizer's Accept. It
// returns the Join's id.
func JoinEvent(ctx context.Context, d Deps, who string, event vocab.Item, message string) (string, error) {
	ev, err := eventDoc(ctx, d, event)
	if err != nil {
		return "", err
	}
	join := vmz.NewJoin(ap.IRI(who), ev.ID, message)
	join.To = organizers(ev)
	return d.Outbox.Send(ctx, join.Activity)
}

// LeaveEvent sends who's Leave of event (as JoinEvent takes it): the
// event leaves who's Joins. It returns the Leave's id.
func LeaveEvent(ctx context.Context, d Deps, who string, event vocab.Item) (string, error) {
	ev, err := eventDoc(ctx, d, event)
	if err != nil {
		return "", err
	}
	leave := vmz.NewLeave(ap.IRI(who), ev.ID)
	leave.To = organizers(ev)
	return d.Outbox.Send(ctx, leave)
}

// eventDoc returns event as an Event: the document itself, or the stored
// event it names.
func eventDoc(ctx context.Context, d Deps, event vocab.Item) (vmz.Event, error) {
	if event != nil && !event.IsLink() {
		if ev, ok := vmz.EventOf(event); ok && ev.ID != "" {
			return ev, nil
		}
		return vmz.Event{}, fmt.Errorf("%w: not an Event with an id", ErrNotEvent)
	}
	iri := string(vocab.IRIOf(event))
	it, _, err := storedItem(ctx, d.Store, d.Outbox.Registry(), iri)
	if err != nil {
		return vmz.Event{}, err
	}
	ev, ok := vmz.EventOf(it)
	if !ok {
		return vmz.Event{}, fmt.Errorf("%w: %s is not stored here: pass its document", ErrNotEvent, iri)
	}
	return ev, nil
}

// organizers returns whom a Join or Leave of ev goes to.
func organizers(ev vmz.Event) ap.ItemCollection {
	var to ap.ItemCollection
	add := func(iri string) {
		if iri != "" && !to.Contains(ap.IRI(iri)) {
			to = append(to, ap.IRI(iri))
		}
	}
	for _, by := range vocab.AttributedTo(ev.Object) {
		add(string(by))
	}
	var named string
	if jsonString(ev.Extra["actor"], &named) {
		add(named)
	}
	if len(to) == 0 {
		add(string(ev.ID)) // an event that acts
	}
	return to
}

// Decide is the organizer's decision on a participation in one of its
// events, named by its Join: accept makes a pending participant a
// participant and sends the Accept; otherwise the participation, pending
// or accepted, ends and a Reject is sent. The event's counts follow. Only
// the event's organizer (the local actor that owns it) decides: anyone
// else gets ErrNotOrganizer. An acceptance beyond the event's
// maximumAttendeeCapacity fails with ErrFull, and a decision on a Join
// that is not a participation of the event with ErrNotPending; then
// nothing changes. It returns the id of the Accept or Reject.
func Decide(ctx context.Context, d Deps, organizer, join string, accept bool) (string, error) {
	reg, s := d.Outbox.Registry(), d.Outbox.Scheme()
	var id string
	err := storage.InTx(ctx, d.Store, func(ctx context.Context, tx storage.Store) error {
		it, _, err := storedItem(ctx, tx, reg, join)
		if err != nil {
			return err
		}
		j, ok := vmz.JoinOf(it)
		if !ok {
			return fmt.Errorf("%w: %s is not a stored Join", ErrNotPending, join)
		}
		who, events := vocab.IRIs(j.Actor), vocab.IRIs(j.Object)
		if len(who) != 1 || len(events) != 1 {
			return fmt.Errorf("%w: %s is not a Join of one event", ErrNotPending, join)
		}
		ev, ok, err := localEvent(ctx, tx, reg, s, events[0])
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%w: %s", ErrNotEvent, events[0])
		}
		if ev.row.Owner != organizer {
			return fmt.Errorf("%w: %s does not organize %s", ErrNotOrganizer, organizer, events[0])
		}
		participants := s.Collection(events[0], Participants)
		m, err := tx.Collections.Contains(ctx, participants, who[0])
		if errors.Is(err, storage.ErrNotFound) || (err == nil && (m.Activity != join || (accept && m.State != storage.Pending))) {
			return fmt.Errorf("%w: %s", ErrNotPending, join)
		}
		if err != nil {
			return err
		}
		typ := "Reject"
		if accept {
			typ = "Accept"
			n, err := tx.Collections.Count(ctx, participants, storage.Accepted)
			if err != nil {
				return err
			}
			if full(ev.Event, n) {
				return fmt.Errorf("%w: %s", ErrFull, events[0])
			}
			err = tx.Collections.Add(ctx, participants, storage.Member{IRI: who[0], Activity: join})
			if err != nil {
				return err
			}
		} else if err := tx.Collections.Remove(ctx, participants, who[0]); err != nil {
			return err
		}
		if accept || m.State == storage.Accepted {
			if err := recount(ctx, tx, reg, s, ev); err != nil {
				return err
			}
		}
		ans := answer(organizer, typ, it)
		if err := d.Outbox.SendIn(ctx, tx, ans); err != nil {
			return err
		}
		id = string(ans.ID)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("mobilizon: decide on %s: %w", join, err)
	}
	return id, nil
}

// Invite invites who to event, one of organizer's events: who joins its
// Invited collection, so that its Join is accepted even when the event is
// by invitation only or restricted, and is sent an Invite{Event} (object
// the event, target who). Only the organizer invites (ErrNotOrganizer).
// It returns the Invite's id.
func Invite(ctx context.Context, d Deps, organizer, event, who string) (string, error) {
	reg, s := d.Outbox.Registry(), d.Outbox.Scheme()
	var id string
	err := storage.InTx(ctx, d.Store, func(ctx context.Context, tx storage.Store) error {
		ev, ok, err := localEvent(ctx, tx, reg, s, event)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%w: %s", ErrNotEvent, event)
		}
		if ev.row.Owner != organizer {
			return fmt.Errorf("%w: %s does not organize %s", ErrNotOrganizer, organizer, event)
		}
		inv := vocab.NewActivity("Invite", "", ap.IRI(organizer), ap.IRI(event))
		inv.Target = ap.IRI(who)
		inv.To = ap.ItemCollection{ap.IRI(who)}
		if err := d.Outbox.SendIn(ctx, tx, inv); err != nil {
			return err
		}
		id = string(inv.ID)
		return tx.Collections.Add(ctx, s.Collection(event, Invited), storage.Member{IRI: who, Activity: id})
	})
	if err != nil {
		return "", fmt.Errorf("mobilizon: invite to %s: %w", event, err)
	}
	return id, nil
}

// Participation is one actor's participation in one of our events.
type Participation struct {
	// Actor is the participant.
	Actor string
	// Join is the IRI of its Join: what Decide takes.
	Join string
	// Message is the Join's participationMessage, for the organizer.
	Message string
	// State is Accepted for a participant, Pending while the organizer
	// decides.
	State storage.State
}

// Participations returns a page of the participations in event, one of
// ours, in opts.State (Accepted participants, or the Pending ones that
// wait for Decide), with their participation messages, and the cursor of
// the next page ("" after the last).
func Participations(ctx context.Context, d Deps, event string, opts storage.PageOptions) ([]Participation, string, error) {
	s, reg := d.Outbox.Scheme(), d.Outbox.Registry()
	p, err := d.Store.Collections.Page(ctx, s.Collection(event, Participants), opts)
	if err != nil {
		return nil, "", fmt.Errorf("mobilizon: participations in %s: %w", event, err)
	}
	out := make([]Participation, 0, len(p.Members))
	for _, m := range p.Members {
		pa := Participation{Actor: m.IRI, Join: m.Activity, State: m.State}
		if it, _, err := storedItem(ctx, d.Store, reg, m.Activity); err == nil {
			if j, ok := vmz.JoinOf(it); ok {
				pa.Message = j.ParticipationMessage
			}
		}
		out = append(out, pa)
	}
	return out, p.Next, nil
}
