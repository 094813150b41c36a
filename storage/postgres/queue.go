package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

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

func (q *queue) Enqueue(ctx context.Context, ds ...storage.Delivery) error {
	if err := ctx.Err(); err != nil {
		return wrap(ctx, "enqueue", err)
	}
	for i := range ds {
		if err := dbutil.CheckDelivery("postgres", &ds[i]); err != nil {
			return err
		}
	}
	switch len(ds) {
	case 0:
		return nil
	case 1:
		d := ds[0]
		_, err := q.exec(ctx, "enqueue", `
			INSERT INTO fedi_deliveries (activity, inbox, body, ordering_key, not_before, visible, enqueued)
			VALUES ($1, $2, $3, $4, coalesce($5, now()), coalesce($5, now()), now())`,
			d.Activity, d.Inbox, []byte(d.Body), d.OrderingKey, toTS(d.NotBefore))
		return wrap(ctx, "enqueue", err)
	}
	// A fan-out is one statement, so all of it or none: the rows arrive as
	// arrays and unnest into one INSERT. ids follow the arrays' order,
	// which keeps the order of ordering chains.
	var (
		acts, inboxes, keys = make([]string, len(ds)), make([]string, len(ds)), make([]string, len(ds))
		bodies              = make([][]byte, len(ds))
		nbs                 = make([]pgtype.Timestamptz, len(ds))
	)
	for i, d := range ds {
		acts[i], inboxes[i], keys[i], bodies[i], nbs[i] = d.Activity, d.Inbox, d.OrderingKey, d.Body, toTS(d.NotBefore)
	}
	_, err := q.exec(ctx, "enqueue", `
		INSERT INTO fedi_deliveries (activity, inbox, body, ordering_key, not_before, visible, enqueued)
		SELECT a, i, b, k, coalesce(nb, now()), coalesce(nb, now()), now()
		FROM unnest($1::text[], $2::text[], $3::bytea[], $4::text[], $5::timestamptz[]) WITH ORDINALITY AS u(a, i, b, k, nb, n)
		ORDER BY n`,
		acts, inboxes, bodies, keys, nbs)
	return wrap(ctx, "enqueue", err)
}

// leaseSQL leases the due deliveries that no earlier live delivery with
// the same inbox and ordering key holds back, oldest due first. SKIP
// LOCKED lets concurrent leases pass each other's rows instead of queuing
// on them; the re-check of the WHERE clause on a row another lease just
// took keeps it from being taken twice. In the same statement, it marks
// the dead letters before the leased deliveries in their chains as
// overtaken, for Requeue, starting from the leased rows so that it costs
// a probe of the small index of dead letters not yet overtaken.
const leaseSQL = `
WITH due AS (
	SELECT d.id FROM fedi_deliveries d
	WHERE d.gave_up IS NULL AND d.visible <= now()
	  AND (d.ordering_key = '' OR NOT EXISTS (
		SELECT 1 FROM fedi_deliveries e
		WHERE e.inbox = d.inbox AND e.ordering_key = d.ordering_key
		  AND e.gave_up IS NULL AND e.ordering_key <> '' AND e.id < d.id))
	ORDER BY d.visible, d.id
	LIMIT $1
	FOR UPDATE OF d SKIP LOCKED),
leased AS (
	UPDATE fedi_deliveries d
	SET visible = now() + $2 * interval '1 microsecond',
		lease_until = now() + $2 * interval '1 microsecond',
		leases = d.leases + 1
	FROM due WHERE d.id = due.id
	RETURNING d.id, d.leases, d.activity, d.inbox, d.body, d.ordering_key, d.not_before, d.attempts, d.last_error, d.enqueued, d.lease_until),
overtaken AS (
	UPDATE fedi_deliveries x SET overtaken = true
	FROM leased l
	WHERE l.ordering_key <> '' AND x.inbox = l.inbox AND x.ordering_key = l.ordering_key AND x.id < l.id
	  AND x.gave_up IS NOT NULL AND x.ordering_key <> '' AND NOT x.overtaken)
SELECT * FROM leased`

