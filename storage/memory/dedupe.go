package memory

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/storage/internal/dbutil"
)

type pair struct{ activity, recipient string }

type dedupe struct {
	mu   sync.Mutex
	seen map[pair]time.Time
}

func newDedupe() *dedupe { return &dedupe{seen: make(map[pair]time.Time)} }

func (s *dedupe) Record(ctx context.Context, activity, recipient string) (bool, error) {
	if err := done(ctx, "record"); err != nil {
		return false, err
	}
	if err := storage.CheckIRI("activity", activity); err != nil {
		return false, fmt.Errorf("memory: record: %w", err)
	}
	if err := storage.CheckIRI("recipient", recipient); err != nil {
		return false, fmt.Errorf("memory: record: %w", err)
	}
	k := pair{activity, recipient}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.seen[k]; ok {
		return false, nil
	}
	s.seen[k] = dbutil.Now()
	return true, nil
}

func (s *dedupe) Forget(ctx context.Context, activity, recipient string) error {
	if err := done(ctx, "forget"); err != nil {
		return err
	}
	k := pair{activity, recipient}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.seen[k]; !ok {
		return fmt.Errorf("memory: forget %q for %q: %w", activity, recipient, storage.ErrNotFound)
	}
	delete(s.seen, k)
	return nil
}

func (s *dedupe) Prune(ctx context.Context, before time.Time) (int64, error) {
	if err := done(ctx, "prune"); err != nil {
		return 0, err
	}
	before = dbutil.Micro(before) // as the SQL stores compare it
	s.mu.Lock()
	defer s.mu.Unlock()
	var n int64
	for k, t := range s.seen {
		if t.Before(before) {
			delete(s.seen, k)
			n++
		}
	}
	return n, nil
}
