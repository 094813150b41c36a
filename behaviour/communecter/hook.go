package communecter

import (
	"context"
	"fmt"

	"github.com/fedi-go/fedi/outbox"
	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/vocab"
)

// Bookkeep returns the outbox hook that keeps our side in step with what
// our actors send, in the transaction that stores it; Register adds it.
// An error refuses the activity, and nothing of it is sent:
//   - Create of a Project: its creator is its first member;
//   - Invite, or Offer of a role, in one of our projects: by a member
//     (ErrNotMember), as admin by an admin only (ErrNotAdmin); the invitee
//     joins the project's Invited;
//   - Offer of a badge: of our badge, by its issuer (ErrNotIssuer), the
//     recipient joins its Holders, pending; a claim of our badge
//     (ErrNotSelfAssignable unless it allows it) makes the claimant a
//     holder at once; a claim of another server's badge waits in the
//     claimant's Badges;
//   - Join, Leave of a known project: the actor's MemberOf;
//   - Accept or Reject of an invitation, role offer or badge: by its
//     invitee or recipient only (ErrNotInvited), who becomes a member or
//     holder, or drops it; of a claim of our badge, by its issuer: the
//     claimant holds it, or not; of a Join of our project, by an admin
//     only (ErrNotAdmin): the joiner is a member, or not.
func Bookkeep(out *outbox.Outbox) outbox.SendHook {
	return func(ctx context.Context, tx storage.Store, it vocab.Item) error {
		act, ok := it.(*vocab.Activity)
		if !ok {
			return nil
		}
		e := env{st: tx, scheme: out.Scheme(), reg: out.Registry()}
		sender := one(act.Actor)
		switch {
		case vocab.HasType(act, "Create"):
			return e.sentCreate(ctx, act, sender)
		case vocab.HasType(act, "Invite"):
			return e.sentInvitation(ctx, act, sender)
		case vocab.HasType(act, "Offer"):
			as, isBadge, err := e.assignmentOf(ctx, act)
			if err != nil || !isBadge {
				if err == nil {
					err = e.sentInvitation(ctx, act, sender)
				}
				return err
			}
			return e.sentAssignment(ctx, as, sender)
		case vocab.HasType(act, "Join"), vocab.HasType(act, "Leave"):
			return e.sentJoin(ctx, act, sender)
		case vocab.HasType(act, "Accept"), vocab.HasType(act, "Reject"):
			return e.sentAnswer(ctx, act, sender, vocab.HasType(act, "Accept"))
		}
		return nil
	}
}

func (e env) sentCreate(ctx context.Context, act *vocab.Activity, sender string) error {
	obj := act.Object
	if !vocab.HasType(obj, "Project") {
		return nil
	}
	iri := string(vocab.IRIOf(obj))
	if !e.scheme.IsLocal(iri) {
		return nil
	}
	if err := e.st.Collections.Add(ctx, e.scheme.Collection(iri, Members), storage.Member{IRI: sender, Activity: string(act.ID)}); err != nil {
		return err
	}
	return e.st.Collections.Add(ctx, e.scheme.Collection(sender, MemberOf), storage.Member{IRI: iri, Activity: string(act.ID)})
}

func (e env) sentInvitation(ctx context.Context, act *vocab.Activity, sender string) error {
	inv, ok := invitationOf(act)
	if !ok {
		return nil
	}
	p, ours, err := e.localProject(ctx, inv.Project)
	if err != nil || !ours {
		return err
	}
	isAdmin, err := e.isAdmin(ctx, p, sender)
	if err != nil {
		return err
	}
	if isAdminRole(inv.Role) && !isAdmin {
		return fmt.Errorf("%w: %s offers the admin role of %s", ErrNotAdmin, sender, p.IRI)
	}
	if !isAdmin {
		if ok, err := e.isMember(ctx, p, sender); err != nil || !ok {
			if err == nil {
				err = fmt.Errorf("%w: %s invites to %s", ErrNotMember, sender, p.IRI)
			}
			return err
		}
	}
	return e.st.Collections.Add(ctx, e.scheme.Collection(p.IRI, Invited), storage.Member{IRI: inv.Invitee, State: storage.Pending, Activity: inv.ID})
}

func (e env) sentAssignment(ctx context.Context, as assignment, sender string) error {
	b, stored, err := e.badgeOf(ctx, as.Badge)
	if err != nil {
		return err
	}
	if !stored || !b.Local {
		if !as.Self() {
			return fmt.Errorf("%w: %s assigns %s", ErrNotIssuer, sender, as.Badge)
		}
		return e.st.Collections.Add(ctx, e.scheme.Collection(sender, Badges), storage.Member{IRI: as.Badge, State: storage.Pending, Activity: as.ID})
	}
	holders := e.scheme.Collection(b.IRI, Holders)
	switch {
	case sender == b.Issuer && !as.Self():
		return e.st.Collections.Add(ctx, holders, storage.Member{IRI: as.Recipient, State: storage.Pending, Activity: as.ID})
	case as.Self() && (sender == b.Issuer || b.SelfAssignable):
		if err := e.st.Collections.Add(ctx, holders, storage.Member{IRI: sender, Activity: as.ID}); err != nil {
			return err
		}
		return e.st.Collections.Add(ctx, e.scheme.Collection(sender, Badges), storage.Member{IRI: b.IRI, Activity: as.ID})
	case as.Self():
		return fmt.Errorf("%w: %s", ErrNotSelfAssignable, b.IRI)
	}
	return fmt.Errorf("%w: %s assigns %s", ErrNotIssuer, sender, b.IRI)
}

