package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/storage/internal/dbutil"
)

type keys struct{ db *DB }

func (s *keys) Key(ctx context.Context, keyID string) (storage.Key, error) {
	if dbutil.Unstorable(keyID) {
		return storage.Key{}, fmt.Errorf("postgres: key %q: %w", keyID, storage.ErrNotFound)
	}
	k := storage.Key{ID: keyID}
	err := s.db.pool.QueryRow(ctx, `SELECT owner, pem, created FROM fedi_keys WHERE id = $1`, keyID).Scan(&k.Owner, &k.PEM, &k.Created)
	if errors.Is(err, pgx.ErrNoRows) {
		return storage.Key{}, fmt.Errorf("postgres: key %q: %w", keyID, storage.ErrNotFound)
	}
	if err != nil {
		return storage.Key{}, fmt.Errorf("postgres: key %q: %w", keyID, ctxErr(ctx, err))
	}
	k.Created = dbutil.Micro(k.Created)
	return storage.ReadKey(k)
}

func (s *keys) Keys(ctx context.Context, owner string) ([]storage.Key, error) {
	if dbutil.Unstorable(owner) {
		return []storage.Key{}, nil
	}
	rows, err := s.db.pool.Query(ctx, `SELECT id, pem, created FROM fedi_keys WHERE owner = $1 ORDER BY created DESC, id`, owner)
	if err != nil {
		return nil, fmt.Errorf("postgres: keys of %q: %w", owner, ctxErr(ctx, err))
	}
	defer rows.Close()
	ks := []storage.Key{}
	for rows.Next() {
		k := storage.Key{Owner: owner}
		if err := rows.Scan(&k.ID, &k.PEM, &k.Created); err != nil {
			return nil, fmt.Errorf("postgres: keys of %q: %w", owner, ctxErr(ctx, err))
		}
		k.Created = dbutil.Micro(k.Created)
		if k, err = storage.ReadKey(k); err != nil {
			return nil, err
		}
		ks = append(ks, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: keys of %q: %w", owner, ctxErr(ctx, err))
	}
	return ks, nil
}

func (s *keys) PutKey(ctx context.Context, k storage.Key) error {
	if err := ctx.Err(); err != nil {
		return wrap(ctx, "put key", err)
	}
	if err := storage.CheckKey(k); err != nil {
		return wrap(ctx, "put key", err)
	}
	tag, err := s.db.pool.Exec(ctx, `
		INSERT INTO fedi_keys (id, owner, pem, created) VALUES ($1, $2, $3, coalesce($4, now()))
		ON CONFLICT (id) DO UPDATE SET pem = excluded.pem, created = excluded.created
		WHERE fedi_keys.owner = excluded.owner`, k.ID, k.Owner, k.PEM, toTS(k.Created))
	if err != nil {
		return fmt.Errorf("postgres: put key %q: %w", k.ID, ctxErr(ctx, err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: put key %q: owned by another actor: %w", k.ID, storage.ErrConflict)
	}
	return nil
}

func (s *keys) DeleteKey(ctx context.Context, keyID string) error {
	if dbutil.Unstorable(keyID) {
		return fmt.Errorf("postgres: delete key %q: %w", keyID, storage.ErrNotFound)
	}
	tag, err := s.db.pool.Exec(ctx, `DELETE FROM fedi_keys WHERE id = $1`, keyID)
	if err != nil {
		return fmt.Errorf("postgres: delete key %q: %w", keyID, ctxErr(ctx, err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: delete key %q: %w", keyID, storage.ErrNotFound)
	}
	return nil
}