func (q *queue) Lease(ctx context.Context, n int, visibility time.Duration) ([]storage.Delivery, error) {
	if err := ctx.Err(); err != nil {
		return nil, wrap(ctx, "lease", err)
	}
	if err := dbutil.CheckLease("postgres", n, visibility); err != nil {
		return nil, err
	}
	out := []storage.Delivery{}
	if n == 0 {
		return out, nil
	}
	var rs []dbutil.Leased
	err := q.returning(ctx, "lease", func(rows pgx.Rows) error {
		var r dbutil.Leased
		if err := rows.Scan(&r.Row, &r.Leases, &r.Activity, &r.Inbox, &r.Body, &r.OrderingKey, &r.NotBefore,
			&r.Attempts, &r.LastError, &r.Enqueued, &r.LeaseExpires); err != nil {
			return err
		}
		rs = append(rs, r)
		return nil
	}, leaseSQL, n, max(visibility.Microseconds(), 1))
	if err != nil {
		return nil, wrap(ctx, "lease", err)
	}
	out, corrupt, causes := dbutil.FinishLease(rs)
	for i, d := range corrupt {
		q.deadLetterCorrupt(ctx, d, causes[i])
	}
	return out, nil
}

// returning runs a write statement that returns rows, calling scan on
// each.
func (q *queue) returning(ctx context.Context, op string, scan func(pgx.Rows) error, sql string, args ...any) error {
	return q.one(ctx, op, func(db querier) error {
		rows, err := db.Query(ctx, sql, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			if err := scan(rows); err != nil {
				return err
			}
		}
		rows.Close()
		return rows.Err()
	})
}

// deadLetterCorrupt gives up on a delivery whose body no longer parses,
// keeping it, and logging it, for an operator to inspect.
func (q *queue) deadLetterCorrupt(ctx context.Context, d storage.Delivery, cause error) {
	err := q.GiveUp(ctx, d.Receipt, cause.Error())
	q.db.log.Error("postgres: dead-lettered a corrupt delivery", "id", d.ID, "activity", d.Activity, "inbox", d.Inbox, "err", cause, "give_up_err", err)
}

