package core

import (
	"context"

	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/inbox"
	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/vocab"
)

// Undo handles the Undo of a Follow, Like, Announce or Block: the
// undone activity is the embedded one (checked by the inbox) or the one
// stored under the object's IRI, and it is the actor's own (the inbox
// refuses an Undo of someone else's). An Undo of an activity this server
// does not know changes nothing.
func Undo() inbox.Rule[vocab.Item] {
	return inbox.Rule[vocab.Item]{
		Doc: "reverses a Follow, Like, Announce or Block of the actor: removes the follower, the like, the share or the block",
		Apply: func(ctx context.Context, a *inbox.Activity, obj vocab.Item) error {
			undone := obj
			if obj != nil && obj.IsLink() {
				it, _, err := stored(ctx, a, string(obj.GetLink()))
				if err != nil {
					return err
				}
				if it == nil {
					return inbox.RecordInInbox(ctx, a)
				}
				undone = it
			}
			if undone == nil {
				return nil
			}
			id := string(vocab.IRIOf(undone))
			s := a.Scheme()
			for _, target := range vocab.IRIs(vocab.ObjectOf(undone)) {
				var err error
				switch {
				case vocab.HasType(undone, "Follow"):
					err = removeMember(ctx, a, s.Collection(target, actor.Followers), a.Actor, id, target)
				case vocab.HasType(undone, "Like"):
					err = removeMember(ctx, a, s.Collection(target, actor.Likes), a.Actor, id, target)
				case vocab.HasType(undone, "Announce"):
					err = removeMember(ctx, a, s.Collection(target, actor.Shares), a.Actor, id, target)
				case vocab.HasType(undone, "Block"):
					err = removeMember(ctx, a, s.Collection(target, actor.BlockedBy), a.Actor, id, target)
				default:
					return inbox.RecordInInbox(ctx, a)
				}
				if err != nil {
					return err
				}
			}
			return nil
		},
	}
}

// removeMember removes who from coll, a collection of our object owner,
// when who is there by the activity id (or by any activity, when id is
// unknown): an Undo of an older Like leaves a newer one.
func removeMember(ctx context.Context, a *inbox.Activity, coll, who, id, owner string) error {
	if ours, err := isOurs(ctx, a, owner); err != nil || !ours {
		return err
	}
	m, err := a.Store.Collections.Contains(ctx, coll, who)
	if err != nil {
		return storage.IgnoreNotFound(err)
	}
	if id != "" && m.Activity != "" && m.Activity != id {
		return nil
	}
	return storage.IgnoreNotFound(a.Store.Collections.Remove(ctx, coll, who))
}
