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

// dedupeState holds the pairs recorded.
type dedupeState struct {
	mu   sync.Mutex
	seen map[pair]time.Time
	j    dedupeJournal // during a transaction
}

// dedupeJournal keeps the pairs a transaction changed as they were
// before: nil for a pair that was not recorded.
type dedupeJournal map[pair]*time.Time

func newDedupe() *dedupeState { return &dedupeState{seen: make(map[pair]time.Time)} }

// touch keeps k as it is, the first time a transaction changes it.
func (s *dedupeState) touch(k pair) {
	if s.j == nil {
		return
	}
	if _, ok := s.j[k]; ok {
		return
	}
	if t, ok := s.seen[k]; ok {
		s.j[k] = &t
		return
	}
	s.j[k] = nil
}

func (s *dedupeState) rollback() {
	for k, t := range s.j {
		if t == nil {
			delete(s.seen, k)
			continue
		}
		s.seen[k] = *t
	}
}

type dedupe struct {
	view
	*dedupeState
}

func (s *dedupe) Record(ctx context.Context, activity, recipient string) (bool, error) {
	if err := s.begin(ctx, "record"); err != nil {
		return false, err
	}
	defer s.end()
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
	s.touch(k)
	s.seen[k] = dbutil.Now()
	return true, nil
}

func (s *dedupe) Forget(ctx context.Context, activity, recipient string) error {
	if err := s.begin(ctx, "forget"); err != nil {
		return err
	}
	defer s.end()
	k := pair{activity, recipient}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.seen[k]; !ok {
		return fmt.Errorf("memory: forget %q for %q: %w", activity, recipient, storage.ErrNotFound)
	}
	s.touch(k)
	delete(s.seen, k)
	return nil
}

func (s *dedupe) Prune(ctx context.Context, before time.Time) (int64, error) {
	if err := s.begin(ctx, "prune"); err != nil {
		return 0, err
	}
	defer s.end()
	before = dbutil.Micro(before) // as the SQL stores compare it
	s.mu.Lock()
	defer s.mu.Unlock()
	var n int64
	for k, t := range s.seen {
		if t.Before(before) {
			s.touch(k)
			delete(s.seen, k)
			n++
		}
	}
	return n, nil
}
