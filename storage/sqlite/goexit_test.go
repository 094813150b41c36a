package sqlite_test

import (
	"context"
	"errors"
	"runtime"
	"testing"

	"github.com/fedi-go/fedi/storage"
)

// TestTxGoexit: a transaction's function runs on the batch's goroutine;
// one that ends it (as t.FailNow does) loses the batch, which is rolled
// back, and its caller gets an error; the store goes on working.
func TestTxGoexit(t *testing.T) {
	st := open(t).Store()
	ctx := context.Background()
	err := st.Tx.InTx(ctx, func(ctx context.Context, tx storage.Store) error {
		if err := tx.Objects.Put(ctx, storage.Object{IRI: "https://example.com/notes/1", Type: "Note", Data: []byte(`{}`)}); err != nil {
			return err
		}
		runtime.Goexit()
		return nil
	})
	if err == nil {
		t.Fatal("a function that called runtime.Goexit reported success")
	}
	if _, err := st.Objects.Get(ctx, "https://example.com/notes/1"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("the write of the lost batch stayed: %v", err)
	}
	err = st.Tx.InTx(ctx, func(ctx context.Context, tx storage.Store) error {
		return tx.Objects.Put(ctx, storage.Object{IRI: "https://example.com/notes/2", Type: "Note", Data: []byte(`{}`)})
	})
	if err != nil {
		t.Fatalf("the store after a lost batch: %v", err)
	}
	if _, err := st.Objects.Get(ctx, "https://example.com/notes/2"); err != nil {
		t.Fatal(err)
	}
}
