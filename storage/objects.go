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

// Object is an ActivityStreams object or activity as stored: its encoded
// JSON and the fields a store indexes.
type Object struct {
	// IRI is the object's id.
	IRI string
	// Type is its ActivityStreams type, such as "Note" or "Create". It
	// becomes "Tombstone" when the object is tombstoned.
	Type string
	// Owner is the IRI of the actor that may change or delete it: the
	// attributedTo of an object, the actor of an activity, an actor
	// itself. It is empty when nobody owns it. The store records it so
	// that ownership checks need not decode the document.
	Owner string
	// Data is the JSON document, as vocab.Registry.Encode wrote it.
	Data json.RawMessage
	// Updated is when the object was last written. The store sets it.
	Updated time.Time
	// Deleted is when the object was tombstoned; zero while it is live.
	Deleted time.Time
}

// Objects stores objects and activities by IRI. Implementations are safe
// for concurrent use.
type Objects interface {
	// Get returns the object stored under iri, or an error wrapping
	// ErrNotFound. A tombstoned object is returned too, with Deleted set
	// and the tombstone as Data, so that a GET can answer 410 Gone.
	Get(ctx context.Context, iri string) (Object, error)

	// Put inserts obj or atomically replaces the object stored under
	// obj.IRI. Replacing fails with ErrConflict when the stored object has
	// another Owner or has been tombstoned: an IRI never changes hands and
	// never comes back to life.
	Put(ctx context.Context, obj Object) error

	// Tombstone replaces the object stored under iri with tombstone (a
	// Tombstone document), keeping its owner, and sets Deleted. Tombstoning
	// again replaces the document and keeps the first Deleted time. It
	// fails with ErrNotFound when nothing is stored under iri.
	Tombstone(ctx context.Context, iri string, tombstone json.RawMessage) error

	// Owner returns the recorded owner of iri (empty when it has none)
	// without reading the document, or an error wrapping ErrNotFound.
	Owner(ctx context.Context, iri string) (string, error)
}

// CheckObject reports whether obj can be stored by Objects.Put: its IRI
// (and Owner, when set) pass CheckIRI and its Data is JSON. The error
// wraps ErrInvalid.
func CheckObject(obj Object) error {
	if err := CheckIRI("object IRI", obj.IRI); err != nil {
		return err
	}
	if obj.Owner != "" {
		if err := CheckIRI("owner", obj.Owner); err != nil {
			return err
		}
	}
	if len(obj.Type) > MaxIRI || !utf8.ValidString(obj.Type) || strings.ContainsRune(obj.Type, 0) {
		return fmt.Errorf("storage: object %q: malformed type: %w", obj.IRI, ErrInvalid)
	}
	return CheckJSON("object "+strconv.Quote(obj.IRI), obj.Data)
}
