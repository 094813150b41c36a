package mobilizon

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	ap "github.com/go-ap/activitypub"

	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/inbox"
	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/vocab"
	vmz "github.com/fedi-go/fedi/vocab/mobilizon"
)

// moderatingRoles are the Mobilizon member roles that may remove a
// group's content.
var moderatingRoles = []string{"moderator", "administrator", "creator"}

// maxMemberPages bounds the pages of a group's members collection read
// to find a moderator.
const maxMemberPages = 5

// RemoveFromGroup handles the Remove of a Note or an Event from a group
// (its target or origin) by the group's moderators. The actor must be the
// group itself or one of its moderators: for a group of ours, a member of
// its Moderators collection; for another server's, a member with a
// moderating role (moderator, administrator, creator) in the members
// collection the group publishes. The object must be the group's:
// attributed to it, addressed to it, or in its context. Our copy of the
// object becomes a Tombstone, unless the object is ours and the group is
// not (another server's moderator speaks for its group, not for our
// objects). Every other Remove passes to the rule below.
func RemoveFromGroup() inbox.Rule[vocab.Item] {
	return inbox.Rule[vocab.Item]{
		Doc: "tombstones a Note or Event removed from a group by the group or one of its moderators (our moderators collection, or the group's members with a moderating role)",
		Check: func(ctx context.Context, a *inbox.Activity, obj vocab.Item) error {
			group, ok := findGroup(ctx, a)
			if !ok {
				return inbox.ErrPass
			}
			targets := vocab.IRIs(obj)
			if len(targets) != 1 {
				return inbox.ErrPass
			}
			it := obj
			if obj.IsLink() {
				var err error
				if it, err = a.Resolve(ctx, targets[0]); err != nil {
					return inbox.ErrPass
				}
			}
			if !vocab.HasType(it, "Note") && !vocab.HasType(it, "Event") {
				return inbox.ErrPass
			}
			if !belongsTo(it, group) {
				return inbox.Forbid("the object is not the group's")
			}
			mod, err := moderates(ctx, a, group, a.Actor)
			if err != nil {
				return err
			}
			if !mod {
				return inbox.Forbid("only the group's moderators remove its content")
			}
			return nil
		},
		Apply: func(ctx context.Context, a *inbox.Activity, obj vocab.Item) error {
			s := a.Scheme()
			ourGroup := slices.ContainsFunc(groupCandidates(a), s.IsLocal)
			for _, iri := range vocab.IRIs(obj) {
				if s.IsLocal(iri) && !ourGroup {
					continue
				}
				o, err := a.Store.Objects.Get(ctx, iri)
				if errors.Is(err, storage.ErrNotFound) {
					continue
				}
				if err != nil {
					return err
				}
				if !o.Deleted.IsZero() || o.Owner == iri {
					continue // gone already, or an actor
				}
				tomb, err := a.Registry().Encode(vocab.NewTombstone(ap.IRI(iri), o.Type, time.Now().UTC()))
				if err != nil {
					return err
				}
				if err := a.Store.Objects.Tombstone(ctx, iri, tomb); err != nil {
					return err
				}
			}
			return inbox.RecordInInbox(ctx, a)
		},
	}
}

// groupCandidates returns the IRIs a Remove names as where its object is
// removed from: its target and its origin.
func groupCandidates(a *inbox.Activity) []string {
	out := vocab.IRIs(a.Target)
	if act := a.Activity(); act != nil {
		out = append(out, vocab.IRIs(act.Origin)...)
	}
	return out
}

// findGroup returns the first of the Remove's target and origin that is
// a Group.
func findGroup(ctx context.Context, a *inbox.Activity) (*vocab.Actor, bool) {
	for _, iri := range groupCandidates(a) {
		it, err := a.Resolve(ctx, iri)
		if err != nil {
			continue
		}
		if g, ok := it.(*vocab.Actor); ok && vocab.HasType(g, "Group") {
			return g, true
		}
	}
	return nil, false
}

// belongsTo reports whether obj is the group's: attributed to it,
// addressed to it, or in its context.
func belongsTo(obj vocab.Item, group *vocab.Actor) bool {
	g := group.ID
	if slices.Contains(vocab.AttributedTo(obj), g) || slices.Contains(vocab.Audience(obj), g) {
		return true
	}
	if base := vocab.Base(obj); base != nil && slices.Contains(vocab.IRIs(base.Context), string(g)) {
		return true
	}
	return false
}

// moderates reports whether who may remove the group's content: the group
// itself, a member of our Moderators collection for a group of ours, or a
// member with a moderating role in the members collection another
// server's group publishes (on the group's origin).
func moderates(ctx context.Context, a *inbox.Activity, group *vocab.Actor, who string) (bool, error) {
	g := string(group.ID)
	if who == g {
		return true, nil
	}
	s := a.Scheme()
	if s.IsLocal(g) {
		m, err := a.Store.Collections.Contains(ctx, s.Collection(g, Moderators), who)
		if errors.Is(err, storage.ErrNotFound) {
			return false, nil
		}
		return err == nil && m.State == storage.Accepted, err
	}
	gf, _ := vmz.GroupOf(group)
	members := string(vocab.IRIOf(gf.Members))
	if members == "" || !actor.SameOrigin(members, g) {
		return false, nil
	}
	next := members
	for range maxMemberPages {
		if next == "" {
			break
		}
		it, err := a.Resolve(ctx, next)
		if err != nil {
			return false, nil
		}
		var items ap.ItemCollection
		next = ""
		switch c := it.(type) {
		case *vocab.OrderedCollection:
			items, next = c.OrderedItems, string(vocab.IRIOf(c.First))
			if p, ok := c.First.(*vocab.OrderedCollectionPage); ok {
				items, next = p.OrderedItems, string(vocab.IRIOf(p.Next))
			}
		case *vocab.OrderedCollectionPage:
			items, next = c.OrderedItems, string(vocab.IRIOf(c.Next))
		case *vocab.Collection:
			items, next = c.Items, string(vocab.IRIOf(c.First))
			if p, ok := c.First.(*vocab.CollectionPage); ok {
				items, next = p.Items, string(vocab.IRIOf(p.Next))
			}
		case *vocab.CollectionPage:
			items, next = c.Items, string(vocab.IRIOf(c.Next))
		}
		for _, el := range items {
			m, ok := vmz.MemberOf(el)
			if !ok || !slices.Contains(moderatingRoles, m.Role) {
				continue
			}
			if by := vocab.IRIs(m.Actor); len(by) == 1 && by[0] == who && slices.Contains(vocab.IRIs(m.Object), g) {
				return true, nil
			}
		}
		if next != "" && !actor.SameOrigin(next, g) {
			break
		}
	}
	return false, nil
}

// AddModerator makes who a moderator of group, a local Group: it may then
// remove the group's content. It fails with ErrNotGroup when group is
// not one of our Groups.
func AddModerator(ctx context.Context, d Deps, group, who string) error {
	s := d.Outbox.Scheme()
	return storage.InTx(ctx, d.Store, func(ctx context.Context, tx storage.Store) error {
		o, err := tx.Objects.Get(ctx, group)
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			return err
		}
		if err != nil || !s.IsLocal(group) || o.Owner != group || o.Type != "Group" || !o.Deleted.IsZero() {
			return fmt.Errorf("%w: %s", ErrNotGroup, group)
		}
		return tx.Collections.Add(ctx, s.Collection(group, Moderators), storage.Member{IRI: who})
	})
}
