// Package sqlite is the embedded storage adapter, and fedi's default: one
// file, no server, no configuration. It uses modernc.org/sqlite, a pure Go
// SQLite, so it needs no cgo.
//
//	db, err := sqlite.Open(ctx, filepath.Join(dataDir, "fedi.db"), sqlite.Options{})
//	if err != nil {
//		return err
//	}
//	defer db.Close()
//	st := db.Store() // a storage.Store with every field set
//
// The database runs in WAL mode, so readers never wait for the writer.
// Open applies the embedded schema migrations in one transaction, so a
// new file is ready to use and an old one is brought up to date; opening
// the same file from several processes at once is safe. Within a process
// all writes go through one connection, which is how SQLite wants to be
// written to, and reads use a pool of connections of their own. Several
// processes may share the file, as the queue's crash tests do; they wait
// for each other's write locks up to Options.BusyTimeout, then fail with
// an error that says the database is locked.
//
// Every write runs in one explicit transaction, so a crash, a full disk or
// a lost lock leaves no half-written state, and a write whose context ends
// while it runs either reports success or changes nothing. The
// transactions of the store's Tx, made by concurrent callers, share one
// SQLite transaction and one commit: see DB.Store.
// Commits use synchronous=NORMAL: a process crash loses nothing that was
// committed, a power cut may lose the last moments of commits. Keys are
// stored as PEM in the file: protect it as you would the keys.
//
// For more than one machine, use storage/postgres.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"time"

	"modernc.org/sqlite" // registers the "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/storage/internal/dbutil"
)

// Defaults of Options.
const (
	DefaultBusyTimeout = 5 * time.Second
	DefaultReaders     = 4
)

// Options configures Open. The zero value is ready to use.
type Options struct {
	// BusyTimeout is how long a write waits for another process's write
	// lock before it fails: 0 means DefaultBusyTimeout.
	BusyTimeout time.Duration
	// Readers is the number of read connections: 0 means the larger of
	// DefaultReaders and GOMAXPROCS.
	Readers int
	// Logger receives what the store reports on its own, such as a
	// corrupt delivery it dead-lettered; nil means slog.Default().
	Logger *slog.Logger
}

// DB is an open SQLite database. It is safe for concurrent use.
type DB struct {
	path string
	w    *sql.DB // one connection: SQLite has one writer at a time
	r    *sql.DB // a pool of read-only connections
	log  *slog.Logger

	// Prepared statements of the hot paths, by query, one map per pool:
	// parsing a statement costs as much as running a small one.
	wstmts, rstmts sync.Map // string → *sql.Stmt

	keys    *keys   // shared by the Stores of db and of its transactions
	batches batcher // InTx calls, for group commit
}

// Open opens the database file at path, creating it and its directory
// when they do not exist, and applies the schema migrations. It fails
// with a clear error when the file cannot be written: read-only, locked
// by another process for longer than the busy timeout, or on a full disk.
func Open(ctx context.Context, path string, opts Options) (*DB, error) {
	if path == "" {
		return nil, errors.New("sqlite: open: empty path")
	}
	if opts.BusyTimeout < 0 {
		return nil, fmt.Errorf("sqlite: open: negative busy timeout %v", opts.BusyTimeout)
	}
	if opts.Readers < 0 {
		return nil, fmt.Errorf("sqlite: open: negative reader count %d", opts.Readers)
	}
	if opts.BusyTimeout == 0 {
		opts.BusyTimeout = DefaultBusyTimeout
	}
	if opts.Readers == 0 {
		opts.Readers = max(DefaultReaders, runtime.GOMAXPROCS(0))
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	// SQLite would quietly open a file it may not write read-only, and
	// fail only at the first write; ask the system first, so that the
	// error comes now and says why.
	f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: the database file must be writable: %w", path, err)
	}
	f.Close()

	db := &DB{path: abs, log: opts.Logger}
	db.keys = &keys{db}
	db.w, err = sql.Open("sqlite", dsn(abs, opts.BusyTimeout, false))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	db.w.SetMaxOpenConns(1)
	db.w.SetMaxIdleConns(1)
	db.w.SetConnMaxIdleTime(0)
	db.w.SetConnMaxLifetime(0)
	db.r, err = sql.Open("sqlite", dsn(abs, opts.BusyTimeout, true))
	if err != nil {
		db.w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	db.r.SetMaxOpenConns(opts.Readers)
	db.r.SetMaxIdleConns(opts.Readers)

	if err := connect(ctx, db.w, opts.BusyTimeout); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, hint(err))
	}
	n, err := migrate(ctx, db.w)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: open %s: migrate: %w", path, hint(err))
	}
	if n > 0 {
		db.log.Info("sqlite: schema migrated", "path", abs, "migrations", n)
	}
	for _, q := range append(txStatements, hotStatements...) {
		if _, err := db.prepared(ctx, true, q); err != nil {
			db.Close()
			return nil, fmt.Errorf("sqlite: open %s: %w", path, hint(err))
		}
	}
	return db, nil
}

