package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/storage/internal/dbutil"
)

type objects struct{ scope }

const (
	getObjectSQL    = `SELECT type, owner, data, updated, deleted FROM fedi_objects WHERE iri = ?`
	objectOwnerSQL  = `SELECT owner, deleted FROM fedi_objects WHERE iri = ?`
	tombstoneSQL    = `UPDATE fedi_objects SET type = 'Tombstone', data = ?, updated = ?, deleted = CASE deleted WHEN 0 THEN ? ELSE deleted END WHERE iri = ?`
	objectOwnerOnly = `SELECT owner FROM fedi_objects WHERE iri = ?`
)

func (s *objects) Get(ctx context.Context, iri string) (storage.Object, error) {
	if dbutil.Unstorable(iri) {
		return storage.Object{}, fmt.Errorf("sqlite: get object %q: %w", iri, storage.ErrNotFound)
	}
	var (
		o                storage.Object
		updated, deleted int64
		data             []byte
	)
	err := s.queryRow(ctx, getObjectSQL, iri).Scan(&o.Type, &o.Owner, &data, &updated, &deleted)
	if errors.Is(err, sql.ErrNoRows) {
		return storage.Object{}, fmt.Errorf("sqlite: get object %q: %w", iri, storage.ErrNotFound)
	}
	if err != nil {
		return storage.Object{}, fmt.Errorf("sqlite: get object %q: %w", iri, hint(err))
	}
	if err := storage.CheckStored("object", iri, data); err != nil {
		return storage.Object{}, wrap("get object", err)
	}
	o.IRI, o.Data = iri, json.RawMessage(data)
	o.Updated, o.Deleted = dbutil.FromMicro(updated), dbutil.FromMicro(deleted)
	return o, nil
}

func (s *objects) Put(ctx context.Context, obj storage.Object) error {
	if err := ctx.Err(); err != nil {
		return wrap("put object", err)
	}
	if err := storage.CheckObject(obj); err != nil {
		return wrap("put object", err)
	}
	err := s.write1(ctx, func(ctx context.Context, tx *sql.Tx) error {
		st, err := s.db.txStmt(ctx, tx, putObjectSQL)
		if err != nil {
			return err
		}
		res, err := st.ExecContext(ctx, obj.IRI, obj.Type, obj.Owner, []byte(obj.Data), nowMicro())
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			return err
		}
		// It changed nothing: say why.
		var (
			owner   string
			deleted int64
		)
		if st, err = s.db.txStmt(ctx, tx, objectOwnerSQL); err != nil {
			return err
		}
		if err := st.QueryRowContext(ctx, obj.IRI).Scan(&owner, &deleted); err != nil {
			return err
		}
		if deleted != 0 {
			return fmt.Errorf("tombstoned: %w", storage.ErrConflict)
		}
		return fmt.Errorf("owned by %q: %w", owner, storage.ErrConflict)
	})
	if err != nil {
		return fmt.Errorf("sqlite: put object %q: %w", obj.IRI, hint(err))
	}
	return nil
}

// putObjectSQL inserts an object, or replaces it when the owner matches
// and it is live; otherwise it changes nothing.
const putObjectSQL = `
INSERT INTO fedi_objects (iri, type, owner, data, updated) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (iri) DO UPDATE SET type = excluded.type, data = excluded.data, updated = excluded.updated
WHERE fedi_objects.owner = excluded.owner AND fedi_objects.deleted = 0`

func (s *objects) Tombstone(ctx context.Context, iri string, tombstone json.RawMessage) error {
	if err := ctx.Err(); err != nil {
		return wrap("tombstone object", err)
	}
	if err := storage.CheckJSON("tombstone", tombstone); err != nil {
		return fmt.Errorf("sqlite: tombstone object %q: %w", iri, hint(err))
	}
	if dbutil.Unstorable(iri) {
		return fmt.Errorf("sqlite: tombstone object %q: %w", iri, storage.ErrNotFound)
	}
	now := nowMicro()
	res, err := s.exec(ctx, tombstoneSQL, []byte(tombstone), now, now, iri)
	if err != nil {
		return fmt.Errorf("sqlite: tombstone object %q: %w", iri, hint(err))
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return err
	}
	return fmt.Errorf("sqlite: tombstone object %q: %w", iri, storage.ErrNotFound)
}

func (s *objects) Owner(ctx context.Context, iri string) (string, error) {
	if dbutil.Unstorable(iri) {
		return "", fmt.Errorf("sqlite: object owner %q: %w", iri, storage.ErrNotFound)
	}
	var owner string
	err := s.queryRow(ctx, objectOwnerOnly, iri).Scan(&owner)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("sqlite: object owner %q: %w", iri, storage.ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("sqlite: object owner %q: %w", iri, hint(err))
	}
	return owner, nil
}
