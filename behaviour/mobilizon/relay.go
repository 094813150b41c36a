package mobilizon

import (
	"context"
	"errors"
	"fmt"
	"slices"

	ap "github.com/go-ap/activitypub"

	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/outbox"
	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/vocab"
)

// RelayName is the name of the instance relay actor: relay@host.
const RelayName = "relay"

// EnsureRelay returns the instance relay actor, relay@host, a Service
// that accepts every Follow (core's Follow answers them), creating it
// when it does not exist. Pass its IRI as Options.Relay.
func EnsureRelay(ctx context.Context, actors *actor.Store) (*actor.Actor, error) {
	a, err := actors.Ensure(ctx, actor.Actor{Name: RelayName, Type: "Service"})
	if err != nil {
		return nil, fmt.Errorf("mobilizon: relay: %w", err)
	}
	return a, nil
}

// Subscribe makes our relay follow another instance's relay, so that it
// announces that instance's content to ours. Its Accept is core's
// business (the relay's following).
func Subscribe(ctx context.Context, d Deps, relay, remote string) (string, error) {
	return d.Outbox.Send(ctx, vocab.NewActivity("Follow", "", ap.IRI(relay), ap.IRI(remote)))
}

// relay announces what our actors publish.
type relay struct {
	iri string
	out *outbox.Outbox
}

// onSend is the relay's outbox hook: every public Create, Update or
// Delete of a local object by another of our actors is announced by the
// relay to its followers. A Create's object is announced by IRI, as
// Mobilizon's relay does; an Update or Delete is announced embedded, and
// also to every instance the object was announced to before (its Relayed
// collection), even one that no longer follows the relay, so that they
// all learn of it. A Delete of an object announced before is announced
// even when it is not public. Each instance announced to joins the
// object's Relayed collection.
func (r *relay) onSend(ctx context.Context, tx storage.Store, act vocab.Item) error {
	a, ok := act.(*vocab.Activity)
	if !ok {
		return nil
	}
	by := vocab.IRIs(a.Actor)
	if len(by) != 1 || by[0] == r.iri {
		return nil
	}
	create, update, del := vocab.HasType(a, "Create"), vocab.HasType(a, "Update"), vocab.HasType(a, "Delete")
	if !create && !update && !del {
		return nil
	}
	objs := vocab.IRIs(a.Object)
	s := r.out.Scheme()
	if len(objs) != 1 || !s.IsLocal(objs[0]) || objs[0] == by[0] {
		return nil // an actor's own document is not content
	}
	obj := objs[0]
	relayed := s.Collection(obj, Relayed)
	followers := s.Collection(r.iri, actor.Followers)
	var before []string
	if !create {
		err := each(ctx, tx, relayed, storage.Accepted, func(m storage.Member) error {
			before = append(before, m.IRI)
			return nil
		})
		if err != nil {
			return err
		}
	}
	if !vocab.IsPublicItem(a) && !(del && len(before) > 0) {
		return nil
	}
	var announced vocab.Item = ap.IRI(obj)
	if !create {
		c, err := r.stripped(a)
		if err != nil {
			return err
		}
		announced = c
	}
	ann := vocab.NewActivity("Announce", "", ap.IRI(r.iri), announced)
	ann.To = ap.ItemCollection{ap.IRI(followers)}
	ann.CC = ap.ItemCollection{vocab.PublicIRI}
	var current []string
	err := each(ctx, tx, followers, storage.Accepted, func(m storage.Member) error {
		current = append(current, m.IRI)
		return nil
	})
	if err != nil {
		return err
	}
	for _, iri := range before {
		if !slices.Contains(current, iri) {
			ann.BCC = append(ann.BCC, ap.IRI(iri))
		}
	}
	if err := r.out.SendIn(ctx, tx, ann); errors.Is(err, outbox.ErrNotLocal) {
		return nil // no relay (yet): nothing was written
	} else if err != nil {
		return fmt.Errorf("mobilizon: relay announce of %s: %w", obj, err)
	}
	for _, iri := range current {
		if err := tx.Collections.Add(ctx, relayed, storage.Member{IRI: iri, Activity: string(ann.ID)}); err != nil {
			return err
		}
	}
	return nil
}

// stripped returns a copy of act without its blind recipients, to embed.
func (r *relay) stripped(act *vocab.Activity) (vocab.Item, error) {
	reg := r.out.Registry()
	data, err := reg.Encode(act)
	if err != nil {
		return nil, err
	}
	c, err := reg.Decode(data)
	if err != nil {
		return nil, err
	}
	if b := vocab.Base(c); b != nil {
		b.Bto, b.BCC = nil, nil
	}
	return c, nil
}

// keepJoins is the outbox hook that keeps our actors' Joins: a Join sent
// puts its event in the actor's Joins, pending until the organizer's
// Accept (unless it was accepted already); a Leave takes it out. A Join
// of what is known to be something else than an event (stored as another
// type, or a cached remote actor, such as a group), or of a project (with
// a target), is left alone.
func keepJoins(ctx context.Context, tx storage.Store, s actor.Scheme, act vocab.Item) error {
	join, leave := vocab.HasType(act, "Join"), vocab.HasType(act, "Leave")
	if (!join && !leave) || vocab.TargetOf(act) != nil {
		return nil
	}
	by := vocab.IRIs(vocab.ActorOf(act))
	if len(by) != 1 {
		return nil
	}
	joins := s.Collection(by[0], Joins)
	for _, event := range vocab.IRIs(vocab.ObjectOf(act)) {
		if o, err := tx.Objects.Get(ctx, event); err == nil && o.Type != "Event" {
			continue
		} else if err != nil && !errors.Is(err, storage.ErrNotFound) {
			return err
		}
		if tx.Actors != nil {
			if _, err := tx.Actors.Get(ctx, event); err == nil {
				continue
			} else if !errors.Is(err, storage.ErrNotFound) {
				return err
			}
		}
		if leave {
			if err := storage.IgnoreNotFound(tx.Collections.Remove(ctx, joins, event)); err != nil {
				return err
			}
			continue
		}
		if m, err := tx.Collections.Contains(ctx, joins, event); err == nil && m.State == storage.Accepted {
			continue
		}
		id := string(vocab.IRIOf(act))
		if err := tx.Collections.Add(ctx, joins, storage.Member{IRI: event, State: storage.Pending, Activity: id}); err != nil {
			return err
		}
	}
	return nil
}
