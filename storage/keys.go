package storage

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"time"
)

// Key is one of our own actors' signing keys.
type Key struct {
	// ID is the key's IRI, the keyId of HTTP signatures, such as
	// https://example.com/users/alice#main-key.
	ID string
	// Owner is the IRI of the actor the key belongs to.
	Owner string
	// PEM is the private key in PEM: PKCS #8 ("PRIVATE KEY") or PKCS #1
	// ("RSA PRIVATE KEY"). The stores fedi ships keep this, in the
	// database, unencrypted: protect the database file or connection as
	// you would the key. A KeySource whose keys never leave a KMS leaves
	// it empty and sets Signer.
	PEM []byte
	// Signer, when set, signs with the private key; it takes precedence
	// over PEM. Stores never persist it; the adapters fedi ships set it,
	// parsed from PEM, on the keys they return (see ReadKey).
	Signer crypto.Signer
	// Created is when the key was created, which orders an actor's keys.
	Created time.Time
}

// PrivateKey returns the key's signer: k.Signer when set, or the key
// parsed from k.PEM. The error wraps ErrInvalid.
func (k Key) PrivateKey() (crypto.Signer, error) {
	if k.Signer != nil {
		return k.Signer, nil
	}
	s, err := parsePrivateKey(k.PEM)
	if err != nil {
		return nil, fmt.Errorf("storage: key %q: %w (%w)", k.ID, err, ErrInvalid)
	}
	return s, nil
}

// ReadKey completes a key that an adapter read back from its database:
// it parses k.PEM into k.Signer, so that whoever signs with the key does
// not parse it again. PutKey stored only PEM that parsed, so PEM that no
// longer does was damaged outside fedi, and is reported as a
// *CorruptError naming the key.
func ReadKey(k Key) (Key, error) {
	s, err := parsePrivateKey(k.PEM)
	if err != nil {
		return Key{}, &CorruptError{Kind: "key", IRI: k.ID, Err: err}
	}
	k.Signer = s
	return k, nil
}

// parsePrivateKey parses a PKCS #8 or PKCS #1 private key in PEM.
func parsePrivateKey(text []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(text)
	if block == nil {
		return nil, errors.New("no PEM block")
	}
	var (
		key any
		err error
	)
	switch block.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	default:
		err = fmt.Errorf("PEM block %q is not a private key", block.Type)
	}
	if err != nil {
		return nil, err
	}
	switch s := key.(type) {
	case *rsa.PrivateKey:
		return s, nil
	case ed25519.PrivateKey:
		return s, nil
	case *ecdsa.PrivateKey:
		return s, nil
	}
	return nil, fmt.Errorf("unsupported key type %T", key)
}

// KeySource gives the private keys of our actors to whatever signs for
// them. An application supplies its own to keep keys in a KMS or in
// files; the adapters fedi ships implement the wider KeyStore and keep
// PEM in the database. Implementations are safe for concurrent use.
type KeySource interface {
	// Key returns the key whose ID is keyID, or an error wrapping
	// ErrNotFound. A stored key whose PEM no longer parses is a
	// *CorruptError naming it.
	Key(ctx context.Context, keyID string) (Key, error)

	// Keys returns the keys of the actor owner, newest first, or an empty
	// slice when it has none. A damaged key fails the call, as in Key.
	Keys(ctx context.Context, owner string) ([]Key, error)
}

// KeyStore is a KeySource that can be written to. Callers discover it by
// type assertion on a Store's Keys.
type KeyStore interface {
	KeySource

	// PutKey stores k, replacing the key with the same ID; a zero Created
	// means now. It fails with ErrConflict when that ID belongs to another
	// owner, and with ErrInvalid when k has no PEM that parses as a
	// private key (a store cannot persist a Signer).
	PutKey(ctx context.Context, k Key) error

	// DeleteKey removes the key keyID, or fails with ErrNotFound.
	DeleteKey(ctx context.Context, keyID string) error
}

// CheckKey reports whether k can be stored by a KeyStore: its ID and Owner
// are valid IRIs and it carries PEM that parses as a private key. The
// error wraps ErrInvalid.
func CheckKey(k Key) error {
	if err := CheckIRI("key id", k.ID); err != nil {
		return err
	}
	if err := CheckIRI("key owner", k.Owner); err != nil {
		return err
	}
	if len(k.PEM) == 0 {
		return fmt.Errorf("storage: key %q: no PEM to store: %w", k.ID, ErrInvalid)
	}
	_, err := Key{ID: k.ID, PEM: k.PEM}.PrivateKey()
	return err
}
