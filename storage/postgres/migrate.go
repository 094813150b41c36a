package postgres

import (
	"context"
	"embed"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/fedi-go/fedi/storage/internal/dbutil"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// lockKey is the advisory lock that serialises fedi's migrations: one key
// for every schema of the database. A key derived from the schema's name
// would let two processes that name one schema in two ways (Options.Schema
// here, search_path in the DSN there) migrate it at once; migrations are
// rare enough that schemas may wait for each other. It is the first 8
// bytes of the SHA-256 of "fedi/storage/postgres migrate".
const lockKey int64 = 0x2e98_062e_b1fc_6064

// migrate brings the schema up to date in one transaction that first
// takes a transaction-scoped advisory lock: processes that start together
// queue on the lock, the first applies the migrations, and the others
// find nothing left to do. A failed migration rolls back whole.
func migrate(ctx context.Context, pool *pgxpool.Pool, schema string) (applied int, err error) {
	ms, err := dbutil.Migrations(migrationFiles, "migrations/*.sql")
	if err != nil {
		return 0, err
	}
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, lockKey); err != nil {
			return err
		}
		if schema != "" {
			if _, err := tx.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+pgx.Identifier{schema}.Sanitize()); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS fedi_migrations (
			version integer PRIMARY KEY,
			name    text NOT NULL,
			applied timestamptz NOT NULL DEFAULT now()
		)`); err != nil {
			return err
		}
		var current int
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM fedi_migrations`).Scan(&current); err != nil {
			return err
		}
		if current > len(ms) {
			return fmt.Errorf("schema version %d is newer than this build knows (%d): refusing to run an older fedi against it", current, len(ms))
		}
		for _, m := range ms[current:] {
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return fmt.Errorf("migration %s: %w", m.Name, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO fedi_migrations (version, name) VALUES ($1, $2)`, m.Version, m.Name); err != nil {
				return err
			}
			applied++
		}
		return nil
	})
	return applied, err
}
