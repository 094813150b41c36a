package communecter

import (
	"context"
	"net/http"

	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/inbox"
	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/vocab"
)

// AnswerInvitation handles an Accept or Reject (typ) of an Invite to
// one of our projects: only the invitee answers, and only the invitation
// pending for it; an Accept makes it a member with the invitation's role
// (an Accept that names another role grants none: the role is the
// Invite's). Answers to other Invites pass to the rule below (Gathio's).
func AnswerInvitation(typ string) inbox.Rule[vocab.Item] {
	return inbox.Rule[vocab.Item]{
		Doc: docAnswer(typ),
		Check: func(ctx context.Context, a *inbox.Activity, obj vocab.Item) error {
			inv, ok := invitationOf(answered(obj))
			if !ok {
				return inbox.ErrPass
			}
			_, err := checkAnswerInvitation(ctx, a, typ, inv)
			return err
		},
		Apply: func(ctx context.Context, a *inbox.Activity, obj vocab.Item) error {
			inv, ok := invitationOf(answered(obj))
			if !ok {
				return inbox.RecordInInbox(ctx, a)
			}
			return applyAnswerInvitation(ctx, a, typ, inv)
		},
	}
}

func docAnswer(typ string) string {
	if typ == "Accept" {
		return "makes the invitee a member of our project with the role of its pending invitation; refuses an answer by anyone else"
	}
	return "drops the invitee's pending invitation to our project; refuses an answer by anyone else"
}

// answered returns the activity an Accept or Reject answers, as the
// inbox resolved it.
func answered(obj vocab.Item) *vocab.Activity {
	act, _ := obj.(*vocab.Activity)
	return act
}

// checkAnswerInvitation decides on an answer to an invitation to one of
// our projects, and says whether it is still pending (else it was
// accepted already, and changes nothing).
func checkAnswerInvitation(ctx context.Context, a *inbox.Activity, typ string, inv invitation) (bool, error) {
	e := envOf(a)
	p, ours, err := e.localProject(ctx, inv.Project)
	if err != nil || !ours {
		if err == nil {
			err = inbox.ErrPass
		}
		return false, err
	}
	if inv.Invitee != a.Actor {
		return false, inbox.Forbid("only the invitee answers an invitation")
	}
	m, pending, err := member(ctx, a.Store, e.scheme.Collection(p.IRI, Invited), a.Actor)
	if err != nil {
		return false, err
	}
	if !pending || m.Activity != inv.ID {
		mm, isMember, err := member(ctx, a.Store, e.scheme.Collection(p.IRI, Members), a.Actor)
		if err != nil {
			return false, err
		}
		if isMember && mm.Activity == inv.ID {
			return false, nil // answered before: nothing more to do
		}
		return false, inbox.Forbid("the actor has no pending invitation by this activity")
	}
	if typ == "Accept" && isAdminRole(inv.Role) {
		ok, err := e.isAdmin(ctx, p, inv.Inviter)
		if err != nil {
			return false, err
		}
		if !ok {
			return false, inbox.Forbid("the admin role was offered by one who is not an admin")
		}
	}
	return true, nil
}

func applyAnswerInvitation(ctx context.Context, a *inbox.Activity, typ string, inv invitation) error {
	pending, err := checkAnswerInvitation(ctx, a, typ, inv)
	if err != nil || !pending {
		return err
	}
	s := a.Scheme()
	if err := a.Store.Collections.Remove(ctx, s.Collection(inv.Project, Invited), a.Actor); err != nil {
		return err
	}
	if typ == "Accept" {
		if err := a.Store.Collections.Add(ctx, s.Collection(inv.Project, Members), storage.Member{IRI: a.Actor, Activity: inv.ID}); err != nil {
			return err
		}
	}
	return inbox.RecordInInbox(ctx, a)
}

