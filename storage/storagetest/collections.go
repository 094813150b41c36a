package storagetest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fedi-go/fedi/storage"
)

// TestCollections checks a Collections implementation. newCollections is
// called once per subtest and must return an empty store.
func TestCollections(t *testing.T, newCollections func(t *testing.T) storage.Collections) {
	t.Helper()
	runAll(t, newCollections, []subtest[storage.Collections]{
		{"Empty", collectionsEmpty},
		{"UnstorableKeys", collectionsUnstorable},
		{"AddContainsRemove", collectionsAddRemove},
		{"AddAgain", collectionsAddAgain},
		{"Pending", collectionsPending},
		{"Independent", collectionsIndependent},
		{"Paging", collectionsPaging},
		{"PagingWhileWriting", collectionsPagingWhileWriting},
		{"PagingWhileWritingConcurrently", collectionsPagingConcurrent},
		{"Invalid", collectionsInvalid},
		{"UnicodeIRIs", collectionsUnicode},
		{"LongIRIs", collectionsLongIRIs},
		{"Cancelled", collectionsCancelled},
		{"CancelledMidCall", collectionsCancelledMidCall},
	})
}

func collectionsEmpty(t *testing.T, ctx context.Context, s storage.Collections) {
	coll, bob := iri(t, "followers"), iri(t, "bob")
	for _, st := range []storage.State{storage.Accepted, storage.Pending} {
		n, err := s.Count(ctx, coll, st)
		must(t, err, "Count")
		if n != 0 {
			t.Fatalf("Count(%v) of an unknown collection = %d", st, n)
		}
		p, err := s.Page(ctx, coll, storage.PageOptions{State: st})
		must(t, err, "Page")
		if len(p.Members) != 0 || p.Next != "" {
			t.Fatalf("Page(%v) of an unknown collection = %+v", st, p)
		}
	}
	_, err := s.Contains(ctx, coll, bob)
	mustErr(t, err, storage.ErrNotFound, "Contains in an unknown collection")
	mustErr(t, s.Remove(ctx, coll, bob), storage.ErrNotFound, "Remove from an unknown collection")
}

// collectionsUnstorable looks up keys no store can hold, as a collection
// and as a member: they are not found, and such a collection is empty.
func collectionsUnstorable(t *testing.T, ctx context.Context, s storage.Collections) {
	coll, bob := iri(t, "followers"), iri(t, "bob")
	must(t, s.Add(ctx, coll, storage.Member{IRI: bob}), "Add")
	for _, key := range unstorable(t) {
		for _, pair := range [][2]string{{coll, key}, {key, bob}} {
			_, err := s.Contains(ctx, pair[0], pair[1])
			mustErr(t, err, storage.ErrNotFound, fmt.Sprintf("Contains(%q, %q)", pair[0], pair[1]))
			mustErr(t, s.Remove(ctx, pair[0], pair[1]), storage.ErrNotFound, fmt.Sprintf("Remove(%q, %q)", pair[0], pair[1]))
		}
		n, err := s.Count(ctx, key, storage.Accepted)
		must(t, err, fmt.Sprintf("Count(%q)", key))
		if n != 0 {
			t.Fatalf("Count(%q) = %d", key, n)
		}
		p, err := s.Page(ctx, key, storage.PageOptions{})
		must(t, err, fmt.Sprintf("Page(%q)", key))
		if len(p.Members) != 0 || p.Next != "" {
			t.Fatalf("Page(%q) = %+v", key, p)
		}
	}
	countIs(t, ctx, s, coll, storage.Accepted, 1)
}

func collectionsAddRemove(t *testing.T, ctx context.Context, s storage.Collections) {
	coll, bob, carol, follow := iri(t, "followers"), iri(t, "bob"), iri(t, "carol"), iri(t, "follow/1")
	before := time.Now()
	must(t, s.Add(ctx, coll, storage.Member{IRI: bob, Activity: follow}), "Add bob")
	must(t, s.Add(ctx, coll, storage.Member{IRI: carol}), "Add carol")
	m, err := s.Contains(ctx, coll, bob)
	must(t, err, "Contains bob")
	if m.IRI != bob || m.State != storage.Accepted || m.Activity != follow {
		t.Fatalf("Contains = %+v, want bob, accepted, with activity %q", m, follow)
	}
	near(t, m.Added, before, 5*time.Second, "Added")
	countIs(t, ctx, s, coll, storage.Accepted, 2)
	must(t, s.Remove(ctx, coll, bob), "Remove bob")
	_, err = s.Contains(ctx, coll, bob)
	mustErr(t, err, storage.ErrNotFound, "Contains after Remove")
	mustErr(t, s.Remove(ctx, coll, bob), storage.ErrNotFound, "Remove twice")
	countIs(t, ctx, s, coll, storage.Accepted, 1)
	pageIs(t, ctx, s, coll, storage.Accepted, carol)
}

