// Package core is the default behaviour of an ActivityPub server, the
// side effects of ActivityPub §7: followers and following, likes and
// shares, the objects others create, update and delete, blocks, the
// collections actors add to and remove from, reports and moves.
//
// It is opt-in, in one call, on the inbox's Mux:
//
//	mux := inbox.NewMux(registry)
//	core.Register(mux, core.Options{Remote: remote})
//
// Each handler is a Rule of its own, exported, so that an application
// (or a platform's behaviour) can replace one with inbox.Replace or wrap
// it. Their checks run before any effect; their effects touch storage
// only and send through the outbox in the same transaction.
package core

import (
	"context"
	"errors"

	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/inbox"
	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/vocab"
)

// Options configures the default behaviour. The zero value works.
type Options struct {
	// Remote caches the remote actors that follow ours, so that the
	// outbox finds their inboxes without fetching them again. Without
	// it, they are fetched when first delivered to.
	Remote *actor.Remote
	// OnFlag, when set, is told of every report (Flag) received, within
	// the transaction that records it: it must not do network I/O. The
	// report is kept in ReportsIRI either way.
	OnFlag func(ctx context.Context, a *inbox.Activity) error
	// OnMove, when set, is told of every checked Move: an actor
	// announcing its new account. Following the new account is the
	// application's call. It runs within the transaction that records
	// the Move.
	OnMove func(ctx context.Context, a *inbox.Activity) error
}

// ReportsIRI returns the collection that keeps the reports (Flag
// activities) received, for moderators to read.
func ReportsIRI(s actor.Scheme) string { return s.Origin + "/reports" }

// Register registers every default handler on m.
func Register(m *inbox.Mux, o Options) {
	inbox.Handle(m, "Follow", Follow(o))
	inbox.Handle(m, "Accept Follow", AcceptFollow())
	inbox.Handle(m, "Reject Follow", RejectFollow())
	inbox.Handle(m, "Accept", Answer("Accept"))
	inbox.Handle(m, "Reject", Answer("Reject"))
	inbox.Handle(m, "Undo", Undo())
	inbox.Handle(m, "Like", Like())
	inbox.Handle(m, "Announce", Announce())
	inbox.Handle(m, "Create", Create())
	inbox.Handle(m, "Update", Update(o))
	inbox.Handle(m, "Delete", Delete())
	inbox.Handle(m, "Block", Block())
	inbox.Handle(m, "Add", Add())
	inbox.Handle(m, "Remove", Remove())
	inbox.Handle(m, "Flag", Flag(o))
	inbox.Handle(m, "Move", Move(o))
}

// storeActivity keeps a received activity, so that a later Undo, Accept
// or Reject that names it by IRI finds it; an activity stored before is
// left as it is.
func storeActivity(ctx context.Context, a *inbox.Activity) error {
	if a.ID == "" {
		return nil
	}
	err := a.Store.Objects.Put(ctx, storage.Object{IRI: a.ID, Type: a.Type, Owner: a.Actor, Data: a.Raw})
	if errors.Is(err, storage.ErrConflict) {
		return nil
	}
	return err
}

// isOurs reports whether iri is one of our stored objects or actors.
func isOurs(ctx context.Context, a *inbox.Activity, iri string) (bool, error) {
	if !a.Scheme().IsLocal(iri) {
		return false, nil
	}
	_, err := a.Store.Objects.Owner(ctx, iri)
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// stored returns the stored item iri, decoded, or nil when it is not
// stored.
func stored(ctx context.Context, a *inbox.Activity, iri string) (vocab.Item, storage.Object, error) {
	o, err := a.Store.Objects.Get(ctx, iri)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, storage.Object{}, nil
	}
	if err != nil {
		return nil, storage.Object{}, err
	}
	it, err := a.Registry().Decode(o.Data)
	if err != nil {
		return nil, o, err
	}
	return it, o, nil
}
