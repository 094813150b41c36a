package core

import (
	"context"
	"errors"
	"time"

	ap "github.com/go-ap/activitypub"

	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/inbox"
	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/vocab"
)

// Create handles the Create of an object: the object, checked by the
// inbox (attributed to its actor's server, fetched from its origin when
// it was not embedded), is cached with the actor as its owner, a reply to
// one of our objects joins its replies, and the Create is listed in the
// recipient's inbox.
func Create() inbox.Rule[vocab.Item] {
	return inbox.Rule[vocab.Item]{
		Doc: "caches the created object with its owner, adds a reply to our object's replies, and lists the Create in the recipient's inbox",
		Apply: func(ctx context.Context, a *inbox.Activity, obj vocab.Item) error {
			if err := CacheObject(ctx, a, obj); err != nil {
				return err
			}
			return inbox.RecordInInbox(ctx, a)
		},
	}
}

// CacheObject stores a remote object created by a's actor, owned by it,
// and attaches it to the replies of the objects of ours it answers.
func CacheObject(ctx context.Context, a *inbox.Activity, obj vocab.Item) error {
	iri := string(vocab.IRIOf(obj))
	if iri == "" || obj.IsLink() {
		return nil // an anonymous object has nothing to be found by
	}
	data, err := a.Registry().Encode(obj)
	if err != nil {
		return inbox.Reject(422, "the object cannot be encoded")
	}
	if err := a.Store.Objects.Put(ctx, storage.Object{IRI: iri, Type: string(obj.GetType()), Owner: a.Actor, Data: data}); err != nil {
		return err
	}
	if base := vocab.Base(obj); base != nil {
		for _, parent := range vocab.IRIs(base.InReplyTo) {
			ours, err := isOurs(ctx, a, parent)
			if err != nil {
				return err
			}
			if ours {
				if err := a.Store.Collections.Add(ctx, a.Scheme().Collection(parent, actor.Replies), storage.Member{IRI: iri, Activity: a.ID}); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// Update handles an Update: of the actor itself, its cached document
// (and so its inboxes and keys) is replaced; of an object we cached, the
// cached copy is replaced, keeping its owner. The inbox already checked
// that the actor owns it. An Update of what we never had changes
// nothing.
func Update(o Options) inbox.Rule[vocab.Item] {
	return inbox.Rule[vocab.Item]{
		Doc: "replaces the cached copy of the object, or of the actor's own document, owner only",
		Apply: func(ctx context.Context, a *inbox.Activity, obj vocab.Item) error {
			iri := string(vocab.IRIOf(obj))
			if obj == nil || obj.IsLink() {
				return inbox.RecordInInbox(ctx, a)
			}
			data, err := a.Registry().Encode(obj)
			if err != nil {
				return inbox.Reject(422, "the object cannot be encoded")
			}
			if iri == a.Actor {
				if a.Store.Actors == nil {
					return nil
				}
				ra, err := actor.RemoteFromDocument(obj, data)
				if err != nil {
					return inbox.Reject(422, "the updated actor has no inbox")
				}
				ra.Fetched = time.Now()
				err = a.Store.Actors.Put(ctx, ra)
				if errors.Is(err, storage.ErrConflict) {
					ra.Keys = nil
					err = a.Store.Actors.Put(ctx, ra)
				}
				return err
			}
			so, err := a.Store.Objects.Get(ctx, iri)
			if errors.Is(err, storage.ErrNotFound) {
				return inbox.RecordInInbox(ctx, a)
			}
			if err != nil {
				return err
			}
			if !so.Deleted.IsZero() {
				return nil // it was deleted: an Update cannot bring it back
			}
			if err := a.Store.Objects.Put(ctx, storage.Object{IRI: iri, Type: string(obj.GetType()), Owner: so.Owner, Data: data}); err != nil {
				return err
			}
			return inbox.RecordInInbox(ctx, a)
		},
	}
}

// Delete handles a Delete: of an object we cached, it becomes a
// Tombstone; of the actor itself, it is cached as gone and leaves every
// local collection. The inbox already checked that the actor owns it.
func Delete() inbox.Rule[vocab.Item] {
	return inbox.Rule[vocab.Item]{
		Doc: "tombstones the cached object (owner only); a Delete of the actor marks it gone and removes it from our collections",
		Apply: func(ctx context.Context, a *inbox.Activity, obj vocab.Item) error {
			for _, iri := range vocab.IRIs(obj) {
				if iri == a.Actor {
					if err := deleteActor(ctx, a); err != nil {
						return err
					}
					continue
				}
				so, err := a.Store.Objects.Get(ctx, iri)
				if errors.Is(err, storage.ErrNotFound) {
					continue
				}
				if err != nil {
					return err
				}
				if !so.Deleted.IsZero() {
					continue
				}
				tomb, err := a.Registry().Encode(vocab.NewTombstone(ap.IRI(iri), so.Type, time.Now().UTC()))
				if err != nil {
					return err
				}
				if err := a.Store.Objects.Tombstone(ctx, iri, tomb); err != nil {
					return err
				}
			}
			return nil
		},
	}
}

// deleteActor forgets a deleted remote actor: it is cached as gone, so
// that its keys verify nothing and nothing is delivered to it, and it
// leaves every collection of ours.
func deleteActor(ctx context.Context, a *inbox.Activity) error {
	if a.Store.Actors != nil {
		if err := a.Store.Actors.MarkGone(ctx, a.Actor, time.Now()); err != nil {
			return err
		}
	}
	ms, ok := a.Store.Collections.(storage.Memberships)
	if !ok {
		return nil
	}
	for _, state := range []storage.State{storage.Accepted, storage.Pending} {
		for {
			// Each pass removes what it lists, so the first page is
			// always the next one.
			p, err := ms.CollectionsOf(ctx, a.Actor, storage.PageOptions{State: state, Limit: storage.MaxPageLimit})
			if err != nil {
				return err
			}
			for _, m := range p.Members {
				if err := storage.IgnoreNotFound(a.Store.Collections.Remove(ctx, m.IRI, a.Actor)); err != nil {
					return err
				}
			}
			if p.Next == "" {
				break
			}
		}
	}
	return nil
}