func collectionsAddAgain(t *testing.T, ctx context.Context, s storage.Collections) {
	coll, a, b, c := iri(t, "likes"), iri(t, "a"), iri(t, "b"), iri(t, "c")
	for _, m := range []string{a, b, c} {
		must(t, s.Add(ctx, coll, storage.Member{IRI: m, Activity: m + "/like/1"}), "Add")
	}
	first, err := s.Contains(ctx, coll, a)
	must(t, err, "Contains")
	must(t, s.Add(ctx, coll, storage.Member{IRI: a, Activity: a + "/like/2"}), "Add again")
	must(t, s.Add(ctx, coll, storage.Member{IRI: b}), "Add again without activity")
	countIs(t, ctx, s, coll, storage.Accepted, 3)
	pageIs(t, ctx, s, coll, storage.Accepted, c, b, a) // places kept
	m, err := s.Contains(ctx, coll, a)
	must(t, err, "Contains")
	if m.Activity != a+"/like/2" || !m.Added.Equal(first.Added) {
		t.Fatalf("after adding again Contains = %+v; want the new activity and Added kept at %v", m, first.Added)
	}
	m, err = s.Contains(ctx, coll, b)
	must(t, err, "Contains")
	if m.Activity != b+"/like/1" {
		t.Fatalf("adding again without an activity replaced it: %+v", m)
	}
}

func collectionsPending(t *testing.T, ctx context.Context, s storage.Collections) {
	coll, bob, carol, dave := iri(t, "followers"), iri(t, "bob"), iri(t, "carol"), iri(t, "dave")
	follow := iri(t, "follows/bob")
	must(t, s.Add(ctx, coll, storage.Member{IRI: carol}), "Add carol")
	must(t, s.Add(ctx, coll, storage.Member{IRI: bob, State: storage.Pending, Activity: follow}), "Add bob pending")
	must(t, s.Add(ctx, coll, storage.Member{IRI: dave}), "Add dave")
	countIs(t, ctx, s, coll, storage.Accepted, 2)
	countIs(t, ctx, s, coll, storage.Pending, 1)
	pageIs(t, ctx, s, coll, storage.Accepted, dave, carol)
	pageIs(t, ctx, s, coll, storage.Pending, bob)
	m, err := s.Contains(ctx, coll, bob)
	must(t, err, "Contains pending")
	if m.State != storage.Pending || m.Activity != follow {
		t.Fatalf("Contains pending = %+v", m)
	}

	// Accepting moves bob to the front and keeps the Follow's id.
	must(t, s.Add(ctx, coll, storage.Member{IRI: bob}), "Accept bob")
	countIs(t, ctx, s, coll, storage.Accepted, 3)
	countIs(t, ctx, s, coll, storage.Pending, 0)
	pageIs(t, ctx, s, coll, storage.Accepted, bob, dave, carol)
	pageIs(t, ctx, s, coll, storage.Pending)
	m, err = s.Contains(ctx, coll, bob)
	must(t, err, "Contains accepted")
	if m.State != storage.Accepted || m.Activity != follow {
		t.Fatalf("after accepting Contains = %+v, want accepted with activity %q", m, follow)
	}

	// Rejecting a pending request removes it.
	must(t, s.Add(ctx, coll, storage.Member{IRI: iri(t, "eve"), State: storage.Pending}), "Add eve pending")
	must(t, s.Remove(ctx, coll, iri(t, "eve")), "Reject eve")
	countIs(t, ctx, s, coll, storage.Pending, 0)
}

func collectionsIndependent(t *testing.T, ctx context.Context, s storage.Collections) {
	followers, following, bob := iri(t, "followers"), iri(t, "following"), iri(t, "bob")
	must(t, s.Add(ctx, followers, storage.Member{IRI: bob}), "Add")
	must(t, s.Add(ctx, following, storage.Member{IRI: bob, State: storage.Pending}), "Add")
	must(t, s.Remove(ctx, followers, bob), "Remove")
	m, err := s.Contains(ctx, following, bob)
	must(t, err, "Contains in the other collection")
	if m.State != storage.Pending {
		t.Fatalf("the other collection's member changed: %+v", m)
	}
	countIs(t, ctx, s, followers, storage.Accepted, 0)
}

