package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/storage/internal/dbutil"
)

// The optional capabilities of Collections that the adapter has.
var _ storage.Memberships = (*collections)(nil)

type collections struct{ scope }

const (
	memberSQL       = `SELECT state, activity FROM fedi_members WHERE collection = ? AND member = ?`
	memberActSQL    = `UPDATE fedi_members SET activity = ? WHERE collection = ? AND member = ?`
	removeMemberSQL = `DELETE FROM fedi_members WHERE collection = ? AND member = ?`
	addMemberSQL    = `INSERT INTO fedi_members (collection, member, state, activity, added) VALUES (?, ?, ?, ?, ?)`
	// upsertMemberSQL adds a member, or sets the activity of one already
	// in the same state when one is given; it changes nothing for a
	// member in another state.
	upsertMemberSQL = `
		INSERT INTO fedi_members (collection, member, state, activity, added) VALUES (?1, ?2, ?3, ?4, ?5)
		ON CONFLICT (collection, member) DO UPDATE SET activity = CASE ?4 WHEN '' THEN activity ELSE ?4 END
		WHERE state = ?3`
	containsSQL = `SELECT state, activity, added FROM fedi_members WHERE collection = ? AND member = ?`
)

func (s *collections) Add(ctx context.Context, coll string, m storage.Member) error {
	if err := ctx.Err(); err != nil {
		return wrap("add member", err)
	}
	if err := storage.CheckMember(coll, m); err != nil {
		return wrap("add member", err)
	}
	// Most adds are of a new member, or of one in the same state: one
	// statement, without a savepoint. A change of state takes the path
	// below.
	done := false
	err := s.write1(ctx, func(ctx context.Context, tx *sql.Tx) error {
		st, err := s.db.txStmt(ctx, tx, upsertMemberSQL)
		if err != nil {
			return err
		}
		res, err := st.ExecContext(ctx, coll, m.IRI, m.State, m.Activity, nowMicro())
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		done = n == 1
		return err
	})
	if err != nil || done {
		if err != nil {
			return fmt.Errorf("sqlite: add %q to %q: %w", m.IRI, coll, hint(err))
		}
		return nil
	}
	err = s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var (
			state    storage.State
			activity string
		)
		st, err := s.db.txStmt(ctx, tx, memberSQL)
		if err != nil {
			return err
		}
		err = st.QueryRowContext(ctx, coll, m.IRI).Scan(&state, &activity)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return err
		case state == m.State:
			if m.Activity == "" {
				return nil
			}
			_, err := tx.ExecContext(ctx, memberActSQL, m.Activity, coll, m.IRI)
			return err
		default:
			// A change of state takes a new position: delete and insert
			// again, in this transaction, to draw a fresh seq.
			if m.Activity == "" {
				m.Activity = activity
			}
			if _, err := tx.ExecContext(ctx, removeMemberSQL, coll, m.IRI); err != nil {
				return err
			}
		}
		if st, err = s.db.txStmt(ctx, tx, addMemberSQL); err != nil {
			return err
		}
		_, err = st.ExecContext(ctx, coll, m.IRI, m.State, m.Activity, nowMicro())
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: add %q to %q: %w", m.IRI, coll, hint(err))
	}
	return nil
}

func (s *collections) Remove(ctx context.Context, coll, member string) error {
	if dbutil.Unstorable(coll) || dbutil.Unstorable(member) {
		return fmt.Errorf("sqlite: remove %q from %q: %w", member, coll, storage.ErrNotFound)
	}
	res, err := s.exec(ctx, removeMemberSQL, coll, member)
	if err != nil {
		return fmt.Errorf("sqlite: remove %q from %q: %w", member, coll, hint(err))
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return err
	}
	return fmt.Errorf("sqlite: remove %q from %q: %w", member, coll, storage.ErrNotFound)
}

