package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/storage/internal/dbutil"
)

// The optional capabilities of a Queue that the adapter has. Inside a
// transaction, the Queue is only a LeaseExtender.
var (
	_ storage.DeadLetters   = (*outerQueue)(nil)
	_ storage.LeaseExtender = (*queue)(nil)
)

// queue is the Queue of the store or of a transaction.
type queue struct{ scope }

// outerQueue is the store's Queue, which is also its DeadLetters: dead
// letters are an operator's business, not a transaction's.
type outerQueue struct{ *queue }

// txStatements are the statements the queue runs inside transactions, for
// Open to prepare.
var txStatements = []string{enqueueSQL, leaseSQL, overtakeSQL, ackSQL, retrySQL, giveUpSQL, extendSQL}

const enqueueSQL = `
INSERT INTO fedi_deliveries (activity, inbox, body, ordering_key, not_before, visible, enqueued)
VALUES (?, ?, ?, ?, ?, ?, ?)`

func (q *queue) Enqueue(ctx context.Context, ds ...storage.Delivery) error {
	if err := ctx.Err(); err != nil {
		return wrap("enqueue", err)
	}
	for i := range ds {
		if err := dbutil.CheckDelivery("sqlite", &ds[i]); err != nil {
			return err
		}
	}
	if len(ds) == 0 {
		return nil
	}
	now := nowMicro()
	write := q.write
	if len(ds) == 1 {
		write = q.write1 // one statement: no savepoint needed
	}
	err := write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		st, err := q.db.txStmt(ctx, tx, enqueueSQL)
		if err != nil {
			return err
		}
		for _, d := range ds {
			nb := dbutil.ToMicro(d.NotBefore)
			if nb == 0 {
				nb = now
			}
			if _, err := st.ExecContext(ctx, d.Activity, d.Inbox, []byte(d.Body), d.OrderingKey, nb, nb, now); err != nil {
				return err
			}
		}
		return nil
	})
	return wrap("enqueue", err)
}

// leaseSQL leases the due deliveries that no earlier live delivery with
// the same inbox and ordering key holds back, oldest due first. The write
// lock serialises it with every other writer, so no two leases overlap.
const leaseSQL = `
UPDATE fedi_deliveries SET visible = ?1, lease_until = ?1, leases = leases + 1
WHERE id IN (
	SELECT d.id FROM fedi_deliveries d
	WHERE d.gave_up = 0 AND d.visible <= ?2
	  AND (d.ordering_key = '' OR NOT EXISTS (
		SELECT 1 FROM fedi_deliveries e
		WHERE e.inbox = d.inbox AND e.ordering_key = d.ordering_key AND e.gave_up = 0 AND e.ordering_key <> '' AND e.id < d.id))
	ORDER BY d.visible, d.id
	LIMIT ?3)
RETURNING id, leases, activity, inbox, body, ordering_key, not_before, attempts, last_error, enqueued`

// overtakeSQL marks the dead letters that the deliveries just leased, ?1
// a JSON array of their ids, overtake: those before them in their chains.
// It starts from the leased rows, so that it costs a probe of the index
// of dead letters not yet overtaken per leased row, however many dead
// letters there are.
const overtakeSQL = `
UPDATE fedi_deliveries SET overtaken = 1
WHERE id IN (
	SELECT x.id FROM fedi_deliveries l JOIN fedi_deliveries x
		ON x.inbox = l.inbox AND x.ordering_key = l.ordering_key AND x.id < l.id
	WHERE l.id IN (SELECT value FROM json_each(?1))
	  AND x.gave_up <> 0 AND x.ordering_key <> '' AND x.overtaken = 0)`

