package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/storage/internal/faulttest"
	"github.com/fedi-go/fedi/storage/postgres"
)

// TestMigrateConcurrently opens one fresh schema from many goroutines at
// once, each with its own pool: the advisory lock lets one migrate and the
// others find the work done.
func TestMigrateConcurrently(t *testing.T) {
	dsn := testDSN(t)
	schema := freshSchema(t, dsn)
	ctx := context.Background()
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	dbs := make([]*postgres.DB, n)
	for i := range n {
		wg.Go(func() {
			dbs[i], errs[i] = postgres.Open(ctx, dsn, postgres.Options{Schema: schema, Logger: slog.New(slog.DiscardHandler)})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Open %d: %v", i, err)
		}
		defer dbs[i].Close()
	}
	conn := connect(t, dsn)
	var versions int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM `+pgx.Identifier{schema, "fedi_migrations"}.Sanitize()).Scan(&versions); err != nil {
		t.Fatal(err)
	}
	if files, _ := filepath.Glob("migrations/*.sql"); versions != len(files) {
		t.Fatalf("fedi_migrations has %d rows, want each of the %d migrations once", versions, len(files))
	}
	// Every pool works against the one schema.
	for i, db := range dbs {
		if _, err := db.Store().Dedupe.Record(ctx, "https://example.test/a", fmt.Sprint("https://example.test/r", i)); err != nil {
			t.Fatal(err)
		}
	}
}

// TestMigrateSchemaSpelledTwoWays opens one fresh schema from several
// pools at once, half naming it in Options.Schema and half in the DSN's
// search_path: all of them wait for the same lock, so none finds a table
// half created by another.
func TestMigrateSchemaSpelledTwoWays(t *testing.T) {
	dsn := testDSN(t)
	ctx := context.Background()
	conn := connect(t, dsn)
	for round := range 3 {
		schema := freshSchema(t, dsn)
		if _, err := conn.Exec(ctx, `CREATE SCHEMA `+pgx.Identifier{schema}.Sanitize()); err != nil {
			t.Fatal(err)
		}
		const n = 8
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				var (
					db  *postgres.DB
					err error
				)
				if i%2 == 0 {
					db, err = postgres.Open(ctx, dsn, postgres.Options{Schema: schema, Logger: slog.New(slog.DiscardHandler)})
				} else {
					db, err = postgres.Open(ctx, withSearchPath(t, dsn, schema), postgres.Options{Logger: slog.New(slog.DiscardHandler)})
				}
				if err == nil {
					db.Close()
				}
				errs[i] = err
			})
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d, Open %d: %v", round, i, err)
			}
		}
	}
}

// withSearchPath returns dsn with search_path set to schema.
func withSearchPath(t *testing.T, dsn, schema string) string {
	t.Helper()
	if !strings.Contains(dsn, "://") {
		return dsn + " search_path=" + schema // key=value
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// TestNewerSchema refuses to run against a schema migrated by a newer
// build.
func TestNewerSchema(t *testing.T) {
	dsn := testDSN(t)
	schema := freshSchema(t, dsn)
	open(t, postgres.Options{Schema: schema})
	conn := connect(t, dsn)
	if _, err := conn.Exec(context.Background(), `INSERT INTO `+pgx.Identifier{schema, "fedi_migrations"}.Sanitize()+` (version, name) VALUES (999, '0999_future.sql')`); err != nil {
		t.Fatal(err)
	}
	_, err := postgres.Open(context.Background(), dsn, postgres.Options{Schema: schema, Logger: slog.New(slog.DiscardHandler)})
	if err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("Open of a newer schema: %v, want a refusal", err)
	}
}

func TestOpenErrors(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, tt := range []struct {
		name, dsn string
		opts      postgres.Options
		want      string
	}{
		{"negative MaxConns", "postgres://x@127.0.0.1/x", postgres.Options{MaxConns: -1}, "MaxConns"},
		{"malformed DSN", "postgres://user:s3cret@[::1/x", postgres.Options{}, "malformed DSN"},
		{"nobody listening", "postgres://user:s3cret@127.0.0.1:1/x?connect_timeout=2", postgres.Options{}, "postgres: open"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := postgres.Open(ctx, tt.dsn, tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Open: %v, want an error saying %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Fatalf("Open's error shows the password: %v", err)
			}
		})
	}
}

// TestCorruptRows damages rows behind the store's back: reads report a
// *storage.CorruptError naming the row, and the queue dead-letters a
// delivery it cannot read instead of failing every lease.
func TestCorruptRows(t *testing.T) {
	dsn := testDSN(t)
	schema := freshSchema(t, dsn)
	logs := &faulttest.Logs{}
	st := open(t, postgres.Options{Schema: schema, Logger: slog.New(logs)}).Store()
	conn := connect(t, dsn)
	faulttest.CorruptRows(t, st, logs, func(t *testing.T, kind, iri string, value []byte) {
		cols := map[string][3]string{ // table, column, key
			"object":   {"fedi_objects", "data", "iri"},
			"actor":    {"fedi_actors", "document", "iri"},
			"delivery": {"fedi_deliveries", "body", "activity"},
			"key":      {"fedi_keys", "pem", "id"},
		}[kind]
		table, column, key := cols[0], cols[1], cols[2]
		q := `UPDATE ` + pgx.Identifier{schema, table}.Sanitize() + ` SET ` + column + ` = $1 WHERE ` + key + ` = $2`
		if _, err := conn.Exec(context.Background(), q, value, iri); err != nil {
			t.Fatal(err)
		}
	})
}

func connect(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// TestContextWhileWaiting blocks a write on a row lock another transaction
// holds: the context's deadline ends the wait, and the write has no
// effect.
func TestContextWhileWaiting(t *testing.T) {
	ctx := context.Background()
	dsn := testDSN(t)
	schema := freshSchema(t, dsn)
	st := open(t, postgres.Options{Schema: schema}).Store()
	const note, alice = "https://example.test/notes/1", "https://example.test/users/alice"
	if err := st.Objects.Put(ctx, storage.Object{IRI: note, Type: "Note", Owner: alice, Data: []byte(`{"v":1}`)}); err != nil {
		t.Fatal(err)
	}
	conn := connect(t, dsn)
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT 1 FROM `+pgx.Identifier{schema, "fedi_objects"}.Sanitize()+` WHERE iri = $1 FOR UPDATE`, note); err != nil {
		t.Fatal(err)
	}

	dctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = st.Objects.Put(dctx, storage.Object{IRI: note, Type: "Note", Owner: alice, Data: []byte(`{"v":2}`)})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Put blocked on a row lock with a 200ms deadline: %v, want the context's error", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Put with a 200ms deadline returned after %v", d)
	}
	tx.Rollback(ctx)
	got, err := st.Objects.Get(ctx, note)
	if err != nil || string(got.Data) != `{"v":1}` {
		t.Fatalf("after the cancelled Put, Get = %s, %v; want the first version", got.Data, err)
	}
}

