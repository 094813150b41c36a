package actor

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/vocab"
)

// KeyBits is the size of the RSA keys Store.Create makes: RSA-2048 is
// what Mastodon makes and what every peer verifies (Fedify 1.5 verifies
// RSA only).
const KeyBits = 2048

// Store is the Directory that keeps local actors in a storage.Store: each
// actor is an object owned by itself (so its IRI answers 410 once
// deleted), its keys are in the store's KeyStore, and a collection lists
// them all. It is safe for concurrent use.
type Store struct {
	st     storage.Store
	scheme Scheme
	reg    *vocab.Registry
}

// NewStore returns the Directory over st. Scheme must be complete (see
// NewScheme); reg decodes the stored documents.
func NewStore(st storage.Store, scheme Scheme, reg *vocab.Registry) *Store {
	return &Store{st: st, scheme: scheme, reg: reg}
}

// ListIRI is the IRI of the collection that lists the local actors a
// Store created and that have not deleted themselves.
func (s *Store) ListIRI() string { return ListIRI(s.scheme) }

// ListIRI is the IRI of the collection that lists the local actors of
// scheme's server that a Store created; the outbox takes an actor out of
// it when the actor deletes itself.
func ListIRI(scheme Scheme) string { return scheme.Origin + "/actors" }

// ByIRI implements Directory.
func (s *Store) ByIRI(ctx context.Context, iri string) (*Actor, error) {
	if !s.scheme.IsLocal(iri) {
		return nil, fmt.Errorf("actor: %s: %w", iri, ErrNotFound)
	}
	obj, err := s.st.Objects.Get(ctx, iri)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, fmt.Errorf("actor: %s: %w", iri, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("actor: %s: %w", iri, err)
	}
	if obj.Owner != iri {
		return nil, fmt.Errorf("actor: %s is not an actor: %w", iri, ErrNotFound)
	}
	if !obj.Deleted.IsZero() {
		return nil, fmt.Errorf("actor: %s: %w", iri, ErrGone)
	}
	it, err := s.reg.Decode(obj.Data)
	if err != nil {
		return nil, fmt.Errorf("actor: %s: stored document: %w", iri, err)
	}
	return fromDocument(iri, it)
}

// ByName implements Directory, for the scheme's Actor function.
func (s *Store) ByName(ctx context.Context, name string) (*Actor, error) {
	if CheckName(name) != nil {
		return nil, fmt.Errorf("actor: %q: %w", name, ErrNotFound)
	}
	a, err := s.ByIRI(ctx, s.scheme.Actor(name))
	if err != nil {
		return nil, err
	}
	if a.Name != name {
		return nil, fmt.Errorf("actor: %q: %w", name, ErrNotFound)
	}
	return a, nil
}

// CheckName reports whether name can be an actor's preferredUsername
// here: 1 to 64 letters, digits, '_', '-' or '.', not starting with '.'.
// That is what WebFinger handles and IRIs carry without surprises.
func CheckName(name string) error {
	if name == "" || len(name) > 64 || name[0] == '.' {
		return fmt.Errorf("actor: name %q must be 1 to 64 characters, not starting with '.'", name)
	}
	for _, r := range name {
		if !(unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("_-.", r)) {
			return fmt.Errorf("actor: name %q: only letters, digits, '_', '-' and '.' are allowed", name)
		}
	}
	return nil
}

// Create stores a new local actor and makes it an RSA key when it has
// none. a.IRI defaults to the scheme's Actor(a.Name), a.Type to "Person".
// It fails with an error wrapping ErrExists when the IRI is taken (or
// was, by a deleted actor).
func (s *Store) Create(ctx context.Context, a Actor) (*Actor, error) {
	if err := CheckName(a.Name); err != nil {
		return nil, err
	}
	if a.Type == "" {
		a.Type = "Person"
	}
	if _, ok := s.reg.ShapeOf(a.Type); !ok {
		return nil, fmt.Errorf("actor: create %s: no registered vocabulary defines the type %q", a.Name, a.Type)
	}
	if a.IRI == "" {
		a.IRI = s.scheme.Actor(a.Name)
	}
	if !s.scheme.IsLocal(a.IRI) {
		return nil, fmt.Errorf("actor: create %s: %s is not on %s", a.Name, a.IRI, s.scheme.Origin)
	}
	if _, err := s.st.Objects.Owner(ctx, a.IRI); err == nil {
		return nil, fmt.Errorf("actor: create %s: %w", a.IRI, ErrExists)
	} else if !errors.Is(err, storage.ErrNotFound) {
		return nil, fmt.Errorf("actor: create %s: %w", a.IRI, err)
	}
	if err := s.ensureKey(ctx, a.IRI); err != nil {
		return nil, err
	}
	data, err := s.encode(&a)
	if err != nil {
		return nil, err
	}
	err = storage.InTx(ctx, s.st, func(ctx context.Context, tx storage.Store) error {
		if _, err := tx.Objects.Owner(ctx, a.IRI); err == nil {
			return fmt.Errorf("actor: create %s: %w", a.IRI, ErrExists)
		}
		if err := tx.Objects.Put(ctx, storage.Object{IRI: a.IRI, Type: a.Type, Owner: a.IRI, Data: data}); err != nil {
			return fmt.Errorf("actor: create %s: %w", a.IRI, err)
		}
		return tx.Collections.Add(ctx, s.ListIRI(), storage.Member{IRI: a.IRI})
	})
	if err != nil {
		return nil, err
	}
	return s.ByIRI(ctx, a.IRI)
}

