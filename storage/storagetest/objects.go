package storagetest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/fedi-go/fedi/storage"
)

// TestObjects checks an Objects implementation. newObjects is called once
// per subtest and must return an empty store.
func TestObjects(t *testing.T, newObjects func(t *testing.T) storage.Objects) {
	t.Helper()
	runAll(t, newObjects, []subtest[storage.Objects]{
		{"Missing", objectsMissing},
		{"UnstorableKeys", objectsUnstorable},
		{"PutGet", objectsPutGet},
		{"Replace", objectsReplace},
		{"OwnerConflict", objectsOwnerConflict},
		{"Tombstone", objectsTombstone},
		{"Invalid", objectsInvalid},
		{"Large", objectsLarge},
		{"UnicodeIRIs", objectsUnicode},
		{"LongIRIs", objectsLongIRIs},
		{"ConcurrentReplace", objectsConcurrentReplace},
		{"ConcurrentClaim", objectsConcurrentClaim},
		{"Cancelled", objectsCancelled},
		{"CancelledMidCall", objectsCancelledMidCall},
	})
}

func objectsMissing(t *testing.T, ctx context.Context, s storage.Objects) {
	id := iri(t, "nothing")
	_, err := s.Get(ctx, id)
	mustErr(t, err, storage.ErrNotFound, "Get of a missing object")
	_, err = s.Owner(ctx, id)
	mustErr(t, err, storage.ErrNotFound, "Owner of a missing object")
	err = s.Tombstone(ctx, id, doc("Tombstone", id))
	mustErr(t, err, storage.ErrNotFound, "Tombstone of a missing object")
}

// objectsUnstorable looks up keys no store can hold: they are not found,
// however the database would take their bytes.
func objectsUnstorable(t *testing.T, ctx context.Context, s storage.Objects) {
	for _, id := range unstorable(t) {
		_, err := s.Get(ctx, id)
		mustErr(t, err, storage.ErrNotFound, fmt.Sprintf("Get(%q)", id))
		_, err = s.Owner(ctx, id)
		mustErr(t, err, storage.ErrNotFound, fmt.Sprintf("Owner(%q)", id))
		err = s.Tombstone(ctx, id, doc("Tombstone", iri(t, "x")))
		mustErr(t, err, storage.ErrNotFound, fmt.Sprintf("Tombstone(%q)", id))
	}
}

func objectsPutGet(t *testing.T, ctx context.Context, s storage.Objects) {
	for _, tt := range []struct {
		name  string
		typ   string
		owner string
	}{
		{"owned", "Note", iri(t, "alice")},
		{"unowned", "Collection", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			id := iri(t, "note")
			data := doc(tt.typ, id)
			before := time.Now()
			must(t, s.Put(ctx, storage.Object{IRI: id, Type: tt.typ, Owner: tt.owner, Data: data}), "Put")
			got, err := s.Get(ctx, id)
			must(t, err, "Get")
			if got.IRI != id || got.Type != tt.typ || got.Owner != tt.owner {
				t.Fatalf("Get = {IRI %q, Type %q, Owner %q}, want {%q, %q, %q}", got.IRI, got.Type, got.Owner, id, tt.typ, tt.owner)
			}
			if !bytes.Equal(got.Data, data) {
				t.Fatalf("Get returned data %s, want %s", got.Data, data)
			}
			near(t, got.Updated, before, 5*time.Second, "Updated")
			if !got.Deleted.IsZero() {
				t.Fatalf("Deleted = %v for a live object", got.Deleted)
			}
			owner, err := s.Owner(ctx, id)
			must(t, err, "Owner")
			if owner != tt.owner {
				t.Fatalf("Owner = %q, want %q", owner, tt.owner)
			}
		})
	}
}

func objectsReplace(t *testing.T, ctx context.Context, s storage.Objects) {
	id, alice := iri(t, "note"), iri(t, "alice")
	must(t, s.Put(ctx, storage.Object{IRI: id, Type: "Note", Owner: alice, Data: doc("Note", id)}), "Put")
	first, err := s.Get(ctx, id)
	must(t, err, "Get")
	edited := []byte(`{"type":"Article","id":"` + id + `","name":"edited"}`)
	must(t, s.Put(ctx, storage.Object{IRI: id, Type: "Article", Owner: alice, Data: edited}), "Put replacing")
	got, err := s.Get(ctx, id)
	must(t, err, "Get after replace")
	if got.Type != "Article" || !bytes.Equal(got.Data, edited) {
		t.Fatalf("after replace Get = {Type %q, Data %s}, want {Article, %s}", got.Type, got.Data, edited)
	}
	if got.Updated.Before(first.Updated) {
		t.Fatalf("Updated went back from %v to %v", first.Updated, got.Updated)
	}
}

