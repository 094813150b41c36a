package storagetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/fedi-go/fedi/storage"
)

// TestMemberships checks the Memberships of a store's Collections, and of
// the Collections of its transactions when it has Tx. newStore is called
// once per subtest and must return an empty store; TestMemberships skips
// when its Collections is not a storage.Memberships.
func TestMemberships(t *testing.T, newStore func(t *testing.T) storage.Store) {
	t.Helper()
	newMS := func(t *testing.T) storage.Store {
		t.Helper()
		st := newStore(t)
		if _, ok := st.Collections.(storage.Memberships); !ok {
			t.Skip("Store.Collections is not a storage.Memberships")
		}
		return st
	}
	runAll(t, newMS, []subtest[storage.Store]{
		{"Empty", membershipsEmpty},
		{"List", membershipsList},
		{"Paging", membershipsPaging},
		{"PagingWhileWriting", membershipsPagingWhileWriting},
		{"Invalid", membershipsInvalid},
		{"LongIRIs", membershipsLongIRIs},
		{"Cancelled", membershipsCancelled},
		{"InTx", membershipsInTx},
	})
}

func memberships(s storage.Store) storage.Memberships { return s.Collections.(storage.Memberships) }

// collectionsOfIs checks the first page of the collections member is in,
// which holds all of want.
func collectionsOfIs(t *testing.T, ctx context.Context, ms storage.Memberships, member string, st storage.State, want ...string) []storage.Member {
	t.Helper()
	p, err := ms.CollectionsOf(ctx, member, storage.PageOptions{State: st, Limit: storage.MaxPageLimit})
	must(t, err, "CollectionsOf")
	got := make([]string, len(p.Members))
	for i, m := range p.Members {
		got[i] = m.IRI
		if m.State != st {
			t.Fatalf("CollectionsOf(%v) returned %q in state %v", st, m.IRI, m.State)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) || p.Next != "" {
		t.Fatalf("CollectionsOf(%v) = %q (next %q), want %q", st, got, p.Next, want)
	}
	return p.Members
}

func membershipsEmpty(t *testing.T, ctx context.Context, s storage.Store) {
	ms := memberships(s)
	collectionsOfIs(t, ctx, ms, iri(t, "nobody"), storage.Accepted)
	collectionsOfIs(t, ctx, ms, iri(t, "nobody"), storage.Pending)
	must(t, s.Collections.Add(ctx, iri(t, "followers"), storage.Member{IRI: iri(t, "bob")}), "Add")
	for _, key := range unstorable(t) {
		collectionsOfIs(t, ctx, ms, key, storage.Accepted)
	}
}

func membershipsList(t *testing.T, ctx context.Context, s storage.Store) {
	ms, c := memberships(s), s.Collections
	bob, carol := iri(t, "bob"), iri(t, "carol")
	followers, members, participants, likes := iri(t, "followers"), iri(t, "group/members"), iri(t, "event/participants"), iri(t, "note/likes")
	join := iri(t, "joins/1")
	before := time.Now()
	must(t, c.Add(ctx, followers, storage.Member{IRI: bob, Activity: iri(t, "follows/1")}), "Add")
	must(t, c.Add(ctx, members, storage.Member{IRI: bob, State: storage.Pending, Activity: join}), "Add pending")
	must(t, c.Add(ctx, participants, storage.Member{IRI: bob}), "Add")
	must(t, c.Add(ctx, followers, storage.Member{IRI: carol}), "Add carol")
	must(t, c.Add(ctx, likes, storage.Member{IRI: carol}), "Add carol")

	got := collectionsOfIs(t, ctx, ms, bob, storage.Accepted, participants, followers)
	if got[1].Activity != iri(t, "follows/1") {
		t.Fatalf("CollectionsOf = %+v, want the Follow as the activity in followers", got)
	}
	near(t, got[0].Added, before, 5*time.Second, "Added")
	got = collectionsOfIs(t, ctx, ms, bob, storage.Pending, members)
	if got[0].Activity != join {
		t.Fatalf("CollectionsOf(pending) = %+v, want the Join", got)
	}
	collectionsOfIs(t, ctx, ms, carol, storage.Accepted, likes, followers)

	// Accepting the Join moves the group to the front; adding again in the
	// same state keeps the place.
	must(t, c.Add(ctx, members, storage.Member{IRI: bob}), "Accept")
	must(t, c.Add(ctx, followers, storage.Member{IRI: bob}), "Add again")
	got = collectionsOfIs(t, ctx, ms, bob, storage.Accepted, members, participants, followers)
	if got[0].Activity != join {
		t.Fatalf("CollectionsOf after the Accept = %+v, want the Join kept", got)
	}
	collectionsOfIs(t, ctx, ms, bob, storage.Pending)

	// A Delete of bob removes him everywhere.
	for {
		p, err := ms.CollectionsOf(ctx, bob, storage.PageOptions{})
		must(t, err, "CollectionsOf")
		if len(p.Members) == 0 {
			break
		}
		for _, m := range p.Members {
			must(t, c.Remove(ctx, m.IRI, bob), "Remove")
		}
	}
	collectionsOfIs(t, ctx, ms, bob, storage.Accepted)
	collectionsOfIs(t, ctx, ms, carol, storage.Accepted, likes, followers)
	pageIs(t, ctx, c, followers, storage.Accepted, carol)
}

// walkMemberships pages through the collections of member in pages of
// size limit, calling between after each page.
func walkMemberships(t *testing.T, ctx context.Context, ms storage.Memberships, member string, limit int, between func(page int)) []string {
	t.Helper()
	var (
		got    []string
		cursor string
	)
	for page := 0; ; page++ {
		p, err := ms.CollectionsOf(ctx, member, storage.PageOptions{Cursor: cursor, Limit: limit})
		must(t, err, "CollectionsOf")
		if len(p.Members) > limit {
			t.Fatalf("page %d holds %d collections, more than the limit %d", page, len(p.Members), limit)
		}
		for _, m := range p.Members {
			got = append(got, m.IRI)
		}
		if p.Next == "" {
			return got
		}
		if len(p.Members) == 0 {
			t.Fatalf("page %d is empty but has a next cursor %q", page, p.Next)
		}
		cursor = p.Next
		if between != nil {
			between(page)
		}
	}
}

func membershipsPaging(t *testing.T, ctx context.Context, s storage.Store) {
	ms, bob := memberships(s), iri(t, "bob")
	var want []string
	for i := range 25 {
		coll := iri(t, fmt.Sprintf("groups/%d/members", i))
		must(t, s.Collections.Add(ctx, coll, storage.Member{IRI: bob}), "Add")
		want = append([]string{coll}, want...)
		// Others in the same collections do not count.
		must(t, s.Collections.Add(ctx, coll, storage.Member{IRI: iri(t, fmt.Sprintf("users/%d", i))}), "Add")
	}
	if got := walkMemberships(t, ctx, ms, bob, 10, nil); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("walking the pages gave %q, want %q", got, want)
	}
	p, err := ms.CollectionsOf(ctx, bob, storage.PageOptions{})
	must(t, err, "CollectionsOf")
	if len(p.Members) != storage.DefaultPageLimit || p.Next == "" {
		t.Fatalf("the first page with no limit holds %d collections (next %q), want %d and more", len(p.Members), p.Next, storage.DefaultPageLimit)
	}
}

