package storagetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/fedi-go/fedi/storage"
)

// TestActors checks an Actors implementation. newActors is called once per
// subtest and must return an empty cache.
func TestActors(t *testing.T, newActors func(t *testing.T) storage.Actors) {
	t.Helper()
	runAll(t, newActors, []subtest[storage.Actors]{
		{"Missing", actorsMissing},
		{"UnstorableKeys", actorsUnstorable},
		{"PutGet", actorsPutGet},
		{"ReplaceKeys", actorsReplaceKeys},
		{"KeyConflict", actorsKeyConflict},
		{"ConcurrentKeyClaims", actorsConcurrentClaims},
		{"Gone", actorsGone},
		{"Delete", actorsDelete},
		{"Invalid", actorsInvalid},
		{"Large", actorsLarge},
		{"UnicodeIRIs", actorsUnicode},
		{"LongIRIs", actorsLongIRIs},
		{"Cancelled", actorsCancelled},
		{"Addresses", actorsAddresses},
	})
}

func remoteActor(t *testing.T, name string, keys ...string) storage.RemoteActor {
	id := iri(t, "users/"+name)
	a := storage.RemoteActor{
		IRI:         id,
		Inbox:       id + "/inbox",
		SharedInbox: iri(t, "inbox"),
		Document:    doc("Person", id),
		Fetched:     time.Date(2025, 3, 4, 5, 6, 7, 891011000, time.UTC),
	}
	for _, k := range keys {
		a.Keys = append(a.Keys, storage.PublicKey{ID: id + "#" + k, PEM: "-----BEGIN PUBLIC KEY-----\n" + k + "\n-----END PUBLIC KEY-----\n"})
	}
	return a
}

func actorIs(t *testing.T, got, want storage.RemoteActor) {
	t.Helper()
	if got.IRI != want.IRI || got.Inbox != want.Inbox || got.SharedInbox != want.SharedInbox ||
		!bytes.Equal(got.Document, want.Document) || !got.Fetched.Equal(want.Fetched) || !got.Gone.Equal(want.Gone) ||
		fmt.Sprint(got.Keys) != fmt.Sprint(want.Keys) {
		t.Fatalf("actor = %+v\nwant %+v", got, want)
	}
}

func actorsMissing(t *testing.T, ctx context.Context, s storage.Actors) {
	_, err := s.Get(ctx, iri(t, "users/nobody"))
	mustErr(t, err, storage.ErrNotFound, "Get")
	_, err = s.ByKey(ctx, iri(t, "users/nobody#main-key"))
	mustErr(t, err, storage.ErrNotFound, "ByKey")
	mustErr(t, s.Delete(ctx, iri(t, "users/nobody")), storage.ErrNotFound, "Delete")
}

// actorsUnstorable looks up keys no store can hold: they are not found.
func actorsUnstorable(t *testing.T, ctx context.Context, s storage.Actors) {
	for _, key := range unstorable(t) {
		_, err := s.Get(ctx, key)
		mustErr(t, err, storage.ErrNotFound, fmt.Sprintf("Get(%q)", key))
		_, err = s.ByKey(ctx, key)
		mustErr(t, err, storage.ErrNotFound, fmt.Sprintf("ByKey(%q)", key))
		mustErr(t, s.Delete(ctx, key), storage.ErrNotFound, fmt.Sprintf("Delete(%q)", key))
	}
}

func actorsPutGet(t *testing.T, ctx context.Context, s storage.Actors) {
	a := remoteActor(t, "bob", "main-key", "ed25519-key")
	must(t, s.Put(ctx, a), "Put")
	got, err := s.Get(ctx, a.IRI)
	must(t, err, "Get")
	actorIs(t, got, a)
	for _, k := range a.Keys {
		got, err := s.ByKey(ctx, k.ID)
		must(t, err, "ByKey")
		actorIs(t, got, a)
	}
	bare := storage.RemoteActor{IRI: iri(t, "users/bare")}
	must(t, s.Put(ctx, bare), "Put of an actor with only an IRI")
	got, err = s.Get(ctx, bare.IRI)
	must(t, err, "Get")
	actorIs(t, got, bare)
}

func actorsReplaceKeys(t *testing.T, ctx context.Context, s storage.Actors) {
	a := remoteActor(t, "bob", "old-key")
	must(t, s.Put(ctx, a), "Put")
	b := remoteActor(t, "bob", "new-key")
	b.Inbox = b.IRI + "/new-inbox"
	b.Fetched = a.Fetched.Add(time.Hour)
	must(t, s.Put(ctx, b), "Put after key rotation")
	got, err := s.Get(ctx, a.IRI)
	must(t, err, "Get")
	actorIs(t, got, b)
	_, err = s.ByKey(ctx, a.Keys[0].ID)
	mustErr(t, err, storage.ErrNotFound, "ByKey of a rotated-out key")
	got, err = s.ByKey(ctx, b.Keys[0].ID)
	must(t, err, "ByKey of the new key")
	actorIs(t, got, b)
}

