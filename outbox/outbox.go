// Package outbox sends activities: Send persists an activity, keeps the
// sender's own state in step (following, liked, blocked, followers on an
// Accept), and enqueues its fan-out in the persistent queue; a Worker
// leases from the queue, expands the fan-out into one delivery per
// inbox, and POSTs each, signed afresh, with retries that never let a
// Delete overtake its Create.
//
//	out, _ := outbox.New(outbox.Options{Registry: reg, Store: st, Actors: actors, Scheme: scheme})
//	w, _ := outbox.NewWorker(out, outbox.WorkerOptions{Client: client})
//	go w.Run(ctx)
//	id, err := out.Send(ctx, create) // returns once the activity and its fan-out are stored
//
// The transport does one attempt; the Worker owns the retries.
package outbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	ap "github.com/go-ap/activitypub"

	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/vocab"
)

// FanoutInbox is the Inbox of the queue entries that stand for a whole
// fan-out: the Worker expands each into one delivery per inbox.
const FanoutInbox = "fedi:fanout"

// Sentinel errors.
var (
	// ErrNotActivity reports a Send of something that is not an activity.
	ErrNotActivity = errors.New("outbox: not an activity")
	// ErrNotLocal reports an activity whose actor is not one of ours, or
	// an id that is not on our origin.
	ErrNotLocal = errors.New("outbox: not a local actor")
	// ErrInvalid reports an activity that cannot be sent as it is.
	ErrInvalid = errors.New("outbox: invalid activity")
	// ErrNotOwner reports an Update or Delete of an object the actor does
	// not own.
	ErrNotOwner = errors.New("outbox: the actor does not own the object")
)

// Options configures an Outbox. Every field but Logger and Now is
// required.
type Options struct {
	// Registry encodes the activities.
	Registry *vocab.Registry
	// Store keeps the activities, collections and the queue. With
	// Store.Tx set, a Send is all or nothing.
	Store storage.Store
	// Actors says which actors are ours.
	Actors actor.Directory
	// Scheme is the application's IRI scheme, complete.
	Scheme actor.Scheme
	// Logger receives what is sent; nil means slog.Default().
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Notify, when set, is called after every Send that enqueued
	// something, so that a Worker of this process can start at once
	// (NewWorker sets it when it is nil).
	Notify func()
}

// Outbox sends activities. It is safe for concurrent use.
type Outbox struct {
	opts  Options
	log   *slog.Logger
	hooks []SendHook
}

// SendHook is told of every activity an Outbox sends, within the
// transaction that stores it, after it is stored and before its fan-out
// is enqueued; an error undoes the Send. Platforms use it to act on what
// the server's own actors do, such as a relay that announces every public
// post. It must not do network I/O; what it sends goes through
// Outbox.SendIn with tx.
type SendHook func(ctx context.Context, tx storage.Store, activity vocab.Item) error

// OnSend adds a hook. Add hooks before the Outbox is used.
func (o *Outbox) OnSend(h SendHook) { o.hooks = append(o.hooks, h) }

