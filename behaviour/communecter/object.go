package communecter

import (
	"context"
	"slices"

	ap "github.com/go-ap/activitypub"

	"github.com/fedi-go/fedi/behaviour/core"
	"github.com/fedi-go/fedi/inbox"
	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/vocab"
)

// CreateProject handles the Create of a project: it is cached as core's
// Create caches any object, owned by its creator, which must be the
// actor (a project attributed to someone else is refused).
func CreateProject() inbox.Rule[vocab.Item] {
	return createOwned("caches the project, owned by the actor, which must be its creator (attributedTo)",
		"a project is created by its creator")
}

// CreateBadge handles the Create of a badge: it is cached, owned by its
// issuer, which must be the actor.
func CreateBadge() inbox.Rule[vocab.Item] {
	return createOwned("caches the badge, owned by the actor, which must be its issuer (attributedTo)",
		"a badge is created by its issuer")
}

func createOwned(doc, refusal string) inbox.Rule[vocab.Item] {
	create := core.Create()
	return inbox.Rule[vocab.Item]{
		Doc: doc,
		Check: func(ctx context.Context, a *inbox.Activity, obj vocab.Item) error {
			if by := vocab.AttributedTo(obj); len(by) > 0 && !slices.Contains(by, ap.IRI(a.Actor)) {
				return inbox.Forbid(refusal)
			}
			return nil
		},
		Apply: create.Apply,
	}
}

// UpdateProject handles the Update of a project: the inbox let only its
// owner through, and the cached copy is replaced.
func UpdateProject() inbox.Rule[vocab.Item] {
	return inbox.Rule[vocab.Item]{
		Doc:   "replaces the cached project, owner only",
		Apply: core.Update(core.Options{}).Apply,
	}
}

// UpdateBadge handles the Update of a badge by its issuer.
func UpdateBadge() inbox.Rule[vocab.Item] {
	return inbox.Rule[vocab.Item]{
		Doc:   "replaces the cached badge, issuer only",
		Apply: core.Update(core.Options{}).Apply,
	}
}

// DeleteProject handles the Delete of a cached project by its owner: it
// becomes a Tombstone, and our actors' memberships and invitations of it
// are forgotten.
func DeleteProject() inbox.Rule[vocab.Item] {
	return deleteOwned("tombstones the cached project, owner only, and forgets our actors' memberships and invitations of it", MemberOf, Invitations)
}

// DeleteBadge handles the Delete of a cached badge by its issuer: it
// becomes a Tombstone, and leaves our actors' badges.
func DeleteBadge() inbox.Rule[vocab.Item] {
	return deleteOwned("tombstones the cached badge, issuer only, and removes it from our actors' badges", Badges)
}

func deleteOwned(doc string, names ...string) inbox.Rule[vocab.Item] {
	del := core.Delete()
	return inbox.Rule[vocab.Item]{
		Doc: doc,
		Apply: func(ctx context.Context, a *inbox.Activity, obj vocab.Item) error {
			if err := del.Apply(ctx, a, obj); err != nil {
				return err
			}
			iri := string(vocab.IRIOf(obj))
			if a.Scheme().IsLocal(iri) {
				return nil
			}
			return forget(ctx, a, iri, names...)
		},
	}
}

// forget removes iri from the collections called names of our actors,
// where the store can list the collections that hold it.
func forget(ctx context.Context, a *inbox.Activity, iri string, names ...string) error {
	ms, ok := a.Store.Collections.(storage.Memberships)
	if !ok {
		return nil
	}
	s := a.Scheme()
	for _, state := range []storage.State{storage.Accepted, storage.Pending} {
		var drop []string
		cursor := ""
		for {
			p, err := ms.CollectionsOf(ctx, iri, storage.PageOptions{State: state, Cursor: cursor, Limit: storage.MaxPageLimit})
			if err != nil {
				return err
			}
			for _, m := range p.Members {
				if owner, name, ok := s.ParseCollection(m.IRI); ok && s.IsLocal(owner) && slices.Contains(names, name) {
					drop = append(drop, m.IRI)
				}
			}
			if p.Next == "" {
				break
			}
			cursor = p.Next
		}
		for _, coll := range drop {
			if err := storage.IgnoreNotFound(a.Store.Collections.Remove(ctx, coll, iri)); err != nil {
				return err
			}
		}
	}
	return nil
}