func actorsKeyConflict(t *testing.T, ctx context.Context, s storage.Actors) {
	bob := remoteActor(t, "bob", "main-key")
	must(t, s.Put(ctx, bob), "Put")
	mallory := remoteActor(t, "mallory", "main-key")
	mallory.Keys = append(mallory.Keys, bob.Keys[0]) // claims bob's key id
	mustErr(t, s.Put(ctx, mallory), storage.ErrConflict, "Put of an actor claiming another's key")
	_, err := s.Get(ctx, mallory.IRI)
	mustErr(t, err, storage.ErrNotFound, "Get of the actor whose Put conflicted") // nothing half-written
	_, err = s.ByKey(ctx, mallory.Keys[0].ID)
	mustErr(t, err, storage.ErrNotFound, "ByKey of the conflicting actor's own key")
	got, err := s.ByKey(ctx, bob.Keys[0].ID)
	must(t, err, "ByKey")
	actorIs(t, got, bob)
}

// actorsConcurrentClaims has two actors claim the same two key ids at
// once, listed in opposite orders, round after round: in each round at
// most one wins, the other fails with ErrConflict and nothing else (a
// store that locks the keys in list order deadlocks here), and the
// winner holds both keys.
func actorsConcurrentClaims(t *testing.T, ctx context.Context, s storage.Actors) {
	for round := range 200 {
		k1, k2 := fmt.Sprintf("%s#k1", iri(t, fmt.Sprint(round))), fmt.Sprintf("%s#k2", iri(t, fmt.Sprint(round)))
		a := storage.RemoteActor{IRI: iri(t, fmt.Sprintf("a%d", round)), Keys: []storage.PublicKey{{ID: k1, PEM: "a1"}, {ID: k2, PEM: "a2"}}}
		b := storage.RemoteActor{IRI: iri(t, fmt.Sprintf("b%d", round)), Keys: []storage.PublicKey{{ID: k2, PEM: "b2"}, {ID: k1, PEM: "b1"}}}
		errs := make(chan error, 2)
		for _, x := range []storage.RemoteActor{a, b} {
			go func() { errs <- s.Put(ctx, x) }()
		}
		won := 0
		for range 2 {
			err := <-errs
			if err == nil {
				won++
			} else if !errors.Is(err, storage.ErrConflict) {
				t.Fatalf("round %d: Put of an actor claiming contested keys: %v, want nil or ErrConflict", round, err)
			}
		}
		if won != 1 {
			t.Fatalf("round %d: %d actors won the same keys, want exactly 1", round, won)
		}
		o1, err := s.ByKey(ctx, k1)
		must(t, err, "ByKey k1")
		o2, err := s.ByKey(ctx, k2)
		must(t, err, "ByKey k2")
		if o1.IRI != o2.IRI {
			t.Fatalf("round %d: the keys went to two actors, %s and %s", round, o1.IRI, o2.IRI)
		}
	}
}

func actorsGone(t *testing.T, ctx context.Context, s storage.Actors) {
	a := remoteActor(t, "bob", "main-key")
	must(t, s.Put(ctx, a), "Put")
	at := time.Date(2025, 6, 7, 8, 9, 10, 0, time.UTC)
	must(t, s.MarkGone(ctx, a.IRI, at), "MarkGone")
	got, err := s.ByKey(ctx, a.Keys[0].ID)
	must(t, err, "ByKey of a gone actor")
	want := a
	want.Gone = at
	actorIs(t, got, want)

	unknown := iri(t, "users/unknown")
	must(t, s.MarkGone(ctx, unknown, at), "MarkGone of an uncached actor")
	got, err = s.Get(ctx, unknown)
	must(t, err, "Get")
	actorIs(t, got, storage.RemoteActor{IRI: unknown, Gone: at})

	// A later successful fetch is authoritative.
	a.Fetched = at.Add(time.Hour)
	must(t, s.Put(ctx, a), "Put after gone")
	got, err = s.Get(ctx, a.IRI)
	must(t, err, "Get")
	actorIs(t, got, a)
}

func actorsDelete(t *testing.T, ctx context.Context, s storage.Actors) {
	a := remoteActor(t, "bob", "main-key")
	must(t, s.Put(ctx, a), "Put")
	must(t, s.Delete(ctx, a.IRI), "Delete")
	_, err := s.Get(ctx, a.IRI)
	mustErr(t, err, storage.ErrNotFound, "Get after Delete")
	_, err = s.ByKey(ctx, a.Keys[0].ID)
	mustErr(t, err, storage.ErrNotFound, "ByKey after Delete")
	mustErr(t, s.Delete(ctx, a.IRI), storage.ErrNotFound, "Delete twice")
	// The key id is free again.
	b := remoteActor(t, "carol")
	b.Keys = a.Keys
	must(t, s.Put(ctx, b), "Put of another actor with the freed key id")
}

