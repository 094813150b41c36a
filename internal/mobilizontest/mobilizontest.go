// Package mobilizontest holds what the tests of the event behaviours
// (behaviour/mobilizon, behaviour/gathio) share: a fedi server with a
// counting store beside a fake remote server, local actors made with the
// test keys (no key is generated), payloads rewritten to point at the
// test servers, and what the remote server received.
package mobilizontest

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fedi-go/fedi"
	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/internal/fedtest"
	"github.com/fedi-go/fedi/internal/testpayload"
	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/storage/memory"
	"github.com/fedi-go/fedi/vocab"
)

// World is a fedi server (Srv) whose store counts its writes (Count),
// beside a remote server (Rem) with two actors, Bob and Eve.
type World struct {
	Srv      *fedtest.Server
	Count    *fedtest.Counter
	Rem      *fedtest.Remote
	Bob, Eve string
	keys     int
}

// New starts a World; setup registers the behaviours on the server, and
// wrap, when given, wraps its memory store (below the counting).
func New(t *testing.T, setup func(f *fedi.Federation), wrap ...func(storage.Store) storage.Store) *World {
	t.Helper()
	base := memory.New()
	for _, w := range wrap {
		base = w(base)
	}
	st, count := fedtest.Counting(base)
	w := &World{Count: count}
	w.Srv = fedtest.New(t, fedtest.Config{Store: st, Setup: func(f *fedi.Federation) {
		if setup != nil {
			setup(f)
		}
	}})
	w.Rem = fedtest.NewRemote(t)
	w.Bob, w.Eve = w.Rem.Actor(t, "bob", 0), w.Rem.Actor(t, "eve", 1)
	return w
}

// PutKey gives the local actor named name a test key before it is
// created, so that creating it makes none.
func PutKey(t testing.TB, f *fedi.Federation, name string, i int) {
	t.Helper()
	iri := f.Scheme.Actor(name)
	der, err := x509.MarshalPKCS8PrivateKey(fedtest.Key(i))
	if err != nil {
		t.Fatal(err)
	}
	ks, ok := f.Store.Keys.(storage.KeyStore)
	if !ok {
		t.Fatal("the store's keys cannot be written")
	}
	key := storage.Key{ID: iri + "#main-key", Owner: iri, PEM: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})}
	if err := ks.PutKey(context.Background(), key); err != nil {
		t.Fatal(err)
	}
}

// Actor creates a local actor named name, of type typ, with profile (nil
// for none).
func (w *World) Actor(t testing.TB, name, typ string, profile vocab.Item) *actor.Actor {
	t.Helper()
	PutKey(t, w.Srv.Federation, name, 2+w.keys)
	w.keys++
	a, err := w.Srv.LocalActors.Create(context.Background(), actor.Actor{Name: name, Type: typ, Profile: profile})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// Post signs body as the remote actor as and POSTs it to url (a local
// inbox), and returns the status and the answer.
func (w *World) Post(t testing.TB, as, url string, body []byte) (int, string) {
	t.Helper()
	return fedtest.Do(t, w.Rem.Signed(t, as, url, body))
}

// Shared is the server's shared inbox.
func (w *World) Shared() string { return w.Srv.Scheme.SharedInbox }

// Inbox is the inbox of the local actor iri.
func (w *World) Inbox(iri string) string { return w.Srv.Scheme.Collection(iri, actor.Inbox) }

// Received drains the server's queue and returns the documents the
// remote server received of type typ ("" for all), in order for each
// inbox, the inboxes by path.
func (w *World) Received(t testing.TB, typ string) []map[string]any {
	t.Helper()
	w.Srv.Drain(t)
	var out []map[string]any
	paths := slices.Sorted(maps.Keys(w.Rem.Received))
	for _, path := range paths {
		for _, b := range w.Rem.Received[path] {
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			if typ == "" || m["type"] == typ {
				out = append(out, m)
			}
		}
	}
	return out
}

// Member returns the member of coll, or false.
func (w *World) Member(t testing.TB, coll, iri string) (storage.Member, bool) {
	t.Helper()
	m, err := w.Srv.Store.Collections.Contains(context.Background(), coll, iri)
	if err != nil {
		return storage.Member{}, false
	}
	return m, true
}

// Item returns the stored item iri, decoded, or nil.
func (w *World) Item(t testing.TB, iri string) vocab.Item {
	t.Helper()
	o, err := w.Srv.Store.Objects.Get(context.Background(), iri)
	if err != nil {
		return nil
	}
	it, err := w.Srv.Registry.Decode(o.Data)
	if err != nil {
		t.Fatal(err)
	}
	return it
}

// Payload reads a payload: a file of the test's own testdata, or, when
// none has that name, of the repository's testdata/payloads.
func Payload(t testing.TB, name string) []byte {
	t.Helper()
	if b, err := os.ReadFile(filepath.Join("testdata", name)); err == nil {
		return b
	}
	return testpayload.Read(t, name)
}

// Rewrite returns the JSON object doc with the properties of set set (a
// nil value removes the property): a real payload's shape, pointed at
// the test servers.
func Rewrite(t testing.TB, doc []byte, set map[string]any) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(doc, &m); err != nil {
		t.Fatal(err)
	}
	for k, v := range set {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Status checks the status of a POST.
func Status(t testing.TB, want, got int, msg string) {
	t.Helper()
	if got != want {
		t.Fatalf("status %d (%s), want %d", got, strings.TrimSpace(msg), want)
	}
}
