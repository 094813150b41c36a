package core

import (
	"context"

	ap "github.com/go-ap/activitypub"

	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/inbox"
	"github.com/fedi-go/fedi/storage"
)

// Block handles a Block of one of our actors: nothing more is delivered
// from it to the blocker (the outbox skips the actors in blockedBy), and
// the follows between them end both ways.
func Block() inbox.Rule[ap.IRI] {
	return inbox.Rule[ap.IRI]{
		Doc: "stops deliveries to the blocking actor and ends the follows between it and the blocked actor",
		Apply: func(ctx context.Context, a *inbox.Activity, obj ap.IRI) error {
			if a.Recipient == nil || string(obj) != a.Recipient.IRI {
				return inbox.RecordInInbox(ctx, a)
			}
			if err := storeActivity(ctx, a); err != nil {
				return err
			}
			s, who := a.Scheme(), a.Recipient.IRI
			if err := a.Store.Collections.Add(ctx, s.Collection(who, actor.BlockedBy), storage.Member{IRI: a.Actor, Activity: a.ID}); err != nil {
				return err
			}
			for _, name := range []string{actor.Followers, actor.Following} {
				if err := storage.IgnoreNotFound(a.Store.Collections.Remove(ctx, s.Collection(who, name), a.Actor)); err != nil {
					return err
				}
			}
			return nil
		},
	}
}