func objectsOwnerConflict(t *testing.T, ctx context.Context, s storage.Objects) {
	id, alice, mallory := iri(t, "note"), iri(t, "alice"), iri(t, "mallory")
	data := doc("Note", id)
	must(t, s.Put(ctx, storage.Object{IRI: id, Type: "Note", Owner: alice, Data: data}), "Put")
	for _, owner := range []string{mallory, ""} {
		err := s.Put(ctx, storage.Object{IRI: id, Type: "Note", Owner: owner, Data: []byte(`{"hijacked":true}`)})
		mustErr(t, err, storage.ErrConflict, "Put by owner "+owner+" over alice's object")
	}
	got, err := s.Get(ctx, id)
	must(t, err, "Get")
	if got.Owner != alice || !bytes.Equal(got.Data, data) {
		t.Fatalf("a conflicting Put changed the object: %+v", got)
	}
	unowned := iri(t, "unowned")
	must(t, s.Put(ctx, storage.Object{IRI: unowned, Type: "Note", Data: data}), "Put unowned")
	err = s.Put(ctx, storage.Object{IRI: unowned, Type: "Note", Owner: alice, Data: data})
	mustErr(t, err, storage.ErrConflict, "claiming an unowned object")
}

func objectsTombstone(t *testing.T, ctx context.Context, s storage.Objects) {
	id, alice := iri(t, "note"), iri(t, "alice")
	must(t, s.Put(ctx, storage.Object{IRI: id, Type: "Note", Owner: alice, Data: doc("Note", id)}), "Put")
	tomb := []byte(`{"type":"Tombstone","id":"` + id + `","formerType":"Note"}`)
	before := time.Now()
	must(t, s.Tombstone(ctx, id, tomb), "Tombstone")
	got, err := s.Get(ctx, id)
	must(t, err, "Get of a tombstone")
	if got.Type != "Tombstone" || got.Owner != alice || !bytes.Equal(got.Data, tomb) {
		t.Fatalf("Get of a tombstone = {Type %q, Owner %q, Data %s}, want {Tombstone, %q, %s}", got.Type, got.Owner, got.Data, alice, tomb)
	}
	near(t, got.Deleted, before, 5*time.Second, "Deleted")
	owner, err := s.Owner(ctx, id)
	must(t, err, "Owner of a tombstone")
	if owner != alice {
		t.Fatalf("Owner of a tombstone = %q, want %q", owner, alice)
	}

	err = s.Put(ctx, storage.Object{IRI: id, Type: "Note", Owner: alice, Data: doc("Note", id)})
	mustErr(t, err, storage.ErrConflict, "Put over a tombstone")

	time.Sleep(5 * time.Millisecond)
	tomb2 := []byte(`{"type":"Tombstone","id":"` + id + `","formerType":"Note","deleted":"2024-01-01T00:00:00Z"}`)
	must(t, s.Tombstone(ctx, id, tomb2), "Tombstone again")
	again, err := s.Get(ctx, id)
	must(t, err, "Get")
	if !again.Deleted.Equal(got.Deleted) || !bytes.Equal(again.Data, tomb2) {
		t.Fatalf("second Tombstone: Deleted %v, Data %s; want Deleted kept at %v and Data %s", again.Deleted, again.Data, got.Deleted, tomb2)
	}
}

func objectsInvalid(t *testing.T, ctx context.Context, s storage.Objects) {
	id := iri(t, "note")
	for _, tt := range []struct {
		name string
		obj  storage.Object
	}{
		{"empty IRI", storage.Object{Type: "Note", Data: doc("Note", "")}},
		{"invalid UTF-8 IRI", storage.Object{IRI: "https://example.test/\xff", Type: "Note", Data: doc("Note", "")}},
		{"NUL in IRI", storage.Object{IRI: "https://example.test/a\x00b", Type: "Note", Data: doc("Note", "")}},
		{"invalid JSON", storage.Object{IRI: id, Type: "Note", Data: []byte(`{"type":"Note",`)}},
		{"no data", storage.Object{IRI: id, Type: "Note"}},
		{"two values", storage.Object{IRI: id, Type: "Note", Data: []byte(`{} {}`)}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			mustErr(t, s.Put(ctx, tt.obj), storage.ErrInvalid, "Put")
		})
	}
	_, err := s.Get(ctx, id)
	mustErr(t, err, storage.ErrNotFound, "Get after rejected Puts")
	must(t, s.Put(ctx, storage.Object{IRI: id, Type: "Note", Data: doc("Note", id)}), "Put")
	mustErr(t, s.Tombstone(ctx, id, []byte("not json")), storage.ErrInvalid, "Tombstone with invalid JSON")
}

