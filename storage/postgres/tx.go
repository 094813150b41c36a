package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/fedi-go/fedi/storage"
)

// scope is where an operation runs: on the pool (tx nil), each write
// autocommitted or in a transaction of its own, or in a transaction of
// InTx, each write in a savepoint of its own and each read there too, so
// that it sees the transaction's writes.
type scope struct {
	db *DB
	tx *txn
}

// querier is what statements run on: the pool or a transaction.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// errRow is a row that fails with err.
type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// exec runs one write statement: autocommitted, or in a savepoint.
func (s scope) exec(ctx context.Context, op, sql string, args ...any) (pgconn.CommandTag, error) {
	if s.tx == nil {
		if err := s.db.inside(ctx, op); err != nil {
			return pgconn.CommandTag{}, err
		}
		return s.db.pool.Exec(ctx, sql, args...)
	}
	return s.tx.exec(ctx, sql, args...)
}

// write runs fn, the statements of one write: in a transaction of its
// own, or in a savepoint.
func (s scope) write(ctx context.Context, op string, fn func(q querier) error) error {
	if s.tx == nil {
		if err := s.db.inside(ctx, op); err != nil {
			return err
		}
		return pgx.BeginFunc(ctx, s.db.pool, func(tx pgx.Tx) error { return fn(tx) })
	}
	return s.tx.op(ctx, fn)
}

// one runs fn, which makes one write statement: autocommitted, or in a
// savepoint.
func (s scope) one(ctx context.Context, op string, fn func(q querier) error) error {
	if s.tx == nil {
		if err := s.db.inside(ctx, op); err != nil {
			return err
		}
		return fn(s.db.pool)
	}
	return s.tx.op(ctx, fn)
}

// reader returns what to run a read on, and the context to run it with.
// In a transaction, a statement that fails aborts all of it, and a read
// does not wait for locks: it runs with a context that does not end,
// after a look at the caller's.
func (s scope) reader(ctx context.Context) (querier, context.Context, error) {
	if s.tx == nil {
		return s.db.pool, ctx, nil
	}
	if err := s.tx.usable(ctx); err != nil {
		return nil, nil, err
	}
	return s.tx.tx, context.WithoutCancel(ctx), nil
}

// queryRow runs a read of one row.
func (s scope) queryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	q, ctx, err := s.reader(ctx)
	if err != nil {
		return errRow{err}
	}
	return q.QueryRow(ctx, sql, args...)
}

// query runs a read of several rows.
func (s scope) query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	q, ctx, err := s.reader(ctx)
	if err != nil {
		return nil, err
	}
	return q.Query(ctx, sql, args...)
}

// txKey marks the context InTx gives its function, with the *DB as the
// value, so that a write through the outer store made with it fails: it
// would not be part of the transaction, and could wait forever for a row
// the transaction holds.
type txKey struct{}

// inside reports, as the error of operation op, a write through the
// outer store from inside one of db's transaction functions.
func (db *DB) inside(ctx context.Context, op string) error {
	if ctx.Value(txKey{}) != db {
		return nil
	}
	return fmt.Errorf("postgres: %s: called through the store from inside a transaction's function, where it would not be part of the transaction: use the transaction's Store", op)
}

// transactor is the store's storage.Transactor.
type transactor struct{ db *DB }

// InTx implements storage.Transactor with one PostgreSQL transaction, at
// the default isolation, read committed: each statement sees what other
// transactions committed before it began, and a write waits for the rows
// other transactions are writing, as the store's single statements do.
// The commit runs whatever the context does once fn has returned, so that
// its outcome is known.
func (t transactor) InTx(ctx context.Context, fn func(ctx context.Context, tx storage.Store) error) (err error) {
	db := t.db
	if err := ctx.Err(); err != nil {
		return wrap(ctx, "transaction", err)
	}
	if ctx.Value(txKey{}) == db {
		return errors.New("postgres: transaction: called from inside a transaction's function: transactions do not nest")
	}
	var tx pgx.Tx
	for try := 1; ; try++ {
		tx, err = db.pool.Begin(ctx)
		if err == nil || !stray(ctx, err) || try == maxTries {
			break
		}
	}
	if err != nil {
		return wrap(ctx, "transaction", err)
	}
	bg := context.WithoutCancel(ctx)
	x := &txn{tx: tx}
	returned := false
	defer func() {
		x.closed.Store(true)
		if !returned { // fn panicked, or called runtime.Goexit
			tx.Rollback(bg)
		}
	}()
	err = fn(context.WithValue(ctx, txKey{}, db), db.store(scope{db, x}))
	returned = true
	switch {
	case err != nil:
	case ctx.Err() != nil:
		err = wrap(ctx, "transaction", ctx.Err())
	case x.lost != nil:
		err = fmt.Errorf("postgres: transaction: lost: %w", x.lost)
	default:
		if err := tx.Commit(bg); err != nil {
			return fmt.Errorf("postgres: transaction: commit: %w", err)
		}
		return nil
	}
	tx.Rollback(bg)
	return err
}

