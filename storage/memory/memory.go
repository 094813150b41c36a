// Package memory is a storage adapter that keeps everything in process
// memory: for tests, examples and experiments. Nothing survives the
// process. It is safe for concurrent use and passes the same conformance
// suite as the database adapters.
//
//	st := memory.New()
//	err := st.Objects.Put(ctx, storage.Object{IRI: id, Type: "Note", Owner: alice, Data: data})
package memory

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/fedi-go/fedi/storage"
)

// New returns an empty store with every field set. Its Keys is a
// storage.KeyStore and its Queue a storage.DeadLetters and a
// storage.LeaseExtender.
func New() storage.Store {
	return storage.Store{
		Objects:     newObjects(),
		Collections: newCollections(),
		Dedupe:      newDedupe(),
		Keys:        newKeys(),
		Queue:       newQueue(),
		Actors:      newActors(),
	}
}

// clone copies a document so that neither the caller nor the store can
// change the other's copy.
func clone(b json.RawMessage) json.RawMessage {
	if b == nil {
		return nil
	}
	return bytes.Clone(b)
}

// done reports a cancelled context as the error of operation op.
func done(ctx context.Context, op string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memory: %s: %w", op, err)
	}
	return nil
}
