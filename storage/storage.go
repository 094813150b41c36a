package storage

import (
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"
)

// Sentinel errors. Adapters wrap them with the operation and the IRI, so
// test them with errors.Is.
var (
	// ErrNotFound reports that nothing is stored under the given key.
	ErrNotFound = errors.New("storage: not found")
	// ErrConflict reports a write that contradicts what is stored: an
	// object owned by someone else or already tombstoned, a key id that
	// belongs to another actor, or a delivery whose lease another worker
	// now holds.
	ErrConflict = errors.New("storage: conflict")
	// ErrInvalid reports an argument no store accepts: an empty or
	// malformed IRI, a document that is not JSON, a malformed receipt or
	// cursor.
	ErrInvalid = errors.New("storage: invalid argument")
)

// CorruptError reports a stored row that cannot be read back, for
// instance a document that is no longer valid JSON. It names the row so
// that an operator can find and repair it; the rest of the store keeps
// working.
type CorruptError struct {
	// Kind is what the row holds: "object", "actor", "delivery" or "key".
	Kind string
	// IRI is the row's IRI, or the delivery's id.
	IRI string
	// Err is what is wrong with it.
	Err error
}

// Error implements error.
func (e *CorruptError) Error() string {
	return fmt.Sprintf("storage: corrupt %s %q: %v", e.Kind, e.IRI, e.Err)
}

// Unwrap returns the cause.
func (e *CorruptError) Unwrap() error { return e.Err }

// Store gathers one implementation of each storage concern. Adapters
// return a Store with every field set; an application may replace any
// field with its own implementation (for instance Keys with a KMS) or
// leave out what it does not use. A nil field means the concern is not
// provided.
type Store struct {
	// Objects holds our objects and activities, and cached remote ones.
	Objects Objects
	// Collections holds followers, following, outboxes and the like.
	Collections Collections
	// Dedupe remembers the activities each inbox has processed.
	Dedupe Dedupe
	// Keys gives our actors' private keys; the adapters' is a KeyStore.
	Keys KeySource
	// Queue is the delivery queue; the adapters' is also DeadLetters and
	// LeaseExtender.
	Queue Queue
	// Actors caches remote actors.
	Actors Actors
	// Tx applies changes to the other concerns as one; nil when the store
	// cannot. Call it through InTx.
	Tx Transactor
}

// MaxIRI is the longest IRI, in bytes, that a store accepts as a key;
// CheckIRI refuses longer ones with ErrInvalid, in every adapter alike.
//
// Real IRIs are far shorter (Lemmy keeps them in 255 characters). The
// bound is set by PostgreSQL, whose B-tree index entries hold at most
// 2,704 bytes: several indexes pair two IRIs (a collection and a member,
// an activity and its recipient, an inbox and an ordering key), and two
// incompressible IRIs of MaxIRI bytes fit in one entry with room to
// spare. A server should refuse an activity whose id is longer, with a
// 400, rather than accept it and fail to record it.
const MaxIRI = 1280

// CheckIRI reports whether iri is acceptable as a key: non-empty, valid
// UTF-8, free of NUL and control characters (C0, DEL and C1), and at most
// MaxIRI bytes. It does not parse the IRI: storage compares IRIs byte for
// byte and leaves their syntax to vocab. Adapters call it so that every
// store accepts and rejects the same keys; the error wraps ErrInvalid.
//
// A key that fails CheckIRI can never have been stored, so a lookup of one
// (Get, Contains, Remove and the like) finds nothing: adapters answer it
// as they answer any key they do not hold, with ErrNotFound (or an empty
// count or page), without asking their database, which may refuse it:
// PostgreSQL rejects NUL and invalid UTF-8. Writes reject it with
// ErrInvalid.
func CheckIRI(what, iri string) error {
	switch {
	case iri == "":
		return fmt.Errorf("storage: empty %s: %w", what, ErrInvalid)
	case len(iri) > MaxIRI:
		return fmt.Errorf("storage: %s longer than %d bytes: %w", what, MaxIRI, ErrInvalid)
	case !utf8.ValidString(iri):
		return fmt.Errorf("storage: %s %q is not valid UTF-8: %w", what, iri, ErrInvalid)
	}
	for _, r := range iri {
		if r < 0x20 || r >= 0x7f && r <= 0x9f {
			return fmt.Errorf("storage: %s %q has a control character: %w", what, iri, ErrInvalid)
		}
	}
	return nil
}

// CheckJSON reports whether doc is one well-formed JSON value, wrapping
// ErrInvalid if not. Adapters call it on every document they are asked to
// write.
func CheckJSON(what string, doc []byte) error {
	if !json.Valid(doc) {
		return fmt.Errorf("storage: %s is not valid JSON: %w", what, ErrInvalid)
	}
	return nil
}

// CheckStored reports a document read back from a store that is not valid
// JSON as a *CorruptError naming kind and iri. Adapters call it on every
// document they return, so that damage done outside fedi surfaces where it
// is found instead of as a RawMessage that fails to marshal later.
func CheckStored(kind, iri string, doc []byte) error {
	if !json.Valid(doc) {
		return &CorruptError{Kind: kind, IRI: iri, Err: errors.New("document is not valid JSON")}
	}
	return nil
}

// IgnoreNotFound returns nil for an error wrapping ErrNotFound, and err
// otherwise: for removals of what may already be gone.
func IgnoreNotFound(err error) error {
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}
