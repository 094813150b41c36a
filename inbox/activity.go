package inbox

import (
	"context"
	"errors"
	"time"

	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/signature"
	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/vocab"
)

// Activity is a received activity as a handler sees it: decoded,
// verified, authorized, and addressed to one recipient.
type Activity struct {
	// Item is the decoded activity: a *vocab.Activity for transitive
	// activities, a *vocab.IntransitiveActivity otherwise.
	Item vocab.Item
	// ID is the activity's id; "" when it had none.
	ID string
	// Type is its type, Types all of them.
	Type  string
	Types []string
	// Actor is the IRI of its actor, the owner of the key that signed it.
	Actor string
	// Object is its object as checked: an IRI, an embedded object from
	// the actor's origin, or the object as fetched from its own origin
	// when the activity embedded a foreign one. It is nil for an
	// intransitive activity.
	Object vocab.Item
	// Target is its target, checked like Object; nil when absent.
	Target vocab.Item
	// Raw is the body as received.
	Raw []byte
	// Signer says who signed the request; nil for an activity delivered
	// by this server to itself.
	Signer *signature.Result
	// Recipient is the local actor it is delivered to; nil when it came
	// through the shared inbox addressed to no local actor, for the
	// effects that concern the server (an Update of a cached object, a
	// Delete of an actor).
	Recipient *actor.Actor
	// Received is when it arrived.
	Received time.Time
	// Store is where a handler applies its effects: in Apply, bound to
	// the transaction that also records the activity as received for the
	// recipient; in Check, the store itself, for reading.
	Store storage.Store

	// DedupeKey is what the activity is recorded under for dedupe: its id,
	// or a digest of the body when it has none.
	DedupeKey string

	env    *env
	passes int // the stacked rules that passed it on (see Stack)
}

// env is what every Activity of one Handler shares.
type env struct {
	h *Handler
}

// Sender sends activities on behalf of the inbox's handlers: an outbox.
// SendIn must enqueue through tx, so that what a handler sends is kept
// only if its effects are, and do no network I/O.
type Sender interface {
	SendIn(ctx context.Context, tx storage.Store, activity vocab.Item) error
}

// ErrNoSender reports a Send by a handler of an inbox without a Sender.
var ErrNoSender = errors.New("inbox: Options.Sender is not set")

// Send sends activity, usually an Accept or a Reject, from a local actor:
// it is enqueued in the same transaction as the handler's effects, so it
// goes out if and only if they are kept.
func (a *Activity) Send(ctx context.Context, activity vocab.Item) error {
	if a.env == nil || a.env.h.opts.Sender == nil {
		return ErrNoSender
	}
	return a.env.h.opts.Sender.SendIn(ctx, a.Store, activity)
}

// Activity returns the activity as a *vocab.Activity, or nil when it is
// intransitive.
func (a *Activity) Activity() *vocab.Activity {
	act, _ := a.Item.(*vocab.Activity)
	return act
}

// Directory returns the local actors, read through a.Store.
func (a *Activity) Directory() actor.Directory { return actor.In(a.env.h.opts.Actors, a.Store) }

// Scheme returns the application's IRI scheme.
func (a *Activity) Scheme() actor.Scheme { return a.env.h.opts.Scheme }

// Registry returns the registry activities are decoded and encoded with.
func (a *Activity) Registry() *vocab.Registry { return a.env.h.opts.Registry }

// Resolve returns the object iri as this server knows it: a stored
// object, a local actor's document, or, in Check only (Apply does no
// network I/O), the object fetched from its origin within the
// activity's fetch budget.
func (a *Activity) Resolve(ctx context.Context, iri string) (vocab.Item, error) {
	return a.env.h.resolve(ctx, iri, a.Store)
}

// RecipientIRI is the IRI the activity is recorded for: the recipient's,
// or the shared inbox's.
func (a *Activity) RecipientIRI() string {
	if a.Recipient != nil {
		return a.Recipient.IRI
	}
	return a.env.h.opts.Scheme.SharedInbox
}

// ObjectIRI returns the IRI of the object.
func (a *Activity) ObjectIRI() string { return string(vocab.IRIOf(a.Object)) }

// copyFor returns a shallow copy of a for another recipient.
func (a *Activity) copyFor(r *actor.Actor, st storage.Store) *Activity {
	c := *a
	c.Recipient, c.Store = r, st
	return &c
}