// connect opens the writer's connection. A new file turns to WAL as the
// first connection to it opens, and while another process's connection
// does so, SQLite answers that the database is locked at once instead of
// waiting for the busy timeout: connect waits and tries again, within
// that timeout.
func connect(ctx context.Context, w *sql.DB, busy time.Duration) error {
	deadline := time.Now().Add(busy)
	for delay := time.Millisecond; ; delay = min(2*delay, 50*time.Millisecond) {
		err := w.PingContext(ctx)
		var se *sqlite.Error
		if err == nil || !errors.As(err, &se) || se.Code()&0xff != sqlite3.SQLITE_BUSY || time.Now().Add(delay).After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
	}
}

// dsn builds the connection string. The pragmas run on every new
// connection: WAL so that reads and the write proceed together, a busy
// timeout so that processes sharing the file wait for each other's locks,
// foreign keys for the actor keys, BEGIN IMMEDIATE so that a write
// transaction takes the lock when it begins rather than failing halfway
// when it upgrades, and temporary storage in memory for the writer.
func dsn(path string, busy time.Duration, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout("+strconv.FormatInt(busy.Milliseconds(), 10)+")")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(1)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Set("_txlock", "immediate")
		// The savepoints of InTx keep the pages they change in a journal
		// of their own, a temporary file by default: one write per page.
		q.Add("_pragma", "temp_store(MEMORY)")
	}
	u := url.URL{Scheme: "file", Path: path, RawQuery: q.Encode()}
	return u.String()
}

// Store returns the storage.Store backed by db, with every field set. Its
// Keys is a storage.KeyStore, its Queue a storage.DeadLetters and a
// storage.LeaseExtender, and its Collections a storage.Memberships.
//
// Its Tx groups the commits of concurrent transactions: the functions of
// InTx calls made while a transaction runs share the next one, each in a
// savepoint of its own (a function that fails rolls back its own writes
// alone), and one commit. A transaction holds the writer, as every write
// does, from its first function to its commit: other writes, and other
// processes' writes, wait for it. A function that writes through db's own
// Store instead of the transaction's would wait forever; with the context
// InTx gave it, it fails instead. Inside a transaction, a context that
// ends fails the function's next operation rather than interrupting the
// one running, since SQLite may roll back a whole transaction, and so
// other functions' writes, when a statement is interrupted.
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

// Path returns the absolute path of the database file.
func (db *DB) Path() string { return db.path }

// Close closes the database.
func (db *DB) Close() error {
	for _, m := range []*sync.Map{&db.wstmts, &db.rstmts} {
		m.Range(func(_, st any) bool {
			st.(*sql.Stmt).Close()
			return true
		})
	}
	return errors.Join(db.r.Close(), db.w.Close())
}