func objectsLarge(t *testing.T, ctx context.Context, s storage.Objects) {
	id := iri(t, "big")
	data := bigDoc(id, 1<<20)
	must(t, s.Put(ctx, storage.Object{IRI: id, Type: "Note", Data: data}), "Put 1 MiB")
	got, err := s.Get(ctx, id)
	must(t, err, "Get 1 MiB")
	if !bytes.Equal(got.Data, data) {
		t.Fatalf("1 MiB object came back as %d different bytes", len(got.Data))
	}
}

func objectsUnicode(t *testing.T, ctx context.Context, s storage.Objects) {
	for i, id := range unicodeIRIs {
		owner := unicodeIRIs[(i+1)%len(unicodeIRIs)]
		data, _ := json.Marshal(map[string]string{"id": id, "type": "Note", "n": string(rune('a' + i))})
		must(t, s.Put(ctx, storage.Object{IRI: id, Type: "Note", Owner: owner, Data: data}), "Put "+id)
	}
	for i, id := range unicodeIRIs {
		got, err := s.Get(ctx, id)
		must(t, err, "Get "+id)
		var m map[string]string
		must(t, json.Unmarshal(got.Data, &m), "decode")
		if got.IRI != id || m["id"] != id || m["n"] != string(rune('a'+i)) {
			t.Fatalf("Get(%q) returned %q with %s: keys that differ in normalization, encoding or case must stay distinct", id, got.IRI, got.Data)
		}
		if want := unicodeIRIs[(i+1)%len(unicodeIRIs)]; got.Owner != want {
			t.Fatalf("Get(%q).Owner = %q, want %q", id, got.Owner, want)
		}
	}
}

func objectsConcurrentReplace(t *testing.T, ctx context.Context, s storage.Objects) {
	id, alice := iri(t, "note"), iri(t, "alice")
	const n = 20
	docs := make([][]byte, n)
	for i := range docs {
		docs[i] = bigDoc(id, 4096+i*512) // of different sizes, so a torn write shows
	}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			errs <- s.Put(ctx, storage.Object{IRI: id, Type: "Note", Owner: alice, Data: docs[i]})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		must(t, err, "concurrent Put by the owner")
	}
	got, err := s.Get(ctx, id)
	must(t, err, "Get")
	for _, d := range docs {
		if bytes.Equal(got.Data, d) {
			return
		}
	}
	t.Fatalf("after concurrent Puts the object is none of the documents written (%d bytes)", len(got.Data))
}

func objectsConcurrentClaim(t *testing.T, ctx context.Context, s storage.Objects) {
	id := iri(t, "contested")
	const n = 20
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			owner := iri(t, "actor"+string(rune('A'+i)))
			errs[i] = s.Put(ctx, storage.Object{IRI: id, Type: "Note", Owner: owner, Data: doc("Note", id)})
		})
	}
	wg.Wait()
	won := -1
	for i, err := range errs {
		switch {
		case err == nil && won >= 0:
			t.Fatalf("both actor %c and actor %c claimed the object", 'A'+won, 'A'+i)
		case err == nil:
			won = i
		default:
			mustErr(t, err, storage.ErrConflict, "losing claim")
		}
	}
	if won < 0 {
		t.Fatal("no concurrent Put succeeded")
	}
	owner, err := s.Owner(ctx, id)
	must(t, err, "Owner")
	if want := iri(t, "actor"+string(rune('A'+won))); owner != want {
		t.Fatalf("Owner = %q, want the winner %q", owner, want)
	}
}

func objectsCancelled(t *testing.T, ctx context.Context, s storage.Objects) {
	id := iri(t, "note")
	must(t, s.Put(ctx, storage.Object{IRI: id, Type: "Note", Data: doc("Note", id)}), "Put")
	c := cancelled()
	other := iri(t, "other")
	checkCancelled(t, "Put", s.Put(c, storage.Object{IRI: other, Type: "Note", Data: doc("Note", other)}))
	checkCancelled(t, "Tombstone", s.Tombstone(c, id, doc("Tombstone", id)))
	_, err := s.Get(c, id)
	checkCancelled(t, "Get", err)
	_, err = s.Owner(c, id)
	checkCancelled(t, "Owner", err)

	_, err = s.Get(ctx, other)
	mustErr(t, err, storage.ErrNotFound, "Get of an object put with a cancelled context")
	got, err := s.Get(ctx, id)
	must(t, err, "Get")
	if !got.Deleted.IsZero() {
		t.Fatal("Tombstone with a cancelled context took effect")
	}
}

// checkCancelled fails unless err reports the context's cancellation.
func checkCancelled(t *testing.T, what string, err error) {
	t.Helper()
	mustErr(t, err, context.Canceled, what+" with a cancelled context")
}
