package memory

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/storage/internal/dbutil"
)

// objectState holds the objects.
type objectState struct {
	mu sync.RWMutex
	m  map[string]storage.Object
	j  objectJournal // during a transaction
}

// objectJournal keeps what a transaction changed as it was before: nil
// for an object that did not exist.
type objectJournal map[string]*storage.Object

func newObjects() *objectState { return &objectState{m: make(map[string]storage.Object)} }

// touch keeps iri as it is, the first time a transaction changes it.
func (s *objectState) touch(iri string) {
	if s.j == nil {
		return
	}
	if _, ok := s.j[iri]; ok {
		return
	}
	if o, ok := s.m[iri]; ok {
		s.j[iri] = &o
		return
	}
	s.j[iri] = nil
}

func (s *objectState) rollback() {
	for iri, o := range s.j {
		if o == nil {
			delete(s.m, iri)
			continue
		}
		s.m[iri] = *o
	}
}

type objects struct {
	view
	*objectState
}

func (s *objects) Get(ctx context.Context, iri string) (storage.Object, error) {
	if err := s.begin(ctx, "get object"); err != nil {
		return storage.Object{}, err
	}
	defer s.end()
	s.mu.RLock()
	o, ok := s.m[iri]
	s.mu.RUnlock()
	if !ok {
		return storage.Object{}, fmt.Errorf("memory: get object %q: %w", iri, storage.ErrNotFound)
	}
	if err := storage.CheckStored("object", iri, o.Data); err != nil {
		return storage.Object{}, fmt.Errorf("memory: get object: %w", err)
	}
	o.Data = clone(o.Data)
	return o, nil
}

func (s *objects) Put(ctx context.Context, obj storage.Object) error {
	if err := s.begin(ctx, "put object"); err != nil {
		return err
	}
	defer s.end()
	if err := storage.CheckObject(obj); err != nil {
		return fmt.Errorf("memory: put object: %w", err)
	}
	obj.Data = clone(obj.Data)
	obj.Updated = dbutil.Now()
	obj.Deleted = time.Time{}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.m[obj.IRI]; ok {
		if !old.Deleted.IsZero() {
			return fmt.Errorf("memory: put object %q: tombstoned: %w", obj.IRI, storage.ErrConflict)
		}
		if old.Owner != obj.Owner {
			return fmt.Errorf("memory: put object %q: owned by %q: %w", obj.IRI, old.Owner, storage.ErrConflict)
		}
	}
	s.touch(obj.IRI)
	s.m[obj.IRI] = obj
	return nil
}

func (s *objects) Tombstone(ctx context.Context, iri string, tombstone json.RawMessage) error {
	if err := s.begin(ctx, "tombstone object"); err != nil {
		return err
	}
	defer s.end()
	if err := storage.CheckJSON("tombstone", tombstone); err != nil {
		return fmt.Errorf("memory: tombstone object %q: %w", iri, err)
	}
	now := dbutil.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.m[iri]
	if !ok {
		return fmt.Errorf("memory: tombstone object %q: %w", iri, storage.ErrNotFound)
	}
	s.touch(iri)
	o.Type = "Tombstone"
	o.Data = clone(tombstone)
	o.Updated = now
	if o.Deleted.IsZero() {
		o.Deleted = now
	}
	s.m[iri] = o
	return nil
}

func (s *objects) Owner(ctx context.Context, iri string) (string, error) {
	if err := s.begin(ctx, "object owner"); err != nil {
		return "", err
	}
	defer s.end()
	s.mu.RLock()
	o, ok := s.m[iri]
	s.mu.RUnlock()
	if !ok {
		return "", fmt.Errorf("memory: object owner %q: %w", iri, storage.ErrNotFound)
	}
	return o.Owner, nil
}
