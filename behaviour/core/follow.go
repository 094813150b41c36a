package core

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	ap "github.com/go-ap/activitypub"

	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/inbox"
	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/vocab"
)

// Follow handles a Follow of one of our actors: the follower becomes a
// follower and is sent an Accept, or waits as pending when the actor
// approves followers by hand (see AcceptPending). A Follow of an actor
// already followed is answered again, not recorded twice.
func Follow(o Options) inbox.Rule[ap.IRI] {
	return inbox.Rule[ap.IRI]{
		Doc: "adds the actor to the followers and answers with Accept, or keeps it pending when the followed actor approves followers by hand",
		Check: func(ctx context.Context, a *inbox.Activity, obj ap.IRI) error {
			if a.Recipient == nil || string(obj) != a.Recipient.IRI {
				if a.Scheme().IsLocal(string(obj)) {
					return inbox.Reject(http.StatusNotFound, "the followed actor does not exist here")
				}
				return nil
			}
			if a.ID == "" {
				return inbox.Reject(http.StatusBadRequest, "a Follow needs an id, for its Accept to name")
			}
			// Cache the follower, so that the Accept and everything
			// after find its inbox without fetching it again.
			if o.Remote != nil {
				if _, err := o.Remote.Get(ctx, a.Actor); err != nil && !errors.Is(err, storage.ErrNotFound) {
					var ce *storage.CorruptError
					if errors.As(err, &ce) {
						return err
					}
				}
			}
			return nil
		},
		Apply: func(ctx context.Context, a *inbox.Activity, obj ap.IRI) error {
			if a.Recipient == nil || string(obj) != a.Recipient.IRI {
				return inbox.RecordInInbox(ctx, a)
			}
			if err := storeActivity(ctx, a); err != nil {
				return err
			}
			followers := a.Scheme().Collection(a.Recipient.IRI, actor.Followers)
			m, err := a.Store.Collections.Contains(ctx, followers, a.Actor)
			switch {
			case err == nil && m.State == storage.Accepted:
				// Already a follower: answer again, the peer lost the
				// first Accept.
			case err != nil && !errors.Is(err, storage.ErrNotFound):
				return err
			case a.Recipient.ManuallyApprovesFollowers:
				return a.Store.Collections.Add(ctx, followers, storage.Member{IRI: a.Actor, State: storage.Pending, Activity: a.ID})
			}
			return a.Send(ctx, NewAnswer(a.Recipient.IRI, "Accept", a.Item))
		},
	}
}

// NewAnswer returns an Accept or Reject (typ) by who of the activity
// answered, embedded, addressed to its actor.
func NewAnswer(who, typ string, answered vocab.Item) *vocab.Activity {
	ans := vocab.NewActivity(typ, "", ap.IRI(who), answered)
	if to := vocab.IRIs(vocab.ActorOf(answered)); len(to) > 0 {
		ans.To = ap.ItemCollection{ap.IRI(to[0])}
	}
	return ans
}

// AcceptFollow handles the Accept of a Follow one of our actors sent:
// the Follow must be ours, and the Accept from the actor it followed.
func AcceptFollow() inbox.Rule[vocab.Item] {
	return answerFollow("Accept", "marks the follow as accepted in the follower's following", func(ctx context.Context, a *inbox.Activity, following, followed, follow string) error {
		return a.Store.Collections.Add(ctx, following, storage.Member{IRI: followed, Activity: follow})
	})
}

// RejectFollow handles the Reject of a Follow one of our actors sent.
func RejectFollow() inbox.Rule[vocab.Item] {
	return answerFollow("Reject", "removes the refused follow from the follower's following", func(ctx context.Context, a *inbox.Activity, following, followed, _ string) error {
		return storage.IgnoreNotFound(a.Store.Collections.Remove(ctx, following, followed))
	})
}

