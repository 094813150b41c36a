package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/storage/internal/dbutil"
)

type actors struct{ scope }

func (s *actors) Get(ctx context.Context, iri string) (storage.RemoteActor, error) {
	return s.get(ctx, "get actor", iri, `SELECT iri, inbox, shared_inbox, document, fetched, gone FROM fedi_actors WHERE iri = ?`, iri)
}

func (s *actors) ByKey(ctx context.Context, keyID string) (storage.RemoteActor, error) {
	return s.get(ctx, "actor by key", keyID, `
		SELECT a.iri, a.inbox, a.shared_inbox, a.document, a.fetched, a.gone
		FROM fedi_actor_keys k JOIN fedi_actors a ON a.iri = k.actor WHERE k.key_id = ?`, keyID)
}

// get reads an actor and its keys in one read transaction, so that a
// concurrent Put is seen whole or not at all.
func (s *actors) get(ctx context.Context, op, key, query string, arg string) (storage.RemoteActor, error) {
	if dbutil.Unstorable(key) {
		return storage.RemoteActor{}, fmt.Errorf("sqlite: %s %q: %w", op, key, storage.ErrNotFound)
	}
	var a storage.RemoteActor
	err := s.read(ctx, func(ctx context.Context, q querier) error {
		var (
			doc           []byte
			fetched, gone int64
		)
		err := q.QueryRowContext(ctx, query, arg).Scan(&a.IRI, &a.Inbox, &a.SharedInbox, &doc, &fetched, &gone)
		if errors.Is(err, sql.ErrNoRows) {
			return storage.ErrNotFound
		}
		if err != nil {
			return err
		}
		if doc != nil {
			if err := storage.CheckStored("actor", a.IRI, doc); err != nil {
				return err
			}
			a.Document = doc
		}
		a.Fetched, a.Gone = dbutil.FromMicro(fetched), dbutil.FromMicro(gone)
		rows, err := q.QueryContext(ctx, `SELECT key_id, pem FROM fedi_actor_keys WHERE actor = ? ORDER BY pos`, a.IRI)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var k storage.PublicKey
			if err := rows.Scan(&k.ID, &k.PEM); err != nil {
				return err
			}
			a.Keys = append(a.Keys, k)
		}
		return rows.Err()
	})
	var ce *storage.CorruptError
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return storage.RemoteActor{}, fmt.Errorf("sqlite: %s %q: %w", op, key, storage.ErrNotFound)
	case errors.As(err, &ce):
		return storage.RemoteActor{}, wrap(op, err)
	case err != nil:
		return storage.RemoteActor{}, fmt.Errorf("sqlite: %s %q: %w", op, key, hint(err))
	}
	return a, nil
}

func (s *actors) Put(ctx context.Context, a storage.RemoteActor) error {
	if err := ctx.Err(); err != nil {
		return wrap("put actor", err)
	}
	if err := storage.CheckActor(a); err != nil {
		return wrap("put actor", err)
	}
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		for _, k := range a.Keys {
			var owner string
			err := tx.QueryRowContext(ctx, `SELECT actor FROM fedi_actor_keys WHERE key_id = ? AND actor <> ?`, k.ID, a.IRI).Scan(&owner)
			if err == nil {
				return fmt.Errorf("key %q belongs to %q: %w", k.ID, owner, storage.ErrConflict)
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		}
		var doc []byte
		if a.Document != nil {
			doc = a.Document
		}
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO fedi_actors (iri, inbox, shared_inbox, document, fetched, gone) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (iri) DO UPDATE SET inbox = excluded.inbox, shared_inbox = excluded.shared_inbox,
				document = excluded.document, fetched = excluded.fetched, gone = excluded.gone`,
			a.IRI, a.Inbox, a.SharedInbox, doc, dbutil.ToMicro(a.Fetched), dbutil.ToMicro(a.Gone)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM fedi_actor_keys WHERE actor = ?`, a.IRI); err != nil {
			return err
		}
		for i, k := range a.Keys {
			if _, err := tx.ExecContext(ctx, `INSERT INTO fedi_actor_keys (key_id, actor, pos, pem) VALUES (?, ?, ?, ?)`,
				k.ID, a.IRI, i, k.PEM); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: put actor %q: %w", a.IRI, hint(err))
	}
	return nil
}

func (s *actors) MarkGone(ctx context.Context, iri string, at time.Time) error {
	if err := ctx.Err(); err != nil {
		return wrap("mark gone", err)
	}
	if err := storage.CheckIRI("actor IRI", iri); err != nil {
		return wrap("mark gone", err)
	}
	us := dbutil.ToMicro(at)
	if us == 0 {
		us = nowMicro()
	}
	_, err := s.exec(ctx, `
		INSERT INTO fedi_actors (iri, inbox, shared_inbox, document, fetched, gone) VALUES (?, '', '', NULL, 0, ?)
		ON CONFLICT (iri) DO UPDATE SET gone = excluded.gone`, iri, us)
	if err != nil {
		return fmt.Errorf("sqlite: mark gone %q: %w", iri, hint(err))
	}
	return nil
}

func (s *actors) Delete(ctx context.Context, iri string) error {
	if dbutil.Unstorable(iri) {
		return fmt.Errorf("sqlite: delete actor %q: %w", iri, storage.ErrNotFound)
	}
	// The keys go with the actor: ON DELETE CASCADE.
	res, err := s.exec(ctx, `DELETE FROM fedi_actors WHERE iri = ?`, iri)
	if err != nil {
		return fmt.Errorf("sqlite: delete actor %q: %w", iri, hint(err))
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return err
	}
	return fmt.Errorf("sqlite: delete actor %q: %w", iri, storage.ErrNotFound)
}