func (q *queue) Lease(ctx context.Context, n int, visibility time.Duration) ([]storage.Delivery, error) {
	if err := ctx.Err(); err != nil {
		return nil, wrap("lease", err)
	}
	if err := dbutil.CheckLease("sqlite", n, visibility); err != nil {
		return nil, err
	}
	out := []storage.Delivery{}
	if n == 0 {
		return out, nil
	}
	now := dbutil.Now()
	until := dbutil.Micro(now.Add(visibility))
	var rs []dbutil.Leased
	err := q.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		st, err := q.db.txStmt(ctx, tx, leaseSQL)
		if err != nil {
			return err
		}
		rows, err := st.QueryContext(ctx, until.UnixMicro(), now.UnixMicro(), n)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				r                   dbutil.Leased
				body                []byte
				notBefore, enqueued int64
			)
			if err := rows.Scan(&r.Row, &r.Leases, &r.Activity, &r.Inbox, &body, &r.OrderingKey, &notBefore, &r.Attempts, &r.LastError, &enqueued); err != nil {
				return err
			}
			r.Body = body
			r.NotBefore, r.Enqueued, r.LeaseExpires = dbutil.FromMicro(notBefore), dbutil.FromMicro(enqueued), until
			rs = append(rs, r)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows.Close() // before the next statement on tx
		return q.overtake(ctx, tx, rs)
	})
	if err != nil {
		return nil, wrap("lease", err)
	}
	out, corrupt, causes := dbutil.FinishLease(rs)
	for i, d := range corrupt {
		q.deadLetterCorrupt(ctx, d, causes[i])
	}
	return out, nil
}

// overtake marks the dead letters that the ordered deliveries of rs,
// leased in tx, overtake.
func (q *queue) overtake(ctx context.Context, tx *sql.Tx, rs []dbutil.Leased) error {
	var ids []byte
	for _, r := range rs {
		if r.OrderingKey != "" {
			ids = strconv.AppendInt(append(ids, ','), r.Row, 10)
		}
	}
	if ids == nil {
		return nil
	}
	ids[0] = '['
	st, err := q.db.txStmt(ctx, tx, overtakeSQL)
	if err != nil {
		return err
	}
	_, err = st.ExecContext(ctx, string(append(ids, ']')))
	return err
}

// deadLetterCorrupt gives up on a delivery whose body no longer parses,
// keeping it, and logging it, for an operator to inspect.
func (q *queue) deadLetterCorrupt(ctx context.Context, d storage.Delivery, cause error) {
	err := q.GiveUp(ctx, d.Receipt, cause.Error())
	q.db.log.Error("sqlite: dead-lettered a corrupt delivery", "id", d.ID, "activity", d.Activity, "inbox", d.Inbox, "err", cause, "give_up_err", err)
}

// settle ends the lease named by receipt with the statement stmt, whose
// last two parameters are the id and the lease count, in tx. A lease that
// is gone or taken over is reported with the matching sentinel as a
// *leaseError; other errors are the database's.
func (q *queue) settle(ctx context.Context, tx *sql.Tx, op, receipt, stmt string, args ...any) error {
	id, lease, err := dbutil.ParseReceipt("sqlite", receipt)
	if err != nil {
		return err
	}
	st, err := q.db.txStmt(ctx, tx, stmt)
	if err != nil {
		return err
	}
	res, err := st.ExecContext(ctx, append(args, id, lease)...)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return err
	}
	var gaveUp int64
	if st, err = q.db.txStmt(ctx, tx, gaveUpSQL); err != nil {
		return err
	}
	err = st.QueryRowContext(ctx, id).Scan(&gaveUp)
	switch {
	case errors.Is(err, sql.ErrNoRows), err == nil && gaveUp != 0:
		return &leaseError{dbutil.LeaseGone("sqlite", op, receipt)}
	case err != nil:
		return err
	}
	return &leaseError{dbutil.LeaseLost("sqlite", op, receipt)}
}

const gaveUpSQL = `SELECT gave_up FROM fedi_deliveries WHERE id = ?`

// leaseError is a receipt that no longer names a lease in force: an
// outcome to report, not a reason to roll back.
type leaseError struct{ error }

func (e *leaseError) Unwrap() error { return e.error }

