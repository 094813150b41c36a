package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync/atomic"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// scope is where an operation runs: on the store's own connections (tx
// nil), each write in a transaction of its own and each read on the
// readers; or in a transaction of InTx, on the writer's transaction, each
// write in a savepoint of its own and each read there too, so that it
// sees the transaction's writes.
type scope struct {
	db *DB
	tx *txn
}

// querier is what reads run on: the readers, a read transaction of
// theirs, or InTx's transaction.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// row is a result of queryRow.
type row interface{ Scan(dest ...any) error }

// errRow is a row that fails with err.
type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// write runs fn as one write: in a transaction of its own, or in a
// savepoint of InTx's transaction. fn runs its statements with the ctx it
// is given.
func (s scope) write(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	if s.tx != nil {
		return s.tx.op(ctx, fn)
	}
	return s.db.inTx(ctx, func(tx *sql.Tx) error { return fn(ctx, tx) })
}

// write1 runs fn as write does, for an fn that runs one write statement
// at most (and reads as it likes): in InTx's transaction, without a
// savepoint, since a statement that fails has no effect of its own, as
// op1 explains.
func (s scope) write1(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	if s.tx != nil {
		return s.tx.op1(ctx, fn)
	}
	return s.db.inTx(ctx, func(tx *sql.Tx) error { return fn(ctx, tx) })
}

// exec runs one write statement, prepared, as write1 does.
func (s scope) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if s.tx == nil {
		return s.db.write(ctx, query, args...)
	}
	var res sql.Result
	err := s.tx.op1(ctx, func(ctx context.Context, tx *sql.Tx) error {
		st, err := s.db.txStmt(ctx, tx, query)
		if err != nil {
			return err
		}
		res, err = st.ExecContext(ctx, args...)
		return err
	})
	return res, err
}

// queryRow runs a read statement, prepared.
func (s scope) queryRow(ctx context.Context, query string, args ...any) row {
	if s.tx == nil {
		return s.db.queryRow(ctx, query, args...)
	}
	tx, ctx, err := s.tx.reading(ctx)
	if err != nil {
		return errRow{err}
	}
	st, err := s.db.txStmt(ctx, tx, query)
	if err != nil {
		return errRow{err}
	}
	return st.QueryRowContext(ctx, args...)
}

// query runs a read statement of several rows.
func (s scope) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if s.tx == nil {
		st, err := s.db.prepared(ctx, false, query)
		if err != nil {
			return nil, err
		}
		return st.QueryContext(ctx, args...)
	}
	tx, ctx, err := s.tx.reading(ctx)
	if err != nil {
		return nil, err
	}
	if st, ok := s.db.wstmts.Load(query); ok { // prepared by Open
		return tx.StmtContext(ctx, st.(*sql.Stmt)).QueryContext(ctx, args...)
	}
	return tx.QueryContext(ctx, query, args...) // not prepared, so not kept until the transaction ends
}

// read runs reads that must agree with each other: in a read transaction
// of the readers, or in InTx's transaction.
func (s scope) read(ctx context.Context, fn func(ctx context.Context, q querier) error) error {
	if s.tx != nil {
		tx, ctx, err := s.tx.reading(ctx)
		if err != nil {
			return err
		}
		return fn(ctx, tx)
	}
	tx, err := s.db.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer tx.Rollback()
	return fn(ctx, tx)
}

// txKey marks the context InTx gives its function, with the *DB as the
// value, so that a write through the outer store made with it fails
// instead of waiting for the writer that the function's transaction
// holds.
type txKey struct{}

// inside reports, as the error of operation op, a write through the
// outer store from inside one of db's transaction functions.
func (db *DB) inside(ctx context.Context, op string) error {
	if ctx.Value(txKey{}) != db {
		return nil
	}
	return fmt.Errorf("sqlite: %s: called through the store from inside a transaction's function, whose transaction holds the writer: use the transaction's Store", op)
}

