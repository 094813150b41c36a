package sqlite_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/storage/internal/crashtest"
	"github.com/fedi-go/fedi/storage/sqlite"
)

// TestQueueProcesses drains 5,000 deliveries with worker processes
// sharing one database file. The first worker is killed with SIGKILL while
// it holds a lease, and a new process starts in its place; the deliveries
// it held are delivered once its lease expires, and nothing is lost. Alone,
// the restarted process must finish the job; beside another worker, the
// two processes also contend for the file's write lock. Under the race
// detector, which slows SQLite twentyfold, it drains 1,000.
func TestQueueProcesses(t *testing.T) {
	n := 5000
	if raceEnabled {
		n = 1000
	}
	for _, tt := range []struct {
		name    string
		workers int
	}{
		{"alone", 1},
		{"beside another", 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			const envPath = "FEDI_TEST_PROCESS_DB"
			path := os.Getenv(envPath)
			if path == "" { // the parent; workers inherit the variable
				path = filepath.Join(t.TempDir(), "fedi.db")
				t.Setenv(envPath, path)
			}
			crashtest.Run(t, crashtest.Options{
				Open: func(ctx context.Context) (storage.Queue, func(), error) {
					db, err := sqlite.Open(ctx, path, sqlite.Options{Logger: slog.New(slog.DiscardHandler)})
					if err != nil {
						return nil, nil, err
					}
					return db.Store().Queue, func() { db.Close() }, nil
				},
				Deliveries: n,
				Workers:    tt.workers,
				Restart:    true,
				Visibility: 2 * time.Second,
			})
		})
	}
}
