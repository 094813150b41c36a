package communecter

import (
	"context"
	"net/http"

	ap "github.com/go-ap/activitypub"

	"github.com/fedi-go/fedi/inbox"
	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/vocab"
	cvocab "github.com/fedi-go/fedi/vocab/communecter"
)

// projectOf returns what finds the project of a Join or Leave (verb) and
// the actor who joins or leaves it: ok is false when the object is not a
// project of ours, and a project's Join or Leave shaped otherwise than
// with the actor as object is refused.
func projectOf(verb string) func(ctx context.Context, a *inbox.Activity) (p project, who string, ok bool, err error) {
	return func(ctx context.Context, a *inbox.Activity) (project, string, bool, error) {
		who, proj, shaped := joinParts(a.Actor, a.Object, a.Target)
		p, ok, err := envOf(a).localProject(ctx, proj)
		if err != nil || !ok {
			return project{}, "", false, err
		}
		if !shaped {
			return project{}, "", false, inbox.Forbid("a " + verb + " of a project has the actor as object")
		}
		return p, who, true, nil
	}
}

// Join handles a Join of one of our projects or organizations, as
// Communecter sends it (object the actor, target the project) or plain
// (object the project): the actor becomes a member, with the Join as the
// activity that made it one (its instrument is the role), and is sent an
// Accept; where membership is moderated, or when it asks for the admin
// role, it waits as a pending member for an admin (Client.AnswerJoin).
// Joins of anything else pass to the rule below (Mobilizon's events).
func Join(o Options) inbox.Rule[vocab.Item] {
	find := projectOf("Join")
	return inbox.Rule[vocab.Item]{
		Doc: "makes the actor a member of our project or organization and answers Accept, or keeps it pending for an admin where membership is moderated or it asks for the admin role",
		Check: func(ctx context.Context, a *inbox.Activity, _ vocab.Item) error {
			_, _, ok, err := find(ctx, a)
			switch {
			case err != nil:
				return err
			case !ok:
				return inbox.ErrPass
			case a.ID == "":
				return inbox.Reject(http.StatusBadRequest, "a Join needs an id, for its Accept to name")
			}
			return nil
		},
		Apply: func(ctx context.Context, a *inbox.Activity, _ vocab.Item) error {
			p, who, ok, err := find(ctx, a)
			if err != nil || !ok {
				return orRecord(ctx, a, err)
			}
			e := envOf(a)
			if err := storeActivity(ctx, a.Store, a.ID, a.Type, a.Actor, a.Raw); err != nil {
				return err
			}
			coll := e.scheme.Collection(p.IRI, Members)
			m, exists, err := member(ctx, a.Store, coll, who)
			if err != nil {
				return err
			}
			role, _ := cvocab.RoleOf(a.Activity())
			switch {
			case exists && m.Activity == a.ID:
				return nil // applied for another recipient already
			case exists && m.State == storage.Accepted:
				// A member joining again: answer again, keep its role.
				return a.Send(ctx, joinAnswer(p, who, a.ID, "Accept", role.Name))
			case p.Moderated || isAdminRole(role):
				if err := a.Store.Collections.Add(ctx, coll, storage.Member{IRI: who, State: storage.Pending, Activity: a.ID}); err != nil {
					return err
				}
				return o.pending(ctx, a)
			}
			if err := a.Store.Collections.Add(ctx, coll, storage.Member{IRI: who, Activity: a.ID}); err != nil {
				return err
			}
			return a.Send(ctx, joinAnswer(p, who, a.ID, "Accept", role.Name))
		},
	}
}

// joinAnswer is the Accept or Reject of a Join of p, by its owner (a
// project's creator, an organization itself), in Communecter's shape:
// the Join as object, the project as target, the role as instrument.
func joinAnswer(p project, who, join, typ, role string) *vocab.Activity {
	by := p.Owner
	if p.Kind == organization {
		by = p.IRI
	}
	var ans *vocab.Activity
	if typ == "Accept" {
		ans = cvocab.NewAccept(ap.IRI(by), ap.IRI(join), ap.IRI(p.IRI), role)
	} else {
		ans = cvocab.NewReject(ap.IRI(by), ap.IRI(join))
		ans.Target = ap.IRI(p.IRI)
	}
	ans.To = ap.ItemCollection{ap.IRI(who)}
	return ans
}

// Leave handles a Leave of one of our projects or organizations: the
// actor is no longer a member (nor a pending one). Leaves of anything
// else pass to the rule below (Mobilizon's events).
func Leave() inbox.Rule[vocab.Item] {
	find := projectOf("Leave")
	return inbox.Rule[vocab.Item]{
		Doc: "removes the actor from the members of our project or organization",
		Check: func(ctx context.Context, a *inbox.Activity, _ vocab.Item) error {
			_, _, ok, err := find(ctx, a)
			if err == nil && !ok {
				return inbox.ErrPass
			}
			return err
		},
		Apply: func(ctx context.Context, a *inbox.Activity, _ vocab.Item) error {
			p, who, ok, err := find(ctx, a)
			if err != nil || !ok {
				return orRecord(ctx, a, err)
			}
			return storage.IgnoreNotFound(a.Store.Collections.Remove(ctx, a.Scheme().Collection(p.IRI, Members), who))
		},
	}
}

// orRecord returns err, or, when there is none, records the activity in
// the recipient's inbox: what an Apply does with an activity that is not
// its own (the inbox's queued mode applies without passing; see the
// package doc).
func orRecord(ctx context.Context, a *inbox.Activity, err error) error {
	if err != nil {
		return err
	}
	return inbox.RecordInInbox(ctx, a)
}
