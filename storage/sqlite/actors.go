package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/storage/internal/dbutil"
)

// The optional capabilities of Actors that the adapter has.
var _ storage.ActorAddresses = (*actors)(nil)

type actors struct{ scope }

func (s *actors) Get(ctx context.Context, iri string) (storage.RemoteActor, error) {
	return s.get(ctx, "get actor", iri, getActorSQL)
}

// Addresses implements storage.ActorAddresses: one statement, the IRIs
// passed as one JSON array, so that it is prepared once whatever their
// number.
func (s *actors) Addresses(ctx context.Context, iris []string) ([]storage.RemoteActor, error) {
	if err := ctx.Err(); err != nil {
		return nil, wrap("actor addresses", err)
	}
	keep := dbutil.Storable(iris)
	out := make([]storage.RemoteActor, 0, len(keep))
	if len(keep) == 0 {
		return out, nil
	}
	list, err := json.Marshal(keep)
	if err != nil {
		return nil, wrap("actor addresses", err)
	}
	rows, err := s.query(ctx, addressesSQL, string(list))
	if err != nil {
		return nil, fmt.Errorf("sqlite: actor addresses: %w", hint(err))
	}
	defer rows.Close()
	for rows.Next() {
		var (
			a             storage.RemoteActor
			fetched, gone int64
		)
		if err := rows.Scan(&a.IRI, &a.Inbox, &a.SharedInbox, &fetched, &gone); err != nil {
			return nil, fmt.Errorf("sqlite: actor addresses: %w", hint(err))
		}
		a.Fetched, a.Gone = dbutil.FromMicro(fetched), dbutil.FromMicro(gone)
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: actor addresses: %w", hint(err))
	}
	return out, nil
}

const addressesSQL = `
	SELECT iri, inbox, shared_inbox, fetched, gone FROM fedi_actors
	WHERE iri IN (SELECT value FROM json_each(?))`

func (s *actors) ByKey(ctx context.Context, keyID string) (storage.RemoteActor, error) {
	return s.get(ctx, "actor by key", keyID, actorByKeySQL)
}

// The reads of an actor with its keys, one row per key (or one row with
// NULL keys): one statement, so that a concurrent Put is seen whole or
// not at all without a read transaction.
const (
	getActorSQL = `
		SELECT a.iri, a.inbox, a.shared_inbox, a.document, a.fetched, a.gone, k.key_id, k.pem
		FROM fedi_actors a LEFT JOIN fedi_actor_keys k ON k.actor = a.iri
		WHERE a.iri = ? ORDER BY k.pos`
	actorByKeySQL = `
		SELECT a.iri, a.inbox, a.shared_inbox, a.document, a.fetched, a.gone, k.key_id, k.pem
		FROM fedi_actor_keys o JOIN fedi_actors a ON a.iri = o.actor
		LEFT JOIN fedi_actor_keys k ON k.actor = a.iri
		WHERE o.key_id = ? ORDER BY k.pos`
)

// get reads an actor and its keys.
func (s *actors) get(ctx context.Context, op, key, query string) (storage.RemoteActor, error) {
	if dbutil.Unstorable(key) {
		return storage.RemoteActor{}, fmt.Errorf("sqlite: %s %q: %w", op, key, storage.ErrNotFound)
	}
	var a storage.RemoteActor
	err := func() error {
		rows, err := s.query(ctx, query, key)
		if err != nil {
			return err
		}
		defer rows.Close()
		found := false
		for rows.Next() {
			var (
				doc           []byte
				fetched, gone int64
				keyID, pem    sql.NullString
			)
			if err := rows.Scan(&a.IRI, &a.Inbox, &a.SharedInbox, &doc, &fetched, &gone, &keyID, &pem); err != nil {
				return err
			}
			if !found {
				found = true
				if doc != nil {
					if err := storage.CheckStored("actor", a.IRI, doc); err != nil {
						return err
					}
					a.Document = doc
				}
				a.Fetched, a.Gone = dbutil.FromMicro(fetched), dbutil.FromMicro(gone)
			}
			if keyID.Valid {
				a.Keys = append(a.Keys, storage.PublicKey{ID: keyID.String, PEM: pem.String})
			}
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if !found {
			return storage.ErrNotFound
		}
		return nil
	}()
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
