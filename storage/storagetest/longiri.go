package storagetest

import (
	"context"
	"encoding/json"
	"hash/fnv"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/fedi-go/fedi/storage"
)

// longIRI returns an IRI of exactly n bytes, unique to the running test
// and tag, whose tail is random enough that a database cannot compress
// it: a key that fits only once compressed would fail on the IRIs real
// peers send.
func longIRI(t *testing.T, tag string, n int) string {
	var b strings.Builder
	b.WriteString(iri(t, tag) + "/")
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	h := fnv.New64a()
	h.Write([]byte(b.String()))
	r := rand.New(rand.NewPCG(h.Sum64(), uint64(n)))
	for b.Len() < n {
		b.WriteByte(alphabet[r.IntN(len(alphabet))])
	}
	return b.String()
}

// The LongIRIs subtests store IRIs of storage.MaxIRI bytes in every key
// and every pair of keys an index may hold together, and refuse one byte
// more with ErrInvalid, changing nothing.

func objectsLongIRIs(t *testing.T, ctx context.Context, s storage.Objects) {
	id, owner := longIRI(t, "note", storage.MaxIRI), longIRI(t, "owner", storage.MaxIRI)
	must(t, s.Put(ctx, storage.Object{IRI: id, Type: "Note", Owner: owner, Data: doc("Note", id)}), "Put of a MaxIRI-byte IRI")
	got, err := s.Get(ctx, id)
	must(t, err, "Get of a MaxIRI-byte IRI")
	if got.Owner != owner {
		t.Fatalf("Owner = %.40q…, want %.40q…", got.Owner, owner)
	}
	must(t, s.Tombstone(ctx, id, doc("Tombstone", id)), "Tombstone of a MaxIRI-byte IRI")

	over := longIRI(t, "over", storage.MaxIRI+1)
	mustErr(t, s.Put(ctx, storage.Object{IRI: over, Type: "Note", Data: doc("Note", over)}), storage.ErrInvalid, "Put of a MaxIRI+1-byte IRI")
	_, err = s.Get(ctx, over)
	mustErr(t, err, storage.ErrNotFound, "Get of a MaxIRI+1-byte IRI")
}

func collectionsLongIRIs(t *testing.T, ctx context.Context, s storage.Collections) {
	coll, member, act := longIRI(t, "followers", storage.MaxIRI), longIRI(t, "member", storage.MaxIRI), longIRI(t, "follow", storage.MaxIRI)
	must(t, s.Add(ctx, coll, storage.Member{IRI: member, State: storage.Pending, Activity: act}), "Add of MaxIRI-byte IRIs")
	must(t, s.Add(ctx, coll, storage.Member{IRI: member, Activity: act}), "Accepting a member with MaxIRI-byte IRIs")
	m, err := s.Contains(ctx, coll, member)
	must(t, err, "Contains of MaxIRI-byte IRIs")
	if m.Activity != act || m.State != storage.Accepted {
		t.Fatalf("Contains = %+.60v", m)
	}
	page, err := s.Page(ctx, coll, storage.PageOptions{})
	must(t, err, "Page of a MaxIRI-byte collection")
	if len(page.Members) != 1 || page.Members[0].IRI != member {
		t.Fatalf("Page has %d members, want the MaxIRI-byte one", len(page.Members))
	}

	over := longIRI(t, "over", storage.MaxIRI+1)
	mustErr(t, s.Add(ctx, coll, storage.Member{IRI: over}), storage.ErrInvalid, "Add of a MaxIRI+1-byte member")
	mustErr(t, s.Add(ctx, over, storage.Member{IRI: member}), storage.ErrInvalid, "Add to a MaxIRI+1-byte collection")
	n, err := s.Count(ctx, coll, storage.Accepted)
	must(t, err, "Count")
	if n != 1 {
		t.Fatalf("Count = %d after refused adds, want 1", n)
	}
	must(t, s.Remove(ctx, coll, member), "Remove of MaxIRI-byte IRIs")
}

func dedupeLongIRIs(t *testing.T, ctx context.Context, s storage.Dedupe) {
	act, rcpt := longIRI(t, "activity", storage.MaxIRI), longIRI(t, "recipient", storage.MaxIRI)
	first, err := s.Record(ctx, act, rcpt)
	must(t, err, "Record of MaxIRI-byte IRIs")
	again, err := s.Record(ctx, act, rcpt)
	must(t, err, "second Record of MaxIRI-byte IRIs")
	if !first || again {
		t.Fatalf("Record = %v then %v, want true then false", first, again)
	}
	_, err = s.Record(ctx, longIRI(t, "over", storage.MaxIRI+1), rcpt)
	mustErr(t, err, storage.ErrInvalid, "Record of a MaxIRI+1-byte activity")
}

