package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fedi-go/fedi/storage"
)

// Group commit: the functions of concurrent InTx calls share one
// transaction of the writer, each in a savepoint of its own, and one
// commit. A batch takes at most maxBatch functions, and starts no new one
// after maxBatchWork; the functions left over go on in the next
// transaction at once.
const (
	maxBatch     = 64
	maxBatchWork = 5 * time.Millisecond
)

// transactor is the store's storage.Transactor.
type transactor struct{ db *DB }

// batcher queues InTx calls for the goroutine that runs their batches.
type batcher struct {
	mu      sync.Mutex
	queue   []*member
	running bool // a goroutine runs batches; it stops when the queue is empty
}

// member is one InTx call waiting for, or taking, its turn in a batch.
type member struct {
	state atomic.Int32
	turn  chan *batch // the runner → the caller: run your function now
	ran   chan bool   // the caller → the runner: done; are its writes kept?
	done  chan error  // the runner → the caller: the commit's outcome
}

// The states of a member: it waits for its turn until the runner takes it
// or it leaves, because its context ended, whichever comes first.
const (
	waiting int32 = iota
	taken
	left
)

// batch is one transaction of the writer, used by one function at a time.
type batch struct {
	db *DB
	tx *sql.Tx
	// lost is why the transaction cannot commit: it failed to begin, or
	// SQLite rolled it back on an error (a full disk, an I/O error), or a
	// savepoint statement failed. It is set by the function whose turn it
	// is, and read by the runner after.
	lost error
}

// exec runs a savepoint statement; an error loses the batch.
func (b *batch) exec(ctx context.Context, query string) error {
	st, err := b.db.txStmt(ctx, b.tx, query)
	if err == nil {
		_, err = st.ExecContext(ctx)
	}
	if err != nil && b.lost == nil {
		b.lost = err
	}
	return err
}

// InTx implements storage.Transactor with group commit. The caller joins
// the queue of the goroutine that runs batches, starting it if it is not
// running, which costs a lone caller nothing but the hand-over; callers
// that arrive while a batch runs make up the next. When its turn comes,
// the caller runs fn on its own goroutine, in a savepoint released when fn
// succeeds and rolled back to when it fails, which discards its writes
// alone; then it waits for the batch's commit, whatever its context, so
// as not to report as failed what the commit kept. A context that ends
// while the caller waits for its turn takes it out of the queue.
func (t transactor) InTx(ctx context.Context, fn func(ctx context.Context, tx storage.Store) error) error {
	db := t.db
	if err := ctx.Err(); err != nil {
		return wrap("transaction", err)
	}
	if ctx.Value(txKey{}) == db {
		return errors.New("sqlite: transaction: called from inside a transaction's function: transactions do not nest")
	}
	m := &member{turn: make(chan *batch, 1), ran: make(chan bool, 1), done: make(chan error, 1)}
	db.batches.mu.Lock()
	db.batches.queue = append(db.batches.queue, m)
	start := !db.batches.running
	db.batches.running = true
	db.batches.mu.Unlock()
	if start {
		go db.runBatches()
	}

	var b *batch
	select {
	case b = <-m.turn:
	case <-ctx.Done():
		if m.state.CompareAndSwap(waiting, left) {
			return wrap("transaction", ctx.Err())
		}
		b = <-m.turn // the runner took it first
	}
	if kept, err := db.runFn(ctx, b, m, fn); !kept {
		return err
	}
	if err := <-m.done; err != nil {
		return fmt.Errorf("sqlite: transaction: commit: %w", hint(err))
	}
	return nil
}

// runFn runs fn in a savepoint of b and tells the runner, once the
// savepoint is released or rolled back, whether fn's writes are kept,
// even when fn panics or ends its goroutine. It returns the error to
// report when they are not.
func (db *DB) runFn(ctx context.Context, b *batch, m *member, fn func(ctx context.Context, tx storage.Store) error) (kept bool, err error) {
	t := &txn{b: b}
	bg := context.WithoutCancel(ctx)
	undo := func() {
		if b.exec(bg, rollbackFnSQL) == nil {
			b.exec(bg, releaseFnSQL)
		}
	}
	returned := false
	defer func() {
		t.closed.Store(true)
		if !returned { // fn panicked, or called runtime.Goexit
			undo()
		}
		m.ran <- kept
	}()
	switch {
	case b.lost != nil:
		returned = true
		return false, fmt.Errorf("sqlite: transaction: %w", hint(b.lost))
	case ctx.Err() != nil: // while it waited for its turn
		returned = true
		return false, wrap("transaction", ctx.Err())
	}
	if err := b.exec(bg, savepointFnSQL); err != nil {
		returned = true
		return false, wrap("transaction", err)
	}
	err = fn(context.WithValue(ctx, txKey{}, db), db.store(scope{db, t}))
	returned = true
	switch {
	case err != nil:
	case ctx.Err() != nil:
		err = wrap("transaction", ctx.Err())
	case b.lost != nil:
		err = fmt.Errorf("sqlite: transaction: lost: %w", hint(b.lost))
	default:
		if err := b.exec(bg, releaseFnSQL); err != nil {
			return false, wrap("transaction", err)
		}
		return true, nil
	}
	undo()
	return false, err
}

// runBatches runs batches of the queued calls until there are none.
func (db *DB) runBatches() {
	q := &db.batches
	for {
		q.mu.Lock()
		n := min(len(q.queue), maxBatch)
		if n == 0 {
			q.running = false
			q.mu.Unlock()
			return
		}
		ms := make([]*member, n)
		copy(ms, q.queue)
		q.queue = append(q.queue[:0], q.queue[n:]...)
		q.mu.Unlock()
		db.runBatch(ms)
	}
}

// runBatch gives each member its turn in one transaction, and commits
// it: in several, one after another, if the work outlasts maxBatchWork or
// a transaction is lost.
func (db *DB) runBatch(ms []*member) {
	for len(ms) > 0 {
		for len(ms) > 0 && ms[0].state.Load() == left {
			ms = ms[1:]
		}
		if len(ms) == 0 {
			return
		}
		b := &batch{db: db}
		// The transaction outlives every caller's context: a context
		// ending would roll back the others' writes too.
		b.tx, b.lost = db.w.BeginTx(context.Background(), nil)
		if b.lost != nil {
			for _, m := range ms {
				if m.state.CompareAndSwap(waiting, taken) {
					m.turn <- b
					<-m.ran
				}
			}
			return
		}
		var (
			kept  []*member
			i     int
			start = time.Now()
		)
		for i < len(ms) && b.lost == nil && (i == 0 || time.Since(start) < maxBatchWork) {
			m := ms[i]
			i++
			if !m.state.CompareAndSwap(waiting, taken) {
				continue
			}
			m.turn <- b
			if <-m.ran {
				kept = append(kept, m)
			}
		}
		err := b.lost
		if err != nil {
			b.tx.Rollback()
		} else {
			err = b.tx.Commit()
		}
		for _, m := range kept {
			m.done <- err
		}
		ms = ms[i:]
	}
}
