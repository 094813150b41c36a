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
	ctx   context.Context
	fn    func(ctx context.Context, tx storage.Store) error
	done  chan outcome // the runner → the caller: what became of fn
}

// outcome is what became of a member's function: its error, the
// commit's, or the panic to re-raise on the caller's goroutine.
type outcome struct {
	err      error
	panicked bool
	p        any
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
// that arrive while a batch runs make up the next. The batch's goroutine
// runs each function in turn, in a savepoint released when it succeeds
// and rolled back to when it fails, which discards its writes alone:
// running them there rather than handing the transaction to each
// caller's goroutine keeps the one writer busy instead of waiting for the
// scheduler between functions. The caller waits for the batch's commit,
// whatever its context, so as not to report as failed what the commit
// kept; a panic in fn is raised again on the caller's goroutine. A
// context that ends while the caller waits for its turn takes it out of
// the queue.
func (t transactor) InTx(ctx context.Context, fn func(ctx context.Context, tx storage.Store) error) error {
	db := t.db
	if err := ctx.Err(); err != nil {
		return wrap("transaction", err)
	}
	if ctx.Value(txKey{}) == db {
		return errors.New("sqlite: transaction: called from inside a transaction's function: transactions do not nest")
	}
	m := &member{ctx: ctx, fn: fn, done: make(chan outcome, 1)}
	db.batches.mu.Lock()
	db.batches.queue = append(db.batches.queue, m)
	start := !db.batches.running
	db.batches.running = true
	db.batches.mu.Unlock()
	if start {
		go db.runBatches()
	}

	var out outcome
	select {
	case out = <-m.done:
	case <-ctx.Done():
		if m.state.CompareAndSwap(waiting, left) {
			return wrap("transaction", ctx.Err())
		}
		out = <-m.done // the runner took it first
	}
	if out.panicked {
		panic(out.p)
	}
	return out.err
}

// errGoexit reports a function that ended the batch's goroutine.
var errGoexit = errors.New("sqlite: transaction: a function of the batch called runtime.Goexit; the batch was rolled back")

// runFn runs m's function in a savepoint of b, on the batch's goroutine,
// and reports whether its writes are kept, or what to tell its caller.
// A panic is recovered and handed to the caller. A function that ends
// the goroutine (runtime.Goexit) loses the batch: it is rolled back, its
// members told, and the rest handed to a new runner.
func (db *DB) runFn(b *batch, m *member, kept, rest []*member) (ok bool, out outcome) {
	ctx := m.ctx
	t := &txn{b: b}
	bg := context.WithoutCancel(ctx)
	undo := func() {
		if b.exec(bg, rollbackFnSQL) == nil {
			b.exec(bg, releaseFnSQL)
		}
	}
	finished := false
	defer func() {
		t.closed.Store(true)
		if finished {
			return
		}
		if r := recover(); r != nil {
			undo()
			ok, out = false, outcome{panicked: true, p: r}
			return
		}
		// runtime.Goexit: this goroutine ends here.
		b.tx.Rollback()
		m.done <- outcome{err: errGoexit}
		for _, k := range kept {
			k.done <- outcome{err: errGoexit}
		}
		db.requeue(rest)
	}()
	switch {
	case b.lost != nil:
		finished = true
		return false, outcome{err: fmt.Errorf("sqlite: transaction: %w", hint(b.lost))}
	case ctx.Err() != nil: // while it waited for its turn
		finished = true
		return false, outcome{err: wrap("transaction", ctx.Err())}
	}
	if err := b.exec(bg, savepointFnSQL); err != nil {
		finished = true
		return false, outcome{err: wrap("transaction", err)}
	}
	err := m.fn(context.WithValue(ctx, txKey{}, db), db.store(scope{db, t}))
	finished = true
	switch {
	case err != nil:
	case ctx.Err() != nil:
		err = wrap("transaction", ctx.Err())
	case b.lost != nil:
		err = fmt.Errorf("sqlite: transaction: lost: %w", hint(b.lost))
	default:
		if err := b.exec(bg, releaseFnSQL); err != nil {
			return false, outcome{err: wrap("transaction", err)}
		}
		return true, outcome{}
	}
	undo()
	return false, outcome{err: err}
}

// requeue puts members back at the head of the queue and starts a runner
// for them: the runner that took them ends.
func (db *DB) requeue(ms []*member) {
	q := &db.batches
	q.mu.Lock()
	q.queue = append(append([]*member(nil), ms...), q.queue...)
	q.mu.Unlock()
	go db.runBatches()
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
					m.done <- outcome{err: fmt.Errorf("sqlite: transaction: %w", hint(b.lost))}
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
			if ok, out := db.runFn(b, m, kept, ms[i:]); ok {
				kept = append(kept, m)
			} else {
				m.done <- out
			}
		}
		err := b.lost
		if err != nil {
			b.tx.Rollback()
		} else {
			err = b.tx.Commit()
		}
		if err != nil {
			err = fmt.Errorf("sqlite: transaction: commit: %w", hint(err))
		}
		for _, m := range kept {
			m.done <- outcome{err: err}
		}
		ms = ms[i:]
	}
}
