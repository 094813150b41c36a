package mobilizon

import (
	"context"
	"slices"

	ap "github.com/go-ap/activitypub"

	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/inbox"
	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/vocab"
)

// AcceptJoin handles the Accept of a Join one of our actors sent to an
// event: the Accept must come from the event's organizer (an actor it is
// attributedTo, the actor Mobilizon names on it, or the event itself when
// it acts), and the event is then accepted in the actor's Joins. An Accept
// of anything else passes to the rule below.
func AcceptJoin() inbox.Rule[vocab.Item] {
	return answerJoin("Accept", "marks our actor's participation in the event as accepted; only the event's organizer may accept it",
		func(ctx context.Context, a *inbox.Activity, j ourJoin) error {
			return a.Store.Collections.Add(ctx, j.joins, storage.Member{IRI: j.event, Activity: j.id})
		})
}

// RejectJoin handles the Reject of a Join one of our actors sent to an
// event, by its organizer: the event leaves the actor's Joins.
func RejectJoin() inbox.Rule[vocab.Item] {
	return answerJoin("Reject", "drops our actor's participation in the event; only the event's organizer may reject it",
		func(ctx context.Context, a *inbox.Activity, j ourJoin) error {
			m, err := a.Store.Collections.Contains(ctx, j.joins, j.event)
			if err != nil {
				return storage.IgnoreNotFound(err)
			}
			if m.Activity != "" && m.Activity != j.id {
				return nil // a Reject of an older Join leaves the newer one waiting
			}
			return storage.IgnoreNotFound(a.Store.Collections.Remove(ctx, j.joins, j.event))
		})
}

// ourJoin is a Join of an event that one of our actors sent.
type ourJoin struct {
	id, joiner, event string
	joins             string // the joiner's Joins collection
}

// findJoin returns the Join of an event by one of our actors that obj
// names, or ok false.
func findJoin(ctx context.Context, st storage.Store, reg *vocab.Registry, s actor.Scheme, obj vocab.Item) (ourJoin, bool, error) {
	id := string(vocab.IRIOf(obj))
	it, row, err := storedItem(ctx, st, reg, id)
	if err != nil || it == nil {
		return ourJoin{}, false, err
	}
	if !vocab.HasType(it, "Join") || !s.IsLocal(row.Owner) || vocab.TargetOf(it) != nil {
		return ourJoin{}, false, nil // a Join of a project names it as its target
	}
	events := vocab.IRIs(vocab.ObjectOf(it))
	if len(events) != 1 {
		return ourJoin{}, false, nil
	}
	return ourJoin{id: id, joiner: row.Owner, event: events[0], joins: s.Collection(row.Owner, Joins)}, true, nil
}

func answerJoin(typ, doc string, apply func(ctx context.Context, a *inbox.Activity, j ourJoin) error) inbox.Rule[vocab.Item] {
	return inbox.Rule[vocab.Item]{
		Doc: doc,
		Check: func(ctx context.Context, a *inbox.Activity, obj vocab.Item) error {
			j, ok, err := findJoin(ctx, a.Store, a.Registry(), a.Scheme(), obj)
			if err != nil {
				return err
			}
			if !ok {
				return inbox.ErrPass
			}
			if a.Actor == j.event {
				return nil // an event that acts answers for itself
			}
			ev, err := a.Resolve(ctx, j.event)
			if err != nil {
				return inbox.Forbid("the event could not be fetched to check its organizer")
			}
			if !vocab.HasType(ev, "Event") {
				return inbox.ErrPass // a Join of a group
			}
			if !organizes(ctx, a, ev, j.event, a.Actor) {
				return inbox.Forbid("only the event's organizer answers a Join of it")
			}
			return nil
		},
		Apply: func(ctx context.Context, a *inbox.Activity, obj vocab.Item) error {
			j, ok, err := findJoin(ctx, a.Store, a.Registry(), a.Scheme(), obj)
			if err != nil {
				return err
			}
			if !ok {
				return inbox.RecordInInbox(ctx, a)
			}
			if a.Recipient != nil && a.Recipient.IRI != j.joiner {
				return nil // delivered to another of our actors too: the joiner's applies it
			}
			if err := apply(ctx, a, j); err != nil {
				return err
			}
			return inbox.RecordInInbox(ctx, a)
		},
	}
}

// organizes reports whether who organizes ev (whose IRI is iri): ev is
// attributed to who, names who as its actor (Mobilizon attributes a
// group's events to the group and names the member who organizes them),
// or, for one of our events, who owns it.
func organizes(ctx context.Context, a *inbox.Activity, ev vocab.Item, iri, who string) bool {
	if slices.ContainsFunc(vocab.AttributedTo(ev), func(by ap.IRI) bool { return string(by) == who }) {
		return true
	}
	if o, ok := ev.(*vocab.Object); ok {
		var named string
		if jsonString(o.Extra["actor"], &named) && named == who {
			return true
		}
	}
	if a.Scheme().IsLocal(iri) {
		owner, err := a.Store.Objects.Owner(ctx, iri)
		return err == nil && owner == who
	}
	return false
}
