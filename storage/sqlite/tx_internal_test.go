package sqlite

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fedi-go/fedi/storage"
)

// nearlyFull opens a store whose database can grow by 40 pages only,
// through a page limit on the writer's connection.
func nearlyFull(t *testing.T) storage.Store {
	t.Helper()
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "fedi.db"), Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	var pages int
	if err := db.w.QueryRowContext(ctx, `PRAGMA page_count`).Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if _, err := db.w.ExecContext(ctx, fmt.Sprintf(`PRAGMA max_page_count = %d`, pages+40)); err != nil {
		t.Fatal(err)
	}
	return db.Store()
}

// TestTxFullDisk fills the database, through a page limit on the writer's
// connection, in the middle of an operation of a transaction: the
// operation fails with no effect, its first delivery included, and the
// transaction goes on and commits the rest.
func TestTxFullDisk(t *testing.T) {
	ctx := context.Background()
	st := nearlyFull(t)
	const inbox, small, huge = "https://remote.example/inbox", "https://example.test/activities/small", "https://example.test/activities/huge"
	body := []byte(`{"content":"` + strings.Repeat("x", 1<<20) + `"}`)
	note := storage.Object{IRI: "https://example.test/notes/1", Type: "Note", Data: []byte(`{}`)}
	var enqueueErr error
	err := st.Tx.InTx(ctx, func(ctx context.Context, tx storage.Store) error {
		enqueueErr = tx.Queue.Enqueue(ctx,
			storage.Delivery{Activity: small, Inbox: inbox, Body: []byte(`{}`)},
			storage.Delivery{Activity: huge, Inbox: inbox, Body: body})
		return tx.Objects.Put(ctx, note)
	})
	if enqueueErr == nil || !strings.Contains(enqueueErr.Error(), "full") {
		t.Fatalf("Enqueue past the page limit: %v, want the database full", enqueueErr)
	}
	if err != nil {
		// SQLite may instead roll the whole transaction back: then nothing
		// is kept, and InTx says so.
		t.Logf("the transaction was lost: %v", err)
		if !strings.Contains(err.Error(), "full") {
			t.Fatalf("InTx = %v, want the reason it failed: the database is full", err)
		}
		if _, gerr := st.Objects.Get(ctx, note.IRI); !errors.Is(gerr, storage.ErrNotFound) {
			t.Fatalf("InTx failed, yet the object is there: %v", gerr)
		}
	} else if _, err := st.Objects.Get(ctx, note.IRI); err != nil {
		t.Fatalf("the write after the failed operation: %v", err)
	}
	qs, err := st.Queue.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if qs.Ready != 0 {
		t.Fatalf("Stats = %+v: the delivery of an Enqueue that failed is there", qs)
	}
}

// TestTxFullDiskOneStatement: an operation of one statement runs without
// a savepoint; when it fails otherwise than on a constraint (here, the
// database is full), SQLite may have rolled the transaction back, so the
// transaction is lost: InTx fails, and nothing of it is kept, not even
// what the function wrote after, which would otherwise have been written
// outside any transaction.
func TestTxFullDiskOneStatement(t *testing.T) {
	ctx := context.Background()
	st := nearlyFull(t)
	huge := storage.Object{IRI: "https://example.test/notes/huge", Type: "Note", Data: []byte(`{"content":"` + strings.Repeat("x", 1<<20) + `"}`)}
	small := storage.Object{IRI: "https://example.test/notes/small", Type: "Note", Data: []byte(`{}`)}
	var putErr error
	err := st.Tx.InTx(ctx, func(ctx context.Context, tx storage.Store) error {
		putErr = tx.Objects.Put(ctx, huge)
		_ = tx.Objects.Put(ctx, small)
		return nil // as a careless function might
	})
	if putErr == nil || !strings.Contains(putErr.Error(), "full") {
		t.Fatalf("Put past the page limit: %v, want the database full", putErr)
	}
	if err == nil || !strings.Contains(err.Error(), "full") {
		t.Fatalf("InTx = %v, want it lost, because the database is full", err)
	}
	for _, o := range []storage.Object{huge, small} {
		if _, gerr := st.Objects.Get(ctx, o.IRI); !errors.Is(gerr, storage.ErrNotFound) {
			t.Fatalf("InTx failed, yet %s is there: %v", o.IRI, gerr)
		}
	}
}
