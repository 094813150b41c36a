package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/storage/internal/dbutil"
)

type keys struct{ db *DB }

func (s *keys) Key(ctx context.Context, keyID string) (storage.Key, error) {
	if dbutil.Unstorable(keyID) {
		return storage.Key{}, fmt.Errorf("sqlite: key %q: %w", keyID, storage.ErrNotFound)
	}
	k := storage.Key{ID: keyID}
	var created int64
	err := s.db.r.QueryRowContext(ctx, `SELECT owner, pem, created FROM fedi_keys WHERE id = ?`, keyID).Scan(&k.Owner, &k.PEM, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return storage.Key{}, fmt.Errorf("sqlite: key %q: %w", keyID, storage.ErrNotFound)
	}
	if err != nil {
		return storage.Key{}, fmt.Errorf("sqlite: key %q: %w", keyID, hint(err))
	}
	k.Created = dbutil.FromMicro(created)
	return storage.ReadKey(k)
}

func (s *keys) Keys(ctx context.Context, owner string) ([]storage.Key, error) {
	if dbutil.Unstorable(owner) {
		return []storage.Key{}, nil
	}
	rows, err := s.db.r.QueryContext(ctx, `SELECT id, pem, created FROM fedi_keys WHERE owner = ? ORDER BY created DESC, id`, owner)
	if err != nil {
		return nil, fmt.Errorf("sqlite: keys of %q: %w", owner, hint(err))
	}
	defer rows.Close()
	ks := []storage.Key{}
	for rows.Next() {
		k := storage.Key{Owner: owner}
		var created int64
		if err := rows.Scan(&k.ID, &k.PEM, &created); err != nil {
			return nil, fmt.Errorf("sqlite: keys of %q: %w", owner, hint(err))
		}
		k.Created = dbutil.FromMicro(created)
		if k, err = storage.ReadKey(k); err != nil {
			return nil, err
		}
		ks = append(ks, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: keys of %q: %w", owner, hint(err))
	}
	return ks, nil
}

func (s *keys) PutKey(ctx context.Context, k storage.Key) error {
	if err := ctx.Err(); err != nil {
		return wrap("put key", err)
	}
	if err := storage.CheckKey(k); err != nil {
		return wrap("put key", err)
	}
	created := dbutil.ToMicro(k.Created)
	if created == 0 {
		created = nowMicro()
	}
	res, err := s.db.write(ctx, `
		INSERT INTO fedi_keys (id, owner, pem, created) VALUES (?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET pem = excluded.pem, created = excluded.created
		WHERE fedi_keys.owner = excluded.owner`, k.ID, k.Owner, k.PEM, created)
	if err != nil {
		return fmt.Errorf("sqlite: put key %q: %w", k.ID, hint(err))
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return err
	}
	return fmt.Errorf("sqlite: put key %q: owned by another actor: %w", k.ID, storage.ErrConflict)
}

func (s *keys) DeleteKey(ctx context.Context, keyID string) error {
	if dbutil.Unstorable(keyID) {
		return fmt.Errorf("sqlite: delete key %q: %w", keyID, storage.ErrNotFound)
	}
	res, err := s.db.write(ctx, `DELETE FROM fedi_keys WHERE id = ?`, keyID)
	if err != nil {
		return fmt.Errorf("sqlite: delete key %q: %w", keyID, hint(err))
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return err
	}
	return fmt.Errorf("sqlite: delete key %q: %w", keyID, storage.ErrNotFound)
}