func (s *collections) Contains(ctx context.Context, coll, member string) (storage.Member, error) {
	if dbutil.Unstorable(coll) || dbutil.Unstorable(member) {
		return storage.Member{}, fmt.Errorf("sqlite: %q in %q: %w", member, coll, storage.ErrNotFound)
	}
	m := storage.Member{IRI: member}
	var added int64
	err := s.queryRow(ctx, containsSQL, coll, member).Scan(&m.State, &m.Activity, &added)
	if errors.Is(err, sql.ErrNoRows) {
		return storage.Member{}, fmt.Errorf("sqlite: %q in %q: %w", member, coll, storage.ErrNotFound)
	}
	if err != nil {
		return storage.Member{}, fmt.Errorf("sqlite: %q in %q: %w", member, coll, hint(err))
	}
	m.Added = dbutil.FromMicro(added)
	return m, nil
}

func (s *collections) Count(ctx context.Context, coll string, state storage.State) (int, error) {
	if err := dbutil.CheckState("sqlite", "count", state); err != nil {
		return 0, err
	}
	if dbutil.Unstorable(coll) {
		return 0, nil
	}
	var n int
	err := s.queryRow(ctx, `SELECT count(*) FROM fedi_members WHERE collection = ? AND state = ?`, coll, state).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("sqlite: count %q: %w", coll, hint(err))
	}
	return n, nil
}

func (s *collections) Page(ctx context.Context, coll string, opts storage.PageOptions) (storage.Page, error) {
	if err := dbutil.CheckState("sqlite", "page", opts.State); err != nil {
		return storage.Page{}, err
	}
	before, err := dbutil.ParseCursor("sqlite", opts.Cursor)
	if err != nil {
		return storage.Page{}, err
	}
	if dbutil.Unstorable(coll) {
		return storage.Page{}, nil
	}
	limit := dbutil.Limit(opts.Limit)
	rows, err := s.query(ctx, `
		SELECT seq, member, activity, added FROM fedi_members
		WHERE collection = ? AND state = ? AND seq < ?
		ORDER BY seq DESC LIMIT ?`, coll, opts.State, before, limit+1)
	if err != nil {
		return storage.Page{}, fmt.Errorf("sqlite: page %q: %w", coll, hint(err))
	}
	p, err := scanPage(rows, opts.State, limit)
	if err != nil {
		return storage.Page{}, fmt.Errorf("sqlite: page %q: %w", coll, hint(err))
	}
	return p, nil
}

// CollectionsOf implements storage.Memberships. seq orders the entries
// of all collections alike, so the cursor is a position as in Page.
func (s *collections) CollectionsOf(ctx context.Context, member string, opts storage.PageOptions) (storage.Page, error) {
	if err := dbutil.CheckState("sqlite", "collections of", opts.State); err != nil {
		return storage.Page{}, err
	}
	before, err := dbutil.ParseCursor("sqlite", opts.Cursor)
	if err != nil {
		return storage.Page{}, err
	}
	if dbutil.Unstorable(member) {
		return storage.Page{}, nil
	}
	limit := dbutil.Limit(opts.Limit)
	rows, err := s.query(ctx, `
		SELECT seq, collection, activity, added FROM fedi_members
		WHERE member = ? AND state = ? AND seq < ?
		ORDER BY seq DESC LIMIT ?`, member, opts.State, before, limit+1)
	if err != nil {
		return storage.Page{}, fmt.Errorf("sqlite: collections of %q: %w", member, hint(err))
	}
	p, err := scanPage(rows, opts.State, limit)
	if err != nil {
		return storage.Page{}, fmt.Errorf("sqlite: collections of %q: %w", member, hint(err))
	}
	return p, nil
}

// scanPage reads a page of up to limit entries in state from rows of seq,
// IRI, activity and added, one more than limit if there is a next page,
// and closes rows.
func scanPage(rows *sql.Rows, state storage.State, limit int) (storage.Page, error) {
	defer rows.Close()
	var (
		p    storage.Page
		last int64
	)
	for rows.Next() {
		if len(p.Members) == limit {
			p.Next = dbutil.Cursor(last)
			break
		}
		m := storage.Member{State: state}
		var added int64
		if err := rows.Scan(&last, &m.IRI, &m.Activity, &added); err != nil {
			return storage.Page{}, err
		}
		m.Added = dbutil.FromMicro(added)
		p.Members = append(p.Members, m)
	}
	return p, rows.Err()
}