// prepared returns the statement query prepared on the writer (write
// true) or the readers, preparing it the first time.
func (db *DB) prepared(ctx context.Context, write bool, query string) (*sql.Stmt, error) {
	pool, cache := db.r, &db.rstmts
	if write {
		pool, cache = db.w, &db.wstmts
	}
	if st, ok := cache.Load(query); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := pool.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if prev, loaded := cache.LoadOrStore(query, st); loaded {
		st.Close()
		return prev.(*sql.Stmt), nil
	}
	return st, nil
}

// write runs one write statement, prepared, in a transaction of its own.
//
// SQLite would run it in a transaction of its own anyway, but an implicit
// one makes a cancelled context lie: the driver reports a statement that
// ran as failed with the context's error when the context ended while it
// ran, and in autocommit mode that statement has already committed. An
// inbox would then answer an error for an activity it recorded, and the
// peer's retry would be deduplicated away. In an explicit transaction
// such a failure rolls the statement back, and the commit, which is not
// reported as failed once it has run, is the one moment the write takes
// effect. The context still ends the wait for the connection and for
// another process's lock before anything is written.
func (db *DB) write(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if err := db.inside(ctx, "write"); err != nil {
		return nil, err
	}
	st, err := db.prepared(ctx, true, query) // before the transaction holds the only connection
	if err != nil {
		return nil, ctxErr(ctx, err)
	}
	var res sql.Result
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		res, err = tx.StmtContext(ctx, st).ExecContext(ctx, args...)
		return err
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// queryRow runs a read statement.
func (db *DB) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	st, err := db.prepared(ctx, false, query)
	if err != nil {
		// A Row carrying err, from a statement that cannot succeed.
		return db.r.QueryRowContext(ctx, query, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

// txStmt returns the writer's prepared statement query for use in tx. The
// statements used in transactions are prepared by Open: preparing one on
// the writer now would wait for its only connection, which tx holds.
// Another is prepared in tx, for tx alone.
func (db *DB) txStmt(ctx context.Context, tx *sql.Tx, query string) (*sql.Stmt, error) {
	if st, ok := db.wstmts.Load(query); ok {
		return tx.StmtContext(ctx, st.(*sql.Stmt)), nil
	}
	return tx.PrepareContext(ctx, query) // closed with tx
}

// inTx runs fn in a write transaction and commits it, or rolls it back
// when fn fails. An error once ctx has ended wraps ctx's error: when the
// context ends as the commit starts, database/sql rolls the transaction
// back and Commit reports only that the transaction is done.
func (db *DB) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if err := db.inside(ctx, "write"); err != nil {
		return err
	}
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return ctxErr(ctx, err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return ctxErr(ctx, err)
	}
	return ctxErr(ctx, tx.Commit())
}

// ctxErr makes err, a failure after ctx ended, also report ctx's error, so
// that callers can test it with errors.Is as with any other store.
func ctxErr(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("%w (%w)", cerr, err)
	}
	return err
}

func nowMicro() int64 { return dbutil.Now().UnixMicro() }

// wrap prefixes an error with the operation, leaving storage sentinels and
// context errors reachable through errors.Is.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("sqlite: %s: %w", op, hint(err))
}

// hint adds what an operator needs to know to SQLite's terse messages for
// the faults that come from outside the program.
func hint(err error) error {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return err
	}
	switch se.Code() & 0xff {
	case sqlite3.SQLITE_BUSY:
		return fmt.Errorf("%w: another connection held the write lock longer than the busy timeout", err)
	case sqlite3.SQLITE_READONLY:
		return fmt.Errorf("%w: the database file and its directory must be writable", err)
	case sqlite3.SQLITE_FULL:
		return fmt.Errorf("%w: free space on the disk that holds the database", err)
	case sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN:
		return fmt.Errorf("%w: check the disk and the permissions of the database's directory", err)
	}
	return err
}
