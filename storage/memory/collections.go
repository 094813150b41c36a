package memory

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/storage/internal/dbutil"
)

// The optional capabilities of Collections that the adapter has.
var _ storage.Memberships = (*collections)(nil)

// collectionState holds the collections.
type collectionState struct {
	mu       sync.RWMutex
	seq      int64 // the last position handed out, across all collections
	m        map[string]*collection
	byMember map[string]map[string]*entry // member → collection → its entry there
	j        *collectionJournal           // during a transaction
}

// collection keeps its entries in the order they took their position, so
// that a page is a walk backwards from the cursor. An entry that is
// removed or moves to the front is marked dead in place and skipped;
// dead entries are swept out when they outnumber the live ones, but not
// during a transaction, which may bring them back.
type collection struct {
	iri   string
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

// collectionJournal keeps what a transaction changed as it was before.
type collectionJournal struct {
	start   int64                    // seq when the transaction began
	colls   map[string]collectionWas // the collections it changed
	members map[[2]string]*entry     // collection, member → the entry it had, or nil
	entries map[*entry]entryWas      // entries older than the transaction that it changed
	added   []*entry                 // entries the transaction created
	addedTo map[string]int           // how many, per collection
}

type collectionWas struct {
	c     *collection // nil when it did not exist
	count [2]int
	dead  int
}

type entryWas struct {
	m    storage.Member
	dead bool
}

func newCollections() *collectionState {
	return &collectionState{m: make(map[string]*collection), byMember: make(map[string]map[string]*entry)}
}

func (s *collectionState) startTx() {
	s.j = &collectionJournal{
		start:   s.seq,
		colls:   make(map[string]collectionWas),
		members: make(map[[2]string]*entry),
		entries: make(map[*entry]entryWas),
		addedTo: make(map[string]int),
	}
}

func (s *collectionState) endTx() { s.j = nil }

// touch keeps collection coll and member's entry in it as they are, the
// first time a transaction changes them.
func (s *collectionState) touch(coll, member string) {
	j := s.j
	if j == nil {
		return
	}
	c := s.m[coll]
	if _, ok := j.colls[coll]; !ok {
		w := collectionWas{c: c}
		if c != nil {
			w.count, w.dead = c.count, c.dead
		}
		j.colls[coll] = w
	}
	k := [2]string{coll, member}
	if _, ok := j.members[k]; ok {
		return
	}
	var e *entry
	if c != nil {
		e = c.byIRI[member]
	}
	j.members[k] = e
	if e != nil && e.seq <= j.start {
		if _, ok := j.entries[e]; !ok {
			j.entries[e] = entryWas{e.m, e.dead}
		}
	}
}

// rollback puts back what the journal kept. The entries the transaction
// created stay in their collections' order, dead, since none was swept.
func (s *collectionState) rollback() {
	j := s.j
	for _, e := range j.added {
		e.dead = true
	}
	for e, w := range j.entries {
		e.m, e.dead = w.m, w.dead
	}
	for k, e := range j.members {
		if c := s.m[k[0]]; c != nil {
			if e == nil {
				delete(c.byIRI, k[1])
			} else {
				c.byIRI[k[1]] = e
			}
		}
		if e == nil {
			s.unlink(k[0], k[1])
		} else {
			s.link(k[0], k[1], e)
		}
	}
	for coll, w := range j.colls {
		if w.c == nil {
			delete(s.m, coll)
			continue
		}
		w.c.count, w.c.dead = w.count, w.dead+j.addedTo[coll]
	}
}

// link and unlink keep the index by member.
func (s *collectionState) link(coll, member string, e *entry) {
	cs := s.byMember[member]
	if cs == nil {
		cs = make(map[string]*entry)
		s.byMember[member] = cs
	}
	cs[coll] = e
}

func (s *collectionState) unlink(coll, member string) {
	cs := s.byMember[member]
	delete(cs, coll)
	if len(cs) == 0 {
		delete(s.byMember, member)
	}
}

// kill marks e dead and forgets it, sweeping when dead entries dominate.
func (s *collectionState) kill(c *collection, e *entry) {
	e.dead = true
	delete(c.byIRI, e.m.IRI)
	s.unlink(c.iri, e.m.IRI)
	c.count[e.m.State]--
	c.dead++
	if s.j == nil && c.dead > 64 && c.dead > len(c.order)/2 {
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

type collections struct {
	view
	*collectionState
}

func (s *collections) Add(ctx context.Context, coll string, m storage.Member) error {
	if err := s.begin(ctx, "add member"); err != nil {
		return err
	}
	defer s.end()
	if err := storage.CheckMember(coll, m); err != nil {
		return fmt.Errorf("memory: add member: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.touch(coll, m.IRI)
	c := s.m[coll]
	if c == nil {
		c = &collection{iri: coll, byIRI: make(map[string]*entry)}
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
		s.kill(c, e)
	}
	s.seq++
	m.Added = dbutil.Now()
	e := &entry{seq: s.seq, m: m}
	c.byIRI[m.IRI] = e
	s.link(coll, m.IRI, e)
	c.order = append(c.order, e)
	c.count[m.State]++
	if s.j != nil {
		s.j.added = append(s.j.added, e)
		s.j.addedTo[coll]++
	}
	return nil
}

func (s *collections) Remove(ctx context.Context, coll, member string) error {
	if err := s.begin(ctx, "remove member"); err != nil {
		return err
	}
	defer s.end()
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.m[coll]
	if c == nil || c.byIRI[member] == nil {
		return fmt.Errorf("memory: remove %q from %q: %w", member, coll, storage.ErrNotFound)
	}
	s.touch(coll, member)
	s.kill(c, c.byIRI[member])
	return nil
}

func (s *collections) Contains(ctx context.Context, coll, member string) (storage.Member, error) {
	if err := s.begin(ctx, "contains"); err != nil {
		return storage.Member{}, err
	}
	defer s.end()
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
	if err := s.begin(ctx, "count"); err != nil {
		return 0, err
	}
	defer s.end()
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
	if err := s.begin(ctx, "page"); err != nil {
		return storage.Page{}, err
	}
	defer s.end()
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

// CollectionsOf implements storage.Memberships. Positions are shared by
// all collections, so the cursor is the position of the member's entry in
// the last collection listed, as in Page.
func (s *collections) CollectionsOf(ctx context.Context, member string, opts storage.PageOptions) (storage.Page, error) {
	if err := s.begin(ctx, "collections of"); err != nil {
		return storage.Page{}, err
	}
	defer s.end()
	if err := dbutil.CheckState("memory", "collections of", opts.State); err != nil {
		return storage.Page{}, err
	}
	before, err := dbutil.ParseCursor("memory", opts.Cursor)
	if err != nil {
		return storage.Page{}, err
	}
	limit := dbutil.Limit(opts.Limit)
	type held struct {
		coll string
		e    *entry
	}
	s.mu.RLock()
	var hs []held
	for coll, e := range s.byMember[member] {
		if e.m.State == opts.State && e.seq < before {
			hs = append(hs, held{coll, e})
		}
	}
	var p storage.Page
	sort.Slice(hs, func(i, j int) bool { return hs[i].e.seq > hs[j].e.seq })
	for i, h := range hs {
		if i == limit {
			p.Next = dbutil.Cursor(hs[i-1].e.seq)
			break
		}
		m := h.e.m
		m.IRI = h.coll
		p.Members = append(p.Members, m)
	}
	s.mu.RUnlock()
	return p, nil
}
