package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/storage/sqlite"
	"github.com/fedi-go/fedi/storage/storagetest"
)

// open opens a fresh database in a temporary directory, closed when the
// test ends.
func open(t *testing.T) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "fedi.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Store { return open(t).Store() })
}