// The savepoint of each operation of a transaction.
const (
	savepointSQL = `SAVEPOINT fedi_op`
	releaseSQL   = `RELEASE SAVEPOINT fedi_op`
	rollbackSQL  = `ROLLBACK TO SAVEPOINT fedi_op; RELEASE SAVEPOINT fedi_op`
)

// txn is one InTx transaction.
type txn struct {
	tx     pgx.Tx
	lost   error       // why it can no longer commit: a savepoint statement failed
	closed atomic.Bool // set once the function has returned
}

// usable reports why the function may not use its transaction now.
func (t *txn) usable(ctx context.Context) error {
	switch {
	case t.closed.Load():
		return errors.New("postgres: the transaction's Store was used after its function returned")
	case t.lost != nil:
		return fmt.Errorf("postgres: the transaction was lost: %w", t.lost)
	}
	return ctx.Err()
}

// op runs fn in a savepoint, rolled back when fn fails: PostgreSQL aborts
// a whole transaction on any error, and the savepoint keeps it to the
// operation, which has no effect, and the transaction goes on. fn's
// statements run with ctx, so that one that waits for a row another
// transaction holds gives up when ctx ends; the savepoint statements run
// whatever ctx does.
func (t *txn) op(ctx context.Context, fn func(q querier) error) error {
	if err := t.usable(ctx); err != nil {
		return err
	}
	bg := context.WithoutCancel(ctx)
	if _, err := t.tx.Exec(bg, savepointSQL); err != nil {
		t.lost = err
		return err
	}
	if err := fn(t.tx); err != nil {
		return t.undo(bg, err)
	}
	if _, err := t.tx.Exec(bg, releaseSQL); err != nil {
		t.lost = err
		return err
	}
	return nil
}

// maxTries bounds the tries of a statement that stray cancel requests
// stop.
const maxTries = 3

// stray reports a statement stopped by a cancel request though its
// context has not ended: one meant for the statement the connection ran
// for its previous user. PostgreSQL may deliver a cancel request late,
// after the statement it was meant for has finished, and pgx waits 100 ms
// for it before it lets the connection go, which a busy machine can
// outlast. Such a statement had no effect, and may run again.
func stray(ctx context.Context, err error) bool {
	var pe *pgconn.PgError
	return ctx.Err() == nil && errors.As(err, &pe) && pe.Code == "57014" // query_canceled
}

// exec is op for one statement, sent with its savepoint and release in
// one round trip. A statement that a stray cancel request stopped runs
// again.
func (t *txn) exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	for try := 1; ; try++ {
		tag, err := t.exec1(ctx, sql, args...)
		if err == nil || t.lost != nil || !stray(ctx, err) || try == maxTries {
			return tag, err
		}
	}
}

func (t *txn) exec1(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if err := t.usable(ctx); err != nil {
		return pgconn.CommandTag{}, err
	}
	b := &pgx.Batch{}
	b.Queue(savepointSQL)
	b.Queue(sql, args...)
	b.Queue(releaseSQL)
	br := t.tx.SendBatch(ctx, b)
	_, serr := br.Exec()
	tag, err := br.Exec()
	_, rerr := br.Exec()
	cerr := br.Close()
	bg := context.WithoutCancel(ctx)
	switch {
	case serr != nil && pgconn.SafeToRetry(serr): // nothing was sent
		return tag, serr
	case serr != nil:
		return tag, t.undo(bg, serr)
	case err != nil:
		return tag, t.undo(bg, err)
	case rerr != nil:
		return tag, t.undo(bg, rerr)
	case cerr != nil:
		return tag, t.undo(bg, cerr)
	}
	return tag, nil
}

// undo rolls back to the savepoint of an operation that failed with err,
// and returns err. If even that fails, the transaction is lost.
func (t *txn) undo(ctx context.Context, err error) error {
	if _, rerr := t.tx.Exec(ctx, rollbackSQL); rerr != nil {
		t.lost = rerr
		return fmt.Errorf("%w (and the transaction was lost: %v)", err, rerr)
	}
	return err
}