// New validates o and builds an Outbox.
func New(o Options) (*Outbox, error) {
	switch {
	case o.Registry == nil:
		return nil, errors.New("outbox: Options.Registry is required")
	case o.Store.Objects == nil || o.Store.Collections == nil || o.Store.Queue == nil:
		return nil, errors.New("outbox: Options.Store needs Objects, Collections and Queue")
	case o.Actors == nil:
		return nil, errors.New("outbox: Options.Actors is required")
	case o.Scheme.Origin == "" || o.Scheme.Collection == nil:
		return nil, errors.New("outbox: Options.Scheme is required, complete (see actor.NewScheme)")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Outbox{opts: o, log: o.Logger}, nil
}

// Registry returns the registry the outbox encodes with.
func (o *Outbox) Registry() *vocab.Registry { return o.opts.Registry }

// Scheme returns the application's IRI scheme.
func (o *Outbox) Scheme() actor.Scheme { return o.opts.Scheme }

// Send sends act, an activity of one of our actors, and returns its id.
// It completes what is missing: the activity's id (and a Create's
// object's) from the scheme, published, a Create's object's
// attributedTo and addressing, the recipients of a Follow, Accept,
// Reject, Block or Undo that names none; and, in one transaction when
// the store has them, it stores the activity (so that its id
// dereferences, without bto and bcc) and a Create's or Update's object,
// tombstones a Delete's, lists the activity in the actor's outbox, keeps
// the actor's state in step (following on a Follow, followers on an
// Accept or Reject of a Follow, liked, likes, shares, blocked, and their
// Undo), and enqueues its fan-out. A Worker delivers it.
//
// act is changed in place to what is sent.
func (o *Outbox) Send(ctx context.Context, act vocab.Item) (string, error) {
	p, err := o.prepare(ctx, o.opts.Store, act)
	if err != nil {
		return "", err
	}
	err = storage.InTx(ctx, o.opts.Store, func(ctx context.Context, tx storage.Store) error {
		return o.persist(ctx, tx, p)
	})
	if err != nil {
		return "", err
	}
	o.log.InfoContext(ctx, "outbox: sent", "activity", p.id, "type", p.typ, "actor", p.actor)
	if o.opts.Notify != nil {
		o.opts.Notify()
	}
	return p.id, nil
}

// SendIn is Send within tx, a transaction of the caller's (an inbox
// handler's, which answers a Follow with an Accept): the activity is
// kept, and goes out, only if tx commits. It does no network I/O.
func (o *Outbox) SendIn(ctx context.Context, tx storage.Store, act vocab.Item) error {
	p, err := o.prepare(ctx, tx, act)
	if err != nil {
		return err
	}
	if err := o.persist(ctx, tx, p); err != nil {
		return err
	}
	o.log.InfoContext(ctx, "outbox: sent", "activity", p.id, "type", p.typ, "actor", p.actor)
	if o.opts.Notify != nil {
		o.opts.Notify()
	}
	return nil
}

// prepared is an activity ready to persist.
type prepared struct {
	it     vocab.Item
	base   *ap.Object
	id     string
	typ    string
	types  []string
	actor  string
	object vocab.Item // the activity's object, nil for an intransitive one
}

// prepare checks act and fills in what is missing.
func (o *Outbox) prepare(ctx context.Context, st storage.Store, act vocab.Item) (*prepared, error) {
	switch act.(type) {
	case *vocab.Activity, *vocab.IntransitiveActivity:
	default:
		return nil, fmt.Errorf("%w: %T", ErrNotActivity, act)
	}
	p := &prepared{it: act, base: vocab.Base(act), types: vocab.Types(act), typ: string(act.GetType())}
	if p.typ == "" {
		return nil, fmt.Errorf("%w: no type", ErrInvalid)
	}
	actors := vocab.IRIs(vocab.ActorOf(act))
	if len(actors) != 1 {
		return nil, fmt.Errorf("%w: an activity has exactly one actor", ErrInvalid)
	}
	p.actor = actors[0]
	if _, err := actor.In(o.opts.Actors, st).ByIRI(ctx, p.actor); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrNotLocal, p.actor, err)
	}
	if p.base.ID == "" {
		p.base.ID = ap.IRI(o.opts.Scheme.NewID(p.actor, p.typ))
	}
	p.id = string(p.base.ID)
	if !o.opts.Scheme.IsLocal(p.id) {
		return nil, fmt.Errorf("%w: the id %s is not on %s", ErrNotLocal, p.id, o.opts.Scheme.Origin)
	}
	if err := storage.CheckIRI("activity id", p.id); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	now := o.opts.Now().UTC().Truncate(time.Second)
	if p.base.Published.IsZero() {
		p.base.Published = now
	}
	if a, ok := act.(*vocab.Activity); ok {
		p.object = a.Object
		hideObjectRecipients(p)
		if err := o.completeObject(ctx, st, p, a, now); err != nil {
			return nil, err
		}
	}
	if len(vocab.Audience(act)) == 0 {
		if err := o.implicitRecipients(ctx, st, p); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// hideObjectRecipients moves the bto and bcc of the objects an activity
// embeds to the activity's own, so that they are reached and, like the
// activity's, stored and delivered nowhere (ActivityPub §6).
func hideObjectRecipients(p *prepared) {
	for _, it := range vocab.Items(p.object) {
		obj := vocab.Base(it)
		if obj == nil || it.IsLink() {
			continue
		}
		p.base.Bto, p.base.BCC = union(p.base.Bto, obj.Bto), union(p.base.BCC, obj.BCC)
		obj.Bto, obj.BCC = nil, nil
	}
}

// union returns a followed by the IRIs of b that a lacks, in a new
// slice.
func union(a, b ap.ItemCollection) ap.ItemCollection {
	if len(b) == 0 {
		return a
	}
	out := slices.Clone(a)
	for _, it := range b {
		if it == nil {
			continue
		}
		iri := vocab.IRIOf(it)
		if !slices.ContainsFunc(out, func(x ap.Item) bool { return x != nil && vocab.IRIOf(x) == iri }) {
			out = append(out, it)
		}
	}
	return out
}

// completeObject fills in a Create's object and checks that an Update or
// Delete touches only what the actor owns.
func (o *Outbox) completeObject(ctx context.Context, st storage.Store, p *prepared, a *vocab.Activity, now time.Time) error {
	obj := vocab.Base(a.Object)
	switch {
	case slices.Contains(p.types, "Create"):
		if obj == nil {
			return fmt.Errorf("%w: a Create embeds its object", ErrInvalid)
		}
		if obj.ID == "" {
			obj.ID = ap.IRI(o.opts.Scheme.NewID(p.actor, string(obj.Type)))
		}
		if !o.opts.Scheme.IsLocal(string(obj.ID)) {
			return fmt.Errorf("%w: the object id %s is not on %s", ErrNotLocal, obj.ID, o.opts.Scheme.Origin)
		}
		if obj.AttributedTo == nil {
			obj.AttributedTo = ap.IRI(p.actor)
		}
		if obj.Published.IsZero() {
			obj.Published = now
		}
		// ActivityPub §6.2: the Create and its object share their
		// addressing, copied both ways.
		p.base.To, obj.To = union(p.base.To, obj.To), union(obj.To, p.base.To)
		p.base.CC, obj.CC = union(p.base.CC, obj.CC), union(obj.CC, p.base.CC)
		p.base.Audience, obj.Audience = union(p.base.Audience, obj.Audience), union(obj.Audience, p.base.Audience)
	case slices.Contains(p.types, "Update"), slices.Contains(p.types, "Delete"):
		for _, it := range vocab.Items(a.Object) {
			iri := string(vocab.IRIOf(it))
			if iri == "" {
				return fmt.Errorf("%w: the object of an %s needs an id", ErrInvalid, p.typ)
			}
			if iri == p.actor {
				continue
			}
			owner, err := st.Objects.Owner(ctx, iri)
			if errors.Is(err, storage.ErrNotFound) {
				return fmt.Errorf("%w: %s is not stored here", ErrNotOwner, iri)
			}
			if err != nil {
				return err
			}
			if owner != p.actor {
				return fmt.Errorf("%w: %s belongs to %s", ErrNotOwner, iri, owner)
			}
		}
	}
	return nil
}

// implicitRecipients addresses an activity that names no recipient to
// whom it obviously concerns: a Follow or Block to its object, an Accept
// or Reject to the actor of the activity it answers, an Undo like the
// activity it undoes.
func (o *Outbox) implicitRecipients(ctx context.Context, st storage.Store, p *prepared) error {
	var to []string
	switch {
	case hasAny(p.types, "Follow", "Block", "Invite", "Offer"):
		if hasAny(p.types, "Invite", "Offer") {
			to = vocab.IRIs(vocab.TargetOf(p.it))
		} else {
			to = vocab.IRIs(p.object)
		}
	case hasAny(p.types, "Update", "Delete"):
		// Whoever received the object is told of its change or its end;
		// otherwise their copies would outlive it.
		for _, it := range vocab.Items(p.object) {
			iri := string(vocab.IRIOf(it))
			if iri == p.actor {
				to = append(to, o.opts.Scheme.Collection(p.actor, actor.Followers))
				continue
			}
			stored, err := o.lookup(ctx, st, ap.IRI(iri))
			if err != nil {
				return err
			}
			for _, r := range vocab.Audience(stored) {
				to = append(to, string(r))
			}
		}
	case hasAny(p.types, "Accept", "Reject", "TentativeAccept", "TentativeReject", "Undo"):
		for _, it := range vocab.Items(p.object) {
			inner, err := o.lookup(ctx, st, it)
			if err != nil || inner == nil {
				continue
			}
			if hasAny(p.types, "Undo") {
				aud := vocab.Audience(inner)
				for _, iri := range aud {
					to = append(to, string(iri))
				}
				if len(aud) == 0 {
					to = append(to, vocab.IRIs(vocab.ObjectOf(inner))...)
				}
			} else {
				to = append(to, vocab.IRIs(vocab.ActorOf(inner))...)
			}
		}
	}
	for _, iri := range to {
		if iri != p.actor {
			p.base.To = append(p.base.To, ap.IRI(iri))
		}
	}
	return nil
}

// lookup returns an embedded item, or the stored item an IRI names (nil
// when not stored).
func (o *Outbox) lookup(ctx context.Context, st storage.Store, it vocab.Item) (vocab.Item, error) {
	if it == nil || !it.IsLink() {
		return it, nil
	}
	obj, err := st.Objects.Get(ctx, string(it.GetLink()))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return o.opts.Registry.Decode(obj.Data)
}

// persist stores a prepared activity and enqueues its fan-out, in tx.
func (o *Outbox) persist(ctx context.Context, tx storage.Store, p *prepared) error {
	full, err := o.opts.Registry.Encode(p.it)
	if err != nil {
		return fmt.Errorf("outbox: encode %s: %w", p.id, err)
	}
	stored := full
	if p.base.Bto != nil || p.base.BCC != nil {
		bto, bcc := p.base.Bto, p.base.BCC
		p.base.Bto, p.base.BCC = nil, nil
		stored, err = o.opts.Registry.Encode(p.it)
		p.base.Bto, p.base.BCC = bto, bcc
		if err != nil {
			return fmt.Errorf("outbox: encode %s: %w", p.id, err)
		}
	}
	if err := tx.Objects.Put(ctx, storage.Object{IRI: p.id, Type: p.typ, Owner: p.actor, Data: stored}); err != nil {
		return fmt.Errorf("outbox: store %s: %w", p.id, err)
	}
	if err := o.storeObject(ctx, tx, p); err != nil {
		return err
	}
	if err := tx.Collections.Add(ctx, o.opts.Scheme.Collection(p.actor, actor.Outbox), storage.Member{IRI: p.id}); err != nil {
		return fmt.Errorf("outbox: list %s: %w", p.id, err)
	}
	if err := o.bookkeep(ctx, tx, p); err != nil {
		return err
	}
	for _, h := range o.hooks {
		if err := h(ctx, tx, p.it); err != nil {
			return err
		}
	}
	key, err := o.orderingKey(ctx, tx, p)
	if err != nil {
		return err
	}
	if err := tx.Queue.Enqueue(ctx, storage.Delivery{Activity: p.id, Inbox: FanoutInbox, Body: full, OrderingKey: key}); err != nil {
		return fmt.Errorf("outbox: enqueue %s: %w", p.id, err)
	}
	return nil
}

// orderingKey returns the key that orders an activity's deliveries
// behind the earlier ones to the same inbox that share it: the id of the
// object it is about, so that an Update or Delete never overtakes its
// Create; for an Undo, the key of the activity it undoes, so that an
// Undo never overtakes its Follow, Like or Announce (their own ids would
// let it).
func (o *Outbox) orderingKey(ctx context.Context, st storage.Store, p *prepared) (string, error) {
	obj := firstItem(p.object)
	// An Announce of an embedded activity (a relay's, a community's) is
	// about what that activity is about: its Announce of an Update never
	// overtakes its Announce of the Create.
	if hasAny(p.types, "Announce") && obj != nil && !obj.IsLink() {
		if about := firstItem(vocab.ObjectOf(obj)); about != nil {
			obj = about
		}
	}
	if hasAny(p.types, "Undo") {
		inner, err := o.lookup(ctx, st, obj)
		if err != nil {
			return "", err
		}
		if about := firstItem(vocab.ObjectOf(inner)); inner != nil && about != nil {
			obj = about
		}
	}
	key := string(vocab.IRIOf(obj))
	if key == "" || storage.CheckIRI("", key) != nil {
		key = p.id
	}
	return key, nil
}

// storeObject stores a Create's or Update's object and tombstones a
// Delete's, when they are ours. A Delete of the actor itself tombstones
// its document when the store keeps it (as actor.Store does), so that
// the actor is gone: its IRI answers 410, it sends nothing more, and it
// leaves the list of the server's actors.
func (o *Outbox) storeObject(ctx context.Context, tx storage.Store, p *prepared) error {
	switch {
	case hasAny(p.types, "Create", "Update"):
		for _, it := range vocab.Items(p.object) {
			iri := string(vocab.IRIOf(it))
			if it.IsLink() || !o.opts.Scheme.IsLocal(iri) {
				continue
			}
			if iri == p.actor {
				continue // an actor's own document is the Directory's
			}
			data, err := o.opts.Registry.Encode(it)
			if err != nil {
				return fmt.Errorf("outbox: encode %s: %w", iri, err)
			}
			if hasAny(p.types, "Create") {
				if _, err := tx.Objects.Owner(ctx, iri); err == nil {
					return fmt.Errorf("%w: %s exists: %w", ErrInvalid, iri, storage.ErrConflict)
				}
			}
			if err := tx.Objects.Put(ctx, storage.Object{IRI: iri, Type: string(it.GetType()), Owner: p.actor, Data: data}); err != nil {
				return fmt.Errorf("outbox: store %s: %w", iri, err)
			}
		}
	case hasAny(p.types, "Delete"):
		for _, it := range vocab.Items(p.object) {
			iri := string(vocab.IRIOf(it))
			if !o.opts.Scheme.IsLocal(iri) {
				continue
			}
			stored, err := tx.Objects.Get(ctx, iri)
			if iri == p.actor && errors.Is(err, storage.ErrNotFound) {
				continue // an actor the application keeps in its own tables: its Directory says it is gone
			}
			if err != nil {
				return fmt.Errorf("outbox: delete %s: %w", iri, err)
			}
			former := stored.Type
			if !stored.Deleted.IsZero() {
				continue
			}
			tomb := vocab.NewTombstone(ap.IRI(iri), former, o.opts.Now().UTC())
			data, err := o.opts.Registry.Encode(tomb)
			if err != nil {
				return err
			}
			if err := tx.Objects.Tombstone(ctx, iri, data); err != nil {
				return fmt.Errorf("outbox: delete %s: %w", iri, err)
			}
			if iri == p.actor {
				// No longer one of the server's actors (NodeInfo's count).
				if err := storage.IgnoreNotFound(tx.Collections.Remove(ctx, actor.ListIRI(o.opts.Scheme), iri)); err != nil {
					return fmt.Errorf("outbox: delete %s: %w", iri, err)
				}
			}
		}
	}
	return nil
}

func hasAny(types []string, names ...string) bool {
	for _, n := range names {
		if slices.Contains(types, n) {
			return true
		}
	}
	return false
}

func firstItem(it vocab.Item) vocab.Item {
	if l := vocab.Items(it); len(l) > 0 {
		return l[0]
	}
	return nil
}
