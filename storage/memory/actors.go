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

// actorState holds the cached actors.
type actorState struct {
	mu    sync.RWMutex
	m     map[string]storage.RemoteActor
	byKey map[string]string // key id → actor IRI
	j     actorJournal      // during a transaction
}

// actorJournal keeps the actors a transaction changed as they were
// before: nil for one that was not cached.
type actorJournal map[string]*storage.RemoteActor

func newActors() *actorState {
	return &actorState{m: make(map[string]storage.RemoteActor), byKey: make(map[string]string)}
}

// touch keeps iri as it is, the first time a transaction changes it.
func (s *actorState) touch(iri string) {
	if s.j == nil {
		return
	}
	if _, ok := s.j[iri]; ok {
		return
	}
	if a, ok := s.m[iri]; ok {
		s.j[iri] = &a
		return
	}
	s.j[iri] = nil
}

// rollback takes the keys of every actor the transaction changed out of
// the index before it puts any back, since a key may have moved from one
// of them to another.
func (s *actorState) rollback() {
	for iri := range s.j {
		for _, k := range s.m[iri].Keys {
			if s.byKey[k.ID] == iri {
				delete(s.byKey, k.ID)
			}
		}
	}
	for iri, a := range s.j {
		if a == nil {
			delete(s.m, iri)
			continue
		}
		s.m[iri] = *a
		for _, k := range a.Keys {
			s.byKey[k.ID] = iri
		}
	}
}

// The optional capabilities of Actors that the adapter has.
var _ storage.ActorAddresses = (*actors)(nil)

type actors struct {
	view
	*actorState
}

func cloneActor(a storage.RemoteActor) storage.RemoteActor {
	a.Keys = slices.Clone(a.Keys)
	a.Document = clone(a.Document)
	return a
}

func (s *actors) Get(ctx context.Context, iri string) (storage.RemoteActor, error) {
	if err := s.begin(ctx, "get actor"); err != nil {
		return storage.RemoteActor{}, err
	}
	defer s.end()
	s.mu.RLock()
	a, ok := s.m[iri]
	s.mu.RUnlock()
	if !ok {
		return storage.RemoteActor{}, fmt.Errorf("memory: get actor %q: %w", iri, storage.ErrNotFound)
	}
	return cloneActor(a), nil
}

// Addresses implements storage.ActorAddresses.
func (s *actors) Addresses(ctx context.Context, iris []string) ([]storage.RemoteActor, error) {
	if err := s.begin(ctx, "actor addresses"); err != nil {
		return nil, err
	}
	defer s.end()
	out := make([]storage.RemoteActor, 0, len(iris))
	seen := make(map[string]bool, len(iris))
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, iri := range iris {
		a, ok := s.m[iri]
		if !ok || seen[iri] {
			continue
		}
		seen[iri] = true
		out = append(out, storage.RemoteActor{IRI: a.IRI, Inbox: a.Inbox, SharedInbox: a.SharedInbox, Fetched: a.Fetched, Gone: a.Gone})
	}
	return out, nil
}

func (s *actors) ByKey(ctx context.Context, keyID string) (storage.RemoteActor, error) {
	if err := s.begin(ctx, "actor by key"); err != nil {
		return storage.RemoteActor{}, err
	}
	defer s.end()
	s.mu.RLock()
	a, ok := s.m[s.byKey[keyID]]
	s.mu.RUnlock()
	if !ok {
		return storage.RemoteActor{}, fmt.Errorf("memory: actor by key %q: %w", keyID, storage.ErrNotFound)
	}
	return cloneActor(a), nil
}

func (s *actors) Put(ctx context.Context, a storage.RemoteActor) error {
	if err := s.begin(ctx, "put actor"); err != nil {
		return err
	}
	defer s.end()
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
	s.touch(a.IRI)
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
	if err := s.begin(ctx, "mark gone"); err != nil {
		return err
	}
	defer s.end()
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
	s.touch(iri)
	a.Gone = at
	s.m[iri] = a
	return nil
}

func (s *actors) Delete(ctx context.Context, iri string) error {
	if err := s.begin(ctx, "delete actor"); err != nil {
		return err
	}
	defer s.end()
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.m[iri]
	if !ok {
		return fmt.Errorf("memory: delete actor %q: %w", iri, storage.ErrNotFound)
	}
	s.touch(iri)
	for _, k := range a.Keys {
		delete(s.byKey, k.ID)
	}
	delete(s.m, iri)
	return nil
}