// membershipsPagingWhileWriting joins and leaves collections between the
// pages: the walk never repeats a collection, never skips one bob was in
// all along, and the ones he joined meanwhile land before the walk.
func membershipsPagingWhileWriting(t *testing.T, ctx context.Context, s storage.Store) {
	ms, c, bob := memberships(s), s.Collections, iri(t, "bob")
	coll := func(i int) string { return iri(t, fmt.Sprintf("groups/%d/members", i)) }
	for i := range 30 {
		must(t, c.Add(ctx, coll(i), storage.Member{IRI: bob}), "Add")
	}
	left := map[string]bool{}
	got := walkMemberships(t, ctx, ms, bob, 7, func(page int) {
		must(t, c.Add(ctx, coll(100+page), storage.Member{IRI: bob}), "Add meanwhile")
		must(t, c.Remove(ctx, coll(page*3), bob), "Remove meanwhile")
		left[coll(page*3)] = true
		// Accepting elsewhere moves that collection before the walk.
		must(t, c.Add(ctx, coll(200+page), storage.Member{IRI: bob, State: storage.Pending}), "Add pending")
		must(t, c.Add(ctx, coll(200+page), storage.Member{IRI: bob}), "Accept")
	})
	seen := map[string]bool{}
	for _, g := range got {
		if seen[g] {
			t.Fatalf("the walk repeated %s: %q", g, got)
		}
		seen[g] = true
	}
	for i := range 30 {
		if !seen[coll(i)] && !left[coll(i)] {
			t.Fatalf("the walk skipped %s, which bob never left: %q", coll(i), got)
		}
	}
	for i := 100; i < 300; i++ {
		if seen[coll(i)] {
			t.Fatalf("the walk listed %s, joined after it began, instead of before its start: %q", coll(i), got)
		}
	}
}

