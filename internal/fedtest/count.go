package fedtest

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/fedi-go/fedi/storage"
)

// ErrInjected is the failure Counting injects.
var ErrInjected = errors.New("fedtest: injected storage failure")

// Counter counts the writes that stuck to a store: those outside a
// transaction, and those inside one that committed. A Dedupe.Forget
// cancels the Record it undoes. Writes to the remote-actor cache are
// counted apart, as Cache: they are a cache, not state.
type Counter struct {
	mu    sync.Mutex
	state int
	cache int
	// failAt, when positive, makes the failAt-th state write (counting
	// from the call of FailAt) fail with ErrInjected.
	failAt int
	seen   int
}

// State returns the writes to objects, collections, dedupe and the queue
// that stuck.
func (c *Counter) State() int { c.mu.Lock(); defer c.mu.Unlock(); return c.state }

// Cache returns the writes to the actor cache that stuck.
func (c *Counter) Cache() int { c.mu.Lock(); defer c.mu.Unlock(); return c.cache }

// FailAt makes the n-th state write from now on fail (n ≥ 1); 0 stops
// failing.
func (c *Counter) FailAt(n int) { c.mu.Lock(); c.failAt, c.seen = n, 0; c.mu.Unlock() }

// Counting wraps st so that c counts its writes.
func Counting(st storage.Store) (storage.Store, *Counter) {
	c := &Counter{}
	return c.wrap(st, nil), c
}

// pending gathers the writes of a transaction until it commits.
type pending struct{ state, cache int }

func (c *Counter) wrap(st storage.Store, p *pending) storage.Store {
	out := st
	out.Objects = &cObjects{st.Objects, c, p}
	out.Collections = &cCollections{st.Collections, c, p}
	out.Dedupe = &cDedupe{st.Dedupe, c, p}
	if st.Queue != nil {
		out.Queue = &cQueue{st.Queue, c, p}
	}
	if st.Actors != nil {
		out.Actors = &cActors{st.Actors, c, p}
	}
	if p == nil {
		out.Tx = &cTx{inner: st.Tx, st: st, c: c}
	} else {
		out.Tx = nil
	}
	return out
}

// write notes a state write that succeeded (delta) or checks whether it
// must fail before it is made.
func (c *Counter) fail() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.failAt <= 0 {
		return nil
	}
	c.seen++
	if c.seen == c.failAt {
		return ErrInjected
	}
	return nil
}

func (c *Counter) add(p *pending, state, cache int) {
	if p != nil {
		p.state += state
		p.cache += cache
		return
	}
	c.mu.Lock()
	c.state += state
	c.cache += cache
	c.mu.Unlock()
}

func (c *Counter) done(p *pending, err error, state int) error {
	if err == nil {
		c.add(p, state, 0)
	}
	return err
}

type cTx struct {
	inner storage.Transactor
	st    storage.Store
	c     *Counter
}

func (t *cTx) InTx(ctx context.Context, fn func(ctx context.Context, tx storage.Store) error) error {
	p := &pending{}
	var err error
	if t.inner != nil {
		err = t.inner.InTx(ctx, func(ctx context.Context, tx storage.Store) error {
			*p = pending{}
			return fn(ctx, t.c.wrap(tx, p))
		})
	} else {
		// No transactions: every write sticks as it is made.
		err = fn(ctx, t.c.wrap(t.st, nil))
		return err
	}
	if err == nil {
		t.c.add(nil, p.state, p.cache)
	}
	return err
}

type cObjects struct {
	storage.Objects
	c *Counter
	p *pending
}

func (o *cObjects) Put(ctx context.Context, obj storage.Object) error {
	if err := o.c.fail(); err != nil {
		return err
	}
	return o.c.done(o.p, o.Objects.Put(ctx, obj), 1)
}

func (o *cObjects) Tombstone(ctx context.Context, iri string, t json.RawMessage) error {
	if err := o.c.fail(); err != nil {
		return err
	}
	return o.c.done(o.p, o.Objects.Tombstone(ctx, iri, t), 1)
}

type cCollections struct {
	storage.Collections
	c *Counter
	p *pending
}

func (o *cCollections) Add(ctx context.Context, coll string, m storage.Member) error {
	if err := o.c.fail(); err != nil {
		return err
	}
	return o.c.done(o.p, o.Collections.Add(ctx, coll, m), 1)
}

func (o *cCollections) Remove(ctx context.Context, coll, member string) error {
	if err := o.c.fail(); err != nil {
		return err
	}
	return o.c.done(o.p, o.Collections.Remove(ctx, coll, member), 1)
}

// CollectionsOf passes Memberships through.
func (o *cCollections) CollectionsOf(ctx context.Context, member string, opts storage.PageOptions) (storage.Page, error) {
	ms, ok := o.Collections.(storage.Memberships)
	if !ok {
		return storage.Page{}, errors.New("fedtest: the store has no Memberships")
	}
	return ms.CollectionsOf(ctx, member, opts)
}

type cDedupe struct {
	storage.Dedupe
	c *Counter
	p *pending
}

func (o *cDedupe) Record(ctx context.Context, activity, recipient string) (bool, error) {
	if err := o.c.fail(); err != nil {
		return false, err
	}
	first, err := o.Dedupe.Record(ctx, activity, recipient)
	if err == nil && first {
		o.c.add(o.p, 1, 0)
	}
	return first, err
}

func (o *cDedupe) Forget(ctx context.Context, activity, recipient string) error {
	err := o.Dedupe.Forget(ctx, activity, recipient)
	if err == nil {
		o.c.add(o.p, -1, 0)
	}
	return err
}

type cQueue struct {
	storage.Queue
	c *Counter
	p *pending
}

func (o *cQueue) Enqueue(ctx context.Context, ds ...storage.Delivery) error {
	if err := o.c.fail(); err != nil {
		return err
	}
	return o.c.done(o.p, o.Queue.Enqueue(ctx, ds...), len(ds))
}

func (o *cQueue) Ack(ctx context.Context, receipts ...string) error {
	return o.c.done(o.p, o.Queue.Ack(ctx, receipts...), len(receipts))
}

func (o *cQueue) Retry(ctx context.Context, receipt string, at time.Time, lastErr string) error {
	return o.c.done(o.p, o.Queue.Retry(ctx, receipt, at, lastErr), 1)
}

func (o *cQueue) GiveUp(ctx context.Context, receipt, lastErr string) error {
	return o.c.done(o.p, o.Queue.GiveUp(ctx, receipt, lastErr), 1)
}

// Extend passes LeaseExtender through.
func (o *cQueue) Extend(ctx context.Context, receipt string, visibility time.Duration) error {
	ext, ok := o.Queue.(storage.LeaseExtender)
	if !ok {
		return errors.New("fedtest: the queue cannot extend leases")
	}
	return ext.Extend(ctx, receipt, visibility)
}

type cActors struct {
	storage.Actors
	c *Counter
	p *pending
}

func (o *cActors) Put(ctx context.Context, a storage.RemoteActor) error {
	err := o.Actors.Put(ctx, a)
	if err == nil {
		o.c.add(o.p, 0, 1)
	}
	return err
}

func (o *cActors) MarkGone(ctx context.Context, iri string, at time.Time) error {
	err := o.Actors.MarkGone(ctx, iri, at)
	if err == nil {
		o.c.add(o.p, 0, 1)
	}
	return err
}
