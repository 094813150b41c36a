package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/storage/internal/txtest"
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

func TestTxMisuse(t *testing.T) { txtest.Misuse(t, open(t).Store()) }

// TestTxHandles runs transactions through two handles on one file, as two
// processes would: each handle groups its own, and they take turns at the
// file's write lock.
func TestTxHandles(t *testing.T) {
	a := open(t)
	b, err := sqlite.Open(context.Background(), a.Path(), sqlite.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	txtest.TwoHandles(t, a.Store(), b.Store())
}

// BenchmarkTx compares transactions of an inbox's writes, whose commits
// the store groups, with the same writes made one by one.
func BenchmarkTx(b *testing.B) {
	storagetest.BenchmarkTx(b, func(b *testing.B) storage.Store { return open(b).Store() })
}

// BenchmarkLeaseAck is the queue's lease+ack throughput alone, with and
// without ordering keys.
func BenchmarkLeaseAck(b *testing.B) {
	storagetest.BenchmarkLeaseAck(b, func(b *testing.B) storage.Queue { return open(b).Store().Queue })
}

// BenchmarkBaseline measures a bare autocommitted INSERT of two text
// columns into a table with a primary key, with the pragmas the store uses
// and a prepared statement, to compare the store's operations with in the
// same run: it is the statement a dedupe record is.
func BenchmarkBaseline(b *testing.B) {
	path := filepath.Join(b.TempDir(), "baseline.db")
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=busy_timeout(5000)")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(`CREATE TABLE t (a TEXT NOT NULL, b TEXT NOT NULL, PRIMARY KEY (a, b)) STRICT, WITHOUT ROWID`); err != nil {
		b.Fatal(err)
	}
	st, err := db.Prepare(`INSERT INTO t (a, b) VALUES (?, ?) ON CONFLICT DO NOTHING`)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	next := 0 // b.Run runs the function several times: never repeat a key
	b.Run("Insert", func(b *testing.B) {
		for range b.N {
			next++
			if _, err := st.Exec(fmt.Sprint("https://remote.example/activities/", next), "https://example.test/users/alice"); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "inserts/s")
	})
}
