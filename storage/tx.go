package storage

import (
	"context"
	"fmt"
)

// Transactor is implemented by stores that can apply several changes as
// one. The adapters fedi ships set it as Store.Tx; call it through InTx,
// which also serves a Store without one.
//
// An inbox applies an activity's side effects all or nothing, so that a
// failure halfway answers 500 with nothing applied and the peer's retry
// starts clean; an outbox enqueues a fan-out and acks the job that asked
// for it at once, so that a crash neither loses nor repeats it.
type Transactor interface {
	// InTx calls fn with a Store bound to one transaction and commits it
	// when fn returns nil.
	//
	// The transaction's Objects, Collections, Dedupe, Queue and Actors read
	// and write inside it: fn sees its own writes, and other callers see
	// none of them until the commit (the isolation is at least read
	// committed). Its Keys is the store's ordinary Keys, outside the
	// transaction: keys are not transactional, and fn should only read
	// them. Its Tx is nil: transactions do not nest. Its Queue need not
	// implement DeadLetters; it implements LeaseExtender when the store's
	// does. A delivery leased in a transaction that rolls back was never
	// leased: forget its receipt, which a later lease may hand out again.
	//
	// When fn returns nil, InTx commits, and returns nil once the commit is
	// as durable as any other write of the store. When fn returns an error,
	// everything written through the transaction is discarded and InTx
	// returns fn's error itself, for errors.Is and errors.As. A commit that
	// fails keeps nothing and returns an error. When fn panics, the
	// transaction is rolled back and the panic goes on.
	//
	// An operation that fails inside fn (ErrConflict, ErrNotFound,
	// ErrInvalid, a *ReceiptError...) has no effect of its own and leaves
	// the transaction usable: fn may handle the error and go on, and the
	// rest commits.
	//
	// A context that has ended before InTx starts fails it with an error
	// wrapping the context's error, and fn is not called. Whenever ctx
	// ends, InTx either reports success or changes nothing, as every write
	// does: the operations fn makes after ctx ended fail with its error,
	// and a transaction whose context ended before fn returned nil is not
	// committed.
	//
	// Any number of goroutines, and processes where the store allows, may
	// call InTx at once. Dedupe.Record answers true once per pair among
	// the transactions that commit: a transaction that recorded a pair and
	// was then rolled back leaves it unrecorded, for the next to record.
	//
	// fn may run on another goroutine than the caller's: the SQLite store
	// runs the functions of concurrent calls one after another on the
	// goroutine that holds its writer, to commit them together. A panic
	// in fn is raised again on the caller's goroutine. fn must not keep
	// the transaction's Store after it returns, nor use it from other
	// goroutines, nor depend on goroutine-local state. It should
	// do no network I/O: other writers may wait for it (the SQLite store
	// runs one transaction at a time). It must not call the outer Store's
	// write methods, which are not part of the transaction, and may wait
	// for the one fn holds: the adapters fedi ships fail such a call, and
	// a nested InTx, with an error when it is made with the context fn was
	// given.
	InTx(ctx context.Context, fn func(ctx context.Context, tx Store) error) error
}

// InTx runs fn in a transaction of st when st.Tx is set, as
// Transactor.InTx describes. Otherwise it calls fn with st itself, and then
// fn's writes are not atomic: each applies on its own, and an error fn
// returns undoes none of them. A context that has ended before InTx starts
// fails it either way, without calling fn.
func InTx(ctx context.Context, st Store, fn func(ctx context.Context, tx Store) error) error {
	if st.Tx != nil {
		return st.Tx.InTx(ctx, fn)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("storage: transaction: %w", err)
	}
	return fn(ctx, st)
}