// settleOne runs settle for one receipt in its own transaction.
func (q *queue) settleOne(ctx context.Context, op, receipt, stmt string, args ...any) error {
	if err := ctx.Err(); err != nil {
		return wrap(op, err)
	}
	if _, _, err := dbutil.ParseReceipt("sqlite", receipt); err != nil {
		return err
	}
	var lost error
	err := q.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		err := q.settle(ctx, tx, op, receipt, stmt, args...)
		if le := (*leaseError)(nil); errors.As(err, &le) {
			lost = le.error
			return nil
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: %s %s: %w", op, receipt, hint(err))
	}
	return lost
}

// The statements that end a lease. Their last two parameters are the id
// and the lease count of a receipt whose lease is still in force: not
// ended by Retry, not taken over by a later lease.
const (
	ackSQL = `DELETE FROM fedi_deliveries
		WHERE id = ? AND leases = ? AND lease_until <> 0 AND gave_up = 0`
	retrySQL = `UPDATE fedi_deliveries
		SET not_before = ?1, visible = ?1, lease_until = 0, attempts = attempts + 1, last_error = ?2
		WHERE id = ?3 AND leases = ?4 AND lease_until <> 0 AND gave_up = 0`
	giveUpSQL = `UPDATE fedi_deliveries
		SET gave_up = ?1, lease_until = 0, attempts = attempts + 1, last_error = ?2
		WHERE id = ?3 AND leases = ?4 AND lease_until <> 0 AND gave_up = 0`
	extendSQL = `UPDATE fedi_deliveries SET visible = ?1, lease_until = ?1
		WHERE id = ?2 AND leases = ?3 AND lease_until <> 0 AND gave_up = 0`
)

func (q *queue) Ack(ctx context.Context, receipts ...string) error {
	if err := ctx.Err(); err != nil {
		return wrap("ack", err)
	}
	for _, r := range receipts {
		if _, _, err := dbutil.ParseReceipt("sqlite", r); err != nil {
			return err
		}
	}
	if len(receipts) == 0 {
		return nil
	}
	var lost []error
	err := q.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		lost = lost[:0]
		for _, r := range receipts {
			err := q.settle(ctx, tx, "ack", r, ackSQL)
			if le := (*leaseError)(nil); errors.As(err, &le) {
				lost = append(lost, le.error)
			} else if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return wrap("ack", err)
	}
	return errors.Join(lost...)
}

func (q *queue) Retry(ctx context.Context, receipt string, at time.Time, lastErr string) error {
	at = dbutil.Micro(at)
	return q.settleOne(ctx, "retry", receipt, retrySQL, at.UnixMicro(), dbutil.CleanError(lastErr))
}

func (q *queue) GiveUp(ctx context.Context, receipt string, lastErr string) error {
	return q.settleOne(ctx, "give up", receipt, giveUpSQL, nowMicro(), dbutil.CleanError(lastErr))
}

// Extend implements storage.LeaseExtender.
func (q *queue) Extend(ctx context.Context, receipt string, visibility time.Duration) error {
	if err := dbutil.CheckVisibility("sqlite", "extend", visibility); err != nil {
		return err
	}
	until := dbutil.Micro(dbutil.Now().Add(visibility))
	return q.settleOne(ctx, "extend", receipt, extendSQL, until.UnixMicro())
}

func (q *queue) Stats(ctx context.Context) (storage.QueueStats, error) {
	now := nowMicro()
	var (
		st     storage.QueueStats
		oldest sql.NullInt64
	)
	err := q.queryRow(ctx, `
		SELECT
			count(*) FILTER (WHERE gave_up = 0 AND visible <= ?1),
			count(*) FILTER (WHERE gave_up = 0 AND visible > ?1 AND lease_until <= ?1),
			count(*) FILTER (WHERE gave_up = 0 AND lease_until > ?1),
			count(*) FILTER (WHERE gave_up <> 0),
			min(enqueued) FILTER (WHERE gave_up = 0)
		FROM fedi_deliveries`, now).Scan(&st.Ready, &st.Scheduled, &st.Leased, &st.Dead, &oldest)
	if err != nil {
		return storage.QueueStats{}, wrap("stats", err)
	}
	if oldest.Valid {
		st.OldestAge = time.Duration(now-oldest.Int64) * time.Microsecond
	}
	return st, nil
}

