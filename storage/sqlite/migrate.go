package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"

	"github.com/fedi-go/fedi/storage/internal/dbutil"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrate brings the schema up to date in one transaction, so that a
// failure leaves it as it was. BEGIN IMMEDIATE takes the write lock
// first, so processes opening the same file at once apply each migration
// once: the second waits, then finds nothing left to do.
func migrate(ctx context.Context, w *sql.DB) (applied int, err error) {
	ms, err := dbutil.Migrations(migrationFiles, "migrations/*.sql")
	if err != nil {
		return 0, err
	}
	tx, err := w.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS fedi_migrations (
		version INTEGER NOT NULL PRIMARY KEY,
		name    TEXT    NOT NULL,
		applied INTEGER NOT NULL
	) STRICT`); err != nil {
		return 0, err
	}
	var current int
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM fedi_migrations`).Scan(&current); err != nil {
		return 0, err
	}
	if current > len(ms) {
		return 0, fmt.Errorf("schema version %d is newer than this build knows (%d): refusing to run an older fedi against it", current, len(ms))
	}
	for _, m := range ms[current:] {
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			return 0, fmt.Errorf("migration %s: %w", m.Name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO fedi_migrations (version, name, applied) VALUES (?, ?, ?)`,
			m.Version, m.Name, nowMicro()); err != nil {
			return 0, err
		}
		applied++
	}
	return applied, tx.Commit()
}