func membershipsInvalid(t *testing.T, ctx context.Context, s storage.Store) {
	ms := memberships(s)
	for _, c := range []string{"x", "-1", "1.5"} {
		_, err := ms.CollectionsOf(ctx, iri(t, "bob"), storage.PageOptions{Cursor: c})
		mustErr(t, err, storage.ErrInvalid, fmt.Sprintf("CollectionsOf with cursor %q", c))
	}
	_, err := ms.CollectionsOf(ctx, iri(t, "bob"), storage.PageOptions{State: 7})
	mustErr(t, err, storage.ErrInvalid, "CollectionsOf of an unknown state")
}

func membershipsLongIRIs(t *testing.T, ctx context.Context, s storage.Store) {
	coll, member := longIRI(t, "followers", storage.MaxIRI), longIRI(t, "member", storage.MaxIRI)
	must(t, s.Collections.Add(ctx, coll, storage.Member{IRI: member, Activity: longIRI(t, "follow", storage.MaxIRI)}), "Add of MaxIRI-byte IRIs")
	collectionsOfIs(t, ctx, memberships(s), member, storage.Accepted, coll)
}

func membershipsCancelled(t *testing.T, ctx context.Context, s storage.Store) {
	_, err := memberships(s).CollectionsOf(cancelled(), iri(t, "bob"), storage.PageOptions{})
	checkCancelled(t, "CollectionsOf", err)
}

// membershipsInTx checks that a transaction's Collections lists what the
// transaction added and removed, and that a rollback takes it back.
func membershipsInTx(t *testing.T, ctx context.Context, s storage.Store) {
	if s.Tx == nil {
		t.Skip("Store.Tx is nil")
	}
	bob, followers, members := iri(t, "bob"), iri(t, "followers"), iri(t, "members")
	must(t, s.Collections.Add(ctx, followers, storage.Member{IRI: bob}), "Add")
	err := s.Tx.InTx(ctx, func(ctx context.Context, tx storage.Store) error {
		if err := tx.Collections.Add(ctx, members, storage.Member{IRI: bob}); err != nil {
			return err
		}
		if err := tx.Collections.Remove(ctx, followers, bob); err != nil {
			return err
		}
		ms, ok := tx.Collections.(storage.Memberships)
		if !ok {
			return fmt.Errorf("the transaction's Collections is not a storage.Memberships")
		}
		collectionsOfIs(t, ctx, ms, bob, storage.Accepted, members)
		return errRolledBack
	})
	if err != errRolledBack {
		t.Fatal(err)
	}
	collectionsOfIs(t, ctx, memberships(s), bob, storage.Accepted, followers)
}
