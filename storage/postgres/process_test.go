package postgres_test

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/storage/internal/crashtest"
	"github.com/fedi-go/fedi/storage/postgres"
)

// TestQueueProcesses drains 5,000 deliveries with four worker processes
// sharing one database, one of which is killed with SIGKILL while it
// holds a lease. The workers start together against an empty schema, so
// they also race to migrate it.
func TestQueueProcesses(t *testing.T) {
	dsn := testDSN(t)
	const envSchema = "FEDI_TEST_PROCESS_SCHEMA"
	schema := os.Getenv(envSchema)
	if schema == "" { // the parent; workers inherit the variable
		schema = freshSchema(t, dsn)
		t.Setenv(envSchema, schema)
	}
	crashtest.Run(t, crashtest.Options{
		Open: func(ctx context.Context) (storage.Queue, func(), error) {
			db, err := postgres.Open(ctx, dsn, postgres.Options{Schema: schema, Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				return nil, nil, err
			}
			return db.Store().Queue, db.Close, nil
		},
		Deliveries: 5000,
		Workers:    4,
		Visibility: 2 * time.Second,
	})
}