func keysLongIRIs(t *testing.T, ctx context.Context, s storage.KeyStore) {
	owner := longIRI(t, "owner", storage.MaxIRI)
	id := longIRI(t, "key", storage.MaxIRI)
	must(t, s.PutKey(ctx, storage.Key{ID: id, Owner: owner, PEM: ed25519PEM(t)}), "PutKey with MaxIRI-byte IRIs")
	ks, err := s.Keys(ctx, owner)
	must(t, err, "Keys of a MaxIRI-byte owner")
	if len(ks) != 1 || ks[0].ID != id {
		t.Fatalf("Keys returned %d keys, want the MaxIRI-byte one", len(ks))
	}
	mustErr(t, s.PutKey(ctx, storage.Key{ID: longIRI(t, "over", storage.MaxIRI+1), Owner: owner, PEM: ed25519PEM(t)}), storage.ErrInvalid, "PutKey with a MaxIRI+1-byte id")
}

func queueLongIRIs(t *testing.T, ctx context.Context, q storage.Queue) {
	inbox, object := longIRI(t, "inbox", storage.MaxIRI), longIRI(t, "object", storage.MaxIRI)
	create, del := longIRI(t, "create", storage.MaxIRI), longIRI(t, "delete", storage.MaxIRI)
	body := json.RawMessage(`{"type":"Create"}`)
	must(t, q.Enqueue(ctx,
		storage.Delivery{Activity: create, Inbox: inbox, OrderingKey: object, Body: body},
		storage.Delivery{Activity: del, Inbox: inbox, OrderingKey: object, Body: body},
	), "Enqueue with MaxIRI-byte IRIs")
	for i, want := range []string{create, del} {
		ds, err := q.Lease(ctx, 10, time.Minute)
		must(t, err, "Lease")
		if len(ds) != 1 || ds[0].Activity != want || ds[0].Inbox != inbox || ds[0].OrderingKey != object {
			t.Fatalf("lease %d returned %d deliveries, want the one ordered %d", i, len(ds), i)
		}
		must(t, q.Ack(ctx, ds[0].Receipt), "Ack")
	}

	over := longIRI(t, "over", storage.MaxIRI+1)
	for _, d := range []storage.Delivery{
		{Activity: over, Inbox: inbox, Body: body},
		{Activity: create, Inbox: over, Body: body},
		{Activity: create, Inbox: inbox, OrderingKey: over, Body: body},
	} {
		err := q.Enqueue(ctx, storage.Delivery{Activity: create, Inbox: inbox, Body: body}, d)
		mustErr(t, err, storage.ErrInvalid, "Enqueue of a batch with a MaxIRI+1-byte IRI")
	}
	st, err := q.Stats(ctx)
	must(t, err, "Stats")
	if st.Ready != 0 || st.Leased != 0 {
		t.Fatalf("Stats = %+v after refused batches, want an empty queue: a batch is enqueued whole or not at all", st)
	}
}

func actorsLongIRIs(t *testing.T, ctx context.Context, s storage.Actors) {
	id := longIRI(t, "actor", storage.MaxIRI)
	a := storage.RemoteActor{
		IRI:         id,
		Inbox:       longIRI(t, "inbox", storage.MaxIRI),
		SharedInbox: longIRI(t, "shared", storage.MaxIRI),
		Keys:        []storage.PublicKey{{ID: longIRI(t, "key", storage.MaxIRI), PEM: "pem"}},
		Document:    doc("Person", id),
	}
	must(t, s.Put(ctx, a), "Put of an actor with MaxIRI-byte IRIs")
	got, err := s.ByKey(ctx, a.Keys[0].ID)
	must(t, err, "ByKey of a MaxIRI-byte key id")
	if got.IRI != id || got.Inbox != a.Inbox || got.SharedInbox != a.SharedInbox {
		t.Fatalf("ByKey returned another actor")
	}
	a.Keys = append(a.Keys, storage.PublicKey{ID: longIRI(t, "over", storage.MaxIRI+1), PEM: "pem"})
	mustErr(t, s.Put(ctx, a), storage.ErrInvalid, "Put of an actor with a MaxIRI+1-byte key id")
}
