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

type objects struct{ db *DB }

func (s *objects) Get(ctx context.Context, iri string) (storage.Object, error) {
	if dbutil.Unstorable(iri) {
		return storage.Object{}, fmt.Errorf("sqlite: get object %q: %w", iri, storage.ErrNotFound)
	}
	var (
		o                storage.Object
		updated, deleted int64
		data             []byte
	)
	err := s.db.queryRow(ctx, `SELECT type, owner, data, updated, deleted FROM fedi_objects WHERE iri = ?`, iri).
		Scan(&o.Type, &o.Owner, &data, &updated, &deleted)
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
	// One statement inserts, or replaces when the owner matches and the
	// object is live; otherwise it changes nothing and we report why.
	res, err := s.db.exec(ctx, `
		INSERT INTO fedi_objects (iri, type, owner, data, updated) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (iri) DO UPDATE SET type = excluded.type, data = excluded.data, updated = excluded.updated
		WHERE fedi_objects.owner = excluded.owner AND fedi_objects.deleted = 0`,
		obj.IRI, obj.Type, obj.Owner, []byte(obj.Data), nowMicro())
	if err != nil {
		return fmt.Errorf("sqlite: put object %q: %w", obj.IRI, hint(err))
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return err
	}
	return s.conflict(ctx, obj.IRI)
}

// conflict explains why a Put changed nothing.
func (s *objects) conflict(ctx context.Context, iri string) error {
	var (
		owner   string
		deleted int64
	)
	err := s.db.w.QueryRowContext(ctx, `SELECT owner, deleted FROM fedi_objects WHERE iri = ?`, iri).Scan(&owner, &deleted)
	if err != nil {
		return fmt.Errorf("sqlite: put object %q: %w", iri, hint(err))
	}
	if deleted != 0 {
		return fmt.Errorf("sqlite: put object %q: tombstoned: %w", iri, storage.ErrConflict)
	}
	return fmt.Errorf("sqlite: put object %q: owned by %q: %w", iri, owner, storage.ErrConflict)
}

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
	res, err := s.db.w.ExecContext(ctx, `
		UPDATE fedi_objects SET type = 'Tombstone', data = ?, updated = ?,
			deleted = CASE deleted WHEN 0 THEN ? ELSE deleted END
		WHERE iri = ?`, []byte(tombstone), now, now, iri)
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
	err := s.db.queryRow(ctx, `SELECT owner FROM fedi_objects WHERE iri = ?`, iri).Scan(&owner)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("sqlite: object owner %q: %w", iri, storage.ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("sqlite: object owner %q: %w", iri, hint(err))
	}
	return owner, nil
}
