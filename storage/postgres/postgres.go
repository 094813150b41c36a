// Package postgres is the storage adapter for running fedi in several
// processes, on several machines, against one PostgreSQL database. It uses
// github.com/jackc/pgx/v5 and its connection pool.
//
//	db, err := postgres.Open(ctx, "postgres://fedi@db.internal/fedi", postgres.Options{})
//	if err != nil {
//		return err
//	}
//	defer db.Close()
//	st := db.Store() // a storage.Store with every field set
//
// Open applies the embedded schema migrations under an advisory lock, so
// any number of processes may start at once. Workers in every process
// share the delivery queue: a lease is one statement that selects due
// deliveries FOR UPDATE SKIP LOCKED, so two workers never hold the same
// delivery and never wait for each other. Inbox dedupe is one INSERT … ON
// CONFLICT DO NOTHING. Lease expiry and every other time the store stamps
// use the database's clock, so that the machines' clocks need not agree.
// The store's Tx runs PostgreSQL transactions, each operation in a
// savepoint: see DB.Store.
//
// The tables are named fedi_* and live in the schema Options.Schema names
// (created if missing), or else the first schema of the connection's
// search_path, so fedi can share a database with the application. Keys
// are stored as PEM in fedi_keys: protect the database as you would the
// keys.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/fedi-go/fedi/storage"
)

// Options configures Open. The zero value is ready to use.
type Options struct {
	// Schema is the schema that holds fedi's tables; Open creates it if
	// needed. Empty means the first schema of the connection's
	// search_path, usually public.
	Schema string
	// MaxConns caps the connection pool: 0 means pgx's default (the DSN's
	// pool_max_conns, or the larger of 4 and the number of CPUs). Give it
	// at least as many connections as you run queue workers.
	MaxConns int
	// Logger receives what the store reports on its own, such as a
	// corrupt delivery it dead-lettered; nil means slog.Default().
	Logger *slog.Logger
}

// cancelGrace is how long a cancelled statement waits for the server to
// confirm the cancellation before the connection is dropped.
const cancelGrace = 5 * time.Second

// DB is an open PostgreSQL store. It is safe for concurrent use.
type DB struct {
	pool   *pgxpool.Pool
	schema string
	log    *slog.Logger
	keys   *keys // shared by the Stores of db and of its transactions
}

// Open connects to the database that dsn names (a postgres:// URL or a
// key=value string, as libpq takes; empty means libpq's PG* environment
// variables) and applies the schema migrations.
func Open(ctx context.Context, dsn string, opts Options) (*DB, error) {
	if opts.MaxConns < 0 {
		return nil, fmt.Errorf("postgres: open: negative MaxConns %d", opts.MaxConns)
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's message may quote the DSN, password and all; keep only
		// that it did not parse.
		return nil, errors.New("postgres: open: malformed DSN")
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = int32(opts.MaxConns)
	}
	if opts.Schema != "" {
		cfg.ConnConfig.RuntimeParams["search_path"] = pgx.Identifier{opts.Schema}.Sanitize()
	}
	// When a context ends mid-statement, ask the server to cancel the
	// statement and wait for it to say so, rather than only dropping the
	// connection: a statement the server went on running could commit
	// after the caller was told it failed.
	cfg.ConnConfig.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.CancelRequestContextWatcherHandler{Conn: c, DeadlineDelay: cancelGrace}
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	db := &DB{pool: pool, schema: opts.Schema, log: opts.Logger}
	db.keys = &keys{db}
	n, err := migrate(ctx, pool, opts.Schema)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: open: migrate: %w", err)
	}
	if n > 0 {
		db.log.Info("postgres: schema migrated", "schema", opts.Schema, "migrations", n)
	}
	return db, nil
}

// Store returns the storage.Store backed by db, with every field set. Its
// Keys is a storage.KeyStore, its Queue a storage.DeadLetters and a
// storage.LeaseExtender, and its Collections a storage.Memberships.
//
// Its Tx runs each InTx in a PostgreSQL transaction, at read committed,
// each operation in a savepoint of its own, so that one that fails, or
// whose context ends while it waits for a row, leaves the transaction
// usable. Any number of processes may run transactions at once: inserts
// that meet wait for each other (so Dedupe.Record is first once among the
// transactions that commit), and leases skip the rows other transactions
// hold. A transaction holds a connection of the pool, and the rows it
// wrote, until it commits: keep functions short. Its Keys is db's own,
// outside the transaction.
func (db *DB) Store() storage.Store { return db.store(scope{db: db}) }

// store returns the Store of scope s: db's own, or a transaction's, whose
// Queue is not a storage.DeadLetters and which has no Tx.
func (db *DB) store(s scope) storage.Store {
	q := &queue{s}
	st := storage.Store{
		Objects:     &objects{s},
		Collections: &collections{s},
		Dedupe:      &dedupe{s},
		Keys:        db.keys,
		Queue:       q,
		Actors:      &actors{s},
	}
	if s.tx == nil {
		st.Queue = &outerQueue{q}
		st.Tx = transactor{db}
	}
	return st
}

// Close closes the connection pool, waiting for connections in use.
func (db *DB) Close() { db.pool.Close() }

// wrap prefixes an error with the operation, leaving storage sentinels and
// context errors reachable through errors.Is.
func wrap(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("postgres: %s: %w", op, ctxErr(ctx, err))
}

// ctxErr makes the server's "canceling statement due to user request",
// which is how a statement stopped by the context's end fails, also
// report the context's error, so that callers can test it with
// errors.Is as with any other store.
func ctxErr(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("%w (%w)", cerr, err)
	}
	return err
}

// isUniqueViolation reports whether err is a unique_violation.
func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}