// Update stores a's new profile, name-approval setting and type. The
// actor must exist; its IRI and name do not change.
func (s *Store) Update(ctx context.Context, a *Actor) error {
	old, err := s.ByIRI(ctx, a.IRI)
	if err != nil {
		return err
	}
	if a.Name != old.Name {
		return fmt.Errorf("actor: update %s: the name cannot change (%q to %q)", a.IRI, old.Name, a.Name)
	}
	data, err := s.encode(a)
	if err != nil {
		return err
	}
	if err := s.st.Objects.Put(ctx, storage.Object{IRI: a.IRI, Type: a.Type, Owner: a.IRI, Data: data}); err != nil {
		return fmt.Errorf("actor: update %s: %w", a.IRI, err)
	}
	return nil
}

// List returns a page of the local actors' IRIs, newest first, the
// deleted left out, and the cursor of the next page ("" after the last).
func (s *Store) List(ctx context.Context, cursor string, limit int) ([]string, string, error) {
	p, err := s.st.Collections.Page(ctx, s.ListIRI(), storage.PageOptions{Cursor: cursor, Limit: limit})
	if err != nil {
		return nil, "", fmt.Errorf("actor: list: %w", err)
	}
	out := make([]string, len(p.Members))
	for i, m := range p.Members {
		out[i] = m.IRI
	}
	return out, p.Next, nil
}

// Count returns the number of local actors, the deleted left out.
func (s *Store) Count(ctx context.Context) (int, error) {
	return s.st.Collections.Count(ctx, s.ListIRI(), storage.Accepted)
}

// encode writes the stored form of a: its document without a key, which
// Document adds when serving.
func (s *Store) encode(a *Actor) ([]byte, error) {
	doc, err := Document(context.Background(), s.scheme, nil, a)
	if err != nil {
		return nil, err
	}
	data, err := s.reg.Encode(doc)
	if err != nil {
		return nil, fmt.Errorf("actor: encode %s: %w", a.IRI, err)
	}
	return data, nil
}

// ensureKey makes the actor an RSA key unless it has one.
func (s *Store) ensureKey(ctx context.Context, iri string) error {
	if s.st.Keys == nil {
		return fmt.Errorf("actor: create %s: the store has no KeySource", iri)
	}
	ks, err := s.st.Keys.Keys(ctx, iri)
	if err != nil {
		return fmt.Errorf("actor: create %s: %w", iri, err)
	}
	if len(ks) > 0 {
		return nil
	}
	w, ok := s.st.Keys.(storage.KeyStore)
	if !ok {
		return fmt.Errorf("actor: create %s: it has no key, and the KeySource cannot store one", iri)
	}
	k, err := rsa.GenerateKey(rand.Reader, KeyBits)
	if err != nil {
		return fmt.Errorf("actor: create %s: %w", iri, err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return fmt.Errorf("actor: create %s: %w", iri, err)
	}
	key := storage.Key{ID: iri + "#main-key", Owner: iri, PEM: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})}
	if err := w.PutKey(ctx, key); err != nil {
		return fmt.Errorf("actor: create %s: %w", iri, err)
	}
	return nil
}

// Ensure returns the local actor named name, creating it with a when it
// does not exist, so that a server can make its first users on every
// start.
func (s *Store) Ensure(ctx context.Context, a Actor) (*Actor, error) {
	got, err := s.ByName(ctx, a.Name)
	if err == nil || !errors.Is(err, ErrNotFound) {
		return got, err
	}
	got, err = s.Create(ctx, a)
	if errors.Is(err, ErrExists) {
		return s.ByName(ctx, a.Name)
	}
	return got, err
}

var _ Directory = (*Store)(nil)

// In returns the Store reading and writing through st instead, such as a
// transaction of the store it was made with: code running inside a
// transaction must not go through the store itself, which the
// transaction holds.
func (s *Store) In(st storage.Store) Directory {
	c := *s
	c.st = st
	return &c
}

// Binder is implemented by Directories that keep actors in a
// storage.Store (Store does), so that code inside a transaction of that
// store reads through the transaction.
type Binder interface {
	In(st storage.Store) Directory
}

// In returns d bound to st when d is a Binder, and d otherwise.
func In(d Directory, st storage.Store) Directory {
	if b, ok := d.(Binder); ok {
		return b.In(st)
	}
	return d
}
