package communecter

import (
	"context"
	"errors"
	"net/http"

	ap "github.com/go-ap/activitypub"

	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/inbox"
	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/vocab"
	cvocab "github.com/fedi-go/fedi/vocab/communecter"
)

// assignment is the Offer of a badge to a recipient.
type assignment struct {
	ID, Assigner, Badge, Recipient string
}

// Self reports whether the assigner claims the badge for itself.
func (as assignment) Self() bool { return as.Recipient == as.Assigner }

// assignmentOf reads the Offer of a badge: one that
// cvocab.BadgeAssignmentOf recognises (its instrument), one of an
// embedded Badge, or one of a badge stored here. It reads storage only,
// so that Check and Apply decide alike.
func (e env) assignmentOf(ctx context.Context, act *vocab.Activity) (assignment, bool, error) {
	if act == nil || !vocab.HasType(act, "Offer") {
		return assignment{}, false, nil
	}
	as := assignment{ID: string(act.ID), Assigner: one(act.Actor), Badge: one(act.Object), Recipient: one(act.Target)}
	if as.Assigner == "" || as.Badge == "" || as.Recipient == "" {
		return assignment{}, false, nil
	}
	if _, ok := cvocab.BadgeAssignmentOf(act); ok {
		return as, true, nil
	}
	if _, ok := cvocab.BadgeOf(act.Object); ok {
		return as, true, nil
	}
	_, ok, err := e.badgeOf(ctx, as.Badge)
	return as, ok, err
}

// issuerOf returns the issuer of a badge this server may not have: the
// stored one's owner, else the attributedTo of the badge as the activity
// embeds it (checked by the inbox) or as its origin serves it (in Check
// only). "" when it names none.
func issuerOf(ctx context.Context, a *inbox.Activity, iri string, fetch bool) (string, error) {
	b, ok, err := envOf(a).badgeOf(ctx, iri)
	if err != nil || ok {
		return b.Issuer, err
	}
	it := a.Object
	if (it == nil || it.IsLink()) && fetch {
		if it, err = a.Resolve(ctx, iri); err != nil {
			return "", nil
		}
	}
	if _, ok := cvocab.BadgeOf(it); !ok {
		return "", nil
	}
	return badgeFrom(it).Issuer, nil
}

// mayIssue reports whether who may assign the badge whose issuer is
// issuer: it is the issuer, or, for a badge that names none, on the
// badge's origin.
func mayIssue(who, issuer, badge string) bool {
	if issuer != "" {
		return who == issuer
	}
	return actor.SameOrigin(who, badge)
}

// checkBadgeOffer decides on the Offer of a badge: of ours, only its
// issuer assigns it, and anyone claims it for themselves only when it is
// self-assignable; of another server's, assigned to one of our actors,
// only its issuer assigns it. Anything else passes.
func checkBadgeOffer(ctx context.Context, a *inbox.Activity, as assignment) error {
	e := envOf(a)
	b, stored, err := e.badgeOf(ctx, as.Badge)
	if err != nil {
		return err
	}
	switch {
	case stored && b.Local:
		if as.Self() {
			if !b.SelfAssignable && a.Actor != b.Issuer {
				return inbox.Forbid("the badge cannot be self-assigned")
			}
		} else if a.Actor != b.Issuer {
			return inbox.Forbid("only the badge's issuer assigns it")
		}
	case e.scheme.IsLocal(as.Badge):
		return inbox.ErrPass // not one of our badges
	default:
		local, err := e.isLocalActor(ctx, as.Recipient)
		if err != nil {
			return err
		}
		if !local || as.Self() {
			return inbox.ErrPass // not for one of our actors; our own claims are the outbox's
		}
		issuer, err := issuerOf(ctx, a, as.Badge, true)
		if err != nil {
			return err
		}
		if !mayIssue(a.Actor, issuer, as.Badge) {
			return inbox.Forbid("only the badge's issuer assigns it")
		}
	}
	if a.ID == "" {
		return inbox.Reject(http.StatusBadRequest, "a badge assignment needs an id, for its answer to name")
	}
	return nil
}

// applyBadgeOffer records a checked badge Offer: a claim of our badge
// makes the claimant a holder at once, answered Accept by the issuer; an
// assignment to one of our actors waits in its Badges.
func applyBadgeOffer(ctx context.Context, a *inbox.Activity, as assignment, o Options) error {
	e := envOf(a)
	if err := storeActivity(ctx, a.Store, a.ID, a.Type, a.Actor, a.Raw); err != nil {
		return err
	}
	b, stored, err := e.badgeOf(ctx, as.Badge)
	if err != nil {
		return err
	}
	if stored && b.Local && as.Self() {
		added, err := addOnce(ctx, a.Store, e.scheme.Collection(b.IRI, Holders), storage.Member{IRI: as.Recipient, Activity: a.ID})
		if err != nil || !added {
			return err
		}
		ans := cvocab.NewAcceptBadge(ap.IRI(b.Issuer), ap.IRI(a.ID))
		ans.To = ap.ItemCollection{ap.IRI(as.Recipient)}
		return a.Send(ctx, ans)
	}
	local, err := e.isLocalActor(ctx, as.Recipient)
	if err != nil {
		return err
	}
	if !local {
		return inbox.RecordInInbox(ctx, a)
	}
	if !b.Local {
		if err := cacheBadge(ctx, a, as.Badge); err != nil {
			return err
		}
	}
	added, err := addOnce(ctx, a.Store, e.scheme.Collection(as.Recipient, Badges), storage.Member{IRI: as.Badge, State: storage.Pending, Activity: a.ID})
	if err != nil || !added {
		return err
	}
	return o.pending(ctx, a)
}

// cacheBadge keeps the badge an assignment embeds, owned by its issuer,
// so that the holder can show it and its Delete finds it.
func cacheBadge(ctx context.Context, a *inbox.Activity, iri string) error {
	obj, ok := cvocab.BadgeOf(a.Object)
	if !ok || string(obj.ID) != iri {
		return nil
	}
	owner := a.Actor
	if by := vocab.AttributedTo(obj); len(by) > 0 && actor.SameOrigin(string(by[0]), iri) {
		owner = string(by[0])
	}
	data, err := a.Registry().Encode(obj)
	if err != nil {
		return nil
	}
	err = a.Store.Objects.Put(ctx, storage.Object{IRI: iri, Type: "Badge", Owner: owner, Data: data})
	if errors.Is(err, storage.ErrConflict) {
		return nil
	}
	return err
}
