package core

import (
	"context"
	"net/http"
	"slices"

	ap "github.com/go-ap/activitypub"

	"github.com/fedi-go/fedi/inbox"
	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/vocab"
)

// Flag handles a report: it is kept, listed in ReportsIRI for the
// moderators, and passed to Options.OnFlag.
func Flag(o Options) inbox.Rule[vocab.Item] {
	return inbox.Rule[vocab.Item]{
		Doc: "keeps the report for the moderators and tells the application",
		Apply: func(ctx context.Context, a *inbox.Activity, _ vocab.Item) error {
			if err := a.Store.Objects.Put(ctx, storage.Object{IRI: a.DedupeKey, Type: a.Type, Owner: a.Actor, Data: a.Raw}); err != nil {
				return err
			}
			if err := a.Store.Collections.Add(ctx, ReportsIRI(a.Scheme()), storage.Member{IRI: a.DedupeKey}); err != nil {
				return err
			}
			if o.OnFlag != nil {
				return o.OnFlag(ctx, a)
			}
			return nil
		},
	}
}

// Move handles an account's move to a new one: the Move must move the
// actor itself, to a target whose document (fetched from its origin)
// lists the actor in alsoKnownAs. It is recorded in the recipient's
// inbox and passed to Options.OnMove.
func Move(o Options) inbox.Rule[ap.IRI] {
	return inbox.Rule[ap.IRI]{
		Doc: "records the move of the actor to its new account, when the new account names the old one in alsoKnownAs, and tells the application",
		Check: func(ctx context.Context, a *inbox.Activity, obj ap.IRI) error {
			if string(obj) != a.Actor {
				return inbox.Forbid("a Move moves the actor itself")
			}
			targets := vocab.IRIs(a.Target)
			if len(targets) != 1 {
				return inbox.Reject(http.StatusBadRequest, "a Move names one target")
			}
			it, err := a.Resolve(ctx, targets[0])
			if err != nil {
				return inbox.Forbid("the new account could not be fetched")
			}
			var aka []string
			if act, ok := it.(*vocab.Actor); ok {
				aka = vocab.IRIs(act.AlsoKnownAs)
			}
			if !slices.Contains(aka, a.Actor) {
				return inbox.Forbid("the new account does not name the old one in alsoKnownAs")
			}
			return nil
		},
		Apply: func(ctx context.Context, a *inbox.Activity, _ ap.IRI) error {
			if err := inbox.RecordInInbox(ctx, a); err != nil {
				return err
			}
			if o.OnMove != nil {
				return o.OnMove(ctx, a)
			}
			return nil
		},
	}
}
