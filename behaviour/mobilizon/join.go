package mobilizon

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/inbox"
	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/vocab"
	vmz "github.com/fedi-go/fedi/vocab/mobilizon"
)

// admission is what a Join of one of our events leads to.
type admission int

const (
	admitAccept  admission = iota // a participant at once
	admitPending                  // waits for the organizer
	admitAgain                    // a participant already: answer again
)

// Join handles a Join of one of our events. By the event's joinMode, the
// actor becomes a participant and is sent the organizer's Accept (free,
// or invited by the organizer), or waits, its Join kept with its
// participationMessage, for the organizer's Decide (restricted). A Join
// the event cannot take is refused with a 4xx and leaves nothing behind:
// the event is full, by invitation only and the actor was not invited,
// its participation is external, it is a draft or cancelled; with
// o.RejectRefusedJoins, it is answered 202 and with the organizer's
// Reject instead, and still leaves no participation. A Join of an event
// already joined is answered again. A Join of another server's event is
// kept in the recipient's inbox.
func Join(o Options) inbox.Rule[*vocab.Object] {
	doc := "makes the actor a participant of our event and sends the organizer's Accept, or keeps the Join pending with its participationMessage when the event is restricted; refuses a Join of a full event, or of an invite-only one without an invitation"
	if o.RejectRefusedJoins {
		doc = strings.Replace(doc, "refuses a Join", "answers with the organizer's Reject a Join", 1)
	}
	return inbox.Rule[*vocab.Object]{
		Doc: doc,
		Check: func(ctx context.Context, a *inbox.Activity, obj *vocab.Object) error {
			ev, ours, err := localEvent(ctx, a.Store, a.Registry(), a.Scheme(), string(obj.ID))
			if err != nil || !ours {
				return err
			}
			if a.ID == "" {
				return inbox.Reject(http.StatusBadRequest, "a Join needs an id, for its Accept to name")
			}
			_, err = admit(ctx, a.Store, a.Scheme(), ev.Event, a.Actor)
			if o.RejectRefusedJoins && refusal(err) {
				return nil // Apply answers with a Reject
			}
			return err
		},
		Apply: func(ctx context.Context, a *inbox.Activity, obj *vocab.Object) error {
			s := a.Scheme()
			ev, ours, err := localEvent(ctx, a.Store, a.Registry(), s, string(obj.ID))
			if err != nil {
				return err
			}
			if !ours {
				return inbox.RecordInInbox(ctx, a)
			}
			participants := s.Collection(string(ev.ID), Participants)
			if m, err := a.Store.Collections.Contains(ctx, participants, a.Actor); err == nil && m.Activity == a.ID {
				return nil // applied for another recipient of the same Join
			}
			// Decided again inside the transaction: of two Joins racing
			// for the last seat, the second is refused here.
			organizer := ev.row.Owner
			adm, err := admit(ctx, a.Store, s, ev.Event, a.Actor)
			switch {
			case err == nil:
			case !o.RejectRefusedJoins || !refusal(err):
				return err
			case a.Recipient != nil && a.Recipient.IRI != organizer:
				return nil // the organizer's delivery answers it
			default:
				return a.Send(ctx, answer(organizer, "Reject", a.Item))
			}
			if err := storeActivity(ctx, a); err != nil {
				return err
			}
			switch adm {
			case admitAgain:
				return a.Send(ctx, answer(organizer, "Accept", a.Item))
			case admitPending:
				return a.Store.Collections.Add(ctx, participants, storage.Member{IRI: a.Actor, State: storage.Pending, Activity: a.ID})
			}
			if err := a.Store.Collections.Add(ctx, participants, storage.Member{IRI: a.Actor, Activity: a.ID}); err != nil {
				return err
			}
			if err := recount(ctx, a.Store, a.Registry(), s, ev); err != nil {
				return err
			}
			return a.Send(ctx, answer(organizer, "Accept", a.Item))
		},
	}
}

// refusal reports whether err is a Join the event cannot take, rather
// than a failure of ours.
func refusal(err error) bool {
	var e *inbox.Error
	return errors.As(err, &e) && e.Code >= 400 && e.Code < 500
}

// admit decides what a Join of ev by who leads to, reading st, or refuses
// it.
func admit(ctx context.Context, st storage.Store, s actor.Scheme, ev vmz.Event, who string) (admission, error) {
	event := string(ev.ID)
	m, err := st.Collections.Contains(ctx, s.Collection(event, Participants), who)
	switch {
	case err == nil && m.State == storage.Accepted:
		return admitAgain, nil
	case err != nil && !errors.Is(err, storage.ErrNotFound):
		return 0, err
	}
	switch {
	case ev.Draft != nil && *ev.Draft:
		return 0, inbox.Forbid("the event is a draft")
	case ev.Status == vmz.StatusCancelled:
		return 0, inbox.Forbid("the event is cancelled")
	case ev.JoinMode == vmz.JoinExternal:
		return 0, inbox.Forbid("participation in the event happens on an external site")
	}
	invited := false
	if _, err := st.Collections.Contains(ctx, s.Collection(event, Invited), who); err == nil {
		invited = true
	} else if !errors.Is(err, storage.ErrNotFound) {
		return 0, err
	}
	if ev.JoinMode == vmz.JoinInvite && !invited {
		return 0, inbox.Forbid("the event is by invitation only")
	}
	n, err := st.Collections.Count(ctx, s.Collection(event, Participants), storage.Accepted)
	if err != nil {
		return 0, err
	}
	if full(ev, n) {
		return 0, inbox.Reject(http.StatusConflict, "the event is full")
	}
	if ev.JoinMode == vmz.JoinRestricted && !invited {
		return admitPending, nil
	}
	return admitAccept, nil
}

// Leave handles a Leave of one of our events: the actor, participant or
// waiting, is one no longer, and the event's counts follow. A Leave of
// another server's event, or by someone who had not joined, is kept in
// the recipient's inbox.
func Leave() inbox.Rule[*vocab.Object] {
	return inbox.Rule[*vocab.Object]{
		Doc: "removes the actor from our event's participants, accepted or pending, and updates the event's counts",
		Apply: func(ctx context.Context, a *inbox.Activity, obj *vocab.Object) error {
			s := a.Scheme()
			ev, ours, err := localEvent(ctx, a.Store, a.Registry(), s, string(obj.ID))
			if err != nil {
				return err
			}
			if !ours {
				return inbox.RecordInInbox(ctx, a)
			}
			participants := s.Collection(string(ev.ID), Participants)
			m, err := a.Store.Collections.Contains(ctx, participants, a.Actor)
			if errors.Is(err, storage.ErrNotFound) {
				return inbox.RecordInInbox(ctx, a)
			}
			if err != nil {
				return err
			}
			if err := a.Store.Collections.Remove(ctx, participants, a.Actor); err != nil {
				return err
			}
			if m.State == storage.Accepted {
				if err := recount(ctx, a.Store, a.Registry(), s, ev); err != nil {
					return err
				}
			}
			return inbox.RecordInInbox(ctx, a)
		},
	}
}