// TestRequeueWhileLeasing holds the row lock that a lease in flight holds
// on the next delivery of a dead letter's chain: Requeue gives way with
// ErrConflict rather than let that lease overtake the requeued delivery.
func TestRequeueWhileLeasing(t *testing.T) {
	ctx := context.Background()
	dsn := testDSN(t)
	schema := freshSchema(t, dsn)
	q := open(t, postgres.Options{Schema: schema}).Store().Queue
	dl := q.(storage.DeadLetters)
	const inbox, note = "https://remote.example/inbox", "https://example.test/notes/1"
	create := storage.Delivery{Activity: note + "/create", Inbox: inbox, Body: []byte(`{}`), OrderingKey: note}
	del := storage.Delivery{Activity: note + "/delete", Inbox: inbox, Body: []byte(`{}`), OrderingKey: note}
	if err := q.Enqueue(ctx, create, del); err != nil {
		t.Fatal(err)
	}
	ds, err := q.Lease(ctx, 10, time.Minute)
	if err != nil || len(ds) != 1 {
		t.Fatalf("Lease = %v, %v; want the Create", ds, err)
	}
	if err := q.GiveUp(ctx, ds[0].Receipt, "HTTP 401"); err != nil {
		t.Fatal(err)
	}

	conn := connect(t, dsn)
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT 1 FROM `+pgx.Identifier{schema, "fedi_deliveries"}.Sanitize()+` WHERE activity = $1 FOR UPDATE`, del.Activity); err != nil {
		t.Fatal(err)
	}
	if err := dl.Requeue(ctx, ds[0].ID, time.Now()); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("Requeue while the Delete is being leased: %v, want ErrConflict", err)
	}
	tx.Rollback(ctx)

	// Nothing leased the Delete after all: the Create may go first.
	if err := dl.Requeue(ctx, ds[0].ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	ds, err = q.Lease(ctx, 10, time.Minute)
	if err != nil || len(ds) != 1 || ds[0].Activity != create.Activity {
		t.Fatalf("Lease after Requeue = %v, %v; want the Create alone", ds, err)
	}
}

// TestRequeueRacingLease requeues a dead Create while a lease statement,
// slowed by thousands of deliveries it must scan past, is in flight. The
// lease started before the Requeue committed, so it saw the Create given
// up on; it must still never take the Delete of the same object while
// the Create is live again. Either the Requeue waits the lease out and
// refuses (the Delete was leased: ErrConflict), or the lease waits for
// the Requeue and holds the Delete back.
func TestRequeueRacingLease(t *testing.T) {
	ctx := context.Background()
	dsn := testDSN(t)
	schema := freshSchema(t, dsn)
	q := open(t, postgres.Options{Schema: schema}).Store().Queue
	dl := q.(storage.DeadLetters)

	// Each filler chain has a head not yet due and a follower long due:
	// every lease scans past the followers, and holds them back.
	const chains = 20000
	now := time.Now()
	var filler []storage.Delivery
	for i := range chains {
		inbox := fmt.Sprintf("https://filler.example/%d/inbox", i)
		filler = append(filler,
			storage.Delivery{Activity: "https://example.test/a/1", Inbox: inbox, OrderingKey: "k", Body: []byte(`{}`), NotBefore: now.Add(time.Hour)},
			storage.Delivery{Activity: "https://example.test/a/2", Inbox: inbox, OrderingKey: "k", Body: []byte(`{}`), NotBefore: now.Add(-time.Hour)})
	}
	if err := q.Enqueue(ctx, filler...); err != nil {
		t.Fatal(err)
	}

	deadline := time.Now().Add(time.Minute)
	conflicts := 0
	for k := 0; k < 12 && time.Now().Before(deadline); k++ {
		inbox := fmt.Sprintf("https://remote.example/%d/inbox", k)
		note := fmt.Sprintf("https://example.test/notes/%d", k)
		due := time.Now().Add(-time.Minute)
		create := storage.Delivery{Activity: note + "/create", Inbox: inbox, OrderingKey: note, Body: []byte(`{"type":"Create"}`), NotBefore: due}
		del := storage.Delivery{Activity: note + "/delete", Inbox: inbox, OrderingKey: note, Body: []byte(`{"type":"Delete"}`), NotBefore: due}
		if err := q.Enqueue(ctx, create, del); err != nil {
			t.Fatal(err)
		}
		ds, err := q.Lease(ctx, 1, time.Minute)
		if err != nil || len(ds) != 1 || ds[0].Activity != create.Activity {
			t.Fatalf("Lease = %v, %v; want the Create", ds, err)
		}
		dead := ds[0]
		if err := q.GiveUp(ctx, dead.Receipt, "HTTP 401"); err != nil {
			t.Fatal(err)
		}

		leased := make(chan []storage.Delivery, 1)
		go func() {
			ds, err := q.Lease(ctx, 1, time.Minute)
			if err != nil {
				t.Error(err)
			}
			leased <- ds
		}()
		time.Sleep(time.Duration(k%6) * 5 * time.Millisecond)
		rqErr := dl.Requeue(ctx, dead.ID, time.Now().Add(time.Hour))
		ds = <-leased
		tookDelete := len(ds) == 1 && ds[0].Activity == del.Activity
		switch {
		case rqErr == nil && tookDelete:
			t.Fatalf("round %d: Requeue of the Create succeeded while a lease took the Delete of the same object", k)
		case rqErr != nil && !errors.Is(rqErr, storage.ErrConflict):
			t.Fatalf("round %d: Requeue: %v", k, rqErr)
		case rqErr != nil:
			conflicts++
		}
		for _, d := range ds {
			if err := q.Ack(ctx, d.Receipt); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Logf("%d of the rounds' lease took the Delete first, and Requeue refused", conflicts)
}