func collectionsPaging(t *testing.T, ctx context.Context, s storage.Collections) {
	coll := iri(t, "outbox")
	const n = 45
	want := make([]string, n)
	for i := range n {
		m := iri(t, fmt.Sprintf("activities/%03d", i))
		must(t, s.Add(ctx, coll, storage.Member{IRI: m}), "Add")
		want[n-1-i] = m
	}
	must(t, s.Add(ctx, coll, storage.Member{IRI: iri(t, "pending"), State: storage.Pending}), "Add pending")
	for _, tt := range []struct {
		limit int
		sizes []int
	}{
		{10, []int{10, 10, 10, 10, 5}},
		{15, []int{15, 15, 15}},
		{0, []int{storage.DefaultPageLimit, storage.DefaultPageLimit, 5}},
		{100, []int{45}},
		{1, nil}, // 45 pages of one
	} {
		t.Run(fmt.Sprint("limit ", tt.limit), func(t *testing.T) {
			var got []string
			var sizes []int
			cursor := ""
			for range n + 1 {
				p, err := s.Page(ctx, coll, storage.PageOptions{Cursor: cursor, Limit: tt.limit})
				must(t, err, "Page")
				sizes = append(sizes, len(p.Members))
				for _, m := range p.Members {
					got = append(got, m.IRI)
				}
				if p.Next == "" {
					break
				}
				cursor = p.Next
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("pages gave %d members\n%v\nwant newest first\n%v", len(got), got, want)
			}
			if tt.sizes != nil && fmt.Sprint(sizes) != fmt.Sprint(tt.sizes) {
				t.Fatalf("page sizes %v, want %v", sizes, tt.sizes)
			}
		})
	}
}

// collectionsPagingWhileWriting walks the pages while members come and
// go between them, in a fixed order: after each page a new member is
// added, which belongs before the pages still to come, and after every
// other page the member the cursor points after is removed. A cursor
// that counted members would repeat one or skip one; a cursor that named
// a member would lose its place.
func collectionsPagingWhileWriting(t *testing.T, ctx context.Context, s storage.Collections) {
	coll := iri(t, "followers")
	const before = 100
	var want []string
	for i := range before {
		m := iri(t, fmt.Sprintf("old/%03d", i))
		must(t, s.Add(ctx, coll, storage.Member{IRI: m}), "Add")
		want = append([]string{m}, want...)
	}
	var walked []string
	seen := map[string]bool{}
	cursor := ""
	for page := range before + 1 {
		p, err := s.Page(ctx, coll, storage.PageOptions{Cursor: cursor, Limit: 7})
		must(t, err, "Page")
		for _, m := range p.Members {
			if seen[m.IRI] {
				t.Fatalf("page %d: member %q appeared on two pages", page, m.IRI)
			}
			if strings.HasPrefix(m.IRI, iri(t, "new/")) {
				t.Fatalf("page %d: member %q, added after the walk passed its place, appeared on a later page", page, m.IRI)
			}
			seen[m.IRI] = true
			walked = append(walked, m.IRI)
		}
		if p.Next == "" {
			break
		}
		must(t, s.Add(ctx, coll, storage.Member{IRI: iri(t, fmt.Sprintf("new/%03d", page))}), "Add between pages")
		if page%2 == 1 && len(walked) > 0 {
			must(t, s.Remove(ctx, coll, walked[len(walked)-1]), "Remove between pages")
		}
		cursor = p.Next
	}
	if fmt.Sprint(walked) != fmt.Sprint(want) {
		t.Fatalf("while members came and went, the walk saw %d of the %d members present before it, or out of order:\n%v", len(walked), before, walked)
	}
}

// collectionsPagingConcurrent walks the pages while writers add and
// remove members at the same time.
func collectionsPagingConcurrent(t *testing.T, ctx context.Context, s storage.Collections) {
	coll := iri(t, "followers")
	const before, writers, during = 100, 4, 50
	var want []string
	for i := range before {
		m := iri(t, fmt.Sprintf("old/%03d", i))
		must(t, s.Add(ctx, coll, storage.Member{IRI: m}), "Add")
		want = append([]string{m}, want...)
	}

	// Writers add new members and remove some of their own while a reader
	// walks the pages.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	werrs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			for i := range during {
				m := iri(t, fmt.Sprintf("new/%d/%03d", w, i))
				if err := s.Add(ctx, coll, storage.Member{IRI: m}); err != nil {
					werrs <- err
					return
				}
				if i%3 == 0 {
					if err := s.Remove(ctx, coll, m); err != nil {
						werrs <- err
						return
					}
				}
				select {
				case <-stop:
					return
				default:
				}
			}
		})
	}

	seen := map[string]bool{}
	var old []string
	cursor := ""
	for range before + writers*during + 1 {
		p, err := s.Page(ctx, coll, storage.PageOptions{Cursor: cursor, Limit: 7})
		must(t, err, "Page")
		for _, m := range p.Members {
			if seen[m.IRI] {
				close(stop)
				wg.Wait()
				t.Fatalf("member %q appeared on two pages", m.IRI)
			}
			seen[m.IRI] = true
			if strings.HasPrefix(m.IRI, iri(t, "old/")) {
				old = append(old, m.IRI)
			}
		}
		if p.Next == "" {
			break
		}
		cursor = p.Next
	}
	close(stop)
	wg.Wait()
	close(werrs)
	for err := range werrs {
		must(t, err, "writer")
	}
	if fmt.Sprint(old) != fmt.Sprint(want) {
		t.Fatalf("while others wrote, the walk saw %d of the %d members present before it, or out of order:\n%v", len(old), before, old)
	}
}