// settle ends the lease named by receipt with stmt, whose first two
// parameters are the id and the lease count. It reports a lease that is
// gone or taken over with the matching sentinel.
func (q *queue) settle(ctx context.Context, op, receipt, stmt string, args ...any) error {
	if err := ctx.Err(); err != nil {
		return wrap(ctx, op, err)
	}
	id, lease, err := dbutil.ParseReceipt("postgres", receipt)
	if err != nil {
		return err
	}
	tag, err := q.exec(ctx, op, stmt, append([]any{id, lease}, args...)...)
	if err != nil {
		return fmt.Errorf("postgres: %s %s: %w", op, receipt, ctxErr(ctx, err))
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	return q.lost(ctx, op, receipt, id)
}

// lost explains why the receipt for delivery id matched nothing.
func (q *queue) lost(ctx context.Context, op, receipt string, id int64) error {
	var gaveUp pgtype.Timestamptz
	err := q.queryRow(ctx, `SELECT gave_up FROM fedi_deliveries WHERE id = $1`, id).Scan(&gaveUp)
	switch {
	case errors.Is(err, pgx.ErrNoRows), err == nil && gaveUp.Valid:
		return dbutil.LeaseGone("postgres", op, receipt)
	case err != nil:
		return fmt.Errorf("postgres: %s %s: %w", op, receipt, ctxErr(ctx, err))
	}
	return dbutil.LeaseLost("postgres", op, receipt)
}

// held matches the delivery and lease of a receipt whose lease is still in
// force: not ended by Retry, not taken over by a later lease.
const held = ` WHERE id = $1 AND leases = $2 AND lease_until IS NOT NULL AND gave_up IS NULL`

func (q *queue) Ack(ctx context.Context, receipts ...string) error {
	if len(receipts) == 1 {
		return q.settle(ctx, "ack", receipts[0], `DELETE FROM fedi_deliveries`+held)
	}
	if err := ctx.Err(); err != nil {
		return wrap(ctx, "ack", err)
	}
	ids, leases := make([]int64, len(receipts)), make([]int64, len(receipts))
	for i, r := range receipts {
		var err error
		if ids[i], leases[i], err = dbutil.ParseReceipt("postgres", r); err != nil {
			return err
		}
	}
	if len(receipts) == 0 {
		return nil
	}
	// One statement, one commit, for the whole batch.
	acked := make(map[int64]int64, len(ids)) // delivery → the lease that acked it
	err := q.returning(ctx, "ack", func(rows pgx.Rows) error {
		var id, lease int64
		if err := rows.Scan(&id, &lease); err != nil {
			return err
		}
		acked[id] = lease
		return nil
	}, `
		DELETE FROM fedi_deliveries d USING unnest($1::bigint[], $2::bigint[]) AS r(id, leases)
		WHERE d.id = r.id AND d.leases = r.leases AND d.lease_until IS NOT NULL AND d.gave_up IS NULL
		RETURNING d.id, d.leases`, ids, leases)
	if err != nil {
		return wrap(ctx, "ack", err)
	}
	// Report the receipts as the other adapters do, which ack them one
	// after another: the receipt that acked a delivery succeeds once; the
	// same receipt again, or an older lease's listed after it, finds the
	// delivery gone; an older lease's listed before it finds it taken over.
	var (
		lost []error
		done = make(map[int64]bool, len(acked))
	)
	for i, id := range ids {
		lease, ok := acked[id]
		switch {
		case !ok:
			lost = append(lost, q.lost(ctx, "ack", receipts[i], id))
		case done[id]:
			lost = append(lost, dbutil.LeaseGone("postgres", "ack", receipts[i]))
		case leases[i] == lease:
			done[id] = true
		default:
			lost = append(lost, dbutil.LeaseLost("postgres", "ack", receipts[i]))
		}
	}
	return errors.Join(lost...)
}

func (q *queue) Retry(ctx context.Context, receipt string, at time.Time, lastErr string) error {
	return q.settle(ctx, "retry", receipt, `
		UPDATE fedi_deliveries SET not_before = $3, visible = $3, lease_until = NULL, attempts = attempts + 1, last_error = $4`+held,
		dbutil.Micro(at), dbutil.CleanError(lastErr))
}

func (q *queue) GiveUp(ctx context.Context, receipt string, lastErr string) error {
	return q.settle(ctx, "give up", receipt, `
		UPDATE fedi_deliveries SET gave_up = now(), lease_until = NULL, attempts = attempts + 1, last_error = $3`+held,
		dbutil.CleanError(lastErr))
}

// Extend implements storage.LeaseExtender.
func (q *queue) Extend(ctx context.Context, receipt string, visibility time.Duration) error {
	if err := dbutil.CheckVisibility("postgres", "extend", visibility); err != nil {
		return err
	}
	return q.settle(ctx, "extend", receipt, `
		UPDATE fedi_deliveries SET visible = now() + $3 * interval '1 microsecond', lease_until = now() + $3 * interval '1 microsecond'`+held,
		max(visibility.Microseconds(), 1))
}

func (q *queue) Stats(ctx context.Context) (storage.QueueStats, error) {
	var (
		st  storage.QueueStats
		age pgtype.Interval
	)
	err := q.queryRow(ctx, `
		SELECT
			count(*) FILTER (WHERE gave_up IS NULL AND visible <= now()),
			count(*) FILTER (WHERE gave_up IS NULL AND visible > now() AND (lease_until IS NULL OR lease_until <= now())),
			count(*) FILTER (WHERE gave_up IS NULL AND lease_until > now()),
			count(*) FILTER (WHERE gave_up IS NOT NULL),
			now() - min(enqueued) FILTER (WHERE gave_up IS NULL)
		FROM fedi_deliveries`).Scan(&st.Ready, &st.Scheduled, &st.Leased, &st.Dead, &age)
	if err != nil {
		return storage.QueueStats{}, wrap(ctx, "stats", err)
	}
	if age.Valid {
		st.OldestAge = time.Duration(age.Microseconds+int64(age.Days)*86400e6) * time.Microsecond
	}
	return st, nil
}

// Dead, Requeue and Discard implement storage.DeadLetters.

func (q *outerQueue) Dead(ctx context.Context, cursor string, limit int) ([]storage.Delivery, string, error) {
	at, id, err := dbutil.ParseDeadCursor("postgres", cursor)
	if err != nil {
		return nil, "", err
	}
	limit = dbutil.Limit(limit)
	rows, err := q.db.pool.Query(ctx, `
		SELECT id, activity, inbox, body, ordering_key, not_before, attempts, leases, last_error, enqueued, gave_up
		FROM fedi_deliveries
		WHERE gave_up IS NOT NULL AND (gave_up, id) < ($1, $2)
		ORDER BY gave_up DESC, id DESC LIMIT $3`, at, id, limit+1)
	if err != nil {
		return nil, "", wrap(ctx, "dead letters", err)
	}
	defer rows.Close()
	var (
		out  []storage.Delivery
		next string
		last struct {
			id     int64
			gaveUp time.Time
		}
	)
	for rows.Next() {
		if len(out) == limit {
			next = dbutil.DeadCursor(last.gaveUp, last.id)
			break
		}
		var (
			d    storage.Delivery
			n    int64
			body []byte
		)
		if err := rows.Scan(&n, &d.Activity, &d.Inbox, &body, &d.OrderingKey, &d.NotBefore, &d.Attempts, &d.Leases, &d.LastError, &d.Enqueued, &d.GaveUp); err != nil {
			return nil, "", wrap(ctx, "dead letters", err)
		}
		d.ID = dbutil.ID(n)
		if storage.CheckStored("delivery", d.Activity, body) == nil {
			d.Body = body // a corrupt body is left out; LastError says why it died
		}
		d.NotBefore, d.Enqueued, d.GaveUp = dbutil.Micro(d.NotBefore), dbutil.Micro(d.Enqueued), dbutil.Micro(d.GaveUp)
		last.id, last.gaveUp = n, d.GaveUp
		out = append(out, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, "", wrap(ctx, "dead letters", err)
	}
	return out, next, nil
}

func (q *outerQueue) Requeue(ctx context.Context, id string, at time.Time) error {
	n, err := dbutil.ParseID("postgres", id)
	if err != nil {
		return err
	}
	if err := q.db.inside(ctx, "requeue"); err != nil {
		return err
	}
	var changed int64
	err = pgx.BeginFunc(ctx, q.db.pool, func(tx pgx.Tx) error {
		// A lease statement sees the queue as it was when it started. One
		// that started before this Requeue commits could still find the
		// dead letter given up on, and lease a later delivery of its chain
		// after this transaction checked that none was. So wait out the
		// statements writing the queue now, and hold off new ones until
		// this commits; they then see the delivery live again. Reads go
		// on; a requeue is a rare act of an operator, and the wait lasts
		// one lease statement.
		if _, err := tx.Exec(ctx, `LOCK TABLE fedi_deliveries IN SHARE ROW EXCLUSIVE MODE`); err != nil {
			return err
		}
		var (
			inbox, key string
			overtaken  bool
		)
		err := tx.QueryRow(ctx, `SELECT inbox, ordering_key, overtaken FROM fedi_deliveries WHERE id = $1 AND gave_up IS NOT NULL FOR UPDATE`, n).
			Scan(&inbox, &key, &overtaken)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil // reported by deadChanged
		}
		if err != nil {
			return err
		}
		if key != "" && !overtaken {
			// Refuse if a later delivery of its chain has been leased.
			// The table lock above has waited out lease statements; a
			// later delivery still row-locked here is held by some other
			// transaction that may lease or send it, so give way to it
			// too. Once this commits, they wait for the requeued
			// delivery again.
			err = tx.QueryRow(ctx, `
				SELECT coalesce(bool_or(leases > 0), false) FROM (
					SELECT leases FROM fedi_deliveries
					WHERE inbox = $1 AND ordering_key = $2 AND id > $3 AND gave_up IS NULL
					ORDER BY id FOR UPDATE NOWAIT) later`, inbox, key, n).Scan(&overtaken)
			if pe := (*pgconn.PgError)(nil); errors.As(err, &pe) && pe.Code == "55P03" { // lock_not_available
				overtaken, err = true, nil
			}
			if err != nil {
				return err
			}
		}
		if overtaken {
			return fmt.Errorf("a later delivery of its ordering key to %q was leased: %w", inbox, storage.ErrConflict)
		}
		tag, err := tx.Exec(ctx, `
			UPDATE fedi_deliveries SET gave_up = NULL, not_before = $2, visible = $2, lease_until = NULL
			WHERE id = $1`, n, dbutil.Micro(at))
		changed = tag.RowsAffected()
		return err
	})
	return deadChanged(ctx, "requeue", id, changed, err)
}

func (q *outerQueue) Discard(ctx context.Context, id string) error {
	n, err := dbutil.ParseID("postgres", id)
	if err != nil {
		return err
	}
	if err := q.db.inside(ctx, "discard"); err != nil {
		return err
	}
	tag, err := q.db.pool.Exec(ctx, `DELETE FROM fedi_deliveries WHERE id = $1 AND gave_up IS NOT NULL`, n)
	return deadChanged(ctx, "discard", id, tag.RowsAffected(), err)
}

func deadChanged(ctx context.Context, op, id string, n int64, err error) error {
	if err != nil {
		return fmt.Errorf("postgres: %s %s: %w", op, id, ctxErr(ctx, err))
	}
	if n == 0 {
		return fmt.Errorf("postgres: %s %s: no such dead letter: %w", op, id, storage.ErrNotFound)
	}
	return nil
}