// AnswerOffer handles an Accept or Reject (typ) of an Offer: of a role
// in one of our projects, as AnswerInvitation; of a badge our issuer
// assigned, only its recipient answers, and becomes a holder or is
// dropped; of a badge one of our actors claimed, only the badge's issuer
// answers; a Reject by the issuer of its own assignment to one of our
// actors revokes it. Answers to other Offers pass to the rule below.
func AnswerOffer(typ string) inbox.Rule[vocab.Item] {
	doc := "makes the recipient of our badge a holder, or the invitee a member of our project with the offered role; marks our actor's claimed badge as held; refuses an answer by anyone else"
	if typ == "Reject" {
		doc = "drops the recipient of our badge, or the invitee's pending role offer; drops our actor's badge claim, or the badge its issuer revokes; refuses an answer by anyone else"
	}
	return inbox.Rule[vocab.Item]{
		Doc: doc,
		Check: func(ctx context.Context, a *inbox.Activity, obj vocab.Item) error {
			act := answered(obj)
			as, isBadge, err := envOf(a).assignmentOf(ctx, act)
			if err != nil {
				return err
			}
			if isBadge {
				_, err := checkAnswerBadge(ctx, a, typ, as)
				return err
			}
			inv, ok := invitationOf(act)
			if !ok {
				return inbox.ErrPass
			}
			_, err = checkAnswerInvitation(ctx, a, typ, inv)
			return err
		},
		Apply: func(ctx context.Context, a *inbox.Activity, obj vocab.Item) error {
			act := answered(obj)
			as, isBadge, err := envOf(a).assignmentOf(ctx, act)
			if err != nil {
				return err
			}
			if isBadge {
				return applyAnswerBadge(ctx, a, typ, as)
			}
			inv, ok := invitationOf(act)
			if !ok {
				return inbox.RecordInInbox(ctx, a)
			}
			return applyAnswerInvitation(ctx, a, typ, inv)
		},
	}
}

// change is the entry of a collection an answer changes.
type change struct {
	coll, who string // the collection, and the member whose entry changes
}

// checkAnswerBadge decides on an answer to a badge Offer, and returns
// the entry it changes (none when it was applied already).
func checkAnswerBadge(ctx context.Context, a *inbox.Activity, typ string, as assignment) (change, error) {
	e := envOf(a)
	b, stored, err := e.badgeOf(ctx, as.Badge)
	if err != nil {
		return change{}, err
	}
	var ans change
	switch {
	case stored && b.Local && !as.Self():
		// Our issuer's assignment: its recipient answers.
		if as.Recipient != a.Actor {
			return change{}, inbox.Forbid("the badge was not assigned to the actor")
		}
		ans = change{coll: e.scheme.Collection(b.IRI, Holders), who: as.Recipient}
	case e.scheme.IsLocal(as.Assigner) && as.Self() && !b.Local:
		// Our actor's claim of another server's badge: its issuer
		// answers.
		issuer, err := issuerOf(ctx, a, as.Badge, false)
		if err != nil {
			return change{}, err
		}
		if !mayIssue(a.Actor, issuer, as.Badge) {
			return change{}, inbox.Forbid("only the badge's issuer answers a claim of it")
		}
		ans = change{coll: e.scheme.Collection(as.Assigner, Badges), who: as.Badge}
	case typ == "Reject" && a.Actor == as.Assigner && e.scheme.IsLocal(as.Recipient) && !e.scheme.IsLocal(as.Assigner):
		// Another server's issuer revoking its assignment to our actor.
		ans = change{coll: e.scheme.Collection(as.Recipient, Badges), who: as.Badge}
	default:
		return change{}, inbox.ErrPass
	}
	m, exists, err := member(ctx, a.Store, ans.coll, ans.who)
	switch {
	case err != nil:
		return change{}, err
	case !exists || m.Activity != as.ID:
		if typ == "Reject" {
			return change{}, nil // gone already
		}
		return change{}, inbox.Reject(http.StatusConflict, "no pending assignment by this activity")
	case typ == "Accept" && m.State == storage.Accepted:
		return change{}, nil
	}
	return ans, nil
}

