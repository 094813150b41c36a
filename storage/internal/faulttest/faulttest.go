// Package faulttest holds the fault tests that the SQL adapters share:
// what a store does with rows damaged behind its back.
package faulttest

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fedi-go/fedi/storage"
)

// Damage overwrites one stored document behind the store's back: the
// object's data, the actor's document, the delivery's body or the key's
// PEM (kind "object", "actor", "delivery" or "key") of the row whose IRI
// (the activity's, for a delivery) is iri.
type Damage func(t *testing.T, kind, iri string, value []byte)

// Logs keeps the records a store logs. Give slog.New(logs) to the store.
type Logs struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (h *Logs) Enabled(context.Context, slog.Level) bool { return true }

func (h *Logs) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.recs = append(h.recs, r.Clone())
	return nil
}

func (h *Logs) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *Logs) WithGroup(string) slog.Handler      { return h }

// logged reports whether an error was logged with attribute key = value.
func (h *Logs) logged(key, value string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, rec := range h.recs {
		found := false
		rec.Attrs(func(a slog.Attr) bool {
			found = found || rec.Level == slog.LevelError && a.Key == key && a.Value.String() == value
			return !found
		})
		if found {
			return true
		}
	}
	return false
}

// CorruptRows damages an object, an actor, a delivery and a key in st, an empty
// store that logs to logs: reads must report a *storage.CorruptError
// naming the row, never panic, and the queue must dead-letter (and log) a
// delivery it cannot read instead of failing every lease.
func CorruptRows(t *testing.T, st storage.Store, logs *Logs, damage Damage) {
	t.Helper()
	ctx := context.Background()
	const note, actor = "https://example.test/notes/ü1", "https://remote.example/users/bob"
	if err := st.Objects.Put(ctx, storage.Object{IRI: note, Type: "Note", Data: []byte(`{"id":"x"}`)}); err != nil {
		t.Fatal(err)
	}
	if err := st.Actors.Put(ctx, storage.RemoteActor{IRI: actor, Keys: []storage.PublicKey{{ID: actor + "#key", PEM: "pem"}}, Document: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	keyID := "https://example.test/users/alice#main-key"
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	ks := st.Keys.(storage.KeyStore)
	if err := ks.PutKey(ctx, storage.Key{ID: keyID, Owner: "https://example.test/users/alice", PEM: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})}); err != nil {
		t.Fatal(err)
	}
	var ds []storage.Delivery
	for i := range 3 {
		act := fmt.Sprintf("https://example.test/activities/%d", i)
		ds = append(ds, storage.Delivery{Activity: act, Inbox: "https://remote.example/inbox", Body: []byte(`{"id":"` + act + `"}`)})
	}
	if err := st.Queue.Enqueue(ctx, ds...); err != nil {
		t.Fatal(err)
	}
	damage(t, "object", note, []byte(`{"id": "x"`))
	damage(t, "actor", actor, []byte("\xff\xfe garbage"))
	damage(t, "delivery", ds[1].Activity, []byte(`{"type":"Create",`))
	damage(t, "key", keyID, []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"))

	for _, tt := range []struct {
		name string
		call func() error
		kind string
		iri  string
	}{
		{"Objects.Get", func() error { _, err := st.Objects.Get(ctx, note); return err }, "object", note},
		{"Actors.Get", func() error { _, err := st.Actors.Get(ctx, actor); return err }, "actor", actor},
		{"Actors.ByKey", func() error { _, err := st.Actors.ByKey(ctx, actor+"#key"); return err }, "actor", actor},
		{"Keys.Key", func() error { _, err := ks.Key(ctx, keyID); return err }, "key", keyID},
		{"Keys.Keys", func() error { _, err := ks.Keys(ctx, "https://example.test/users/alice"); return err }, "key", keyID},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			var ce *storage.CorruptError
			if !errors.As(err, &ce) || ce.Kind != tt.kind || ce.IRI != tt.iri || !strings.Contains(err.Error(), tt.iri) {
				t.Fatalf("got %v, want a *storage.CorruptError naming %s %q", err, tt.kind, tt.iri)
			}
			if errors.Is(err, storage.ErrInvalid) {
				t.Fatalf("%v blames the caller's argument (ErrInvalid) for a damaged row", err)
			}
		})
	}
	// Owner needs no document and still answers.
	if _, err := st.Objects.Owner(ctx, note); err != nil {
		t.Fatalf("Owner of a corrupt object: %v", err)
	}

	t.Run("Queue.Lease", func(t *testing.T) {
		got, err := st.Queue.Lease(ctx, 10, time.Minute)
		if err != nil {
			t.Fatalf("Lease with a corrupt delivery in the batch: %v", err)
		}
		if len(got) != 2 || got[0].Activity != ds[0].Activity || got[1].Activity != ds[2].Activity {
			t.Fatalf("Lease returned %d deliveries, want the 2 intact ones", len(got))
		}
		stats, err := st.Queue.Stats(ctx)
		if err != nil || stats.Dead != 1 || stats.Leased != 2 {
			t.Fatalf("Stats = %+v, %v; want the corrupt delivery dead and 2 leased", stats, err)
		}
		dead, _, err := st.Queue.(storage.DeadLetters).Dead(ctx, "", 10)
		if err != nil || len(dead) != 1 || dead[0].Activity != ds[1].Activity || dead[0].Body != nil || !strings.Contains(dead[0].LastError, "corrupt") {
			t.Fatalf("Dead = %+v, %v; want the corrupt delivery, without its body, with a last error saying why", dead, err)
		}
		if !logs.logged("activity", ds[1].Activity) {
			t.Fatal("the dead-lettered corrupt delivery was not logged as an error naming its activity")
		}
	})
}
