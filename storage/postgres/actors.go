package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/storage/internal/dbutil"
)

// The optional capabilities of Actors that the adapter has.
var _ storage.ActorAddresses = (*actors)(nil)

type actors struct{ scope }

func (s *actors) Get(ctx context.Context, iri string) (storage.RemoteActor, error) {
	return s.get(ctx, "get actor", iri, `
		SELECT a.iri, a.inbox, a.shared_inbox, a.document, a.fetched, a.gone,
			array(SELECT k.key_id FROM fedi_actor_keys k WHERE k.actor = a.iri ORDER BY k.pos),
			array(SELECT k.pem FROM fedi_actor_keys k WHERE k.actor = a.iri ORDER BY k.pos)
		FROM fedi_actors a WHERE a.iri = $1`)
}

// Addresses implements storage.ActorAddresses, in one statement.
func (s *actors) Addresses(ctx context.Context, iris []string) ([]storage.RemoteActor, error) {
	if err := ctx.Err(); err != nil {
		return nil, wrap(ctx, "actor addresses", err)
	}
	keep := dbutil.Storable(iris)
	out := make([]storage.RemoteActor, 0, len(keep))
	if len(keep) == 0 {
		return out, nil
	}
	rows, err := s.query(ctx, `SELECT iri, inbox, shared_inbox, fetched, gone FROM fedi_actors WHERE iri = ANY($1)`, keep)
	if err != nil {
		return nil, fmt.Errorf("postgres: actor addresses: %w", ctxErr(ctx, err))
	}
	defer rows.Close()
	for rows.Next() {
		var (
			a             storage.RemoteActor
			fetched, gone pgtype.Timestamptz
		)
		if err := rows.Scan(&a.IRI, &a.Inbox, &a.SharedInbox, &fetched, &gone); err != nil {
			return nil, fmt.Errorf("postgres: actor addresses: %w", ctxErr(ctx, err))
		}
		a.Fetched, a.Gone = fromTS(fetched), fromTS(gone)
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: actor addresses: %w", ctxErr(ctx, err))
	}
	return out, nil
}

func (s *actors) ByKey(ctx context.Context, keyID string) (storage.RemoteActor, error) {
	return s.get(ctx, "actor by key", keyID, `
		SELECT a.iri, a.inbox, a.shared_inbox, a.document, a.fetched, a.gone,
			array(SELECT k.key_id FROM fedi_actor_keys k WHERE k.actor = a.iri ORDER BY k.pos),
			array(SELECT k.pem FROM fedi_actor_keys k WHERE k.actor = a.iri ORDER BY k.pos)
		FROM fedi_actor_keys x JOIN fedi_actors a ON a.iri = x.actor WHERE x.key_id = $1`)
}

// get reads an actor and its keys in one statement, so that a concurrent
// Put is seen whole or not at all.
func (s *actors) get(ctx context.Context, op, key, query string) (storage.RemoteActor, error) {
	if dbutil.Unstorable(key) {
		return storage.RemoteActor{}, fmt.Errorf("postgres: %s %q: %w", op, key, storage.ErrNotFound)
	}
	var (
		a             storage.RemoteActor
		doc           []byte
		fetched, gone pgtype.Timestamptz
		ids, pems     []string
	)
	err := s.queryRow(ctx, query, key).Scan(&a.IRI, &a.Inbox, &a.SharedInbox, &doc, &fetched, &gone, &ids, &pems)
	if errors.Is(err, pgx.ErrNoRows) {
		return storage.RemoteActor{}, fmt.Errorf("postgres: %s %q: %w", op, key, storage.ErrNotFound)
	}
	if err != nil {
		return storage.RemoteActor{}, fmt.Errorf("postgres: %s %q: %w", op, key, ctxErr(ctx, err))
	}
	if doc != nil {
		if err := storage.CheckStored("actor", a.IRI, doc); err != nil {
			return storage.RemoteActor{}, wrap(ctx, op, err)
		}
		a.Document = doc
	}
	a.Fetched, a.Gone = fromTS(fetched), fromTS(gone)
	for i := range ids {
		a.Keys = append(a.Keys, storage.PublicKey{ID: ids[i], PEM: pems[i]})
	}
	return a, nil
}

func (s *actors) Put(ctx context.Context, a storage.RemoteActor) error {
	if err := ctx.Err(); err != nil {
		return wrap(ctx, "put actor", err)
	}
	if err := storage.CheckActor(a); err != nil {
		return wrap(ctx, "put actor", err)
	}
	ids, pems := make([]string, len(a.Keys)), make([]string, len(a.Keys))
	for i, k := range a.Keys {
		ids[i], pems[i] = k.ID, k.PEM
	}
	var doc []byte
	if a.Document != nil {
		doc = a.Document
	}
	err := s.write(ctx, "put actor", func(tx querier) error {
		var owner, keyID string
		err := tx.QueryRow(ctx, `SELECT actor, key_id FROM fedi_actor_keys WHERE key_id = ANY($1) AND actor <> $2 LIMIT 1`, ids, a.IRI).
			Scan(&owner, &keyID)
		if err == nil {
			return fmt.Errorf("key %q belongs to %q: %w", keyID, owner, storage.ErrConflict)
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO fedi_actors (iri, inbox, shared_inbox, document, fetched, gone) VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (iri) DO UPDATE SET inbox = excluded.inbox, shared_inbox = excluded.shared_inbox,
				document = excluded.document, fetched = excluded.fetched, gone = excluded.gone`,
			a.IRI, a.Inbox, a.SharedInbox, doc, toTS(a.Fetched), toTS(a.Gone)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM fedi_actor_keys WHERE actor = $1`, a.IRI); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `
			INSERT INTO fedi_actor_keys (key_id, actor, pos, pem)
			SELECT id, $1, n, pem FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS u(id, pem, n)
			ORDER BY id`, // two Puts claiming the same keys wait for each other in one order, not deadlock
			a.IRI, ids, pems)
		if isUniqueViolation(err) {
			// Another actor claimed one of the keys since the check.
			return fmt.Errorf("a key id belongs to another actor: %w", storage.ErrConflict)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: put actor %q: %w", a.IRI, ctxErr(ctx, err))
	}
	return nil
}

func (s *actors) MarkGone(ctx context.Context, iri string, at time.Time) error {
	if err := ctx.Err(); err != nil {
		return wrap(ctx, "mark gone", err)
	}
	if err := storage.CheckIRI("actor IRI", iri); err != nil {
		return wrap(ctx, "mark gone", err)
	}
	_, err := s.exec(ctx, "mark gone", `
		INSERT INTO fedi_actors (iri, inbox, shared_inbox, gone) VALUES ($1, '', '', coalesce($2, now()))
		ON CONFLICT (iri) DO UPDATE SET gone = excluded.gone`, iri, toTS(at))
	if err != nil {
		return fmt.Errorf("postgres: mark gone %q: %w", iri, ctxErr(ctx, err))
	}
	return nil
}

func (s *actors) Delete(ctx context.Context, iri string) error {
	if dbutil.Unstorable(iri) {
		return fmt.Errorf("postgres: delete actor %q: %w", iri, storage.ErrNotFound)
	}
	// The keys go with the actor: ON DELETE CASCADE.
	tag, err := s.exec(ctx, "delete actor", `DELETE FROM fedi_actors WHERE iri = $1`, iri)
	if err != nil {
		return fmt.Errorf("postgres: delete actor %q: %w", iri, ctxErr(ctx, err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: delete actor %q: %w", iri, storage.ErrNotFound)
	}
	return nil
}