func (e env) sentJoin(ctx context.Context, act *vocab.Activity, sender string) error {
	who, proj, shaped := joinOf(act)
	if proj == "" || !shaped || who != sender {
		return nil
	}
	if _, ok, err := e.projectOf(ctx, proj); err != nil || !ok {
		return err // not a project we know of: an event, say
	}
	coll := e.scheme.Collection(sender, MemberOf)
	if vocab.HasType(act, "Leave") {
		return storage.IgnoreNotFound(e.st.Collections.Remove(ctx, coll, proj))
	}
	if m, ok, err := member(ctx, e.st, coll, proj); err != nil || ok && m.State == storage.Accepted {
		return err // a member already: its membership stands
	}
	return e.st.Collections.Add(ctx, coll, storage.Member{IRI: proj, State: storage.Pending, Activity: string(act.ID)})
}

func (e env) sentAnswer(ctx context.Context, act *vocab.Activity, sender string, accept bool) error {
	ans, err := e.activity(ctx, one(act.Object))
	if err != nil || ans == nil {
		return err
	}
	set := func(coll, who, activity string) error {
		if accept {
			return e.st.Collections.Add(ctx, coll, storage.Member{IRI: who, Activity: activity})
		}
		return storage.IgnoreNotFound(e.st.Collections.Remove(ctx, coll, who))
	}
	id := string(ans.ID)
	switch {
	case vocab.HasType(ans, "Join"):
		who, proj, _ := joinOf(ans)
		p, ours, err := e.localProject(ctx, proj)
		if err != nil || !ours {
			return err
		}
		if ok, err := e.isAdmin(ctx, p, sender); err != nil || !ok {
			if err == nil {
				err = fmt.Errorf("%w: %s answers a Join of %s", ErrNotAdmin, sender, p.IRI)
			}
			return err
		}
		coll := e.scheme.Collection(p.IRI, Members)
		m, ok, err := member(ctx, e.st, coll, who)
		switch {
		case err != nil:
			return err
		case ok && m.Activity == id:
			return set(coll, who, id)
		case ok && m.State == storage.Accepted && accept:
			return nil // a member joining again, answered again
		}
		return fmt.Errorf("%w: no Join %s of %s", ErrNotInvited, id, p.IRI)
	case vocab.HasType(ans, "Offer"), vocab.HasType(ans, "Invite"):
		as, isBadge, err := e.assignmentOf(ctx, ans)
		if err != nil {
			return err
		}
		if isBadge {
			return e.answeredAssignment(ctx, as, sender, set)
		}
		inv, ok := invitationOf(ans)
		if !ok {
			return nil
		}
		_, known, err := e.projectOf(ctx, inv.Project)
		if err != nil {
			return err
		}
		coll := e.scheme.Collection(sender, Invitations)
		m, ok, err := member(ctx, e.st, coll, inv.Project)
		if err != nil {
			return err
		}
		if !ok || m.Activity != id || inv.Invitee != sender {
			if !known && !ok {
				// Unless the invitee is ours and kept it, it is not an
				// invitation to a project: an event's, say.
				kept, _, err := member(ctx, e.st, e.scheme.Collection(inv.Invitee, Invitations), inv.Project)
				if err != nil || kept.Activity != id {
					return err
				}
			}
			return fmt.Errorf("%w: %s answers %s", ErrNotInvited, sender, id)
		}
		if err := e.st.Collections.Remove(ctx, coll, inv.Project); err != nil {
			return err
		}
		if !accept {
			return nil
		}
		return set(e.scheme.Collection(sender, MemberOf), inv.Project, id)
	}
	return nil
}

// answeredAssignment keeps the state of a badge Offer our actor answers:
// its recipient accepts or declines it, or, for our badge, its issuer
// accepts or refuses a claim, or revokes it.
func (e env) answeredAssignment(ctx context.Context, as assignment, sender string, set func(coll, who, activity string) error) error {
	if as.Recipient == sender && !as.Self() {
		coll := e.scheme.Collection(sender, Badges)
		m, ok, err := member(ctx, e.st, coll, as.Badge)
		if err != nil {
			return err
		}
		if !ok || m.Activity != as.ID {
			return fmt.Errorf("%w: %s answers %s", ErrNotInvited, sender, as.ID)
		}
		return set(coll, as.Badge, as.ID)
	}
	b, stored, err := e.badgeOf(ctx, as.Badge)
	if err != nil {
		return err
	}
	if stored && b.Local && sender == b.Issuer {
		return set(e.scheme.Collection(b.IRI, Holders), as.Recipient, as.ID)
	}
	return fmt.Errorf("%w: %s answers %s", ErrNotInvited, sender, as.ID)
}
