package sqlite_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/storage/internal/faulttest"
	"github.com/fedi-go/fedi/storage/sqlite"
)

// raw opens the database file with the bare driver, to do what fedi never
// would.
func raw(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func exec1(t *testing.T, db *sql.DB, query string, args ...any) {
	t.Helper()
	if _, err := db.Exec(query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// TestCorruptRows damages rows behind the store's back: reads report a
// *storage.CorruptError naming the row, and the queue dead-letters a
// delivery it cannot read instead of failing every lease.
func TestCorruptRows(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fedi.db")
	logs := &faulttest.Logs{}
	db, err := sqlite.Open(context.Background(), path, sqlite.Options{Logger: slog.New(logs)})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	r := raw(t, path)
	faulttest.CorruptRows(t, db.Store(), logs, func(t *testing.T, kind, iri string, value []byte) {
		stmt := map[string]string{
			"object":   `UPDATE fedi_objects SET data = ? WHERE iri = ?`,
			"actor":    `UPDATE fedi_actors SET document = ? WHERE iri = ?`,
			"delivery": `UPDATE fedi_deliveries SET body = ? WHERE activity = ?`,
			"key":      `UPDATE fedi_keys SET pem = ? WHERE id = ?`,
		}[kind]
		exec1(t, r, stmt, value, iri)
	})
}

// TestLocked holds the write lock from another connection: writes wait for
// the busy timeout, then fail saying the database is locked, and change
// nothing; once the lock is gone they succeed.
func TestLocked(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "fedi.db")
	db, err := sqlite.Open(ctx, path, sqlite.Options{BusyTimeout: 200 * time.Millisecond, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st := db.Store()
	pdb, err := sqlite.Open(ctx, path, sqlite.Options{BusyTimeout: time.Minute, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer pdb.Close()
	patient := pdb.Store()

	other := raw(t, path)
	conn, err := other.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
		t.Fatal(err)
	}

	var ds []storage.Delivery
	for i := range 100 {
		act := fmt.Sprintf("https://example.test/activities/%d", i)
		ds = append(ds, storage.Delivery{Activity: act, Inbox: "https://remote.example/inbox", Body: []byte(`{}`)})
	}
	for _, tt := range []struct {
		name string
		call func() error
	}{
		{"Objects.Put", func() error {
			return st.Objects.Put(ctx, storage.Object{IRI: "https://example.test/n", Type: "Note", Data: []byte(`{}`)})
		}},
		{"Queue.Enqueue", func() error { return st.Queue.Enqueue(ctx, ds...) }},
		{"Dedupe.Record", func() error {
			_, err := st.Dedupe.Record(ctx, "https://example.test/a", "https://example.test/b")
			return err
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			err := tt.call()
			if err == nil || !strings.Contains(err.Error(), "locked") {
				t.Fatalf("write while another connection holds the lock: %v, want an error saying the database is locked", err)
			}
			if d := time.Since(start); d < 150*time.Millisecond || d > 10*time.Second {
				t.Fatalf("the write failed after %v, want after the busy timeout of 200ms", d)
			}
		})
	}
	t.Run("Open", func(t *testing.T) {
		// Open takes the write lock to check the schema.
		_, err := sqlite.Open(ctx, path, sqlite.Options{BusyTimeout: 100 * time.Millisecond, Logger: quiet})
		if err == nil || !strings.Contains(err.Error(), "locked") || !strings.Contains(err.Error(), path) {
			t.Fatalf("Open of a locked database: %v, want an error naming the file and saying it is locked", err)
		}
	})
	t.Run("context deadline while waiting", func(t *testing.T) {
		// The context ends the wait long before the busy timeout would.
		dctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		err := patient.Queue.Enqueue(dctx, ds...)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Enqueue with a deadline while locked: %v, want the context's error", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("Enqueue with a 200ms deadline returned after %v", d)
		}
	})
	// Reads go on.
	if _, err := st.Objects.Get(ctx, "https://example.test/n"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("read while locked: %v", err)
	}

	if _, err := conn.ExecContext(ctx, `ROLLBACK`); err != nil {
		t.Fatal(err)
	}
	stats, err := st.Queue.Stats(ctx)
	if err != nil || stats != (storage.QueueStats{}) {
		t.Fatalf("after a failed Enqueue, Stats = %+v, %v; want nothing half-written", stats, err)
	}
	if err := st.Queue.Enqueue(ctx, ds...); err != nil {
		t.Fatalf("Enqueue once the lock is gone: %v", err)
	}
}

// Fault tests that need privileges run in a child process: the test
// binary again, with this variable naming the fault.
const envFault = "FEDI_SQLITE_FAULT"

// runChild runs the test t.Name() in a child process with attr and returns
// its output, skipping when the child skipped.
func runChild(t *testing.T, bin, dir string, attr *syscall.SysProcAttr) string {
	t.Helper()
	cmd := exec.Command(bin, "-test.run=^"+t.Name()+"$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), envFault+"="+t.Name())
	cmd.Dir = dir
	cmd.SysProcAttr = attr
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		if errors.Is(err, syscall.EPERM) {
			t.Skipf("this sandbox does not allow the child process: %v", err)
		}
		t.Fatal(err)
	}
	err := cmd.Wait()
	t.Logf("child process:\n%s", out.String())
	if err != nil {
		t.Fatalf("child process: %v", err)
	}
	if strings.Contains(out.String(), "--- SKIP") {
		t.Skip("the child process skipped")
	}
	return out.String()
}

// TestReadOnly makes the database file read-only with chmod: Open fails at
// once, naming the file and the cause, and the data is left intact. Root
// ignores file modes, so as root the test runs itself again as nobody.
func TestReadOnly(t *testing.T) {
	if os.Getenv(envFault) == "" && os.Geteuid() == 0 {
		// A copy of the test binary that nobody may run, in a directory
		// nobody may enter.
		dir, err := os.MkdirTemp("", "fedi-readonly-")
		if err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(dir)
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		bin := filepath.Join(dir, "sqlite.test")
		if err := copyFile(bin, os.Args[0], 0o755); err != nil {
			t.Fatal(err)
		}
		runChild(t, bin, dir, &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}})
		return
	}
	if os.Geteuid() == 0 {
		t.Skip("running as root, which ignores file modes")
	}
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "fedi.db")
	db, err := sqlite.Open(ctx, path, sqlite.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	note := storage.Object{IRI: "https://example.test/notes/1", Type: "Note", Data: []byte(`{"id":"https://example.test/notes/1"}`)}
	if err := db.Store().Objects.Put(ctx, note); err != nil {
		t.Fatal(err)
	}
	db.Close()

	for _, tt := range []struct {
		name              string
		fileMode, dirMode os.FileMode
		want              string
	}{
		{"file", 0o444, 0o755, "permission denied"},
		{"directory", 0o644, 0o555, ""}, // SQLite cannot create the WAL beside the file
	} {
		t.Run(tt.name, func(t *testing.T) {
			os.Chmod(path, tt.fileMode)
			os.Chmod(dir, tt.dirMode)
			defer os.Chmod(dir, 0o755)
			defer os.Chmod(path, 0o644)
			db, err := sqlite.Open(ctx, path, sqlite.Options{Logger: quiet})
			if err == nil {
				db.Close()
				t.Fatal("Open of a database that cannot be written succeeded")
			}
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Open: %v; want an error naming %s and saying %q", err, path, tt.want)
			}
			t.Logf("Open: %v", err)
		})
	}
	db, err = sqlite.Open(ctx, path, sqlite.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got, err := db.Store().Objects.Get(ctx, note.IRI)
	if err != nil || !bytes.Equal(got.Data, note.Data) {
		t.Fatalf("after the failed opens Get = %s, %v; want the object intact", got.Data, err)
	}
}

func copyFile(dst, src string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// TestDiskFull puts the database on a 1 MiB tmpfs and fills it. Writes
// fail with an error that says the disk is full, a batch that does not fit
// leaves nothing behind, and what was written before stays readable and
// consistent. Mounting needs root, in a mount namespace of the test's own
// so that nothing outside sees the mount; elsewhere the test skips.
func TestDiskFull(t *testing.T) {
	if os.Getenv(envFault) == "" {
		if os.Geteuid() != 0 {
			t.Skip("mounting a small tmpfs needs root")
		}
		runChild(t, os.Args[0], ".", &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS})
		return
	}
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=1m"); err != nil {
		t.Skipf("cannot mount a tmpfs: %v", err)
	}
	defer syscall.Unmount(dir, 0)

	ctx := context.Background()
	path := filepath.Join(dir, "fedi.db")
	db, err := sqlite.Open(ctx, path, sqlite.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	st := db.Store()
	big := []byte(`{"content":"` + strings.Repeat("x", 64<<10) + `"}`)
	var (
		written []string
		fullErr error
	)
	for i := range 100 {
		id := fmt.Sprintf("https://example.test/notes/%d", i)
		if err := st.Objects.Put(ctx, storage.Object{IRI: id, Type: "Note", Data: big}); err != nil {
			fullErr = err
			break
		}
		written = append(written, id)
	}
	if fullErr == nil {
		t.Fatal("6 MiB fit on a 1 MiB disk")
	}
	if !strings.Contains(fullErr.Error(), "full") {
		t.Fatalf("Put on a full disk: %v, want an error saying the disk is full", fullErr)
	}
	t.Logf("after %d objects, Put: %v", len(written), fullErr)

	// A batch that cannot fit is all or nothing.
	before, err := st.Queue.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ds []storage.Delivery
	for i := range 50 {
		act := fmt.Sprintf("https://example.test/activities/%d", i)
		ds = append(ds, storage.Delivery{Activity: act, Inbox: "https://remote.example/inbox", Body: big})
	}
	if err := st.Queue.Enqueue(ctx, ds...); err == nil || !strings.Contains(err.Error(), "full") {
		t.Fatalf("Enqueue of 3 MiB on a full disk: %v, want an error saying the disk is full", err)
	}
	after, err := st.Queue.Stats(ctx)
	if err != nil || after != before {
		t.Fatalf("after a failed Enqueue Stats = %+v, %v; want %+v: nothing half-written", after, err, before)
	}
	for _, id := range written {
		if got, err := st.Objects.Get(ctx, id); err != nil || !bytes.Equal(got.Data, big) {
			t.Fatalf("Get(%s) after the disk filled: %v", id, err)
		}
	}
	db.Close()

	// Reopened, the file is consistent and holds what was committed.
	r := raw(t, path)
	var check string
	if err := r.QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check = %q, %v", check, err)
	}
	var n int
	if err := r.QueryRow(`SELECT count(*) FROM fedi_objects`).Scan(&n); err != nil || n != len(written) {
		t.Fatalf("%d objects after reopening, %v; want the %d committed", n, err, len(written))
	}
	r.Close()
}