func answerFollow(typ, doc string, apply func(ctx context.Context, a *inbox.Activity, following, followed, follow string) error) inbox.Rule[vocab.Item] {
	find := func(ctx context.Context, a *inbox.Activity, obj vocab.Item) (follower, follow string, err error) {
		follow = string(vocab.IRIOf(obj))
		it, so, err := stored(ctx, a, follow)
		if err != nil {
			return "", "", err
		}
		if it == nil || !vocab.HasType(it, "Follow") || !a.Scheme().IsLocal(so.Owner) {
			return "", "", inbox.Reject(http.StatusUnprocessableEntity, typ+"s a Follow this server never sent")
		}
		if to := vocab.IRIs(vocab.ObjectOf(it)); len(to) != 1 || to[0] != a.Actor {
			return "", "", inbox.Forbid(typ + "s a Follow of another actor")
		}
		return so.Owner, follow, nil
	}
	return inbox.Rule[vocab.Item]{
		Doc: doc,
		Check: func(ctx context.Context, a *inbox.Activity, obj vocab.Item) error {
			_, _, err := find(ctx, a, obj)
			return err
		},
		Apply: func(ctx context.Context, a *inbox.Activity, obj vocab.Item) error {
			follower, follow, err := find(ctx, a, obj)
			if err != nil {
				return err
			}
			if a.Recipient != nil && a.Recipient.IRI != follower {
				return nil // delivered to another local actor too: one of them applies it
			}
			return apply(ctx, a, a.Scheme().Collection(follower, actor.Following), a.Actor, follow)
		},
	}
}

// Answer handles an Accept or Reject (typ) of anything but a Follow: one
// that answers an activity of ours that is not stored is refused, and
// the others are kept in the recipient's inbox for the application.
// Platforms register their own ("Accept Join", "Accept Invite").
func Answer(typ string) inbox.Rule[vocab.Item] {
	return inbox.Rule[vocab.Item]{
		Doc: "records the " + typ + " in the recipient's inbox; refuses one of an activity this server never sent",
		Check: func(ctx context.Context, a *inbox.Activity, obj vocab.Item) error {
			for _, iri := range vocab.IRIs(obj) {
				if !a.Scheme().IsLocal(iri) {
					continue
				}
				if _, err := a.Store.Objects.Owner(ctx, iri); errors.Is(err, storage.ErrNotFound) {
					return inbox.Reject(http.StatusUnprocessableEntity, fmt.Sprintf("%ss an activity this server never sent", typ))
				} else if err != nil {
					return err
				}
			}
			return nil
		},
		Apply: func(ctx context.Context, a *inbox.Activity, _ vocab.Item) error {
			return inbox.RecordInInbox(ctx, a)
		},
	}
}

// AcceptPending accepts (or, with accept false, rejects) the pending
// follower of the local actor who: the owner's decision on a Follow kept
// pending because the actor approves followers by hand. It sends the
// Accept or Reject, which, through the outbox, makes the follower a
// follower or drops the request.
func AcceptPending(ctx context.Context, st storage.Store, s actor.Scheme, send func(ctx context.Context, act vocab.Item) (string, error), reg *vocab.Registry, who, follower string, accept bool) (string, error) {
	m, err := st.Collections.Contains(ctx, s.Collection(who, actor.Followers), follower)
	if err != nil {
		return "", fmt.Errorf("core: %s is not a follower of %s: %w", follower, who, err)
	}
	if m.State != storage.Pending || m.Activity == "" {
		return "", fmt.Errorf("core: %s has no pending Follow of %s: %w", follower, who, storage.ErrNotFound)
	}
	var follow vocab.Item = ap.IRI(m.Activity)
	if o, err := st.Objects.Get(ctx, m.Activity); err == nil {
		if it, err := reg.Decode(o.Data); err == nil {
			follow = it
		}
	}
	typ := "Reject"
	if accept {
		typ = "Accept"
	}
	ans := NewAnswer(who, typ, follow)
	if len(ans.To) == 0 {
		ans.To = ap.ItemCollection{ap.IRI(follower)}
	}
	return send(ctx, ans)
}
