package memory

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/storage/internal/dbutil"
)

type actors struct {
	mu    sync.RWMutex
	m     map[string]storage.RemoteActor
	byKey map[string]string // key id → actor IRI
}

func newActors() *actors {
	return &actors{m: make(map[string]storage.RemoteActor), byKey: make(map[string]string)}
}

func cloneActor(a storage.RemoteActor) storage.RemoteActor {
	a.Keys = slices.Clone(a.Keys)
	a.Document = clone(a.Document)
	return a
}

func (s *actors) Get(ctx context.Context, iri string) (storage.RemoteActor, error) {
	if err := done(ctx, "get actor"); err != nil {
		return storage.RemoteActor{}, err
	}
	s.mu.RLock()
	a, ok := s.m[iri]
	s.mu.RUnlock()
	if !ok {
		return storage.RemoteActor{}, fmt.Errorf("memory: get actor %q: %w", iri, storage.ErrNotFound)
	}
	return cloneActor(a), nil
}

func (s *actors) ByKey(ctx context.Context, keyID string) (storage.RemoteActor, error) {
	if err := done(ctx, "actor by key"); err != nil {
		return storage.RemoteActor{}, err
	}
	s.mu.RLock()
	a, ok := s.m[s.byKey[keyID]]
	s.mu.RUnlock()
	if !ok {
		return storage.RemoteActor{}, fmt.Errorf("memory: actor by key %q: %w", keyID, storage.ErrNotFound)
	}
	return cloneActor(a), nil
}

func (s *actors) Put(ctx context.Context, a storage.RemoteActor) error {
	if err := done(ctx, "put actor"); err != nil {
		return err
	}
	if err := storage.CheckActor(a); err != nil {
		return fmt.Errorf("memory: put actor: %w", err)
	}
	a = cloneActor(a)
	a.Fetched = dbutil.Micro(a.Fetched)
	a.Gone = dbutil.Micro(a.Gone)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range a.Keys {
		if owner, ok := s.byKey[k.ID]; ok && owner != a.IRI {
			return fmt.Errorf("memory: put actor %q: key %q belongs to %q: %w", a.IRI, k.ID, owner, storage.ErrConflict)
		}
	}
	for _, k := range s.m[a.IRI].Keys {
		delete(s.byKey, k.ID)
	}
	for _, k := range a.Keys {
		s.byKey[k.ID] = a.IRI
	}
	s.m[a.IRI] = a
	return nil
}

func (s *actors) MarkGone(ctx context.Context, iri string, at time.Time) error {
	if err := done(ctx, "mark gone"); err != nil {
		return err
	}
	if err := storage.CheckIRI("actor IRI", iri); err != nil {
		return fmt.Errorf("memory: mark gone: %w", err)
	}
	at = dbutil.Micro(at)
	if at.IsZero() {
		at = dbutil.Now()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.m[iri]
	if !ok {
		a = storage.RemoteActor{IRI: iri}
	}
	a.Gone = at
	s.m[iri] = a
	return nil
}

func (s *actors) Delete(ctx context.Context, iri string) error {
	if err := done(ctx, "delete actor"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.m[iri]
	if !ok {
		return fmt.Errorf("memory: delete actor %q: %w", iri, storage.ErrNotFound)
	}
	for _, k := range a.Keys {
		delete(s.byKey, k.ID)
	}
	delete(s.m, iri)
	return nil
}