func actorsInvalid(t *testing.T, ctx context.Context, s storage.Actors) {
	for _, tt := range []struct {
		name   string
		change func(*storage.RemoteActor)
	}{
		{"no IRI", func(a *storage.RemoteActor) { a.IRI = "" }},
		{"invalid document", func(a *storage.RemoteActor) { a.Document = []byte(`{"type":`) }},
		{"duplicate key ids", func(a *storage.RemoteActor) { a.Keys = append(a.Keys, a.Keys[0]) }},
		{"empty key id", func(a *storage.RemoteActor) { a.Keys[0].ID = "" }},
		{"control character in inbox", func(a *storage.RemoteActor) { a.Inbox += "\r\n" }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := remoteActor(t, "bob", "main-key")
			tt.change(&a)
			mustErr(t, s.Put(ctx, a), storage.ErrInvalid, "Put")
		})
	}
	mustErr(t, s.MarkGone(ctx, "", time.Now()), storage.ErrInvalid, "MarkGone with no IRI")
}

func actorsLarge(t *testing.T, ctx context.Context, s storage.Actors) {
	a := remoteActor(t, "bob", "main-key")
	a.Document = bigDoc(a.IRI, 1<<20)
	must(t, s.Put(ctx, a), "Put 1 MiB")
	got, err := s.Get(ctx, a.IRI)
	must(t, err, "Get")
	actorIs(t, got, a)
}

func actorsUnicode(t *testing.T, ctx context.Context, s storage.Actors) {
	for _, u := range unicodeIRIs {
		a := storage.RemoteActor{IRI: u, Inbox: u + "/📥", Keys: []storage.PublicKey{{ID: u + "#clé", PEM: "pem"}}, Document: doc("Person", u)}
		must(t, s.Put(ctx, a), "Put "+u)
	}
	for _, u := range unicodeIRIs {
		got, err := s.ByKey(ctx, u+"#clé")
		must(t, err, "ByKey")
		if got.IRI != u || got.Inbox != u+"/📥" {
			t.Fatalf("ByKey(%q) = %+v", u+"#clé", got)
		}
	}
}

func actorsCancelled(t *testing.T, ctx context.Context, s storage.Actors) {
	a := remoteActor(t, "bob", "main-key")
	c := cancelled()
	checkCancelled(t, "Put", s.Put(c, a))
	_, err := s.Get(ctx, a.IRI)
	mustErr(t, err, storage.ErrNotFound, "Get after a cancelled Put")
	must(t, s.Put(ctx, a), "Put")
	_, err = s.Get(c, a.IRI)
	checkCancelled(t, "Get", err)
	_, err = s.ByKey(c, a.Keys[0].ID)
	checkCancelled(t, "ByKey", err)
	checkCancelled(t, "MarkGone", s.MarkGone(c, a.IRI, time.Now()))
	checkCancelled(t, "Delete", s.Delete(c, a.IRI))
	got, err := s.Get(ctx, a.IRI)
	must(t, err, "Get")
	actorIs(t, got, a)
}

// actorsAddresses checks storage.ActorAddresses, when s has it: the
// cached among the IRIs asked, each once, with its addresses, freshness
// and gone mark, and no keys or document.
func actorsAddresses(t *testing.T, ctx context.Context, s storage.Actors) {
	aa, ok := s.(storage.ActorAddresses)
	if !ok {
		t.Skip("Actors is not a storage.ActorAddresses")
	}
	got, err := aa.Addresses(ctx, nil)
	if err != nil || len(got) != 0 {
		t.Fatalf("Addresses(nil) = %v, %v; want none", got, err)
	}
	bob, carol := remoteActor(t, "bob", "k1"), remoteActor(t, "carol")
	carol.SharedInbox = ""
	for _, a := range []storage.RemoteActor{bob, carol} {
		if err := s.Put(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	gone := time.Date(2025, 6, 7, 8, 9, 10, 0, time.UTC)
	if err := s.MarkGone(ctx, carol.IRI, gone); err != nil {
		t.Fatal(err)
	}
	dave := iri(t, "users/dave")
	if err := s.MarkGone(ctx, dave, gone); err != nil {
		t.Fatal(err)
	}
	asked := []string{bob.IRI, iri(t, "users/nobody"), carol.IRI, bob.IRI, dave, "bad\x00iri", string(make([]byte, storage.MaxIRI+1))}
	got, err = aa.Addresses(ctx, asked)
	if err != nil {
		t.Fatal(err)
	}
	byIRI := map[string]storage.RemoteActor{}
	for _, a := range got {
		if _, twice := byIRI[a.IRI]; twice {
			t.Fatalf("%s returned twice", a.IRI)
		}
		byIRI[a.IRI] = a
	}
	if len(byIRI) != 3 {
		t.Fatalf("Addresses = %+v; want bob, carol and dave", got)
	}
	want := map[string]storage.RemoteActor{
		bob.IRI:   {IRI: bob.IRI, Inbox: bob.Inbox, SharedInbox: bob.SharedInbox, Fetched: bob.Fetched},
		carol.IRI: {IRI: carol.IRI, Inbox: carol.Inbox, Fetched: carol.Fetched, Gone: gone},
		dave:      {IRI: dave, Gone: gone},
	}
	for id, w := range want {
		actorIs(t, byIRI[id], w)
	}
}