// The savepoints of InTx: one per function of a batch, one per operation.
const (
	savepointFnSQL  = `SAVEPOINT fedi_fn`
	releaseFnSQL    = `RELEASE fedi_fn`
	rollbackFnSQL   = `ROLLBACK TO fedi_fn`
	savepointOpSQL  = `SAVEPOINT fedi_op`
	releaseOpSQL    = `RELEASE fedi_op`
	rollbackOpSQL   = `ROLLBACK TO fedi_op`
	noSuchSavepoint = "no such savepoint"
)

// txn is one function's use of a batch's transaction.
type txn struct {
	b      *batch
	closed atomic.Bool // set once the function has returned
}

// usable reports why the function may not use its transaction now.
func (t *txn) usable(ctx context.Context) error {
	switch {
	case t.closed.Load():
		return errors.New("sqlite: the transaction's Store was used after its function returned")
	case t.b.lost != nil:
		return fmt.Errorf("sqlite: the transaction was lost: %w", t.b.lost)
	}
	return ctx.Err()
}

// reading returns the transaction for a read, and the context to run it
// with: one that does not end, since a statement interrupted inside a
// transaction may roll back all of it, the other functions' writes too.
// The caller's context is looked at before.
func (t *txn) reading(ctx context.Context) (*sql.Tx, context.Context, error) {
	if err := t.usable(ctx); err != nil {
		return nil, nil, err
	}
	return t.b.tx, context.WithoutCancel(ctx), nil
}

// op runs fn in a savepoint, rolled back when fn fails, so that a failed
// operation has no effect and the transaction goes on. Its statements run
// with a context that does not end, as reading explains; when the
// caller's ends, the function's next operation fails.
func (t *txn) op(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	if err := t.usable(ctx); err != nil {
		return err
	}
	ctx = context.WithoutCancel(ctx)
	b := t.b
	if err := b.exec(ctx, savepointOpSQL); err != nil {
		return err
	}
	if err := fn(ctx, b.tx); err != nil {
		// SQLite rolls a whole transaction back on some errors (a full
		// disk, an I/O error, an interrupt) instead of the statement
		// alone; the savepoint is gone then, and so is the batch, lost
		// for that reason.
		if b.exec(ctx, rollbackOpSQL) != nil {
			b.lost = err
			return err
		}
		b.exec(ctx, releaseOpSQL)
		return err
	}
	return b.exec(ctx, releaseOpSQL)
}

// op1 runs fn, which runs one write statement at most, in the
// transaction without a savepoint of its own: SQLite undoes a statement
// that fails on a constraint and the transaction goes on, so the
// operation has no effect, as with a savepoint, for two statements fewer
// (and no copy of the pages it changes in the statement journal). Any
// other failure (a full disk, an I/O error) may have rolled the whole
// transaction back, and loses the batch.
func (t *txn) op1(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	if err := t.usable(ctx); err != nil {
		return err
	}
	b := t.b
	err := fn(context.WithoutCancel(ctx), b.tx)
	if mayHaveRolledBack(err) && b.lost == nil {
		b.lost = err
	}
	return err
}

// mayHaveRolledBack reports a statement's failure after which SQLite may
// have rolled the transaction back: any of SQLite's errors but a
// constraint's, which it undoes alone (the ABORT conflict resolution, its
// default and the only one fedi's statements use). The errors fedi makes
// of a statement's outcome (ErrConflict on a row left unchanged) are not
// SQLite's.
func mayHaveRolledBack(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff != sqlite3.SQLITE_CONSTRAINT
}

// hotStatements are the statements, besides the queue's txStatements,
// that Open prepares on the writer so that transactions find them: the
// savepoints, and the writes and reads of an inbox.
var hotStatements = []string{
	savepointFnSQL, releaseFnSQL, rollbackFnSQL, savepointOpSQL, releaseOpSQL, rollbackOpSQL,
	putObjectSQL, getObjectSQL, objectOwnerOnly, getActorSQL, actorByKeySQL, recordSQL, forgetSQL,
	memberSQL, addMemberSQL, upsertMemberSQL, removeMemberSQL, containsSQL, gaveUpSQL,
}
