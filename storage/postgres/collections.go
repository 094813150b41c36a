package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/storage/internal/dbutil"
)

// The optional capabilities of Collections that the adapter has.
var _ storage.Memberships = (*collections)(nil)

type collections struct{ scope }

func (s *collections) Add(ctx context.Context, coll string, m storage.Member) error {
	if err := ctx.Err(); err != nil {
		return wrap(ctx, "add member", err)
	}
	if err := storage.CheckMember(coll, m); err != nil {
		return wrap(ctx, "add member", err)
	}
	// Adding in the same state keeps the place; a change of state draws a
	// new seq, moving the member to the front. One statement, so that
	// concurrent Adds of one member cannot both insert.
	_, err := s.exec(ctx, "add member", `
		INSERT INTO fedi_members (collection, member, state, activity, added) VALUES ($1, $2, $3, $4, now())
		ON CONFLICT (collection, member) DO UPDATE SET
			seq = CASE WHEN fedi_members.state = excluded.state THEN fedi_members.seq ELSE nextval('fedi_members_seq') END,
			added = CASE WHEN fedi_members.state = excluded.state THEN fedi_members.added ELSE excluded.added END,
			activity = CASE WHEN excluded.activity = '' THEN fedi_members.activity ELSE excluded.activity END,
			state = excluded.state`,
		coll, m.IRI, int16(m.State), m.Activity)
	if err != nil {
		return fmt.Errorf("postgres: add %q to %q: %w", m.IRI, coll, ctxErr(ctx, err))
	}
	return nil
}

func (s *collections) Remove(ctx context.Context, coll, member string) error {
	if dbutil.Unstorable(coll) || dbutil.Unstorable(member) {
		return fmt.Errorf("postgres: remove %q from %q: %w", member, coll, storage.ErrNotFound)
	}
	tag, err := s.exec(ctx, "remove member", `DELETE FROM fedi_members WHERE collection = $1 AND member = $2`, coll, member)
	if err != nil {
		return fmt.Errorf("postgres: remove %q from %q: %w", member, coll, ctxErr(ctx, err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: remove %q from %q: %w", member, coll, storage.ErrNotFound)
	}
	return nil
}

func (s *collections) Contains(ctx context.Context, coll, member string) (storage.Member, error) {
	if dbutil.Unstorable(coll) || dbutil.Unstorable(member) {
		return storage.Member{}, fmt.Errorf("postgres: %q in %q: %w", member, coll, storage.ErrNotFound)
	}
	m := storage.Member{IRI: member}
	var state int16
	err := s.queryRow(ctx, `SELECT state, activity, added FROM fedi_members WHERE collection = $1 AND member = $2`, coll, member).
		Scan(&state, &m.Activity, &m.Added)
	if errors.Is(err, pgx.ErrNoRows) {
		return storage.Member{}, fmt.Errorf("postgres: %q in %q: %w", member, coll, storage.ErrNotFound)
	}
	if err != nil {
		return storage.Member{}, fmt.Errorf("postgres: %q in %q: %w", member, coll, ctxErr(ctx, err))
	}
	m.State, m.Added = storage.State(state), dbutil.Micro(m.Added)
	return m, nil
}

func (s *collections) Count(ctx context.Context, coll string, state storage.State) (int, error) {
	if err := dbutil.CheckState("postgres", "count", state); err != nil {
		return 0, err
	}
	if dbutil.Unstorable(coll) {
		return 0, nil
	}
	var n int
	err := s.queryRow(ctx, `SELECT count(*) FROM fedi_members WHERE collection = $1 AND state = $2`, coll, int16(state)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("postgres: count %q: %w", coll, ctxErr(ctx, err))
	}
	return n, nil
}

func (s *collections) Page(ctx context.Context, coll string, opts storage.PageOptions) (storage.Page, error) {
	if err := dbutil.CheckState("postgres", "page", opts.State); err != nil {
		return storage.Page{}, err
	}
	before, err := dbutil.ParseCursor("postgres", opts.Cursor)
	if err != nil {
		return storage.Page{}, err
	}
	if dbutil.Unstorable(coll) {
		return storage.Page{}, nil
	}
	limit := dbutil.Limit(opts.Limit)
	rows, err := s.query(ctx, `
		SELECT seq, member, activity, added FROM fedi_members
		WHERE collection = $1 AND state = $2 AND seq < $3
		ORDER BY seq DESC LIMIT $4`, coll, int16(opts.State), before, limit+1)
	if err != nil {
		return storage.Page{}, fmt.Errorf("postgres: page %q: %w", coll, ctxErr(ctx, err))
	}
	p, err := scanPage(rows, opts.State, limit)
	if err != nil {
		return storage.Page{}, fmt.Errorf("postgres: page %q: %w", coll, ctxErr(ctx, err))
	}
	return p, nil
}

// CollectionsOf implements storage.Memberships. seq orders the entries
// of all collections alike, so the cursor is a position as in Page.
func (s *collections) CollectionsOf(ctx context.Context, member string, opts storage.PageOptions) (storage.Page, error) {
	if err := dbutil.CheckState("postgres", "collections of", opts.State); err != nil {
		return storage.Page{}, err
	}
	before, err := dbutil.ParseCursor("postgres", opts.Cursor)
	if err != nil {
		return storage.Page{}, err
	}
	if dbutil.Unstorable(member) {
		return storage.Page{}, nil
	}
	limit := dbutil.Limit(opts.Limit)
	rows, err := s.query(ctx, `
		SELECT seq, collection, activity, added FROM fedi_members
		WHERE member = $1 AND state = $2 AND seq < $3
		ORDER BY seq DESC LIMIT $4`, member, int16(opts.State), before, limit+1)
	if err != nil {
		return storage.Page{}, fmt.Errorf("postgres: collections of %q: %w", member, ctxErr(ctx, err))
	}
	p, err := scanPage(rows, opts.State, limit)
	if err != nil {
		return storage.Page{}, fmt.Errorf("postgres: collections of %q: %w", member, ctxErr(ctx, err))
	}
	return p, nil
}

// scanPage reads a page of up to limit entries in state from rows of seq,
// IRI, activity and added, one more than limit if there is a next page,
// and closes rows.
func scanPage(rows pgx.Rows, state storage.State, limit int) (storage.Page, error) {
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
		if err := rows.Scan(&last, &m.IRI, &m.Activity, &m.Added); err != nil {
			return storage.Page{}, err
		}
		m.Added = dbutil.Micro(m.Added)
		p.Members = append(p.Members, m)
	}
	rows.Close()
	return p, rows.Err()
}
