package core

import (
	"context"

	ap "github.com/go-ap/activitypub"

	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/inbox"
	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/vocab"
)

// Like handles a Like of one of our objects: the actor joins the object's
// likes, with its Like, once however often it likes it. A Like of
// another server's object is kept in the recipient's inbox.
func Like() inbox.Rule[ap.IRI] {
	return inbox.Rule[ap.IRI]{
		Doc: "adds the actor to the liked object's likes when the object is ours",
		Apply: func(ctx context.Context, a *inbox.Activity, obj ap.IRI) error {
			return react(ctx, a, string(obj), actor.Likes)
		},
	}
}

// Announce handles an Announce (a boost, a share) of one of our objects:
// the actor joins its shares. An Announce of another server's object is
// kept in the recipient's inbox.
func Announce() inbox.Rule[vocab.Item] {
	return inbox.Rule[vocab.Item]{
		Doc: "adds the actor to the announced object's shares when the object is ours; keeps other announces in the recipient's inbox",
		Apply: func(ctx context.Context, a *inbox.Activity, obj vocab.Item) error {
			return react(ctx, a, string(vocab.IRIOf(obj)), actor.Shares)
		},
	}
}

func react(ctx context.Context, a *inbox.Activity, obj, coll string) error {
	ours, err := isOurs(ctx, a, obj)
	if err != nil {
		return err
	}
	if !ours {
		return inbox.RecordInInbox(ctx, a)
	}
	if err := storeActivity(ctx, a); err != nil {
		return err
	}
	return a.Store.Collections.Add(ctx, a.Scheme().Collection(obj, coll), storage.Member{IRI: a.Actor, Activity: a.ID})
}
