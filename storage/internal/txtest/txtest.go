// Package txtest holds the checks of transactions that the adapters fedi
// ships share beyond storagetest: they fail, rather than wait forever or
// write outside the transaction, when a transaction's function misuses
// the store, and the SQL stores' transactions made through two handles on
// one database, as by two processes, are as correct as through one.
package txtest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fedi-go/fedi/storage"
)

// Misuse checks, on st, an empty store with Tx set, that a transaction's
// function that writes through the outer store, or starts another
// transaction, with the context it was given, gets an error at once, and
// that the transaction's Store fails once the function has returned.
func Misuse(t *testing.T, st storage.Store) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const id = "https://example.test/notes/1"
	note := storage.Object{IRI: id, Type: "Note", Data: []byte(`{}`)}

	t.Run("OuterWrite", func(t *testing.T) {
		errs := make(chan error, 2)
		err := st.Tx.InTx(ctx, func(ctx context.Context, tx storage.Store) error {
			go func() { // a deadlock must fail the test, not hang it
				errs <- st.Objects.Put(ctx, note)
				_, err := st.Dedupe.Record(ctx, id, id)
				errs <- err
			}()
			for range 2 {
				select {
				case err := <-errs:
					if err == nil || !strings.Contains(err.Error(), "transaction") {
						t.Errorf("a write through the outer store from inside a transaction: %v, want an error that says why", err)
					}
				case <-time.After(10 * time.Second):
					t.Fatal("a write through the outer store from inside a transaction waits for it")
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.Objects.Get(ctx, id); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("the refused write took effect: %v", err)
		}
	})

	t.Run("Nested", func(t *testing.T) {
		err := st.Tx.InTx(ctx, func(ctx context.Context, tx storage.Store) error {
			done := make(chan error, 1)
			go func() {
				done <- st.Tx.InTx(ctx, func(ctx context.Context, tx storage.Store) error { return tx.Objects.Put(ctx, note) })
			}()
			select {
			case err := <-done:
				if err == nil || !strings.Contains(err.Error(), "transaction") {
					t.Errorf("a transaction inside a transaction: %v, want an error that says why", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("a transaction inside a transaction waits for it")
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})

	t.Run("AfterReturn", func(t *testing.T) {
		var kept storage.Store
		if err := st.Tx.InTx(ctx, func(ctx context.Context, tx storage.Store) error {
			kept = tx
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if err := kept.Objects.Put(ctx, note); err == nil {
			t.Fatal("a transaction's Store kept after its function returned wrote")
		}
		if _, err := kept.Dedupe.Record(ctx, id, id); err == nil {
			t.Fatal("a transaction's Store kept after its function returned recorded")
		}
		if _, err := st.Objects.Get(ctx, id); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("the write of a kept Store took effect: %v", err)
		}
		// The store still works.
		if err := st.Objects.Put(ctx, note); err != nil {
			t.Fatal(err)
		}
	})
}

// TwoHandles runs 60 transactions at once through a and b, two handles on
// one empty database, as two processes would, each recording one of 10
// activities, putting an object and enqueueing a delivery; a third fail
// at the end. Of the transactions that commit and record one activity,
// exactly one saw it first, and exactly their objects and deliveries
// remain.
func TwoHandles(t *testing.T, a, b storage.Store) {
	t.Helper()
	stores := []storage.Store{a, b}
	ctx := context.Background()
	const n, keys, recipient = 60, 10, "https://example.test/users/alice"
	errFailed := errors.New("failed on purpose")
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		errs  = make([]error, n)
		first = make([]bool, n)
	)
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = stores[i%2].Tx.InTx(ctx, func(ctx context.Context, tx storage.Store) error {
				var err error
				if first[i], err = tx.Dedupe.Record(ctx, fmt.Sprint("https://remote.example/activities/", i%keys), recipient); err != nil {
					return err
				}
				note := fmt.Sprint("https://example.test/notes/", i)
				if err := tx.Objects.Put(ctx, storage.Object{IRI: note, Type: "Note", Data: []byte(`{}`)}); err != nil {
					return err
				}
				if err := tx.Queue.Enqueue(ctx, storage.Delivery{Activity: note, Inbox: "https://remote.example/inbox", Body: []byte(`{}`)}); err != nil {
					return err
				}
				if i%3 == 0 {
					return errFailed
				}
				return nil
			})
		})
	}
	close(start)
	wg.Wait()
	firsts, committed := make([]int, keys), 0
	for i, err := range errs {
		if want := map[bool]error{true: errFailed, false: nil}[i%3 == 0]; err != want {
			t.Fatalf("transaction %d: InTx = %v, want %v", i, err, want)
		}
		_, gerr := a.Objects.Get(ctx, fmt.Sprint("https://example.test/notes/", i))
		if (gerr == nil) != (err == nil) {
			t.Fatalf("transaction %d (InTx = %v): Get of its object = %v", i, err, gerr)
		}
		if err == nil {
			committed++
			if first[i] {
				firsts[i%keys]++
			}
		}
	}
	for k, f := range firsts {
		if f != 1 {
			t.Errorf("activity %d was first in %d of the transactions that committed, want exactly 1", k, f)
		}
	}
	ds, err := b.Queue.Lease(ctx, 100, time.Minute)
	if err != nil || len(ds) != committed {
		t.Fatalf("Lease = %d deliveries, %v; want the %d of the committed transactions", len(ds), err, committed)
	}
}
