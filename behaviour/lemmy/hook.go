package lemmy

import (
	"context"
	"errors"
	"fmt"

	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/vocab"
)

// onSend is told of every activity our actors send, within the
// transaction that stores it (Outbox.OnSend). Our own users' activities
// about our own communities have their effects there, checked as a
// received one is: the inbox cannot take them, since it refuses a Create
// of a local object delivered locally, and this way a refused one fails
// the Send instead of being sent. An error undoes the Send.
//
//   - about a local community: checked, applied, announced (once: the
//     local delivery that may follow finds it recorded);
//   - a vote, or the Undo of one, about another server's community: the
//     vote is counted here at once (and not again when the community
//     announces it back); so is the restoration of the actor's own item;
//   - a private message to a local user: kept for the user;
//   - a Delete of a post, comment or private message: refused, since
//     the outbox would tombstone it; Actions.Delete hides it instead.
func (r *rules) onSend(ctx context.Context, tx storage.Store, it vocab.Item) error {
	a, ok := it.(*vocab.Activity)
	if !ok || vocab.HasType(a, "Announce") {
		return nil
	}
	x, ok := parse(a, a.Object, a.Target)
	if !ok {
		return nil
	}
	out := r.o.Outbox
	sc := scope{st: tx, s: out.Scheme(), reg: out.Registry(),
		send: func(ctx context.Context, act vocab.Item) error { return out.SendIn(ctx, tx, act) }}
	if r.o.Actors != nil {
		sc.dir = actor.In(r.o.Actors, tx)
	}
	if x.kind == kDelete {
		lemmyItem, err := sc.isItem(ctx, x)
		if err != nil {
			return err
		}
		if lemmyItem {
			return ErrUseDelete
		}
		return nil
	}
	if obj, ok := x.object.(*vocab.Object); ok && x.kind == kCreate && vocab.HasType(obj, "ChatMessage") {
		if aud := recipients(obj, a); len(aud) != 1 || aud[0] == vocab.PublicIRI {
			return ErrPrivateMessage
		}
	}
	p, err := planDirect(ctx, sc, a, x.object, a.Target)
	if errors.Is(err, ErrPrivateMessage) {
		return nil // to one actor of another server
	}
	if err != nil {
		return err
	}
	switch {
	case p.private != "" && x.kind == kCreate:
		if err := sc.applyPrivate(ctx, p, nil); err != nil {
			return err
		}
		return tx.Collections.Add(ctx, sc.s.Collection(p.private, actor.Inbox), storage.Member{IRI: x.id})
	case p.private != "":
		if err := sc.authorizeOwn(ctx, x); err != nil {
			return err
		}
		return sc.applyPrivate(ctx, p, nil)
	case !p.pass:
		if err := sc.authorize(ctx, x, p.c); err != nil {
			return err
		}
		first, err := tx.Dedupe.Record(ctx, x.id, p.c.iri)
		if err != nil || !first {
			return err
		}
		return sc.effects(ctx, x, p.c, nil)
	}
	// Another server's community, whose Announce will come back: what
	// the actor alone decides takes effect now.
	switch {
	case x.kind == kLike, x.kind == kDislike, x.kind == kUndo && (x.undoneKind == kLike || x.undoneKind == kDislike):
	case x.kind == kUndo && x.undoneKind == kDelete:
		if err := sc.authorizeOwn(ctx, x); err != nil {
			return err
		}
	default:
		return nil
	}
	c := sc.communityNamed(ctx, x)
	if c == "" {
		return nil
	}
	first, err := tx.Dedupe.Record(ctx, x.id, c)
	if err != nil || !first {
		return err
	}
	return sc.apply(ctx, x, community{iri: c}, nil)
}

// authorizeOwn: the Delete or restoration of a private message or item
// by its creator.
func (sc scope) authorizeOwn(ctx context.Context, x act) error {
	_, owner, _, err := sc.lookup(ctx, x.item)
	if err != nil {
		return err
	}
	if owner != x.actor {
		return fmt.Errorf("%w: %s", ErrNotCreator, x.item)
	}
	return nil
}

// communityNamed returns the community a vote or Undo names: its
// audience (as Lemmy sends it), else its item's (the audience, or the
// first recipient of a post); "" for what names none, not Lemmy's.
func (sc scope) communityNamed(ctx context.Context, x act) string {
	for _, src := range []vocab.Item{x.activity, x.undone} {
		if b := vocab.Base(src); b != nil {
			if aud := vocab.IRIs(b.Audience); len(aud) > 0 {
				return aud[0]
			}
		}
	}
	it, _, _, err := sc.lookup(ctx, x.item)
	if err != nil || it == nil {
		return ""
	}
	return communityIn(it)
}

// isItem reports whether the object of x, a Delete, is a Lemmy item: a
// post, a private message, a comment of a community (listed in a local
// one's comments, or naming its audience as Lemmy's comments and their
// Delete do). The outbox has tombstoned it already, within the
// transaction this refusal undoes: the tombstone tells its former type.
func (sc scope) isItem(ctx context.Context, x act) (bool, error) {
	o, err := sc.st.Objects.Get(ctx, x.item)
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	it, err := sc.reg.Decode(o.Data)
	if err != nil {
		return false, nil
	}
	typ := o.Type
	if t, ok := it.(*vocab.Tombstone); ok {
		typ = string(t.FormerType)
	}
	switch typ {
	case "Page", "ChatMessage":
		return true, nil
	case "Note":
	default:
		return false, nil
	}
	for _, src := range []vocab.Item{x.activity, it} {
		if b := vocab.Base(src); b != nil && len(b.Audience) > 0 {
			return true, nil
		}
	}
	ms, ok := sc.st.Collections.(storage.Memberships)
	if !ok {
		return false, nil
	}
	p, err := ms.CollectionsOf(ctx, x.item, storage.PageOptions{Limit: storage.MaxPageLimit})
	if err != nil {
		return false, err
	}
	for _, m := range p.Members {
		if _, name, ok := sc.s.ParseCollection(m.IRI); ok && (name == Comments || name == Messages) {
			return true, nil
		}
	}
	return false, nil
}