func applyAnswerBadge(ctx context.Context, a *inbox.Activity, typ string, as assignment) error {
	ans, err := checkAnswerBadge(ctx, a, typ, as)
	if err != nil {
		return err
	}
	if ans.coll != "" {
		if typ == "Accept" {
			err = a.Store.Collections.Add(ctx, ans.coll, storage.Member{IRI: ans.who, Activity: as.ID})
		} else {
			err = storage.IgnoreNotFound(a.Store.Collections.Remove(ctx, ans.coll, ans.who))
		}
		if err != nil {
			return err
		}
	}
	return inbox.RecordInInbox(ctx, a)
}

// AnswerJoin handles an Accept or Reject (typ) of a Join of a project:
// of one of our actors' Join of another server's project, from that
// project (itself, its owner, or its origin), it becomes a member or
// stops waiting; of a pending Join of one of our projects, from one of
// its admins on another server, likewise. Answers to other Joins pass to
// the rule below (Mobilizon's events).
func AnswerJoin(typ string) inbox.Rule[vocab.Item] {
	doc := "makes our actor a member of the project it asked to join, when the project answers; refuses an answer by anyone else"
	if typ == "Reject" {
		doc = "drops our actor's pending Join of the project, when the project answers; refuses an answer by anyone else"
	}
	return inbox.Rule[vocab.Item]{
		Doc: doc,
		Check: func(ctx context.Context, a *inbox.Activity, obj vocab.Item) error {
			_, err := checkAnswerJoin(ctx, a, answered(obj))
			return err
		},
		Apply: func(ctx context.Context, a *inbox.Activity, obj vocab.Item) error {
			join := answered(obj)
			changes, err := checkAnswerJoin(ctx, a, join)
			if err != nil {
				return err
			}
			for _, c := range changes {
				if typ == "Accept" {
					err = a.Store.Collections.Add(ctx, c.coll, storage.Member{IRI: c.who, Activity: string(join.ID)})
				} else {
					err = storage.IgnoreNotFound(a.Store.Collections.Remove(ctx, c.coll, c.who))
				}
				if err != nil {
					return err
				}
			}
			return inbox.RecordInInbox(ctx, a)
		},
	}
}

// checkAnswerJoin returns the entries an answer to a Join changes: our
// joiner's MemberOf, our project's Members.
func checkAnswerJoin(ctx context.Context, a *inbox.Activity, join *vocab.Activity) ([]change, error) {
	if join == nil || !vocab.HasType(join, "Join") {
		return nil, inbox.ErrPass
	}
	who, proj, shaped := joinOf(join)
	if proj == "" || !shaped {
		return nil, inbox.ErrPass
	}
	e := envOf(a)
	id := string(join.ID)
	var changes []change
	if e.scheme.IsLocal(who) {
		coll := e.scheme.Collection(who, MemberOf)
		if m, ok, err := member(ctx, a.Store, coll, proj); err != nil {
			return nil, err
		} else if ok && m.Activity == id {
			changes = append(changes, change{coll: coll, who: proj})
		}
	}
	p, ours, err := e.localProject(ctx, proj)
	if err != nil {
		return nil, err
	}
	if ours {
		coll := e.scheme.Collection(p.IRI, Members)
		if m, ok, err := member(ctx, a.Store, coll, who); err != nil {
			return nil, err
		} else if ok && m.Activity == id {
			changes = append(changes, change{coll: coll, who: who})
		}
	}
	if len(changes) == 0 {
		if ours {
			return nil, inbox.Reject(http.StatusConflict, "no pending Join by this activity")
		}
		return nil, inbox.ErrPass // not a Join of a project we know of: an event's, say
	}
	if ours {
		ok, err := e.isAdmin(ctx, p, a.Actor)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, inbox.Forbid("only an admin of the project answers a Join of it")
		}
		return changes, nil
	}
	if !speaksFor(ctx, e, a.Actor, proj) {
		return nil, inbox.Forbid("only the project answers a Join of it")
	}
	return changes, nil
}

// speaksFor reports whether who may answer for another server's project:
// the project itself (an organization), its cached owner, or, when it is
// not cached, an actor of its origin.
func speaksFor(ctx context.Context, e env, who, proj string) bool {
	if who == proj {
		return true
	}
	p, ok, err := e.projectOf(ctx, proj)
	if err == nil && ok {
		return who == p.Owner
	}
	return actor.SameOrigin(who, proj)
}