// Dead, Requeue and Discard implement storage.DeadLetters.

func (q *outerQueue) Dead(ctx context.Context, cursor string, limit int) ([]storage.Delivery, string, error) {
	at, id, err := dbutil.ParseDeadCursor("sqlite", cursor)
	if err != nil {
		return nil, "", err
	}
	limit = dbutil.Limit(limit)
	rows, err := q.db.r.QueryContext(ctx, `
		SELECT id, activity, inbox, body, ordering_key, not_before, attempts, leases, last_error, enqueued, gave_up
		FROM fedi_deliveries
		WHERE gave_up <> 0 AND (gave_up, id) < (?, ?)
		ORDER BY gave_up DESC, id DESC LIMIT ?`, at.UnixMicro(), id, limit+1)
	if err != nil {
		return nil, "", wrap("dead letters", err)
	}
	defer rows.Close()
	var (
		out  []storage.Delivery
		next string
		last struct{ id, gaveUp int64 }
	)
	for rows.Next() {
		if len(out) == limit {
			next = dbutil.DeadCursor(dbutil.FromMicro(last.gaveUp), last.id)
			break
		}
		var (
			d                           storage.Delivery
			body                        []byte
			notBefore, enqueued, gaveUp int64
			n                           int64
		)
		if err := rows.Scan(&n, &d.Activity, &d.Inbox, &body, &d.OrderingKey, &notBefore, &d.Attempts, &d.Leases, &d.LastError, &enqueued, &gaveUp); err != nil {
			return nil, "", wrap("dead letters", err)
		}
		d.ID = dbutil.ID(n)
		if storage.CheckStored("delivery", d.Activity, body) == nil {
			d.Body = body // a corrupt body is left out; LastError says why it died
		}
		d.NotBefore, d.Enqueued, d.GaveUp = dbutil.FromMicro(notBefore), dbutil.FromMicro(enqueued), dbutil.FromMicro(gaveUp)
		last.id, last.gaveUp = n, gaveUp
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, "", wrap("dead letters", err)
	}
	return out, next, nil
}

func (q *outerQueue) Requeue(ctx context.Context, id string, at time.Time) error {
	n, err := dbutil.ParseID("sqlite", id)
	if err != nil {
		return err
	}
	at = dbutil.Micro(at)
	var changed int64
	err = q.db.inTx(ctx, func(tx *sql.Tx) error {
		var (
			inbox     string
			overtaken int64
		)
		err := tx.QueryRowContext(ctx, `SELECT inbox, overtaken FROM fedi_deliveries WHERE id = ? AND gave_up <> 0`, n).Scan(&inbox, &overtaken)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		if overtaken != 0 {
			return fmt.Errorf("a later delivery of its ordering key to %q was leased: %w", inbox, storage.ErrConflict)
		}
		res, err := tx.ExecContext(ctx, `
			UPDATE fedi_deliveries SET gave_up = 0, not_before = ?1, visible = ?1, lease_until = 0
			WHERE id = ?2`, at.UnixMicro(), n)
		if err != nil {
			return err
		}
		changed, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: requeue %s: %w", id, hint(err))
	}
	if changed == 0 {
		return fmt.Errorf("sqlite: requeue %s: no such dead letter: %w", id, storage.ErrNotFound)
	}
	return nil
}

func (q *outerQueue) Discard(ctx context.Context, id string) error {
	n, err := dbutil.ParseID("sqlite", id)
	if err != nil {
		return err
	}
	res, err := q.db.write(ctx, `DELETE FROM fedi_deliveries WHERE id = ? AND gave_up <> 0`, n)
	return q.deadChanged("discard", id, res, err)
}

func (q *outerQueue) deadChanged(op, id string, res sql.Result, err error) error {
	if err != nil {
		return fmt.Errorf("sqlite: %s %s: %w", op, id, hint(err))
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return err
	}
	return fmt.Errorf("sqlite: %s %s: no such dead letter: %w", op, id, storage.ErrNotFound)
}
