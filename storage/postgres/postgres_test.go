package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/storage/internal/txtest"
	"github.com/fedi-go/fedi/storage/postgres"
	"github.com/fedi-go/fedi/storage/storagetest"
)

// envDSN names the variable that points the tests at a PostgreSQL server.
const envDSN = "FEDI_TEST_POSTGRES"

// testDSN returns the DSN of the test server, or skips the test.
func testDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(envDSN)
	if dsn == "" {
		t.Skipf("%s is not set: skipping the PostgreSQL tests (e.g. %s=postgres://postgres@127.0.0.1:5432/test?sslmode=disable)", envDSN, envDSN)
	}
	return dsn
}

// freshSchema returns the name of a schema that does not exist yet and is
// dropped, with everything in it, when the test ends.
func freshSchema(t testing.TB, dsn string) string {
	t.Helper()
	var b [6]byte
	rand.Read(b[:])
	schema := "fedi_test_" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{schema}.Sanitize()+` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return schema
}

// open opens a store in a fresh schema, closed and dropped when the test
// ends.
func open(t testing.TB, opts postgres.Options) *postgres.DB {
	t.Helper()
	dsn := testDSN(t)
	if opts.Schema == "" {
		opts.Schema = freshSchema(t, dsn)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	db, err := postgres.Open(context.Background(), dsn, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close) // runs before the schema is dropped
	return db
}

func TestConformance(t *testing.T) {
	testDSN(t)
	storagetest.Run(t, func(t *testing.T) storage.Store { return open(t, postgres.Options{}).Store() })
}

func BenchmarkStore(b *testing.B) {
	testDSN(b)
	storagetest.Benchmark(b, func(b *testing.B) storage.Store { return open(b, postgres.Options{MaxConns: 16}).Store() })
}

func TestTxMisuse(t *testing.T) {
	testDSN(t)
	txtest.Misuse(t, open(t, postgres.Options{}).Store())
}

// TestTxPools runs transactions through two pools on one schema, as two
// processes would.
func TestTxPools(t *testing.T) {
	schema := freshSchema(t, testDSN(t))
	txtest.TwoHandles(t, open(t, postgres.Options{Schema: schema}).Store(), open(t, postgres.Options{Schema: schema}).Store())
}

// BenchmarkTx compares transactions of an inbox's writes with the same
// writes made one by one.
func BenchmarkTx(b *testing.B) {
	testDSN(b)
	storagetest.BenchmarkTx(b, func(b *testing.B) storage.Store { return open(b, postgres.Options{MaxConns: 16}).Store() })
}

// BenchmarkLeaseAck is the queue's lease+ack throughput alone, with and
// without ordering keys: with 8 workers it must reach 5,000 deliveries/s
// on a 2-core machine, so that the queue never bounds delivery.
func BenchmarkLeaseAck(b *testing.B) {
	testDSN(b)
	storagetest.BenchmarkLeaseAck(b, func(b *testing.B) storage.Queue { return open(b, postgres.Options{MaxConns: 16}).Store().Queue })
}

// BenchmarkBaseline measures what the store's operations are built from,
// in the same run, to compare them with: one autocommitted INSERT of two
// text columns into a table with a primary key (one round trip and one
// commit, the statement a dedupe record is), and one SELECT 1 (a round
// trip).
func BenchmarkBaseline(b *testing.B) {
	dsn := testDSN(b)
	schema := freshSchema(b, dsn)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	s := pgx.Identifier{schema}.Sanitize()
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+s+`; CREATE TABLE `+s+`.t (a text, b text, PRIMARY KEY (a, b))`); err != nil {
		b.Fatal(err)
	}
	next := 0 // b.Run runs the function several times: never repeat a key
	b.Run("Insert", func(b *testing.B) {
		for range b.N {
			next++
			i := next
			if _, err := conn.Exec(ctx, `INSERT INTO `+s+`.t (a, b) VALUES ($1, $2) ON CONFLICT DO NOTHING`, fmt.Sprint("https://remote.example/activities/", i), "https://example.test/users/alice"); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "inserts/s")
	})
	b.Run("Select1", func(b *testing.B) {
		for range b.N {
			var n int
			if err := conn.QueryRow(ctx, `SELECT 1`).Scan(&n); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "selects/s")
	})
}
