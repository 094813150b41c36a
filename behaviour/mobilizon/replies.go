package mobilizon

import (
	"context"
	"errors"

	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/behaviour/core"
	"github.com/fedi-go/fedi/inbox"
	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/vocab"
	vmz "github.com/fedi-go/fedi/vocab/mobilizon"
)

// ClosedReplies handles the Create of a reply to one of our events whose
// replies are closed (repliesModerationOption closed, or, from PeerTube's
// vocabulary, commentsEnabled false): the reply is not kept, and the
// organizer answers the Create with a Reject. The inbox answers 202: the
// refusal is the Reject. Only direct replies to the event are checked.
// Every other Create passes to the rule below.
func ClosedReplies() inbox.Rule[vocab.Item] {
	return inbox.Rule[vocab.Item]{
		Doc: "refuses a reply to our event whose replies are closed (repliesModerationOption, or commentsEnabled false): the organizer sends a Reject and the reply is not kept",
		Check: func(ctx context.Context, a *inbox.Activity, obj vocab.Item) error {
			_, closed, err := closedEvent(ctx, a.Store, a.Registry(), a.Scheme(), obj)
			if err != nil {
				return err
			}
			if !closed {
				return inbox.ErrPass
			}
			return nil
		},
		Apply: func(ctx context.Context, a *inbox.Activity, obj vocab.Item) error {
			s := a.Scheme()
			ev, closed, err := closedEvent(ctx, a.Store, a.Registry(), s, obj)
			if err != nil {
				return err
			}
			if !closed {
				// Reopened since the Check: a reply like any other.
				return core.Create().Apply(ctx, a, obj)
			}
			reply := string(vocab.IRIOf(obj))
			if reply == "" {
				reply = a.DedupeKey
			}
			refused := s.Collection(string(ev.ID), RefusedReplies)
			if _, err := a.Store.Collections.Contains(ctx, refused, reply); err == nil {
				return nil // refused for another recipient of the same Create
			} else if !errors.Is(err, storage.ErrNotFound) {
				return err
			}
			if err := a.Store.Collections.Add(ctx, refused, storage.Member{IRI: reply, Activity: a.ID}); err != nil {
				return err
			}
			return a.Send(ctx, answer(ev.row.Owner, "Reject", a.Item))
		},
	}
}

// closedEvent returns the local event that obj replies to when its
// replies are closed.
func closedEvent(ctx context.Context, st storage.Store, reg *vocab.Registry, s actor.Scheme, obj vocab.Item) (storedEvent, bool, error) {
	base := vocab.Base(obj)
	if base == nil || obj.IsLink() {
		return storedEvent{}, false, nil
	}
	for _, parent := range vocab.IRIs(base.InReplyTo) {
		ev, ok, err := localEvent(ctx, st, reg, s, parent)
		if err != nil {
			return storedEvent{}, false, err
		}
		if ok && ev.RepliesModeration() == vmz.RepliesClosed {
			return ev, true, nil
		}
	}
	return storedEvent{}, false, nil
}
