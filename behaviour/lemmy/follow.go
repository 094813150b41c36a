package lemmy

import (
	"context"

	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/inbox"
	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/vocab"
)

// undoFollow is the rule of an Undo{Follow} of a local community. Lemmy
// regenerates the Follow it undoes, with a new id, so the follower is
// removed whatever Follow made it one (the default rule removes only the
// one whose id matches). The inbox already checked that the Follow is
// the actor's own.
func (r *rules) undoFollow() inbox.Rule[vocab.Item] {
	community := func(ctx context.Context, a *inbox.Activity, obj vocab.Item) (string, error) {
		f, ok := obj.(*vocab.Activity)
		if !ok || !vocab.HasType(f, "Follow") {
			return "", nil
		}
		if by := vocab.IRIs(f.Actor); len(by) != 1 || by[0] != a.Actor {
			return "", nil
		}
		to := vocab.IRIs(f.Object)
		if len(to) != 1 {
			return "", nil
		}
		ok, err := IsCommunity(ctx, a.Store, a.Scheme(), to[0])
		if err != nil || !ok {
			return "", err
		}
		return to[0], nil
	}
	return inbox.Rule[vocab.Item]{
		Doc: "lemmy: the follower of a local community leaves its followers, whatever Follow it undoes (Lemmy regenerates it)",
		Check: func(ctx context.Context, a *inbox.Activity, obj vocab.Item) error {
			c, err := community(ctx, a, obj)
			if err == nil && c == "" {
				return inbox.ErrPass
			}
			return err
		},
		Apply: func(ctx context.Context, a *inbox.Activity, obj vocab.Item) error {
			c, err := community(ctx, a, obj)
			if err != nil || c == "" {
				return err
			}
			if a.Recipient != nil && a.Recipient.IRI != c {
				return inbox.ListInInbox(ctx, a)
			}
			return storage.IgnoreNotFound(a.Store.Collections.Remove(ctx, a.Scheme().Collection(c, actor.Followers), a.Actor))
		},
	}
}
