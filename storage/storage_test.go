package storage_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/fedi-go/fedi/storage"
)

func TestCheckIRI(t *testing.T) {
	for _, tt := range []struct {
		name string
		iri  string
		ok   bool
	}{
		{"https", "https://example.com/users/alice", true},
		{"unicode", "https://例え.テスト/ユーザー/😀?q=é#frag", true},
		{"percent-encoded", "https://example.com/%C3%B1", true},
		{"empty", "", false},
		{"invalid UTF-8", "https://example.com/\xff", false},
		{"NUL", "https://example.com/a\x00b", false},
		{"newline", "https://example.com/a\nb", false},
		{"DEL", "https://example.com/a\x7fb", false},
		{"C1 next line", "https://example.com/\u0085next", false},
		{"C1 CSI", "https://example.com/\u009b[31m", false},
		{"after C1", "https://example.com/\u00a0nbsp", true},
		{"too long", "https://example.com/" + strings.Repeat("a", 5000), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := storage.CheckIRI("IRI", tt.iri)
			if (err == nil) != tt.ok || err != nil && !errors.Is(err, storage.ErrInvalid) {
				t.Fatalf("CheckIRI(%q) = %v, want ok %v", tt.iri, err, tt.ok)
			}
		})
	}
}

func TestCheckStored(t *testing.T) {
	if err := storage.CheckStored("object", "https://example.com/n", []byte(`{"a":1}`)); err != nil {
		t.Fatal(err)
	}
	err := storage.CheckStored("object", "https://example.com/n", []byte(`{"a":`))
	var ce *storage.CorruptError
	if !errors.As(err, &ce) || ce.Kind != "object" || ce.IRI != "https://example.com/n" {
		t.Fatalf("CheckStored of broken JSON = %v, want a *CorruptError naming the object", err)
	}
	if want := `storage: corrupt object "https://example.com/n": document is not valid JSON`; err.Error() != want {
		t.Fatalf("error %q, want %q", err, want)
	}
}

func TestState(t *testing.T) {
	for st, want := range map[storage.State]string{storage.Accepted: "accepted", storage.Pending: "pending", 9: "State(9)"} {
		if got := st.String(); got != want {
			t.Errorf("State(%d).String() = %q, want %q", st, got, want)
		}
	}
}

// TestInTxWithout checks InTx on a Store without Tx: fn gets the store
// itself, and a context that has ended stops it first.
func TestInTxWithout(t *testing.T) {
	st := storage.Store{Objects: nil}
	called := false
	err := storage.InTx(context.Background(), st, func(ctx context.Context, tx storage.Store) error {
		called = true
		if tx.Tx != nil {
			t.Error("fn got a Store with Tx")
		}
		return errBoom
	})
	if !called || err != errBoom {
		t.Fatalf("InTx = %v (fn called: %v), want fn's error", err, called)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	called = false
	err = storage.InTx(ctx, st, func(context.Context, storage.Store) error { called = true; return nil })
	if called || !errors.Is(err, context.Canceled) {
		t.Fatalf("InTx with a cancelled context = %v (fn called: %v), want context.Canceled", err, called)
	}
}

var errBoom = errors.New("boom")
