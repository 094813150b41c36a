package gathio

import (
	"context"
	"errors"
	"fmt"
	"slices"

	ap "github.com/go-ap/activitypub"

	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/inbox"
	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/vocab"
)

// InviteEvent handles an Invite{Event} of one of our actors (its target,
// or its to without one): the Invite is kept, and the event enters the
// actor's Invitations, pending until it answers (Respond). An Invite of
// someone else is kept in the recipient's inbox.
func InviteEvent() inbox.Rule[*vocab.Object] {
	return inbox.Rule[*vocab.Object]{
		Doc: "keeps the invitation to the event in the invited actor's invitations, for it to answer going, not going or maybe",
		Apply: func(ctx context.Context, a *inbox.Activity, ev *vocab.Object) error {
			inv := a.Activity()
			if a.Recipient == nil || inv == nil || a.ID == "" || !slices.Contains(invitees(inv), a.Recipient.IRI) {
				return inbox.RecordInInbox(ctx, a)
			}
			if err := inbox.RecordInInbox(ctx, a); err != nil {
				return err
			}
			invitations := a.Scheme().Collection(a.Recipient.IRI, Invitations)
			return a.Store.Collections.Add(ctx, invitations, storage.Member{IRI: string(ev.ID), State: storage.Pending, Activity: a.ID})
		},
	}
}

// Answer handles the answers to an invitation to an event that one of
// our actors sent (an Accept, a Reject, a TentativeAccept, by rsvp): the
// answer must come from an actor the Invite invited, and is recorded on
// the event, the actor leaving the event's other answers. An answer to
// anything else (an invitation to a project) passes to the rule below.
func Answer(rsvp RSVP) inbox.Rule[vocab.Item] {
	return inbox.Rule[vocab.Item]{
		Doc: fmt.Sprintf("records the invited actor as %s on our invitation's event; only an invited actor answers", rsvp),
		Check: func(ctx context.Context, a *inbox.Activity, obj vocab.Item) error {
			inv, err := ourInvite(ctx, a, obj)
			if err != nil {
				return err
			}
			if inv == nil {
				return inbox.ErrPass
			}
			if !slices.Contains(invitees(inv.act), a.Actor) {
				return inbox.Forbid("the invitation was for someone else")
			}
			return nil
		},
		Apply: func(ctx context.Context, a *inbox.Activity, obj vocab.Item) error {
			inv, err := ourInvite(ctx, a, obj)
			if err != nil {
				return err
			}
			if inv == nil {
				return inbox.RecordInInbox(ctx, a)
			}
			if err := record(ctx, a.Store, a.Scheme(), inv.event, a.Actor, rsvp, a.ID); err != nil {
				return err
			}
			return inbox.RecordInInbox(ctx, a)
		},
	}
}

// AnswerEvent handles an answer given to one of our events directly,
// Accept{Event}, Reject{Event} or TentativeAccept{Event} by rsvp: the
// RSVP Gathio itself takes, and Friendica and Zap send. The actor must be
// invited to the event, or follow it (an event that acts); the answer is
// recorded as Answer records it. An answer to an event that is not ours
// passes to the rule below.
func AnswerEvent(rsvp RSVP) inbox.Rule[vocab.Item] {
	return inbox.Rule[vocab.Item]{
		Doc: fmt.Sprintf("records the actor as %s on our event; only its invitees and followers answer it", rsvp),
		Check: func(ctx context.Context, a *inbox.Activity, obj vocab.Item) error {
			event := string(vocab.IRIOf(obj))
			_, ok, err := isEvent(ctx, a.Store, event)
			if err != nil {
				return err
			}
			if !ok || !a.Scheme().IsLocal(event) {
				return inbox.ErrPass
			}
			s := a.Scheme()
			for _, coll := range []string{s.Collection(event, Invited), s.Collection(event, actor.Followers)} {
				m, err := a.Store.Collections.Contains(ctx, coll, a.Actor)
				if err == nil && m.State == storage.Accepted {
					return nil
				}
				if err != nil && !errors.Is(err, storage.ErrNotFound) {
					return err
				}
			}
			return inbox.Forbid("only the event's invitees and followers answer it")
		},
		Apply: func(ctx context.Context, a *inbox.Activity, obj vocab.Item) error {
			if err := record(ctx, a.Store, a.Scheme(), string(vocab.IRIOf(obj)), a.Actor, rsvp, a.ID); err != nil {
				return err
			}
			return inbox.RecordInInbox(ctx, a)
		},
	}
}

// invitation is an Invite to an event that one of our actors sent.
type invitation struct {
	act   *vocab.Activity
	event string
}

