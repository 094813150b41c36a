package sqlite_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/storage/sqlite"
	"github.com/fedi-go/fedi/storage/storagetest"
)

// quiet discards what the store logs, such as "schema migrated".
var quiet = slog.New(slog.DiscardHandler)

// open opens a fresh database in a temporary directory, closed when the
// test ends.
func open(t testing.TB) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "fedi.db"), sqlite.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Store { return open(t).Store() })
}

func BenchmarkStore(b *testing.B) {
	storagetest.Benchmark(b, func(b *testing.B) storage.Store { return open(b).Store() })
}
