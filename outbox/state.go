package outbox

import (
	"context"
	"fmt"

	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/vocab"
)

// bookkeep keeps the sender's collections in step with what it sends,
// as ActivityPub §6 describes for a client's outbox:
//   - Follow: the object joins following, pending until its Accept;
//   - Accept of a Follow: its actor joins our followers; Reject: leaves;
//   - Like: the object joins liked, and the actor the object's likes
//     when the object is ours; Announce: the actor joins its shares;
//   - Block: the object joins blocked and leaves our followers;
//   - Undo of any of these: the reverse.
func (o *Outbox) bookkeep(ctx context.Context, tx storage.Store, p *prepared) error {
	s := o.opts.Scheme
	col := func(owner, name string) string { return s.Collection(owner, name) }
	switch {
	case hasAny(p.types, "Follow"):
		for _, target := range vocab.IRIs(p.object) {
			m, err := tx.Collections.Contains(ctx, col(p.actor, actor.Following), target)
			if err == nil && m.State == storage.Accepted {
				continue // already following: a repeated Follow changes nothing here
			}
			if err := tx.Collections.Add(ctx, col(p.actor, actor.Following), storage.Member{IRI: target, State: storage.Pending, Activity: p.id}); err != nil {
				return err
			}
		}
	case hasAny(p.types, "Accept", "Reject"):
		for _, it := range vocab.Items(p.object) {
			inner, err := o.lookup(ctx, tx, it)
			if err != nil {
				return err
			}
			if inner == nil || !vocab.HasType(inner, "Follow") {
				continue
			}
			if by := vocab.IRIs(vocab.ObjectOf(inner)); len(by) != 1 || by[0] != p.actor {
				return fmt.Errorf("%w: %s answers a Follow of someone else", ErrInvalid, p.typ)
			}
			followers := col(p.actor, actor.Followers)
			for _, follower := range vocab.IRIs(vocab.ActorOf(inner)) {
				if hasAny(p.types, "Accept") {
					err = tx.Collections.Add(ctx, followers, storage.Member{IRI: follower, Activity: string(vocab.IRIOf(inner))})
				} else {
					err = storage.IgnoreNotFound(tx.Collections.Remove(ctx, followers, follower))
				}
				if err != nil {
					return err
				}
			}
		}
	case hasAny(p.types, "Like"):
		for _, obj := range vocab.IRIs(p.object) {
			if err := tx.Collections.Add(ctx, col(p.actor, actor.Liked), storage.Member{IRI: obj, Activity: p.id}); err != nil {
				return err
			}
			if err := o.onOurs(ctx, tx, obj, actor.Likes, p.actor, p.id, true); err != nil {
				return err
			}
		}
	case hasAny(p.types, "Announce"):
		for _, obj := range vocab.IRIs(p.object) {
			if err := o.onOurs(ctx, tx, obj, actor.Shares, p.actor, p.id, true); err != nil {
				return err
			}
		}
	case hasAny(p.types, "Block"):
		for _, target := range vocab.IRIs(p.object) {
			if err := tx.Collections.Add(ctx, col(p.actor, actor.Blocked), storage.Member{IRI: target, Activity: p.id}); err != nil {
				return err
			}
			if err := storage.IgnoreNotFound(tx.Collections.Remove(ctx, col(p.actor, actor.Followers), target)); err != nil {
				return err
			}
		}
	case hasAny(p.types, "Undo"):
		for _, it := range vocab.Items(p.object) {
			inner, err := o.lookup(ctx, tx, it)
			if err != nil {
				return err
			}
			if inner == nil {
				continue
			}
			if by := vocab.IRIs(vocab.ActorOf(inner)); len(by) != 1 || by[0] != p.actor {
				return fmt.Errorf("%w: an Undo of someone else's activity", ErrInvalid)
			}
			if err := o.undo(ctx, tx, p.actor, inner); err != nil {
				return err
			}
		}
	}
	return nil
}

// undo reverses what bookkeep did for inner.
func (o *Outbox) undo(ctx context.Context, tx storage.Store, who string, inner vocab.Item) error {
	s := o.opts.Scheme
	objs := vocab.IRIs(vocab.ObjectOf(inner))
	innerID := string(vocab.IRIOf(inner))
	for _, obj := range objs {
		var err error
		switch {
		case vocab.HasType(inner, "Follow"):
			err = storage.IgnoreNotFound(tx.Collections.Remove(ctx, s.Collection(who, actor.Following), obj))
		case vocab.HasType(inner, "Like"):
			err = storage.IgnoreNotFound(tx.Collections.Remove(ctx, s.Collection(who, actor.Liked), obj))
			if err == nil {
				err = o.onOurs(ctx, tx, obj, actor.Likes, who, innerID, false)
			}
		case vocab.HasType(inner, "Announce"):
			err = o.onOurs(ctx, tx, obj, actor.Shares, who, innerID, false)
		case vocab.HasType(inner, "Block"):
			err = storage.IgnoreNotFound(tx.Collections.Remove(ctx, s.Collection(who, actor.Blocked), obj))
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// onOurs adds who to (or removes it from) the collection name of obj,
// when obj is one of our stored objects.
func (o *Outbox) onOurs(ctx context.Context, tx storage.Store, obj, name, who, activity string, add bool) error {
	if !o.opts.Scheme.IsLocal(obj) {
		return nil
	}
	if _, err := tx.Objects.Owner(ctx, obj); err != nil {
		return storage.IgnoreNotFound(err)
	}
	coll := o.opts.Scheme.Collection(obj, name)
	if add {
		return tx.Collections.Add(ctx, coll, storage.Member{IRI: who, Activity: activity})
	}
	m, err := tx.Collections.Contains(ctx, coll, who)
	if err != nil {
		return storage.IgnoreNotFound(err)
	}
	if activity != "" && m.Activity != "" && m.Activity != activity {
		return nil // a later Like or Announce stands
	}
	return storage.IgnoreNotFound(tx.Collections.Remove(ctx, coll, who))
}
