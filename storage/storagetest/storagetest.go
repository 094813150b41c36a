// Package storagetest is the conformance suite for storage adapters. Every
// adapter fedi ships runs it, and so should an application's own:
//
//	func TestConformance(t *testing.T) {
//		storagetest.Run(t, func(t *testing.T) storage.Store {
//			db := openMyStore(t) // empty, closed by t.Cleanup
//			return db.Store()
//		})
//	}
//
// Run covers every concern of a Store, its transactions (TestTx) and the
// Memberships of its Collections (TestMemberships) when it has them;
// TestObjects, TestQueue and the others check one interface, for an
// adapter that implements only some.
// The suite checks behaviour, not speed: the semantics documented in
// package storage, the ErrNotFound, ErrConflict and ErrInvalid errors,
// paging while others write, dedupe under 50 concurrent goroutines, lease
// expiry, ordering keys, dead letters, 1 MiB documents, unicode IRIs,
// cancelled contexts, and writes whose context is cancelled while they
// run, which must report success or have no effect (a second or so per
// kind of write). It sleeps for a few seconds in all to let leases
// expire, and runs its subtests one after another. The checks of the
// queue that depend on time scale their windows to the queue's measured
// round trip; one that still runs past its window on an overloaded
// machine skips, saying so, rather than fail for the wrong reason, and
// TestQueue fails if all of them skip. The checks of ordering, retries
// and leases that can do without a clock do, and never skip.
//
// Benchmark measures an adapter's dedupe, put, get, enqueue and
// lease+ack throughput, and an inbox's writes with and without a
// transaction, in the same shape, so that adapters compare.
package storagetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fedi-go/fedi/storage"
)

// Run runs the whole suite. newStore is called once per subtest and must
// return an empty store, whose resources it releases with t.Cleanup. A
// nil field of the Store skips the tests of that concern.
func Run(t *testing.T, newStore func(t *testing.T) storage.Store) {
	t.Helper()
	t.Run("Objects", func(t *testing.T) {
		TestObjects(t, field(newStore, "Objects", func(s storage.Store) storage.Objects { return s.Objects }))
	})
	t.Run("Collections", func(t *testing.T) {
		TestCollections(t, field(newStore, "Collections", func(s storage.Store) storage.Collections { return s.Collections }))
	})
	t.Run("Dedupe", func(t *testing.T) {
		TestDedupe(t, field(newStore, "Dedupe", func(s storage.Store) storage.Dedupe { return s.Dedupe }))
	})
	t.Run("Keys", func(t *testing.T) {
		TestKeys(t, field(newStore, "Keys", func(s storage.Store) storage.KeySource { return s.Keys }))
	})
	t.Run("Queue", func(t *testing.T) {
		TestQueue(t, field(newStore, "Queue", func(s storage.Store) storage.Queue { return s.Queue }))
	})
	t.Run("Actors", func(t *testing.T) {
		TestActors(t, field(newStore, "Actors", func(s storage.Store) storage.Actors { return s.Actors }))
	})
	t.Run("Memberships", func(t *testing.T) { TestMemberships(t, newStore) })
	t.Run("Tx", func(t *testing.T) { TestTx(t, newStore) })
}

// field adapts newStore to a constructor of one of its fields, skipping
// when the field is nil.
func field[T comparable](newStore func(*testing.T) storage.Store, name string, get func(storage.Store) T) func(*testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		v := get(newStore(t))
		var zero T
		if v == zero {
			t.Skipf("Store.%s is nil", name)
		}
		return v
	}
}

// subtest is one named check of an interface.
type subtest[T any] struct {
	name string
	run  func(t *testing.T, ctx context.Context, s T)
}

// runAll runs each subtest against a fresh store.
func runAll[T any](t *testing.T, newT func(*testing.T) T, tests []subtest[T]) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newT(t)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			tt.run(t, ctx, s)
		})
	}
}

// iri returns an IRI unique to the running test, so that the suite also
// works against a store that is not quite empty.
func iri(t *testing.T, path string) string {
	name := strings.NewReplacer("/", "-", " ", "_", "#", "-", "?", "-").Replace(t.Name())
	return "https://example.test/" + name + "/" + path
}

// mustErr fails unless err wraps want.
func mustErr(t *testing.T, err, want error, what string) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: got error %v, want one wrapping %v", what, err, want)
	}
}

// must fails on a non-nil error.
func must(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// near fails unless got is within tolerance of want: stores keep
// microseconds at best, and their clock may be a database server's.
func near(t *testing.T, got, want time.Time, tolerance time.Duration, what string) {
	t.Helper()
	if d := got.Sub(want); d < -tolerance || d > tolerance {
		t.Fatalf("%s: got %v, want within %v of %v", what, got, tolerance, want)
	}
}

// doc returns a small JSON document.
func doc(typ, id string) []byte {
	return fmt.Appendf(nil, `{"type":%q,"id":%q,"content":"héllo ✓ \u0000 \"quoted\""}`, typ, id)
}

// bigDoc returns a JSON document of at least n bytes.
func bigDoc(id string, n int) []byte {
	var b strings.Builder
	b.Grow(n + 100)
	fmt.Fprintf(&b, `{"id":%q,"type":"Note","content":"`, id)
	const chunk = "0123456789abcdefghijklmnopqrstuvwxyz ünïcødé ✓ "
	for b.Len() < n {
		b.WriteString(chunk)
	}
	b.WriteString(`"}`)
	return []byte(b.String())
}

// cancelled returns a context that is already cancelled.
func cancelled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

// unstorable returns keys that fail storage.CheckIRI, which no store can
// hold: a lookup of one finds nothing, whatever the database underneath
// makes of its bytes.
func unstorable(t *testing.T) []string {
	base := iri(t, "x")
	return []string{
		"",
		base + "\x00nul",
		base + "\xffinvalid-utf-8",
		base + "\nnewline",
		base + "\u0085c1-control",
		base + strings.Repeat("long", 1300),
	}
}

// unicodeIRIs are keys that must round-trip byte for byte and stay
// distinct: composed and decomposed forms, percent-encoding, scripts that
// run right to left, characters outside the BMP, and case.
var unicodeIRIs = []string{
	"https://例え.テスト/ユーザー/太郎",
	"https://example.test/users/ñandú",               // composed ñ, ú
	"https://example.test/users/n\u0303andu\u0301",   // the same, decomposed
	"https://example.test/users/%C3%B1and%C3%BA",     // the same, percent-encoded
	"https://example.test/users/Ñandú",               // other case
	"https://مثال.اختبار/مستخدم/سارة",                // right to left
	"https://example.test/notes/😀🚀?q=ü&x=✓#fragment", // outside the BMP, query, fragment
	"https://example.test/notes/\u200bzero-width",    // invisible
}
