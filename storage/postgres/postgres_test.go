package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/fedi-go/fedi/storage"
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
