// Package txtest holds the checks of transactions that the adapters fedi
// ships promise beyond storage.Transactor's contract: they fail, rather
// than wait forever or write outside the transaction, when a transaction's
// function misuses the store.
package txtest

import (
	"context"
	"errors"
	"strings"
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
