package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// PublicKey is a remote actor's public key, as its document publishes it.
type PublicKey struct {
	// ID is the key's IRI, the keyId signatures name.
	ID string
	// PEM is the public key in PEM.
	PEM string
}

// RemoteActor is what we cache about an actor on another server.
type RemoteActor struct {
	// IRI is the actor's id.
	IRI string
	// Inbox and SharedInbox are where deliveries go; SharedInbox may be
	// empty.
	Inbox       string
	SharedInbox string
	// Keys are its public keys.
	Keys []PublicKey
	// Document is the actor document as fetched. It is nil for an actor
	// only known to be gone.
	Document json.RawMessage
	// Fetched is when the document was fetched. The caller sets it, and
	// decides from it when to fetch again.
	Fetched time.Time
	// Gone is when a fetch of the actor answered 410 Gone; zero while the
	// actor is live. A gone actor's keys verify nothing and nothing is
	// delivered to it.
	Gone time.Time
}

// Actors caches remote actors. Implementations are safe for concurrent
// use.
type Actors interface {
	// Get returns the cached actor iri, gone or not, or an error wrapping
	// ErrNotFound.
	Get(ctx context.Context, iri string) (RemoteActor, error)

	// ByKey returns the cached actor that has a key with id keyID, or an
	// error wrapping ErrNotFound. Callers must check Gone.
	ByKey(ctx context.Context, keyID string) (RemoteActor, error)

	// Put caches a, replacing the cached actor and its keys at once. A
	// fresh fetch is authoritative: putting an actor with a zero Gone
	// clears an earlier gone mark. It fails with ErrConflict when one of
	// a's key ids belongs to another cached actor.
	Put(ctx context.Context, a RemoteActor) error

	// MarkGone records that iri answered 410 Gone at the given time,
	// keeping what is cached, or caching a bare gone entry when nothing
	// is.
	MarkGone(ctx context.Context, iri string, at time.Time) error

	// Delete evicts the actor iri and its keys, or fails with ErrNotFound.
	Delete(ctx context.Context, iri string) error
}

// ActorAddresses is implemented by Actors that can read where to deliver
// to many cached actors at once, so that a fan-out to thousands of
// followers asks its database once per page of them rather than once per
// follower. Callers discover it by type assertion.
type ActorAddresses interface {
	// Addresses returns the cached actors among iris, in no particular
	// order, each with IRI, Inbox, SharedInbox, Fetched and Gone set, and
	// without Keys or Document. Actors that are not cached, and IRIs that
	// no store can hold, are left out; an IRI given twice is returned once.
	Addresses(ctx context.Context, iris []string) ([]RemoteActor, error)
}

// CheckActor reports whether a can be cached by Actors.Put: its IRIs pass
// CheckIRI, its key ids are distinct, and its Document, when set, is JSON.
// The error wraps ErrInvalid.
func CheckActor(a RemoteActor) error {
	if err := CheckIRI("actor IRI", a.IRI); err != nil {
		return err
	}
	for _, f := range []struct{ what, iri string }{{"inbox", a.Inbox}, {"shared inbox", a.SharedInbox}} {
		if f.iri != "" {
			if err := CheckIRI(f.what, f.iri); err != nil {
				return err
			}
		}
	}
	seen := make(map[string]bool, len(a.Keys))
	for _, k := range a.Keys {
		if err := CheckIRI("key id", k.ID); err != nil {
			return err
		}
		if seen[k.ID] {
			return fmt.Errorf("storage: actor %q lists key %q twice: %w", a.IRI, k.ID, ErrInvalid)
		}
		seen[k.ID] = true
		if strings.ContainsRune(k.PEM, 0) || !utf8.ValidString(k.PEM) {
			return fmt.Errorf("storage: actor %q: key %q: malformed PEM: %w", a.IRI, k.ID, ErrInvalid)
		}
	}
	if a.Document != nil {
		return CheckJSON("actor document "+strconv.Quote(a.IRI), a.Document)
	}
	return nil
}
