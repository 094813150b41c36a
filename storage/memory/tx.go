package memory

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/fedi-go/fedi/storage"
)

// gate keeps transactions apart from every other call: ordinary calls hold
// it shared, each for its own moment, and a transaction holds it alone
// from its start to its commit or rollback. The keys stay outside it.
type gate struct{ mu sync.RWMutex }

// txKey marks the context a transaction gives its function, with the
// gate of its store as the value.
type txKey struct{}

// enter holds g shared for the ordinary call op. A call made with the
// context of one of this store's transaction functions, while that
// transaction holds the gate, would wait for itself: it fails instead.
// The context is looked at only when the gate is not free, so ordinary
// calls pay for nothing.
func (g *gate) enter(ctx context.Context, op string) error {
	if g.mu.TryRLock() {
		return nil
	}
	if ctx.Value(txKey{}) == g {
		return fmt.Errorf("memory: %s: called through the store from inside its own transaction, which holds it: use the transaction's Store", op)
	}
	g.mu.RLock()
	return nil
}

// view is how a call reaches the store: as an ordinary call (tx nil),
// which holds the gate for its moment, or through the Store of
// transaction tx, which holds it already.
type view struct {
	g  *gate
	tx *txn
}

// begin starts operation op, and end finishes it.
func (v view) begin(ctx context.Context, op string) error {
	if err := done(ctx, op); err != nil {
		return err
	}
	if v.tx != nil {
		if v.tx.closed.Load() {
			return fmt.Errorf("memory: %s: the transaction's Store was used after its function returned", op)
		}
		return nil
	}
	return v.g.enter(ctx, op)
}

func (v view) end() {
	if v.tx == nil {
		v.g.mu.RUnlock()
	}
}

// txn is one transaction.
type txn struct {
	closed atomic.Bool // set once its function has returned
}

// InTx implements storage.Transactor. It holds the store alone while fn
// runs; each concern keeps a copy of the entries fn changes, the first
// time it changes them, and puts the copies back if fn fails.
func (s *store) InTx(ctx context.Context, fn func(ctx context.Context, tx storage.Store) error) (err error) {
	if err := done(ctx, "transaction"); err != nil {
		return err
	}
	if ctx.Value(txKey{}) == &s.gate {
		return fmt.Errorf("memory: transaction: called from inside a transaction of the same store: transactions do not nest")
	}
	s.gate.mu.Lock()
	defer s.gate.mu.Unlock()
	if err := done(ctx, "transaction"); err != nil { // it ended while we waited
		return err
	}
	t := &txn{}
	s.objects.j = objectJournal{}
	s.collections.startTx()
	s.dedupe.j = dedupeJournal{}
	s.queue.j = newQueueJournal()
	s.actors.j = actorJournal{}
	commit := false
	defer func() { // also when fn panics
		t.closed.Store(true)
		if !commit {
			s.objects.rollback()
			s.collections.rollback()
			s.dedupe.rollback()
			s.queue.rollback()
			s.actors.rollback()
		}
		s.objects.j = nil
		s.collections.endTx()
		s.dedupe.j = nil
		s.queue.j = nil
		s.actors.j = nil
	}()
	st := s.view(t)
	if err := fn(context.WithValue(ctx, txKey{}, &s.gate), st); err != nil {
		return err
	}
	if err := done(ctx, "transaction"); err != nil {
		return err
	}
	commit = true
	return nil
}
