package storage_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/storage/memory"
)

// An outbox persists an activity, lists it, and enqueues one delivery per
// inbox; a worker leases the deliveries, POSTs them and acks them.
func Example() {
	ctx := context.Background()
	st := memory.New() // or sqlite.Open(…).Store(), postgres.Open(…).Store()

	alice := "https://example.com/users/alice"
	create := []byte(`{"id":"https://example.com/activities/1","type":"Create","actor":"https://example.com/users/alice","object":"https://example.com/notes/1"}`)
	_ = st.Objects.Put(ctx, storage.Object{IRI: "https://example.com/activities/1", Type: "Create", Owner: alice, Data: create})
	_ = st.Collections.Add(ctx, alice+"/outbox", storage.Member{IRI: "https://example.com/activities/1"})
	_ = st.Queue.Enqueue(ctx,
		storage.Delivery{Activity: "https://example.com/activities/1", Inbox: "https://a.example/inbox", Body: create, OrderingKey: "https://example.com/notes/1"},
		storage.Delivery{Activity: "https://example.com/activities/1", Inbox: "https://b.example/inbox", Body: create, OrderingKey: "https://example.com/notes/1"},
	)

	// A worker.
	batch, _ := st.Queue.Lease(ctx, 16, time.Minute)
	var done []string
	for _, d := range batch {
		fmt.Println("POST", d.Inbox) // sign and POST d.Body here
		done = append(done, d.Receipt)
	}
	_ = st.Queue.Ack(ctx, done...)

	stats, _ := st.Queue.Stats(ctx)
	fmt.Println("left:", stats.Ready+stats.Leased+stats.Scheduled)
	// Output:
	// POST https://a.example/inbox
	// POST https://b.example/inbox
	// left: 0
}

// An inbox records each activity per recipient before acting on it, so
// that a redelivery has no second effect.
func ExampleDedupe() {
	ctx := context.Background()
	st := memory.New()
	for range 2 {
		first, err := st.Dedupe.Record(ctx, "https://remote.example/activities/42", "https://example.com/users/alice")
		if err != nil {
			panic(err)
		}
		fmt.Println("first time:", first)
	}
	// Output:
	// first time: true
	// first time: false
}

// An inbox that recorded an activity but failed to act on it forgets it,
// so that the peer's retry is processed rather than dropped as a
// duplicate.
func ExampleDedupe_forget() {
	ctx := context.Background()
	st := memory.New()
	activity, alice := "https://remote.example/activities/42", "https://example.com/users/alice"
	process := func() error { return errors.New("the database is down") }

	if first, _ := st.Dedupe.Record(ctx, activity, alice); first {
		if err := process(); err != nil {
			_ = st.Dedupe.Forget(ctx, activity, alice) // answer 500; the peer retries
		}
	}
	first, _ := st.Dedupe.Record(ctx, activity, alice) // the retry
	fmt.Println("first time:", first)
	// Output:
	// first time: true
}

// A Follow of a locked account waits as a pending member until the owner
// accepts it.
func ExampleCollections() {
	ctx := context.Background()
	st := memory.New()
	followers := "https://example.com/users/alice/followers"
	bob := "https://remote.example/users/bob"

	_ = st.Collections.Add(ctx, followers, storage.Member{IRI: bob, State: storage.Pending, Activity: "https://remote.example/follows/1"})
	m, _ := st.Collections.Contains(ctx, followers, bob)
	fmt.Println(m.State, m.Activity)

	// Accept: the Accept activity refers to m.Activity.
	_ = st.Collections.Add(ctx, followers, storage.Member{IRI: bob})
	n, _ := st.Collections.Count(ctx, followers, storage.Accepted)
	fmt.Println("followers:", n)

	page, _ := st.Collections.Page(ctx, followers, storage.PageOptions{Limit: 10})
	for _, m := range page.Members {
		fmt.Println(m.IRI)
	}
	// Output:
	// pending https://remote.example/follows/1
	// followers: 1
	// https://remote.example/users/bob
}

// Deleting an object keeps a tombstone, so that a GET can answer 410 Gone,
// and the IRI can never be reused.
func ExampleObjects_tombstone() {
	ctx := context.Background()
	st := memory.New()
	note, alice := "https://example.com/notes/1", "https://example.com/users/alice"
	_ = st.Objects.Put(ctx, storage.Object{IRI: note, Type: "Note", Owner: alice, Data: []byte(`{"type":"Note"}`)})
	_ = st.Objects.Tombstone(ctx, note, []byte(`{"type":"Tombstone","formerType":"Note"}`))

	obj, _ := st.Objects.Get(ctx, note)
	fmt.Println(obj.Type, !obj.Deleted.IsZero())

	err := st.Objects.Put(ctx, storage.Object{IRI: note, Type: "Note", Owner: alice, Data: []byte(`{}`)})
	fmt.Println(errors.Is(err, storage.ErrConflict))
	// Output:
	// Tombstone true
	// true
}

// An inbox applies an activity's side effects in one transaction: a
// failure halfway leaves nothing applied, the dedupe record included, so
// the peer's retry starts clean.
func ExampleInTx() {
	ctx := context.Background()
	st := memory.New() // sqlite and postgres stores have Tx too
	alice := "https://example.com/users/alice"
	follow := "https://remote.example/follows/1"
	bob := "https://remote.example/users/bob"

	err := storage.InTx(ctx, st, func(ctx context.Context, tx storage.Store) error {
		first, err := tx.Dedupe.Record(ctx, follow, alice)
		if err != nil || !first {
			return err // a redelivery: nothing to do
		}
		if err := tx.Collections.Add(ctx, alice+"/followers", storage.Member{IRI: bob, Activity: follow}); err != nil {
			return err
		}
		accept := []byte(`{"type":"Accept","actor":"https://example.com/users/alice","object":"https://remote.example/follows/1"}`)
		return tx.Queue.Enqueue(ctx, storage.Delivery{Activity: follow + "#accept", Inbox: bob + "/inbox", Body: accept})
	})
	fmt.Println("applied:", err == nil)
	n, _ := st.Collections.Count(ctx, alice+"/followers", storage.Accepted)
	fmt.Println("followers:", n)
	// Output:
	// applied: true
	// followers: 1
}
