package core

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/fedi-go/fedi/inbox"
	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/vocab"
)

// Add handles an Add of an object to a collection of the actor's own
// (its featured posts, say): our copy of the collection gains it.
func Add() inbox.Rule[vocab.Item] {
	return collectionRule("adds the object to the target collection, which the actor must own", true)
}

// Remove handles a Remove of an object from a collection of the actor's
// own.
func Remove() inbox.Rule[vocab.Item] {
	return collectionRule("removes the object from the target collection, which the actor must own", false)
}

func collectionRule(doc string, add bool) inbox.Rule[vocab.Item] {
	return inbox.Rule[vocab.Item]{
		Doc: doc,
		Check: func(ctx context.Context, a *inbox.Activity, obj vocab.Item) error {
			targets := vocab.IRIs(a.Target)
			if len(targets) != 1 {
				return inbox.Reject(http.StatusBadRequest, "an Add or Remove names one target collection")
			}
			owns, err := ownsCollection(ctx, a, targets[0])
			if err != nil {
				return err
			}
			if !owns {
				return inbox.Forbid("the target collection is not the actor's")
			}
			return nil
		},
		Apply: func(ctx context.Context, a *inbox.Activity, obj vocab.Item) error {
			target := vocab.IRIs(a.Target)[0]
			for _, iri := range vocab.IRIs(obj) {
				var err error
				if add {
					err = a.Store.Collections.Add(ctx, target, storage.Member{IRI: iri, Activity: a.ID})
				} else {
					err = storage.IgnoreNotFound(a.Store.Collections.Remove(ctx, target, iri))
				}
				if err != nil {
					return err
				}
			}
			return nil
		},
	}
}

// ownsCollection reports whether the collection target is the actor's:
// stored as owned by it, named by its cached document (featured,
// featuredTags, followers, ...), or below its IRI.
func ownsCollection(ctx context.Context, a *inbox.Activity, target string) (bool, error) {
	if a.Scheme().IsLocal(target) {
		return false, nil
	}
	if strings.HasPrefix(target, a.Actor+"/") {
		return true, nil
	}
	owner, err := a.Store.Objects.Owner(ctx, target)
	if err == nil {
		return owner == a.Actor, nil
	}
	if !errors.Is(err, storage.ErrNotFound) {
		return false, err
	}
	if a.Store.Actors == nil {
		return false, nil
	}
	ra, err := a.Store.Actors.Get(ctx, a.Actor)
	if err != nil || ra.Document == nil {
		return false, storage.IgnoreNotFound(err)
	}
	var doc map[string]json.RawMessage
	if json.Unmarshal(ra.Document, &doc) != nil {
		return false, nil
	}
	for _, k := range []string{"featured", "featuredTags", "followers", "following", "outbox", "liked", "moderators"} {
		var s string
		if json.Unmarshal(doc[k], &s) == nil && s == target {
			return true, nil
		}
	}
	return false, nil
}
