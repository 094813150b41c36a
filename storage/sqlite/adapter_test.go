package sqlite_test

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fedi-go/fedi/storage/sqlite"
)

// TestMigrate opens new files from several goroutines at once, each with
// its own handle, then again: each migration is applied once.
func TestMigrate(t *testing.T) {
	ctx := context.Background()
	var path string
	for round := range 10 { // new files: their first connections race to turn them to WAL
		path = filepath.Join(t.TempDir(), "data", "fedi.db") // the directory is created too
		const n = 6
		var wg sync.WaitGroup
		errs := make([]error, n)
		dbs := make([]*sqlite.DB, n)
		for i := range n {
			wg.Go(func() { dbs[i], errs[i] = sqlite.Open(ctx, path, sqlite.Options{Logger: quiet}) })
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d, Open %d: %v", round, i, err)
			}
			dbs[i].Close()
		}
	}
	db, err := sqlite.Open(ctx, path, sqlite.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	r := raw(t, path)
	var versions int
	if err := r.QueryRow(`SELECT count(*) FROM fedi_migrations`).Scan(&versions); err != nil {
		t.Fatal(err)
	}
	if files, _ := filepath.Glob("migrations/*.sql"); versions != len(files) {
		t.Fatalf("fedi_migrations has %d rows, want each of the %d migrations once", versions, len(files))
	}
	var mode string
	if err := r.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode = %q, %v; want wal", mode, err)
	}

	exec1(t, r, `INSERT INTO fedi_migrations (version, name, applied) VALUES (999, '0999_future.sql', 0)`)
	if _, err := sqlite.Open(ctx, path, sqlite.Options{Logger: quiet}); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("Open of a newer schema: %v, want a refusal", err)
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for _, tt := range []struct {
		name string
		path string
		opts sqlite.Options
		want string
	}{
		{"empty path", "", sqlite.Options{}, "empty path"},
		{"negative busy timeout", filepath.Join(dir, "a.db"), sqlite.Options{BusyTimeout: -time.Second}, "busy timeout"},
		{"negative readers", filepath.Join(dir, "b.db"), sqlite.Options{Readers: -1}, "reader"},
		{"a directory", dir, sqlite.Options{}, dir},
	} {
		t.Run(tt.name, func(t *testing.T) {
			db, err := sqlite.Open(ctx, tt.path, tt.opts)
			if err == nil {
				db.Close()
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Open: %v, want an error saying %q", err, tt.want)
			}
		})
	}
}
