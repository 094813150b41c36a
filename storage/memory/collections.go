package memory

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/storage/internal/dbutil"
)

type collections struct {
	mu  sync.RWMutex
	seq int64 // the last position handed out, across all collections
	m   map[string]*collection
}

// collection keeps its entries in the order they took their position, so
// that a page is a walk backwards from the cursor. An entry that is
// removed or moves to the front is marked dead in place and skipped;
// dead entries are swept out when they outnumber the live ones.
type collection struct {
	byIRI map[string]*entry
	order []*entry // by seq, ascending
	count [2]int   // live entries by state
	dead  int
}

type entry struct {
	seq  int64
	m    storage.Member
	dead bool
}

func newCollections() *collections { return &collections{m: make(map[string]*collection)} }

func (s *collections) Add(ctx context.Context, coll string, m storage.Member) error {
	if err := done(ctx, "add member"); err != nil {
		return err
	}
	if err := storage.CheckMember(coll, m); err != nil {
		return fmt.Errorf("memory: add member: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.m[coll]
	if c == nil {
		c = &collection{byIRI: make(map[string]*entry)}
		s.m[coll] = c
	}
	if e := c.byIRI[m.IRI]; e != nil {
		if e.m.State == m.State {
			if m.Activity != "" {
				e.m.Activity = m.Activity
			}
			return nil
		}
		if m.Activity == "" {
			m.Activity = e.m.Activity
		}
		c.kill(e)
	}
	s.seq++
	m.Added = dbutil.Now()
	e := &entry{seq: s.seq, m: m}
	c.byIRI[m.IRI] = e
	c.order = append(c.order, e)
	c.count[m.State]++
	return nil
}

// kill marks e dead and forgets it, sweeping when dead entries dominate.
func (c *collection) kill(e *entry) {
	e.dead = true
	delete(c.byIRI, e.m.IRI)
	c.count[e.m.State]--
	c.dead++
	if c.dead > 64 && c.dead > len(c.order)/2 {
		live := c.order[:0]
		for _, e := range c.order {
			if !e.dead {
				live = append(live, e)
			}
		}
		clear(c.order[len(live):])
		c.order = live
		c.dead = 0
	}
}

func (s *collections) Remove(ctx context.Context, coll, member string) error {
	if err := done(ctx, "remove member"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.m[coll]
	if c == nil || c.byIRI[member] == nil {
		return fmt.Errorf("memory: remove %q from %q: %w", member, coll, storage.ErrNotFound)
	}
	c.kill(c.byIRI[member])
	return nil
}

func (s *collections) Contains(ctx context.Context, coll, member string) (storage.Member, error) {
	if err := done(ctx, "contains"); err != nil {
		return storage.Member{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if c := s.m[coll]; c != nil {
		if e := c.byIRI[member]; e != nil {
			return e.m, nil
		}
	}
	return storage.Member{}, fmt.Errorf("memory: %q in %q: %w", member, coll, storage.ErrNotFound)
}

func (s *collections) Count(ctx context.Context, coll string, state storage.State) (int, error) {
	if err := done(ctx, "count"); err != nil {
		return 0, err
	}
	if err := dbutil.CheckState("memory", "count", state); err != nil {
		return 0, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if c := s.m[coll]; c != nil {
		return c.count[state], nil
	}
	return 0, nil
}

func (s *collections) Page(ctx context.Context, coll string, opts storage.PageOptions) (storage.Page, error) {
	if err := done(ctx, "page"); err != nil {
		return storage.Page{}, err
	}
	if err := dbutil.CheckState("memory", "page", opts.State); err != nil {
		return storage.Page{}, err
	}
	before, err := dbutil.ParseCursor("memory", opts.Cursor)
	if err != nil {
		return storage.Page{}, err
	}
	limit := dbutil.Limit(opts.Limit)
	s.mu.RLock()
	defer s.mu.RUnlock()
	c := s.m[coll]
	if c == nil {
		return storage.Page{}, nil
	}
	var (
		p    storage.Page
		last int64
	)
	i := sort.Search(len(c.order), func(i int) bool { return c.order[i].seq >= before })
	for i--; i >= 0; i-- {
		e := c.order[i]
		if e.dead || e.m.State != opts.State {
			continue
		}
		if len(p.Members) == limit {
			p.Next = dbutil.Cursor(last)
			break
		}
		p.Members = append(p.Members, e.m)
		last = e.seq
	}
	return p, nil
}