// ourInvite returns the Invite to an event that obj names, sent by one of
// our actors, or nil.
func ourInvite(ctx context.Context, a *inbox.Activity, obj vocab.Item) (*invitation, error) {
	inv, row, err := storedActivity(ctx, a.Store, a.Registry(), string(vocab.IRIOf(obj)))
	if err != nil || inv == nil {
		return nil, err
	}
	if !vocab.HasType(inv, "Invite") || !a.Scheme().IsLocal(row.Owner) {
		return nil, nil
	}
	events := vocab.IRIs(inv.Object)
	if len(events) != 1 {
		return nil, nil
	}
	if _, ok, err := isEvent(ctx, a.Store, events[0]); err != nil || !ok {
		return nil, err // an invitation to a project, a group
	}
	return &invitation{act: inv, event: events[0]}, nil
}

// record makes who's answer to the invitation to event rsvp, by the
// activity id, and takes who out of the event's other answers.
func record(ctx context.Context, st storage.Store, s actor.Scheme, event, who string, rsvp RSVP, id string) error {
	for _, r := range answers {
		coll := s.Collection(event, string(r))
		var err error
		if r == rsvp {
			err = st.Collections.Add(ctx, coll, storage.Member{IRI: who, Activity: id})
		} else {
			err = storage.IgnoreNotFound(st.Collections.Remove(ctx, coll, who))
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// Invite invites who to event, sent by from: the event itself when it
// acts, or the local actor that owns it. who joins the event's Invited
// and is sent an Invite{Event} (object the event, target who), which it
// answers going, not going or maybe. It returns the Invite's id.
func Invite(ctx context.Context, d Deps, from, event, who string) (string, error) {
	s := d.Outbox.Scheme()
	var id string
	err := storage.InTx(ctx, d.Store, func(ctx context.Context, tx storage.Store) error {
		owner, ok, err := isEvent(ctx, tx, event)
		if err != nil {
			return err
		}
		if !ok || !s.IsLocal(event) {
			return fmt.Errorf("%w: %s is not one of our events", ErrNotEvent, event)
		}
		if from != event && from != owner {
			return fmt.Errorf("%w: %s", ErrNotOrganizer, from)
		}
		inv := vocab.NewActivity("Invite", "", ap.IRI(from), ap.IRI(event))
		inv.Target = ap.IRI(who)
		inv.To = ap.ItemCollection{ap.IRI(who)}
		if err := d.Outbox.SendIn(ctx, tx, inv); err != nil {
			return err
		}
		id = string(inv.ID)
		return tx.Collections.Add(ctx, s.Collection(event, Invited), storage.Member{IRI: who, Activity: id})
	})
	if err != nil {
		return "", fmt.Errorf("gathio: invite to %s: %w", event, err)
	}
	return id, nil
}

// Respond sends who's answer to an invitation it received (the Invite's
// IRI): an Accept, Reject or TentativeAccept of the Invite, to its
// actor. The answer is recorded on the event, and the invitation in
// who's Invitations is answered (Accepted). Only an actor the Invite
// invited answers it (ErrNotInvited). It returns the answer's id.
func Respond(ctx context.Context, d Deps, who, invite string, rsvp RSVP) (string, error) {
	if rsvp.Type() == "" {
		return "", fmt.Errorf("%w: %q", ErrRSVP, rsvp)
	}
	s, reg := d.Outbox.Scheme(), d.Outbox.Registry()
	var id string
	err := storage.InTx(ctx, d.Store, func(ctx context.Context, tx storage.Store) error {
		inv, _, err := storedActivity(ctx, tx, reg, invite)
		if err != nil {
			return err
		}
		if inv == nil || !vocab.HasType(inv, "Invite") || !slices.Contains(invitees(inv), who) {
			return fmt.Errorf("%w: %s to %s", ErrNotInvited, invite, who)
		}
		events, inviter := vocab.IRIs(inv.Object), vocab.IRIs(inv.Actor)
		if len(events) != 1 || len(inviter) != 1 {
			return fmt.Errorf("%w: %s names no single event", ErrNotInvited, invite)
		}
		ans := vocab.NewActivity(rsvp.Type(), "", ap.IRI(who), inv)
		ans.To = ap.ItemCollection{ap.IRI(inviter[0])}
		if err := d.Outbox.SendIn(ctx, tx, ans); err != nil {
			return err
		}
		id = string(ans.ID)
		if err := record(ctx, tx, s, events[0], who, rsvp, id); err != nil {
			return err
		}
		return tx.Collections.Add(ctx, s.Collection(who, Invitations), storage.Member{IRI: events[0], Activity: invite})
	})
	if err != nil {
		return "", fmt.Errorf("gathio: respond to %s: %w", invite, err)
	}
	return id, nil
}

// RSVPs returns a page of the actors who answered rsvp to an invitation
// to event, and the cursor of the next page ("" after the last).
func RSVPs(ctx context.Context, d Deps, event string, rsvp RSVP, opts storage.PageOptions) ([]string, string, error) {
	p, err := d.Store.Collections.Page(ctx, d.Outbox.Scheme().Collection(event, string(rsvp)), opts)
	if err != nil {
		return nil, "", fmt.Errorf("gathio: %s of %s: %w", rsvp, event, err)
	}
	out := make([]string, len(p.Members))
	for i, m := range p.Members {
		out[i] = m.IRI
	}
	return out, p.Next, nil
}
