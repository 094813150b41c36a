package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/storage/internal/dbutil"
)

type objects struct{ scope }

func (s *objects) Get(ctx context.Context, iri string) (storage.Object, error) {
	if dbutil.Unstorable(iri) {
		return storage.Object{}, fmt.Errorf("postgres: get object %q: %w", iri, storage.ErrNotFound)
	}
	var (
		o       storage.Object
		data    []byte
		deleted pgtype.Timestamptz
	)
	err := s.queryRow(ctx, `SELECT type, owner, data, updated, deleted FROM fedi_objects WHERE iri = $1`, iri).
		Scan(&o.Type, &o.Owner, &data, &o.Updated, &deleted)
	if errors.Is(err, pgx.ErrNoRows) {
		return storage.Object{}, fmt.Errorf("postgres: get object %q: %w", iri, storage.ErrNotFound)
	}
	if err != nil {
		return storage.Object{}, fmt.Errorf("postgres: get object %q: %w", iri, ctxErr(ctx, err))
	}
	if err := storage.CheckStored("object", iri, data); err != nil {
		return storage.Object{}, wrap(ctx, "get object", err)
	}
	o.IRI, o.Data = iri, json.RawMessage(data)
	o.Updated, o.Deleted = dbutil.Micro(o.Updated), fromTS(deleted)
	return o, nil
}

func (s *objects) Put(ctx context.Context, obj storage.Object) error {
	if err := ctx.Err(); err != nil {
		return wrap(ctx, "put object", err)
	}
	if err := storage.CheckObject(obj); err != nil {
		return wrap(ctx, "put object", err)
	}
	// One statement inserts, or replaces when the owner matches and the
	// object is live; otherwise it changes nothing and we report why.
	tag, err := s.exec(ctx, "put object", `
		INSERT INTO fedi_objects (iri, type, owner, data, updated) VALUES ($1, $2, $3, $4, now())
		ON CONFLICT (iri) DO UPDATE SET type = excluded.type, data = excluded.data, updated = excluded.updated
		WHERE fedi_objects.owner = excluded.owner AND fedi_objects.deleted IS NULL`,
		obj.IRI, obj.Type, obj.Owner, []byte(obj.Data))
	if err != nil {
		return fmt.Errorf("postgres: put object %q: %w", obj.IRI, ctxErr(ctx, err))
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	var (
		owner   string
		deleted pgtype.Timestamptz
	)
	if err := s.queryRow(ctx, `SELECT owner, deleted FROM fedi_objects WHERE iri = $1`, obj.IRI).Scan(&owner, &deleted); err != nil {
		return fmt.Errorf("postgres: put object %q: %w", obj.IRI, ctxErr(ctx, err))
	}
	if deleted.Valid {
		return fmt.Errorf("postgres: put object %q: tombstoned: %w", obj.IRI, storage.ErrConflict)
	}
	return fmt.Errorf("postgres: put object %q: owned by %q: %w", obj.IRI, owner, storage.ErrConflict)
}

func (s *objects) Tombstone(ctx context.Context, iri string, tombstone json.RawMessage) error {
	if err := ctx.Err(); err != nil {
		return wrap(ctx, "tombstone object", err)
	}
	if err := storage.CheckJSON("tombstone", tombstone); err != nil {
		return fmt.Errorf("postgres: tombstone object %q: %w", iri, ctxErr(ctx, err))
	}
	if dbutil.Unstorable(iri) {
		return fmt.Errorf("postgres: tombstone object %q: %w", iri, storage.ErrNotFound)
	}
	tag, err := s.exec(ctx, "tombstone object", `
		UPDATE fedi_objects SET type = 'Tombstone', data = $2, updated = now(), deleted = coalesce(deleted, now())
		WHERE iri = $1`, iri, []byte(tombstone))
	if err != nil {
		return fmt.Errorf("postgres: tombstone object %q: %w", iri, ctxErr(ctx, err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: tombstone object %q: %w", iri, storage.ErrNotFound)
	}
	return nil
}

func (s *objects) Owner(ctx context.Context, iri string) (string, error) {
	if dbutil.Unstorable(iri) {
		return "", fmt.Errorf("postgres: object owner %q: %w", iri, storage.ErrNotFound)
	}
	var owner string
	err := s.queryRow(ctx, `SELECT owner FROM fedi_objects WHERE iri = $1`, iri).Scan(&owner)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("postgres: object owner %q: %w", iri, storage.ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("postgres: object owner %q: %w", iri, ctxErr(ctx, err))
	}
	return owner, nil
}