func collectionsInvalid(t *testing.T, ctx context.Context, s storage.Collections) {
	coll := iri(t, "followers")
	for _, tt := range []struct {
		name string
		coll string
		m    storage.Member
	}{
		{"empty collection", "", storage.Member{IRI: iri(t, "bob")}},
		{"empty member", coll, storage.Member{}},
		{"control character", coll, storage.Member{IRI: iri(t, "bob\n")}},
		{"unknown state", coll, storage.Member{IRI: iri(t, "bob"), State: 7}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			mustErr(t, s.Add(ctx, tt.coll, tt.m), storage.ErrInvalid, "Add")
		})
	}
	countIs(t, ctx, s, coll, storage.Accepted, 0)
	_, err := s.Page(ctx, coll, storage.PageOptions{Cursor: "not a cursor"})
	mustErr(t, err, storage.ErrInvalid, "Page with a malformed cursor")
}

func collectionsUnicode(t *testing.T, ctx context.Context, s storage.Collections) {
	coll := unicodeIRIs[0] + "/followers"
	for _, m := range unicodeIRIs {
		must(t, s.Add(ctx, coll, storage.Member{IRI: m, Activity: m + "#follow"}), "Add "+m)
	}
	countIs(t, ctx, s, coll, storage.Accepted, len(unicodeIRIs))
	for _, m := range unicodeIRIs {
		got, err := s.Contains(ctx, coll, m)
		must(t, err, "Contains "+m)
		if got.IRI != m || got.Activity != m+"#follow" {
			t.Fatalf("Contains(%q) = %+v", m, got)
		}
	}
	want := make([]string, len(unicodeIRIs))
	for i, m := range unicodeIRIs {
		want[len(want)-1-i] = m
	}
	pageIs(t, ctx, s, coll, storage.Accepted, want...)
	must(t, s.Remove(ctx, coll, unicodeIRIs[2]), "Remove the decomposed form")
	if _, err := s.Contains(ctx, coll, unicodeIRIs[1]); err != nil {
		t.Fatalf("removing the decomposed form removed the composed one: %v", err)
	}
}

func collectionsCancelled(t *testing.T, ctx context.Context, s storage.Collections) {
	coll, bob, carol := iri(t, "followers"), iri(t, "bob"), iri(t, "carol")
	must(t, s.Add(ctx, coll, storage.Member{IRI: bob}), "Add")
	c := cancelled()
	checkCancelled(t, "Add", s.Add(c, coll, storage.Member{IRI: carol}))
	checkCancelled(t, "Remove", s.Remove(c, coll, bob))
	_, err := s.Contains(c, coll, bob)
	checkCancelled(t, "Contains", err)
	_, err = s.Count(c, coll, storage.Accepted)
	checkCancelled(t, "Count", err)
	_, err = s.Page(c, coll, storage.PageOptions{})
	checkCancelled(t, "Page", err)
	pageIs(t, ctx, s, coll, storage.Accepted, bob)
}

func countIs(t *testing.T, ctx context.Context, s storage.Collections, coll string, st storage.State, want int) {
	t.Helper()
	n, err := s.Count(ctx, coll, st)
	must(t, err, "Count")
	if n != want {
		t.Fatalf("Count(%v) = %d, want %d", st, n, want)
	}
}

// pageIs checks the first page, which holds all of want.
func pageIs(t *testing.T, ctx context.Context, s storage.Collections, coll string, st storage.State, want ...string) {
	t.Helper()
	p, err := s.Page(ctx, coll, storage.PageOptions{State: st, Limit: storage.MaxPageLimit})
	must(t, err, "Page")
	got := make([]string, len(p.Members))
	for i, m := range p.Members {
		got[i] = m.IRI
		if m.State != st {
			t.Fatalf("Page(%v) returned %q in state %v", st, m.IRI, m.State)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) || p.Next != "" {
		t.Fatalf("Page(%v) = %q (next %q), want %q", st, got, p.Next, want)
	}
}
