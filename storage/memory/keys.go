package memory

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/storage/internal/dbutil"
)

type keys struct {
	mu sync.RWMutex
	m  map[string]storage.Key
}

func newKeys() *keys { return &keys{m: make(map[string]storage.Key)} }

func (s *keys) Key(ctx context.Context, keyID string) (storage.Key, error) {
	if err := done(ctx, "key"); err != nil {
		return storage.Key{}, err
	}
	s.mu.RLock()
	k, ok := s.m[keyID]
	s.mu.RUnlock()
	if !ok {
		return storage.Key{}, fmt.Errorf("memory: key %q: %w", keyID, storage.ErrNotFound)
	}
	k.PEM = bytes.Clone(k.PEM)
	return k, nil
}

func (s *keys) Keys(ctx context.Context, owner string) ([]storage.Key, error) {
	if err := done(ctx, "keys"); err != nil {
		return nil, err
	}
	s.mu.RLock()
	ks := []storage.Key{}
	for _, k := range s.m {
		if k.Owner == owner {
			k.PEM = bytes.Clone(k.PEM)
			ks = append(ks, k)
		}
	}
	s.mu.RUnlock()
	sort.Slice(ks, func(i, j int) bool {
		if !ks[i].Created.Equal(ks[j].Created) {
			return ks[i].Created.After(ks[j].Created)
		}
		return ks[i].ID < ks[j].ID
	})
	return ks, nil
}

func (s *keys) PutKey(ctx context.Context, k storage.Key) error {
	if err := done(ctx, "put key"); err != nil {
		return err
	}
	if err := storage.CheckKey(k); err != nil {
		return fmt.Errorf("memory: put key: %w", err)
	}
	k.PEM = bytes.Clone(k.PEM)
	k.Signer = nil
	// Parse once here, as the SQL adapters do on every read, so that keys
	// come back with their Signer set.
	k, err := storage.ReadKey(k)
	if err != nil {
		return fmt.Errorf("memory: put key: %w", err)
	}
	k.Created = dbutil.Micro(k.Created)
	if k.Created.IsZero() {
		k.Created = dbutil.Now()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.m[k.ID]; ok && old.Owner != k.Owner {
		return fmt.Errorf("memory: put key %q: owned by %q: %w", k.ID, old.Owner, storage.ErrConflict)
	}
	s.m[k.ID] = k
	return nil
}

func (s *keys) DeleteKey(ctx context.Context, keyID string) error {
	if err := done(ctx, "delete key"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[keyID]; !ok {
		return fmt.Errorf("memory: delete key %q: %w", keyID, storage.ErrNotFound)
	}
	delete(s.m, keyID)
	return nil
}
