package storagetest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fedi-go/fedi/storage"
)

// TestDedupe checks a Dedupe implementation. newDedupe is called once per
// subtest and must return an empty store.
func TestDedupe(t *testing.T, newDedupe func(t *testing.T) storage.Dedupe) {
	t.Helper()
	runAll(t, newDedupe, []subtest[storage.Dedupe]{
		{"Record", dedupeRecord},
		{"Concurrent", dedupeConcurrent},
		{"Forget", dedupeForget},
		{"Prune", dedupePrune},
		{"Invalid", dedupeInvalid},
		{"UnicodeIRIs", dedupeUnicode},
		{"LongIRIs", dedupeLongIRIs},
		{"Cancelled", dedupeCancelled},
		{"CancelledMidCall", dedupeCancelledMidCall},
	})
}

func recordIs(t *testing.T, ctx context.Context, s storage.Dedupe, activity, recipient string, want bool) {
	t.Helper()
	first, err := s.Record(ctx, activity, recipient)
	must(t, err, "Record")
	if first != want {
		t.Fatalf("Record(%q, %q) = %v, want %v", activity, recipient, first, want)
	}
}

func dedupeRecord(t *testing.T, ctx context.Context, s storage.Dedupe) {
	act, other, alice, bob := iri(t, "create/1"), iri(t, "create/2"), iri(t, "alice"), iri(t, "bob")
	recordIs(t, ctx, s, act, alice, true)
	recordIs(t, ctx, s, act, alice, false)
	recordIs(t, ctx, s, act, bob, true)
	recordIs(t, ctx, s, other, alice, true)
	recordIs(t, ctx, s, act, bob, false)
}

// dedupeConcurrent has 50 goroutines record the same pair at once, several
// times over: exactly one of each 50 may see it first.
func dedupeConcurrent(t *testing.T, ctx context.Context, s storage.Dedupe) {
	const goroutines, rounds = 50, 10
	recipient := iri(t, "alice")
	for r := range rounds {
		act := iri(t, fmt.Sprintf("activities/%d", r))
		var (
			wg    sync.WaitGroup
			wins  atomic.Int32
			start = make(chan struct{})
			errs  = make(chan error, goroutines)
		)
		for range goroutines {
			wg.Go(func() {
				<-start
				first, err := s.Record(ctx, act, recipient)
				if err != nil {
					errs <- err
				}
				if first {
					wins.Add(1)
				}
			})
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			must(t, err, "concurrent Record")
		}
		if n := wins.Load(); n != 1 {
			t.Fatalf("round %d: %d of %d concurrent Records of one pair returned true, want exactly 1", r, n, goroutines)
		}
	}
}

// dedupeForget is an inbox that failed to process an activity it
// recorded: it forgets the activity, and the peer's retry is first again.
func dedupeForget(t *testing.T, ctx context.Context, s storage.Dedupe) {
	act, alice, bob := iri(t, "create/1"), iri(t, "alice"), iri(t, "bob")
	recordIs(t, ctx, s, act, alice, true)
	recordIs(t, ctx, s, act, bob, true)
	must(t, s.Forget(ctx, act, alice), "Forget")
	mustErr(t, s.Forget(ctx, act, alice), storage.ErrNotFound, "Forget twice")
	mustErr(t, s.Forget(ctx, iri(t, "create/2"), alice), storage.ErrNotFound, "Forget of an activity never recorded")
	for _, key := range unstorable(t) {
		mustErr(t, s.Forget(ctx, key, alice), storage.ErrNotFound, fmt.Sprintf("Forget(%q, …)", key))
		mustErr(t, s.Forget(ctx, act, key), storage.ErrNotFound, fmt.Sprintf("Forget(…, %q)", key))
	}
	recordIs(t, ctx, s, act, bob, false) // another recipient's record stays
	recordIs(t, ctx, s, act, alice, true)
	recordIs(t, ctx, s, act, alice, false)
}

func dedupePrune(t *testing.T, ctx context.Context, s storage.Dedupe) {
	old, recent, alice := iri(t, "old"), iri(t, "recent"), iri(t, "alice")
	recordIs(t, ctx, s, old, alice, true)
	time.Sleep(50 * time.Millisecond)
	cut := time.Now()
	time.Sleep(50 * time.Millisecond)
	recordIs(t, ctx, s, recent, alice, true)

	n, err := s.Prune(ctx, cut.Add(-time.Hour))
	must(t, err, "Prune")
	if n != 0 {
		t.Fatalf("Prune of an hour ago forgot %d pairs", n)
	}
	n, err = s.Prune(ctx, cut)
	must(t, err, "Prune")
	if n != 1 {
		t.Fatalf("Prune forgot %d pairs, want 1", n)
	}
	recordIs(t, ctx, s, old, alice, true)
	recordIs(t, ctx, s, recent, alice, false)
}

func dedupeInvalid(t *testing.T, ctx context.Context, s storage.Dedupe) {
	_, err := s.Record(ctx, "", iri(t, "alice"))
	mustErr(t, err, storage.ErrInvalid, "Record with no activity")
	_, err = s.Record(ctx, iri(t, "a"), "")
	mustErr(t, err, storage.ErrInvalid, "Record with no recipient")
}

func dedupeUnicode(t *testing.T, ctx context.Context, s storage.Dedupe) {
	for _, a := range unicodeIRIs {
		recordIs(t, ctx, s, a, unicodeIRIs[0], true)
	}
	for _, a := range unicodeIRIs {
		recordIs(t, ctx, s, a, unicodeIRIs[0], false)
	}
}

func dedupeCancelled(t *testing.T, ctx context.Context, s storage.Dedupe) {
	act, alice := iri(t, "a"), iri(t, "alice")
	_, err := s.Record(cancelled(), act, alice)
	checkCancelled(t, "Record", err)
	_, err = s.Prune(cancelled(), time.Now())
	checkCancelled(t, "Prune", err)
	recordIs(t, ctx, s, act, alice, true)
	checkCancelled(t, "Forget", s.Forget(cancelled(), act, alice))
	recordIs(t, ctx, s, act, alice, false)
}
