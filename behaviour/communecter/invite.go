package communecter

import (
	"context"
	"errors"
	"net/http"

	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/inbox"
	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/vocab"
)

// Invite handles an Invite to a project or organization, with the role
// offered in instrument: to one of ours, by one of its members (only an
// admin invites as admin), the invitee joins its pending invitations;
// of one of our actors to another server's project, the invitation waits
// in its Invitations for the application (Client.AcceptInvitation).
// Invites to anything else pass to the rule below (Gathio's events).
func Invite(o Options) inbox.Rule[vocab.Item] {
	return inbox.Rule[vocab.Item]{
		Doc: "records an invitation to our project (by a member; admin role by an admin only) as pending, or one of our actors' invitation to another server's project for the application to answer",
		Check: func(ctx context.Context, a *inbox.Activity, _ vocab.Item) error {
			inv, ok := invitationOf(a.Activity())
			if !ok {
				return inbox.ErrPass
			}
			return checkInvitation(ctx, a, inv)
		},
		Apply: func(ctx context.Context, a *inbox.Activity, _ vocab.Item) error {
			inv, ok := invitationOf(a.Activity())
			if !ok {
				return inbox.RecordInInbox(ctx, a)
			}
			return applyInvitation(ctx, a, inv, o)
		},
	}
}

// Offer handles an Offer: of a role in a project or organization, as an
// Invite is handled; of a badge (an instrument with a narrative or
// attenteRecepteur, or a Badge as object), see the package doc: its
// issuer assigns it, pending until the holder accepts, and anyone claims
// for themselves a badge that allows it. Other Offers pass to the rule
// below.
func Offer(o Options) inbox.Rule[vocab.Item] {
	return inbox.Rule[vocab.Item]{
		Doc: "records a role offered in our project (admin role by an admin only) or to one of our actors; a badge assigned by its issuer to one of our actors, pending until accepted; a claim of our self-assignable badge, held at once and answered Accept",
		Check: func(ctx context.Context, a *inbox.Activity, _ vocab.Item) error {
			act := a.Activity()
			as, isBadge, err := envOf(a).assignmentOf(ctx, act)
			if err != nil {
				return err
			}
			if isBadge {
				return checkBadgeOffer(ctx, a, as)
			}
			inv, ok := invitationOf(act)
			if !ok {
				return inbox.ErrPass
			}
			return checkInvitation(ctx, a, inv)
		},
		Apply: func(ctx context.Context, a *inbox.Activity, _ vocab.Item) error {
			act := a.Activity()
			as, isBadge, err := envOf(a).assignmentOf(ctx, act)
			if err != nil {
				return err
			}
			if isBadge {
				return applyBadgeOffer(ctx, a, as, o)
			}
			inv, ok := invitationOf(act)
			if !ok {
				return inbox.RecordInInbox(ctx, a)
			}
			return applyInvitation(ctx, a, inv, o)
		},
	}
}

// checkInvitation decides on an Invite or role Offer: of one of our
// projects, the inviter must be a member, and an admin to offer the
// admin role; of another server's, the invitee must be one of our actors
// and the target a project or organization as its origin serves it.
// Anything else passes.
func checkInvitation(ctx context.Context, a *inbox.Activity, inv invitation) error {
	e := envOf(a)
	p, ours, err := e.localProject(ctx, inv.Project)
	if err != nil {
		return err
	}
	if ours {
		if a.ID == "" {
			return inbox.Reject(http.StatusBadRequest, "an invitation needs an id, for its answer to name")
		}
		isAdmin, err := e.isAdmin(ctx, p, a.Actor)
		if err != nil {
			return err
		}
		if isAdminRole(inv.Role) && !isAdmin {
			return inbox.Forbid("only an admin of the project offers the admin role")
		}
		if !isAdmin {
			if ok, err := e.isMember(ctx, p, a.Actor); err != nil || !ok {
				if err == nil {
					err = inbox.Forbid("only a member of the project invites to it")
				}
				return err
			}
		}
		return nil
	}
	if e.scheme.IsLocal(inv.Project) {
		return inbox.ErrPass // one of our objects, not a project: an event's, say
	}
	if local, err := e.isLocalActor(ctx, inv.Invitee); err != nil || !local {
		if err == nil {
			err = inbox.ErrPass
		}
		return err
	}
	it := a.Target
	if it == nil || it.IsLink() || string(vocab.IRIOf(it)) != inv.Project {
		if it, err = a.Resolve(ctx, inv.Project); err != nil {
			return inbox.ErrPass // cannot tell it is a project
		}
	}
	if !isProjectItem(it) {
		return inbox.ErrPass
	}
	if a.ID == "" {
		return inbox.Reject(http.StatusBadRequest, "an invitation needs an id, for its answer to name")
	}
	return nil
}

// applyInvitation records a checked invitation: in the project's
// Invited when the project is ours, in the invitee's Invitations when
// the invitee is ours.
func applyInvitation(ctx context.Context, a *inbox.Activity, inv invitation, o Options) error {
	e := envOf(a)
	if err := storeActivity(ctx, a.Store, a.ID, a.Type, a.Actor, a.Raw); err != nil {
		return err
	}
	p, ours, err := e.localProject(ctx, inv.Project)
	if err != nil {
		return err
	}
	local, err := e.isLocalActor(ctx, inv.Invitee)
	if err != nil {
		return err
	}
	if !ours && !local {
		return inbox.RecordInInbox(ctx, a)
	}
	if ours {
		if _, err := addOnce(ctx, a.Store, e.scheme.Collection(p.IRI, Invited), storage.Member{IRI: inv.Invitee, State: storage.Pending, Activity: a.ID}); err != nil {
			return err
		}
	}
	if !local {
		return nil
	}
	if !ours {
		if err := cacheProject(ctx, a, inv.Project); err != nil {
			return err
		}
	}
	added, err := addOnce(ctx, a.Store, e.scheme.Collection(inv.Invitee, Invitations), storage.Member{IRI: inv.Project, State: storage.Pending, Activity: a.ID})
	if err != nil || !added {
		return err
	}
	return o.pending(ctx, a)
}

// addOnce adds m to coll unless it is there by the same activity in the
// same state (the activity was applied for another recipient), and
// reports whether it added it.
func addOnce(ctx context.Context, st storage.Store, coll string, m storage.Member) (bool, error) {
	old, exists, err := member(ctx, st, coll, m.IRI)
	if err != nil {
		return false, err
	}
	if exists && old.Activity == m.Activity && old.State == m.State {
		return false, nil
	}
	return true, st.Collections.Add(ctx, coll, m)
}

// cacheProject keeps the project an invitation embeds, checked by the
// inbox (on the actor's origin, or fetched from its own), owned by its
// creator, so that the invitee can later join, leave and answer it.
func cacheProject(ctx context.Context, a *inbox.Activity, iri string) error {
	obj, ok := a.Target.(*vocab.Object)
	if !ok || !vocab.HasType(obj, "Project") || string(obj.ID) != iri {
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
	err = a.Store.Objects.Put(ctx, storage.Object{IRI: iri, Type: "Project", Owner: owner, Data: data})
	if errors.Is(err, storage.ErrConflict) {
		return nil
	}
	return err
}
