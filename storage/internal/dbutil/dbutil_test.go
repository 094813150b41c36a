package dbutil

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"
	"time"
	"unicode/utf8"

	"github.com/fedi-go/fedi/storage"
)

func TestReceipt(t *testing.T) {
	id, lease, err := ParseReceipt("x", Receipt(42, 7))
	if err != nil || id != 42 || lease != 7 {
		t.Fatalf("round trip = %d, %d, %v", id, lease, err)
	}
	for _, bad := range []string{"", "1", "1.", ".1", "a.b", "0.1", "1.0", "-1.2", "1.2.3", "99999999999999999999.1"} {
		if _, _, err := ParseReceipt("x", bad); !errors.Is(err, storage.ErrInvalid) {
			t.Errorf("ParseReceipt(%q) = %v, want ErrInvalid", bad, err)
		}
	}
}

func TestCursors(t *testing.T) {
	if seq, err := ParseCursor("x", ""); err != nil || seq != 1<<63-1 {
		t.Fatalf("empty cursor = %d, %v", seq, err)
	}
	if seq, err := ParseCursor("x", Cursor(17)); err != nil || seq != 17 {
		t.Fatalf("round trip = %d, %v", seq, err)
	}
	if _, err := ParseCursor("x", "-3"); !errors.Is(err, storage.ErrInvalid) {
		t.Fatalf("negative cursor: %v", err)
	}
	at := time.UnixMicro(1700000000123456)
	got, id, err := ParseDeadCursor("x", DeadCursor(at, 5))
	if err != nil || !got.Equal(at) || id != 5 {
		t.Fatalf("dead cursor round trip = %v, %d, %v", got, id, err)
	}
	if _, _, err := ParseDeadCursor("x", "nope"); !errors.Is(err, storage.ErrInvalid) {
		t.Fatalf("malformed dead cursor: %v", err)
	}
}

func TestLimit(t *testing.T) {
	for in, want := range map[int]int{-1: storage.DefaultPageLimit, 0: storage.DefaultPageLimit, 5: 5, 5000: storage.MaxPageLimit} {
		if got := Limit(in); got != want {
			t.Errorf("Limit(%d) = %d, want %d", in, got, want)
		}
	}
}

func TestCleanError(t *testing.T) {
	got := CleanError("a\x00b\xffc" + strings.Repeat("é", 5000))
	if !utf8.ValidString(got) || strings.ContainsRune(got, 0) || len(got) > maxError || !strings.HasPrefix(got, "ab\uFFFDc") {
		t.Fatalf("CleanError kept %d bytes starting %q", len(got), got[:8])
	}
}

func TestMigrations(t *testing.T) {
	fsys := fstest.MapFS{
		"m/0002_more.sql": {Data: []byte("two")},
		"m/0001_init.sql": {Data: []byte("one")},
	}
	ms, err := Migrations(fsys, "m/*.sql")
	if err != nil || len(ms) != 2 || ms[0].Version != 1 || ms[1].SQL != "two" {
		t.Fatalf("Migrations = %+v, %v", ms, err)
	}
	for name, fsys := range map[string]fstest.MapFS{
		"gap":      {"m/0001_a.sql": {}, "m/0003_c.sql": {}},
		"unnamed":  {"m/init.sql": {}},
		"zero":     {"m/0000_a.sql": {}},
		"repeated": {"m/0001_a.sql": {}, "m/1_b.sql": {}},
	} {
		if _, err := Migrations(fsys, "m/*.sql"); err == nil {
			t.Errorf("%s: Migrations accepted %v", name, fsys)
		}
	}
}
