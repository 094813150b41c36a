// Package memory is a storage adapter that keeps everything in process
// memory: for tests, examples and experiments. Nothing survives the
// process. It is safe for concurrent use and passes the same conformance
// suite as the database adapters.
//
//	st := memory.New()
//	err := st.Objects.Put(ctx, storage.Object{IRI: id, Type: "Note", Owner: alice, Data: data})
//
// Its transactions (Store.Tx) run one at a time: a transaction holds the
// whole store, apart from its keys, from its start to its commit, while
// other calls wait, and it keeps a copy of each entry it changes to put
// back if it fails.
package memory

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/fedi-go/fedi/storage"
)

// New returns an empty store with every field set. Its Keys is a
// storage.KeyStore, its Queue a storage.DeadLetters and a
// storage.LeaseExtender, and its Collections a storage.Memberships.
func New() storage.Store {
	s := &store{
		objects:     newObjects(),
		collections: newCollections(),
		dedupe:      newDedupe(),
		keys:        newKeys(),
		queue:       newQueue(),
		actors:      newActors(),
	}
	st := s.view(nil)
	st.Tx = s
	return st
}

// store holds the state of every concern, and the gate that keeps
// transactions apart from everything else.
type store struct {
	gate        gate
	objects     *objectState
	collections *collectionState
	dedupe      *dedupeState
	keys        *keys
	queue       *queueState
	actors      *actorState
}

// view returns the concerns of s as seen by ordinary calls (tx nil), or by
// the functions of transaction tx.
func (s *store) view(tx *txn) storage.Store {
	v := view{g: &s.gate, tx: tx}
	st := storage.Store{
		Objects:     &objects{v, s.objects},
		Collections: &collections{v, s.collections},
		Dedupe:      &dedupe{v, s.dedupe},
		Keys:        s.keys,
		Queue:       &queue{v, s.queue},
		Actors:      &actors{v, s.actors},
	}
	if tx == nil {
		st.Queue = &outerQueue{st.Queue.(*queue)}
	}
	return st
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
