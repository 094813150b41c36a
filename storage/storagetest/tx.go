package storagetest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/fedi-go/fedi/storage"
)

// TestTx checks a store's transactions, Store.Tx, against the contract of
// storage.Transactor: commit and rollback of every kind of write, alone
// and mixed; operations that fail inside a transaction and leave it
// usable; a transaction's reads of its own writes, which others do not
// see; contexts that end before, during and at random moments of a
// transaction; 60 concurrent transactions, a third of which fail; and a
// function that panics. newStore is called once per subtest and must
// return an empty store with every field set; TestTx skips when its Tx is
// nil.
func TestTx(t *testing.T, newStore func(t *testing.T) storage.Store) {
	t.Helper()
	newTx := func(t *testing.T) storage.Store {
		t.Helper()
		st := newStore(t)
		if st.Tx == nil {
			t.Skip("Store.Tx is nil: the store has no transactions")
		}
		for name, v := range map[string]any{"Objects": st.Objects, "Collections": st.Collections, "Dedupe": st.Dedupe, "Queue": st.Queue, "Actors": st.Actors} {
			if v == nil || reflect.ValueOf(v).IsNil() {
				t.Skipf("Store.%s is nil: TestTx needs every concern", name)
			}
		}
		return st
	}
	t.Run("Rollback", func(t *testing.T) { runTxCases(t, newTx, false) })
	t.Run("Commit", func(t *testing.T) { runTxCases(t, newTx, true) })
	runAll(t, newTx, []subtest[storage.Store]{
		{"Shape", txShape},
		{"RollbackMix", func(t *testing.T, ctx context.Context, st storage.Store) { txMix(t, ctx, st, false) }},
		{"CommitMix", func(t *testing.T, ctx context.Context, st storage.Store) { txMix(t, ctx, st, true) }},
		{"ErrorUnchanged", txErrorUnchanged},
		{"FailedOperations", txFailedOperations},
		{"OperationContextEnds", txOperationContextEnds},
		{"Isolation", txIsolation},
		{"Queue", txQueue},
		{"RecordRolledBack", txRecordRolledBack},
		{"Concurrent", txConcurrent},
		{"Panic", txPanic},
		{"Cancelled", txCancelled},
		{"CancelledInside", txCancelledInside},
		{"CancelledMidCall", txCancelledMidCall},
		{"CancelledMidCallConcurrent", txCancelledMidCallConcurrent},
	})
}

// errRolledBack is what a transaction function returns to roll back.
var errRolledBack = errors.New("storagetest: the function failed on purpose")

// txCase is one kind of write, made in a transaction: prepare sets up its
// store outside any transaction and returns the write, for the
// transaction's function, and a check that the write took effect when
// the transaction committed, and none otherwise. The check runs both
// ways, so that it is known to see the effect it looks for.
type txCase struct {
	name string
	// mix includes the case in the transactions that mix every kind of
	// write: its check neither leases nor needs a store of its own.
	mix     bool
	prepare func(t *testing.T, ctx context.Context, st storage.Store) (op func(ctx context.Context, tx storage.Store) error, check func(committed bool))
}

// runTxCases runs each case in a store of its own, in a transaction that
// commits or fails.
func runTxCases(t *testing.T, newStore func(*testing.T) storage.Store, commit bool) {
	for _, c := range txCases {
		t.Run(c.name, func(t *testing.T) {
			st := newStore(t)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			op, check := c.prepare(t, ctx, st)
			if op == nil { // the store lacks what the case needs
				return
			}
			runTx(t, ctx, st, commit, op)
			check(commit)
		})
	}
}

// runTx makes ops in one transaction that commits or returns
// errRolledBack, and checks that InTx says so.
func runTx(t *testing.T, ctx context.Context, st storage.Store, commit bool, ops ...func(ctx context.Context, tx storage.Store) error) {
	t.Helper()
	err := storage.InTx(ctx, st, func(ctx context.Context, tx storage.Store) error {
		for i, op := range ops {
			if err := op(ctx, tx); err != nil {
				return fmt.Errorf("write %d in the transaction: %w", i, err)
			}
		}
		if !commit {
			return errRolledBack
		}
		return nil
	})
	if commit {
		must(t, err, "InTx")
	} else if err != errRolledBack {
		t.Fatalf("InTx = %v, want the function's own error %v", err, errRolledBack)
	}
}

// present fails unless err is nil when want, and wraps ErrNotFound
// otherwise.
func present(t *testing.T, err error, want bool, what string) {
	t.Helper()
	switch {
	case want && err != nil:
		t.Fatalf("%s after the commit: %v", what, err)
	case !want && !errors.Is(err, storage.ErrNotFound):
		t.Fatalf("%s after the rollback: %v, want ErrNotFound: the write outlived its transaction", what, err)
	}
}

// leasedReceipt enqueues a delivery of activity act and leases it for
// visibility, returning its receipt.
func leasedReceipt(t *testing.T, ctx context.Context, q storage.Queue, act string, visibility time.Duration) string {
	t.Helper()
	must(t, q.Enqueue(ctx, storage.Delivery{Activity: act, Inbox: act + "/inbox", Body: doc("Create", act)}), "Enqueue")
	ds := lease(t, ctx, q, 1, visibility)
	if len(ds) != 1 || ds[0].Activity != act {
		t.Fatalf("Lease = %+v, want the delivery of %s alone", ds, act)
	}
	return ds[0].Receipt
}

// ackIs acks receipt outside any transaction and checks what became of
// it: nil when want is nil, else an error wrapping want.
func ackIs(t *testing.T, ctx context.Context, q storage.Queue, receipt string, want error, what string) {
	t.Helper()
	err := q.Ack(ctx, receipt)
	switch {
	case want == nil && err != nil:
		t.Fatalf("%s: Ack = %v, want the lease still in force", what, err)
	case want != nil:
		receiptFailed(t, err, receipt, what, want)
	}
}

var txCases = []txCase{
	{name: "Objects.Put", mix: true, prepare: func(t *testing.T, ctx context.Context, st storage.Store) (func(context.Context, storage.Store) error, func(bool)) {
		id := iri(t, "notes/new")
		return func(ctx context.Context, tx storage.Store) error {
				return tx.Objects.Put(ctx, storage.Object{IRI: id, Type: "Note", Owner: iri(t, "alice"), Data: doc("Note", id)})
			}, func(committed bool) {
				_, err := st.Objects.Get(ctx, id)
				present(t, err, committed, "Get of the object put")
				_, err = st.Objects.Owner(ctx, id)
				present(t, err, committed, "Owner of the object put")
			}
	}},
	{name: "Objects.PutReplace", mix: true, prepare: func(t *testing.T, ctx context.Context, st storage.Store) (func(context.Context, storage.Store) error, func(bool)) {
		id, alice := iri(t, "notes/edited"), iri(t, "alice")
		v1, v2 := doc("Note", id+"#v1"), doc("Note", id+"#v2")
		must(t, st.Objects.Put(ctx, storage.Object{IRI: id, Type: "Note", Owner: alice, Data: v1}), "Put")
		return func(ctx context.Context, tx storage.Store) error {
				return tx.Objects.Put(ctx, storage.Object{IRI: id, Type: "Article", Owner: alice, Data: v2})
			}, func(committed bool) {
				o, err := st.Objects.Get(ctx, id)
				must(t, err, "Get")
				want := storage.Object{Type: "Note", Data: v1}
				if committed {
					want = storage.Object{Type: "Article", Data: v2}
				}
				if o.Type != want.Type || string(o.Data) != string(want.Data) {
					t.Fatalf("after the transaction (committed %v) the object is a %s %s, want a %s %s", committed, o.Type, o.Data, want.Type, want.Data)
				}
			}
	}},
	{name: "Objects.Tombstone", mix: true, prepare: func(t *testing.T, ctx context.Context, st storage.Store) (func(context.Context, storage.Store) error, func(bool)) {
		id := iri(t, "notes/deleted")
		must(t, st.Objects.Put(ctx, storage.Object{IRI: id, Type: "Note", Data: doc("Note", id)}), "Put")
		return func(ctx context.Context, tx storage.Store) error {
				return tx.Objects.Tombstone(ctx, id, doc("Tombstone", id))
			}, func(committed bool) {
				o, err := st.Objects.Get(ctx, id)
				must(t, err, "Get")
				if gone := !o.Deleted.IsZero() || o.Type == "Tombstone"; gone != committed {
					t.Fatalf("after the transaction (committed %v) the object is a %s deleted at %v", committed, o.Type, o.Deleted)
				}
			}
	}},
	{name: "Collections.Add", mix: true, prepare: func(t *testing.T, ctx context.Context, st storage.Store) (func(context.Context, storage.Store) error, func(bool)) {
		coll, bob := iri(t, "added/followers"), iri(t, "bob")
		return func(ctx context.Context, tx storage.Store) error {
				return tx.Collections.Add(ctx, coll, storage.Member{IRI: bob, Activity: iri(t, "follows/1")})
			}, func(committed bool) {
				_, err := st.Collections.Contains(ctx, coll, bob)
				present(t, err, committed, "Contains of the member added")
				if committed {
					pageIs(t, ctx, st.Collections, coll, storage.Accepted, bob)
				} else {
					pageIs(t, ctx, st.Collections, coll, storage.Accepted)
				}
			}
	}},
	{name: "Collections.AddAccept", mix: true, prepare: func(t *testing.T, ctx context.Context, st storage.Store) (func(context.Context, storage.Store) error, func(bool)) {
		coll, bob, carol := iri(t, "accepted/followers"), iri(t, "bob"), iri(t, "carol")
		must(t, st.Collections.Add(ctx, coll, storage.Member{IRI: bob, State: storage.Pending, Activity: iri(t, "follows/1")}), "Add pending")
		must(t, st.Collections.Add(ctx, coll, storage.Member{IRI: carol}), "Add")
		return func(ctx context.Context, tx storage.Store) error {
				return tx.Collections.Add(ctx, coll, storage.Member{IRI: bob})
			}, func(committed bool) {
				if committed {
					pageIs(t, ctx, st.Collections, coll, storage.Accepted, bob, carol)
					pageIs(t, ctx, st.Collections, coll, storage.Pending)
					return
				}
				pageIs(t, ctx, st.Collections, coll, storage.Accepted, carol)
				pageIs(t, ctx, st.Collections, coll, storage.Pending, bob)
				countIs(t, ctx, st.Collections, coll, storage.Pending, 1)
				m, err := st.Collections.Contains(ctx, coll, bob)
				must(t, err, "Contains")
				if m.State != storage.Pending || m.Activity != iri(t, "follows/1") {
					t.Fatalf("after the rollback Contains = %+v, want the pending Follow as it was", m)
				}
			}
	}},
	{name: "Collections.Remove", mix: true, prepare: func(t *testing.T, ctx context.Context, st storage.Store) (func(context.Context, storage.Store) error, func(bool)) {
		coll, bob, carol := iri(t, "removed/members"), iri(t, "bob"), iri(t, "carol")
		must(t, st.Collections.Add(ctx, coll, storage.Member{IRI: bob}), "Add")
		must(t, st.Collections.Add(ctx, coll, storage.Member{IRI: carol}), "Add")
		return func(ctx context.Context, tx storage.Store) error {
				return tx.Collections.Remove(ctx, coll, bob)
			}, func(committed bool) {
				_, err := st.Collections.Contains(ctx, coll, bob)
				present(t, err, !committed, "Contains of the member removed")
				if committed {
					countIs(t, ctx, st.Collections, coll, storage.Accepted, 1)
					pageIs(t, ctx, st.Collections, coll, storage.Accepted, carol)
				} else {
					countIs(t, ctx, st.Collections, coll, storage.Accepted, 2)
					pageIs(t, ctx, st.Collections, coll, storage.Accepted, carol, bob)
				}
			}
	}},
	{name: "Dedupe.Record", mix: true, prepare: func(t *testing.T, ctx context.Context, st storage.Store) (func(context.Context, storage.Store) error, func(bool)) {
		act, alice := iri(t, "activities/1"), iri(t, "alice")
		return func(ctx context.Context, tx storage.Store) error {
				first, err := tx.Dedupe.Record(ctx, act, alice)
				if err == nil && !first {
					err = errors.New("the first Record of a pair was not first")
				}
				return err
			}, func(committed bool) {
				recordIs(t, ctx, st.Dedupe, act, alice, !committed)
			}
	}},
	{name: "Dedupe.Forget", mix: true, prepare: func(t *testing.T, ctx context.Context, st storage.Store) (func(context.Context, storage.Store) error, func(bool)) {
		act, alice := iri(t, "activities/2"), iri(t, "alice")
		recordIs(t, ctx, st.Dedupe, act, alice, true)
		return func(ctx context.Context, tx storage.Store) error {
				return tx.Dedupe.Forget(ctx, act, alice)
			}, func(committed bool) {
				recordIs(t, ctx, st.Dedupe, act, alice, committed)
			}
	}},
	{name: "Dedupe.Prune", prepare: func(t *testing.T, ctx context.Context, st storage.Store) (func(context.Context, storage.Store) error, func(bool)) {
		act, alice := iri(t, "activities/3"), iri(t, "alice")
		recordIs(t, ctx, st.Dedupe, act, alice, true)
		return func(ctx context.Context, tx storage.Store) error {
				n, err := tx.Dedupe.Prune(ctx, time.Now().Add(time.Hour))
				if err == nil && n != 1 {
					err = fmt.Errorf("Prune forgot %d pairs, want 1", n)
				}
				return err
			}, func(committed bool) {
				recordIs(t, ctx, st.Dedupe, act, alice, committed)
			}
	}},
	{name: "Queue.Ack", mix: true, prepare: func(t *testing.T, ctx context.Context, st storage.Store) (func(context.Context, storage.Store) error, func(bool)) {
		r := leasedReceipt(t, ctx, st.Queue, iri(t, "activities/acked"), time.Hour)
		return func(ctx context.Context, tx storage.Store) error {
				return tx.Queue.Ack(ctx, r)
			}, func(committed bool) {
				var want error
				if committed {
					want = storage.ErrNotFound
				}
				ackIs(t, ctx, st.Queue, r, want, "the delivery acked in the transaction")
			}
	}},
	{name: "Queue.Retry", mix: true, prepare: func(t *testing.T, ctx context.Context, st storage.Store) (func(context.Context, storage.Store) error, func(bool)) {
		r := leasedReceipt(t, ctx, st.Queue, iri(t, "activities/retried"), time.Hour)
		return func(ctx context.Context, tx storage.Store) error {
				return tx.Queue.Retry(ctx, r, time.Now().Add(time.Hour), "503")
			}, func(committed bool) {
				var want error
				if committed {
					want = storage.ErrConflict // the lease ended
				}
				ackIs(t, ctx, st.Queue, r, want, "the delivery retried in the transaction")
			}
	}},
	{name: "Queue.GiveUp", mix: true, prepare: func(t *testing.T, ctx context.Context, st storage.Store) (func(context.Context, storage.Store) error, func(bool)) {
		r := leasedReceipt(t, ctx, st.Queue, iri(t, "activities/dead"), time.Hour)
		return func(ctx context.Context, tx storage.Store) error {
				return tx.Queue.GiveUp(ctx, r, "410")
			}, func(committed bool) {
				var want error
				if committed {
					want = storage.ErrNotFound
				}
				ackIs(t, ctx, st.Queue, r, want, "the delivery given up on in the transaction")
			}
	}},
	// Enqueue's check leases whatever is due, so it comes after the
	// other checks of the queue.
	{name: "Queue.Enqueue", mix: true, prepare: func(t *testing.T, ctx context.Context, st storage.Store) (func(context.Context, storage.Store) error, func(bool)) {
		inbox := iri(t, "enqueued/inbox")
		ds := []storage.Delivery{delivery(t, inbox, 1, ""), delivery(t, inbox, 2, iri(t, "note"))}
		return func(ctx context.Context, tx storage.Store) error {
				return tx.Queue.Enqueue(ctx, ds...)
			}, func(committed bool) {
				var got []string
				for _, d := range lease(t, ctx, st.Queue, 100, time.Minute) {
					if d.Inbox == inbox {
						got = append(got, d.Activity)
					}
				}
				want := []string{}
				if committed {
					want = []string{ds[0].Activity, ds[1].Activity}
				}
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Fatalf("after the transaction (committed %v) Lease found %q, want %q", committed, got, want)
				}
				if !committed {
					// Nothing of the chain remains to hold back a later delivery.
					later := delivery(t, inbox, 3, iri(t, "note"))
					must(t, st.Queue.Enqueue(ctx, later), "Enqueue")
					if ds := lease(t, ctx, st.Queue, 100, time.Minute); len(ds) != 1 || ds[0].Activity != later.Activity {
						t.Fatalf("Lease after the rollback of an enqueue = %+v, want %s alone", ds, later.Activity)
					}
				}
			}
	}},
	{name: "Queue.AckChain", prepare: func(t *testing.T, ctx context.Context, st storage.Store) (func(context.Context, storage.Store) error, func(bool)) {
		inbox, key := iri(t, "inbox"), iri(t, "note")
		d1, d2, d3 := delivery(t, inbox, 1, key), delivery(t, inbox, 2, key), delivery(t, inbox, 3, key)
		must(t, st.Queue.Enqueue(ctx, d1, d2, d3), "Enqueue")
		r := leaseIs(t, ctx, st.Queue, 10, time.Hour, d1.Activity)[0].Receipt
		return func(ctx context.Context, tx storage.Store) error {
				// The next of the chain, let go by the ack, is leased and given
				// up on, which lets the last go.
				if err := tx.Queue.Ack(ctx, r); err != nil {
					return err
				}
				ds, err := tx.Queue.Lease(ctx, 10, time.Hour)
				if err != nil {
					return err
				}
				if len(ds) != 1 || ds[0].Activity != d2.Activity {
					return fmt.Errorf("Lease after the ack of the head of a chain = %+v, want %s", ds, d2.Activity)
				}
				return tx.Queue.GiveUp(ctx, ds[0].Receipt, "410")
			}, func(committed bool) {
				if committed {
					leaseIs(t, ctx, st.Queue, 10, time.Minute, d3.Activity)
					statsAre(t, ctx, st.Queue, storage.QueueStats{Leased: 1, Dead: 1})
					return
				}
				statsAre(t, ctx, st.Queue, storage.QueueStats{Ready: 2, Leased: 1})
				leaseIs(t, ctx, st.Queue, 10, time.Minute) // the chain waits for d1
				ackIs(t, ctx, st.Queue, r, nil, "the head of the chain, acked in a transaction that failed")
				leaseIs(t, ctx, st.Queue, 10, time.Minute, d2.Activity)
			}
	}},
	{name: "Queue.Lease", prepare: func(t *testing.T, ctx context.Context, st storage.Store) (func(context.Context, storage.Store) error, func(bool)) {
		act := iri(t, "activities/leased")
		must(t, st.Queue.Enqueue(ctx, storage.Delivery{Activity: act, Inbox: iri(t, "inbox"), Body: doc("Create", act)}), "Enqueue")
		var receipt string
		return func(ctx context.Context, tx storage.Store) error {
				ds, err := tx.Queue.Lease(ctx, 10, time.Hour)
				if err == nil && (len(ds) != 1 || ds[0].Activity != act || ds[0].Leases != 1) {
					err = fmt.Errorf("Lease in the transaction = %+v, want %s, leased once", ds, act)
				}
				if err == nil {
					receipt = ds[0].Receipt
				}
				return err
			}, func(committed bool) {
				ds := lease(t, ctx, st.Queue, 10, time.Hour)
				if committed {
					if len(ds) != 0 {
						t.Fatalf("Lease after a committed lease = %+v, want nothing", ds)
					}
					must(t, st.Queue.Ack(ctx, receipt), "Ack of the receipt of a committed lease")
					return
				}
				if len(ds) != 1 || ds[0].Leases != 1 {
					t.Fatalf("Lease after a lease that was rolled back = %+v, want %s, leased once", ds, act)
				}
			}
	}},
	{name: "Queue.LeaseOvertakes", prepare: func(t *testing.T, ctx context.Context, st storage.Store) (func(context.Context, storage.Store) error, func(bool)) {
		dl, ok := st.Queue.(storage.DeadLetters)
		if !ok {
			t.Skip("the Queue is not a storage.DeadLetters")
		}
		inbox, key := iri(t, "inbox"), iri(t, "note")
		d1, d2 := delivery(t, inbox, 1, key), delivery(t, inbox, 2, key)
		must(t, st.Queue.Enqueue(ctx, d1, d2), "Enqueue")
		leased := leaseIs(t, ctx, st.Queue, 10, time.Hour, d1.Activity)[0]
		must(t, st.Queue.GiveUp(ctx, leased.Receipt, "500"), "GiveUp")
		return func(ctx context.Context, tx storage.Store) error {
				// Leasing the next of the chain overtakes the dead letter.
				ds, err := tx.Queue.Lease(ctx, 10, time.Hour)
				if err == nil && (len(ds) != 1 || ds[0].Activity != d2.Activity) {
					err = fmt.Errorf("Lease = %+v, want %s", ds, d2.Activity)
				}
				return err
			}, func(committed bool) {
				err := dl.Requeue(ctx, leased.ID, time.Now())
				if committed {
					mustErr(t, err, storage.ErrConflict, "Requeue of a dead letter overtaken by a committed lease")
					return
				}
				must(t, err, "Requeue of a dead letter whose overtaking lease was rolled back")
				leaseIs(t, ctx, st.Queue, 10, time.Minute, d1.Activity)
			}
	}},
	{name: "Queue.Extend", prepare: func(t *testing.T, ctx context.Context, st storage.Store) (func(context.Context, storage.Store) error, func(bool)) {
		if _, ok := st.Queue.(storage.LeaseExtender); !ok {
			t.Skip("the Queue is not a storage.LeaseExtender")
		}
		r := leasedReceipt(t, ctx, st.Queue, iri(t, "activities/extended"), time.Millisecond)
		time.Sleep(50 * time.Millisecond) // the lease expires; nobody takes it
		return func(ctx context.Context, tx storage.Store) error {
				le, ok := tx.Queue.(storage.LeaseExtender)
				if !ok {
					return errors.New("the transaction's Queue is not a storage.LeaseExtender, though the store's is")
				}
				return le.Extend(ctx, r, time.Hour)
			}, func(committed bool) {
				ds := lease(t, ctx, st.Queue, 10, time.Minute)
				if committed != (len(ds) == 0) {
					t.Fatalf("after the transaction (committed %v) Lease = %d deliveries: the extension of the expired lease is wrong", committed, len(ds))
				}
			}
	}},
	{name: "Actors.Put", mix: true, prepare: func(t *testing.T, ctx context.Context, st storage.Store) (func(context.Context, storage.Store) error, func(bool)) {
		a := remoteActor(t, "new", "k1")
		return func(ctx context.Context, tx storage.Store) error {
				return tx.Actors.Put(ctx, a)
			}, func(committed bool) {
				_, err := st.Actors.Get(ctx, a.IRI)
				present(t, err, committed, "Get of the actor put")
				_, err = st.Actors.ByKey(ctx, a.Keys[0].ID)
				present(t, err, committed, "ByKey of the actor put")
			}
	}},
	{name: "Actors.PutRotate", mix: true, prepare: func(t *testing.T, ctx context.Context, st storage.Store) (func(context.Context, storage.Store) error, func(bool)) {
		old, rotated := remoteActor(t, "rotating", "k1"), remoteActor(t, "rotating", "k2")
		must(t, st.Actors.Put(ctx, old), "Put")
		return func(ctx context.Context, tx storage.Store) error {
				return tx.Actors.Put(ctx, rotated)
			}, func(committed bool) {
				_, err := st.Actors.ByKey(ctx, old.Keys[0].ID)
				present(t, err, !committed, "ByKey of the old key")
				_, err = st.Actors.ByKey(ctx, rotated.Keys[0].ID)
				present(t, err, committed, "ByKey of the new key")
				got, err := st.Actors.Get(ctx, old.IRI)
				must(t, err, "Get")
				if committed {
					actorIs(t, got, rotated)
				} else {
					actorIs(t, got, old)
				}
			}
	}},
	{name: "Actors.MarkGone", mix: true, prepare: func(t *testing.T, ctx context.Context, st storage.Store) (func(context.Context, storage.Store) error, func(bool)) {
		a, ghost := remoteActor(t, "leaving", "k1"), iri(t, "users/ghost")
		must(t, st.Actors.Put(ctx, a), "Put")
		at := time.Now()
		return func(ctx context.Context, tx storage.Store) error {
				if err := tx.Actors.MarkGone(ctx, a.IRI, at); err != nil {
					return err
				}
				return tx.Actors.MarkGone(ctx, ghost, at)
			}, func(committed bool) {
				got, err := st.Actors.Get(ctx, a.IRI)
				must(t, err, "Get")
				if got.Gone.IsZero() == committed {
					t.Fatalf("after the transaction (committed %v) Gone = %v", committed, got.Gone)
				}
				_, err = st.Actors.Get(ctx, ghost)
				present(t, err, committed, "Get of an actor only marked gone")
			}
	}},
	{name: "Actors.Delete", mix: true, prepare: func(t *testing.T, ctx context.Context, st storage.Store) (func(context.Context, storage.Store) error, func(bool)) {
		a := remoteActor(t, "evicted", "k1")
		must(t, st.Actors.Put(ctx, a), "Put")
		return func(ctx context.Context, tx storage.Store) error {
				return tx.Actors.Delete(ctx, a.IRI)
			}, func(committed bool) {
				_, err := st.Actors.ByKey(ctx, a.Keys[0].ID)
				present(t, err, !committed, "ByKey of the actor deleted")
			}
	}},
}

// txMix makes every kind of write that allows it in one transaction.
func txMix(t *testing.T, ctx context.Context, st storage.Store, commit bool) {
	var (
		ops    []func(context.Context, storage.Store) error
		checks []func(bool)
	)
	for _, c := range txCases {
		if !c.mix {
			continue
		}
		op, check := c.prepare(t, ctx, st)
		ops, checks = append(ops, op), append(checks, check)
	}
	runTx(t, ctx, st, commit, ops...)
	for _, check := range checks {
		check(commit)
	}
}

// txShape checks what a transaction's Store holds.
func txShape(t *testing.T, ctx context.Context, st storage.Store) {
	_, outerLE := st.Queue.(storage.LeaseExtender)
	_, outerMS := st.Collections.(storage.Memberships)
	must(t, st.Tx.InTx(ctx, func(ctx context.Context, tx storage.Store) error {
		if tx.Tx != nil {
			t.Error("a transaction's Store has a Tx: transactions do not nest")
		}
		if tx.Objects == nil || tx.Collections == nil || tx.Dedupe == nil || tx.Queue == nil || tx.Actors == nil {
			t.Errorf("a transaction's Store lacks a concern the store has: %+v", tx)
		}
		if st.Keys != nil {
			if tx.Keys == nil {
				t.Error("a transaction's Store has no Keys, though the store has")
			} else if reflect.TypeOf(st.Keys).Comparable() && tx.Keys != st.Keys {
				t.Errorf("a transaction's Keys is %v, want the store's own %v", tx.Keys, st.Keys)
			}
		}
		if _, ok := tx.Queue.(storage.LeaseExtender); ok != outerLE {
			t.Errorf("the transaction's Queue is a LeaseExtender: %v; the store's: %v", ok, outerLE)
		}
		if _, ok := tx.Collections.(storage.Memberships); ok != outerMS {
			t.Errorf("the transaction's Collections is a Memberships: %v; the store's: %v", ok, outerMS)
		}
		return nil
	}), "InTx")
}

// txError is an error type of the caller's, for errors.As.
type txError struct{ code int }

func (e *txError) Error() string { return fmt.Sprintf("failed with %d", e.code) }

// txErrorUnchanged checks that InTx returns the function's error itself.
func txErrorUnchanged(t *testing.T, ctx context.Context, st storage.Store) {
	mine := &txError{code: 422}
	wrapped := fmt.Errorf("handler: %w", mine)
	err := st.Tx.InTx(ctx, func(ctx context.Context, tx storage.Store) error { return wrapped })
	var got *txError
	if err != wrapped || !errors.As(err, &got) || got != mine {
		t.Fatalf("InTx = %v (%T), want the function's error %v itself", err, err, wrapped)
	}
	// An error of the store's own, returned by the function, too.
	id := iri(t, "notes/owned")
	must(t, st.Objects.Put(ctx, storage.Object{IRI: id, Type: "Note", Owner: iri(t, "bob"), Data: doc("Note", id)}), "Put")
	var conflict error
	err = st.Tx.InTx(ctx, func(ctx context.Context, tx storage.Store) error {
		conflict = tx.Objects.Put(ctx, storage.Object{IRI: id, Type: "Note", Owner: iri(t, "mallory"), Data: doc("Note", id)})
		return conflict
	})
	if err != conflict || !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("InTx = %v, want the ErrConflict the function returned, %v", err, conflict)
	}
}

// txFailedOperations makes writes that fail in a transaction, each
// followed by one that succeeds: the failures change nothing, and the
// transaction commits the rest.
func txFailedOperations(t *testing.T, ctx context.Context, st storage.Store) {
	owned, bob, alice := iri(t, "notes/owned"), iri(t, "bob"), iri(t, "alice")
	must(t, st.Objects.Put(ctx, storage.Object{IRI: owned, Type: "Note", Owner: bob, Data: doc("Note", owned)}), "Put")
	keyHolder := remoteActor(t, "holder", "k1")
	must(t, st.Actors.Put(ctx, keyHolder), "Put actor")
	thief := remoteActor(t, "thief", "k2")
	thief.Keys = append(thief.Keys, keyHolder.Keys[0])
	gone := leasedReceipt(t, ctx, st.Queue, iri(t, "activities/acked"), time.Hour)
	must(t, st.Queue.Ack(ctx, gone), "Ack")
	coll, act, inbox := iri(t, "followers"), iri(t, "activities/1"), iri(t, "inbox")
	ids := []string{iri(t, "notes/1"), iri(t, "notes/2")}
	put := func(ctx context.Context, tx storage.Store, i int) error {
		return tx.Objects.Put(ctx, storage.Object{IRI: ids[i], Type: "Note", Owner: alice, Data: doc("Note", ids[i])})
	}

	must(t, st.Tx.InTx(ctx, func(ctx context.Context, tx storage.Store) error {
		for _, f := range []struct {
			what string
			want error
			call func() error
		}{
			{"Put of another owner's object", storage.ErrConflict, func() error {
				return tx.Objects.Put(ctx, storage.Object{IRI: owned, Type: "Note", Owner: alice, Data: doc("Note", "mine")})
			}},
			{"Remove of a member that is not there", storage.ErrNotFound, func() error { return tx.Collections.Remove(ctx, coll, iri(t, "nobody")) }},
			{"Put of a document that is not JSON", storage.ErrInvalid, func() error {
				return tx.Objects.Put(ctx, storage.Object{IRI: iri(t, "broken"), Type: "Note", Data: []byte(`{"a":`)})
			}},
			{"Ack of a delivery acked before", storage.ErrNotFound, func() error { return tx.Queue.Ack(ctx, gone) }},
			{"Put of an actor claiming another's key", storage.ErrConflict, func() error { return tx.Actors.Put(ctx, thief) }},
			{"Tombstone of nothing", storage.ErrNotFound, func() error { return tx.Objects.Tombstone(ctx, iri(t, "nothing"), doc("Tombstone", "x")) }},
			{"Forget of a pair never recorded", storage.ErrNotFound, func() error { return tx.Dedupe.Forget(ctx, iri(t, "never"), alice) }},
			{"Delete of an actor not cached", storage.ErrNotFound, func() error { return tx.Actors.Delete(ctx, iri(t, "users/nobody")) }},
		} {
			mustErr(t, f.call(), f.want, f.what+" in a transaction")
			if err := put(ctx, tx, 0); err != nil {
				return fmt.Errorf("Put after the %s: %w", f.what, err)
			}
		}
		if err := put(ctx, tx, 1); err != nil {
			return fmt.Errorf("Put after failed writes: %w", err)
		}
		if err := tx.Collections.Add(ctx, coll, storage.Member{IRI: bob}); err != nil {
			return err
		}
		if first, err := tx.Dedupe.Record(ctx, act, alice); err != nil || !first {
			return fmt.Errorf("Record = %v, %v", first, err)
		}
		return tx.Queue.Enqueue(ctx, storage.Delivery{Activity: act, Inbox: inbox, Body: doc("Create", act)})
	}), "InTx with failed writes")

	o, err := st.Objects.Get(ctx, owned)
	must(t, err, "Get")
	if o.Owner != bob || string(o.Data) != string(doc("Note", owned)) {
		t.Fatalf("the object another owner failed to put is now %+v", o)
	}
	for _, id := range ids[:2] {
		_, err := st.Objects.Get(ctx, id)
		must(t, err, "Get of an object put after failed writes")
	}
	_, err = st.Objects.Get(ctx, iri(t, "broken"))
	mustErr(t, err, storage.ErrNotFound, "Get of the object that was not JSON")
	_, err = st.Actors.Get(ctx, thief.IRI)
	mustErr(t, err, storage.ErrNotFound, "Get of the actor that claimed another's key")
	got, err := st.Actors.ByKey(ctx, keyHolder.Keys[0].ID)
	must(t, err, "ByKey")
	actorIs(t, got, keyHolder)
	_, err = st.Collections.Contains(ctx, coll, bob)
	must(t, err, "Contains")
	recordIs(t, ctx, st.Dedupe, act, alice, false)
	leaseIs(t, ctx, st.Queue, 10, time.Minute, act)
}

// txOperationContextEnds has an operation of a transaction wait for a
// row another transaction holds, with a context of its own that ends
// while it waits. The operation fails and leaves the transaction usable.
// A store that runs one transaction at a time never makes it wait.
func txOperationContextEnds(t *testing.T, ctx context.Context, st storage.Store) {
	held, before, after := iri(t, "notes/held"), iri(t, "notes/before"), iri(t, "notes/after")
	alice, bob := iri(t, "alice"), iri(t, "bob")
	var (
		locked  = make(chan struct{})
		release = make(chan struct{})
		other   = make(chan error, 1)
		waited  bool
		heldPut bool
	)
	outer := ctx
	err := st.Tx.InTx(ctx, func(ctx context.Context, tx storage.Store) error {
		if err := tx.Objects.Put(ctx, storage.Object{IRI: before, Type: "Note", Owner: alice, Data: doc("Note", before)}); err != nil {
			return err
		}
		go func() {
			other <- st.Tx.InTx(outer, func(ctx context.Context, tx storage.Store) error {
				tx.Objects.Put(ctx, storage.Object{IRI: held, Type: "Note", Owner: bob, Data: doc("Note", held)})
				close(locked)
				<-release
				return errRolledBack
			})
		}()
		select {
		case <-locked:
			waited = true
		case <-time.After(500 * time.Millisecond):
		}
		short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		err := tx.Objects.Put(short, storage.Object{IRI: held, Type: "Note", Owner: alice, Data: doc("Note", held)})
		cancel()
		switch {
		case err == nil:
			heldPut = true
		case !errors.Is(err, context.DeadlineExceeded):
			return fmt.Errorf("Put of an object another transaction holds, with a context that ends: %w", err)
		}
		return tx.Objects.Put(ctx, storage.Object{IRI: after, Type: "Note", Owner: alice, Data: doc("Note", after)})
	})
	close(release)
	if oerr := <-other; oerr != errRolledBack {
		t.Errorf("the other transaction: %v", oerr)
	}
	must(t, err, "InTx whose operation's context ended")
	t.Logf("the other transaction held the row while this one waited: %v; the Put went through: %v", waited, heldPut)
	for _, id := range []string{before, after} {
		_, err := st.Objects.Get(ctx, id)
		must(t, err, "Get of an object of the transaction")
	}
	o, err := st.Objects.Get(ctx, held)
	if heldPut {
		must(t, err, "Get of the object put")
		if o.Owner != alice {
			t.Fatalf("the object is %s's, want alice's", o.Owner)
		}
	} else {
		mustErr(t, err, storage.ErrNotFound, "Get of the object whose Put failed, and the other transaction rolled back")
	}
}

// txIsolation checks that a transaction reads its own writes, and that
// others read none of them until it commits. A store may make the others
// wait instead; then the check of what they see is moot.
func txIsolation(t *testing.T, ctx context.Context, st storage.Store) {
	id, coll, bob, act, alice := iri(t, "notes/1"), iri(t, "followers"), iri(t, "bob"), iri(t, "activities/1"), iri(t, "alice")
	a := remoteActor(t, "carol", "k1")
	d := delivery(t, iri(t, "inbox"), 1, "")
	outer := ctx

	// look reads through s what the transaction writes, and says what it
	// found.
	look := func(ctx context.Context, s storage.Store) string {
		var found []string
		if o, err := s.Objects.Get(ctx, id); err == nil && o.Owner == alice {
			found = append(found, "object")
		}
		if owner, err := s.Objects.Owner(ctx, id); err == nil && owner == alice {
			found = append(found, "owner")
		}
		if _, err := s.Collections.Contains(ctx, coll, bob); err == nil {
			found = append(found, "member")
		}
		if n, err := s.Collections.Count(ctx, coll, storage.Accepted); err == nil && n == 1 {
			found = append(found, "count")
		}
		if p, err := s.Collections.Page(ctx, coll, storage.PageOptions{}); err == nil && len(p.Members) == 1 {
			found = append(found, "page")
		}
		if ms, ok := s.Collections.(storage.Memberships); ok {
			if p, err := ms.CollectionsOf(ctx, bob, storage.PageOptions{}); err == nil && len(p.Members) == 1 {
				found = append(found, "membership")
			}
		}
		if _, err := s.Actors.Get(ctx, a.IRI); err == nil {
			found = append(found, "actor")
		}
		if _, err := s.Actors.ByKey(ctx, a.Keys[0].ID); err == nil {
			found = append(found, "key")
		}
		if qs, err := s.Queue.Stats(ctx); err == nil && qs.Ready == 1 {
			found = append(found, "delivery")
		}
		return fmt.Sprint(found)
	}
	full := []string{"object", "owner", "member", "count", "page"}
	if _, ok := st.Collections.(storage.Memberships); ok {
		full = append(full, "membership")
	}
	all := fmt.Sprint(append(full, "actor", "key", "delivery"))

	var outside struct {
		saw     string
		blocked bool
	}
	seen := make(chan string, 1)
	err := st.Tx.InTx(ctx, func(ctx context.Context, tx storage.Store) error {
		if err := tx.Objects.Put(ctx, storage.Object{IRI: id, Type: "Note", Owner: alice, Data: doc("Note", id)}); err != nil {
			return err
		}
		if err := tx.Collections.Add(ctx, coll, storage.Member{IRI: bob}); err != nil {
			return err
		}
		if err := tx.Actors.Put(ctx, a); err != nil {
			return err
		}
		if err := tx.Queue.Enqueue(ctx, d); err != nil {
			return err
		}
		if first, err := tx.Dedupe.Record(ctx, act, alice); err != nil || !first {
			return fmt.Errorf("Record = %v, %v", first, err)
		}
		if got := look(ctx, tx); got != all {
			return fmt.Errorf("the transaction reads %s of its own writes, want %s", got, all)
		}
		if first, err := tx.Dedupe.Record(ctx, act, alice); err != nil || first {
			return fmt.Errorf("Record again in the transaction = %v, %v; want false", first, err)
		}
		go func() { seen <- look(outer, st) }()
		select {
		case outside.saw = <-seen:
		case <-time.After(time.Second):
			outside.blocked = true
		}
		return nil
	})
	must(t, err, "InTx")
	if outside.blocked {
		t.Logf("the store makes readers wait for a transaction: they saw %s once it committed", <-seen)
	} else if outside.saw != "[]" {
		t.Fatalf("before the commit, another reader saw %s of the transaction's writes", outside.saw)
	}
	if got := look(ctx, st); got != all {
		t.Fatalf("after the commit, readers see %s of the transaction's writes, want %s", got, all)
	}
	recordIs(t, ctx, st.Dedupe, act, alice, false)
}

// txQueue leases, acks and retries in one transaction the deliveries it
// enqueued.
func txQueue(t *testing.T, ctx context.Context, st storage.Store) {
	inbox := iri(t, "inbox")
	d1, d2, d3 := delivery(t, inbox, 1, iri(t, "note")), delivery(t, inbox, 2, iri(t, "note")), delivery(t, inbox, 3, "")
	must(t, st.Tx.InTx(ctx, func(ctx context.Context, tx storage.Store) error {
		if err := tx.Queue.Enqueue(ctx, d1, d2, d3); err != nil {
			return err
		}
		ds, err := tx.Queue.Lease(ctx, 10, time.Hour)
		if err != nil {
			return err
		}
		if len(ds) != 2 || ds[0].Activity != d1.Activity || ds[1].Activity != d3.Activity {
			return fmt.Errorf("Lease in the transaction = %+v, want %s and %s: the second of a chain waits for the first", ds, d1.Activity, d3.Activity)
		}
		if err := tx.Queue.Ack(ctx, ds[0].Receipt); err != nil {
			return err
		}
		if err := tx.Queue.Retry(ctx, ds[1].Receipt, time.Now().Add(time.Hour), "503"); err != nil {
			return err
		}
		qs, err := tx.Queue.Stats(ctx)
		if err != nil {
			return err
		}
		if qs.Ready != 1 || qs.Scheduled != 1 || qs.Leased != 0 || qs.Dead != 0 {
			return fmt.Errorf("Stats in the transaction = %+v, want one ready (%s), one scheduled", qs, d2.Activity)
		}
		return nil
	}), "InTx")
	statsAre(t, ctx, st.Queue, storage.QueueStats{Ready: 1, Scheduled: 1})
	leaseIs(t, ctx, st.Queue, 10, time.Minute, d2.Activity)
}

// txRecordRolledBack is an inbox that recorded an activity and failed to
// process it: the peer's retry is first again.
func txRecordRolledBack(t *testing.T, ctx context.Context, st storage.Store) {
	act, alice := iri(t, "activities/1"), iri(t, "alice")
	for range 2 {
		err := st.Tx.InTx(ctx, func(ctx context.Context, tx storage.Store) error {
			first, err := tx.Dedupe.Record(ctx, act, alice)
			if err != nil || !first {
				return fmt.Errorf("Record = %v, %v, want it first: an earlier transaction that failed kept it", first, err)
			}
			return errRolledBack
		})
		if err != errRolledBack {
			t.Fatal(err)
		}
	}
	recordIs(t, ctx, st.Dedupe, act, alice, true)
	recordIs(t, ctx, st.Dedupe, act, alice, false)
}

// txConcurrent runs 60 transactions at once, each recording one of 10
// activities, putting an object, adding a member and enqueueing a
// delivery; a third of them fail at the end. Exactly the effects of the
// others remain, and of those that record one activity, exactly one saw
// it first.
func txConcurrent(t *testing.T, ctx context.Context, st storage.Store) {
	const n, keys = 60, 10
	alice, coll, inbox := iri(t, "alice"), iri(t, "followers"), iri(t, "inbox")
	var (
		wg        sync.WaitGroup
		start     = make(chan struct{})
		errs      = make([]error, n)
		first     = make([]bool, n)
		activity  = func(k int) string { return iri(t, fmt.Sprintf("activities/%d", k)) }
		object    = func(i int) string { return iri(t, fmt.Sprintf("notes/%d", i)) }
		member    = func(i int) string { return iri(t, fmt.Sprintf("users/%d", i)) }
		delivered = func(i int) string { return iri(t, fmt.Sprintf("creates/%d", i)) }
	)
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = st.Tx.InTx(ctx, func(ctx context.Context, tx storage.Store) error {
				var err error
				if first[i], err = tx.Dedupe.Record(ctx, activity(i%keys), alice); err != nil {
					return err
				}
				if err := tx.Objects.Put(ctx, storage.Object{IRI: object(i), Type: "Note", Owner: alice, Data: doc("Note", object(i))}); err != nil {
					return err
				}
				if err := tx.Collections.Add(ctx, coll, storage.Member{IRI: member(i)}); err != nil {
					return err
				}
				if err := tx.Queue.Enqueue(ctx, storage.Delivery{Activity: delivered(i), Inbox: inbox, Body: doc("Create", delivered(i))}); err != nil {
					return err
				}
				if i%3 == 0 {
					return errRolledBack
				}
				return nil
			})
		})
	}
	close(start)
	wg.Wait()

	committed, firsts := 0, make([]int, keys)
	var want []string
	for i, err := range errs {
		switch {
		case i%3 == 0 && err != errRolledBack:
			t.Fatalf("transaction %d, which failed: InTx = %v", i, err)
		case i%3 != 0 && err != nil:
			t.Fatalf("transaction %d: InTx = %v", i, err)
		}
		ok := err == nil
		_, gerr := st.Objects.Get(ctx, object(i))
		present(t, gerr, ok, fmt.Sprintf("Get of the object of transaction %d", i))
		_, cerr := st.Collections.Contains(ctx, coll, member(i))
		present(t, cerr, ok, fmt.Sprintf("Contains of the member of transaction %d", i))
		if ok {
			committed++
			want = append(want, delivered(i))
			if first[i] {
				firsts[i%keys]++
			}
		}
	}
	countIs(t, ctx, st.Collections, coll, storage.Accepted, committed)
	for k, f := range firsts {
		if f != 1 {
			t.Errorf("activity %d was first in %d of the transactions that committed, want exactly 1", k, f)
		}
		recordIs(t, ctx, st.Dedupe, activity(k), alice, false)
	}
	ds := lease(t, ctx, st.Queue, 100, time.Minute)
	got := map[string]bool{}
	for _, d := range ds {
		got[d.Activity] = true
	}
	if len(ds) != len(want) {
		t.Fatalf("Lease found %d deliveries, want the %d the committed transactions enqueued", len(ds), len(want))
	}
	for _, w := range want {
		if !got[w] {
			t.Fatalf("the delivery %s of a committed transaction is missing", w)
		}
	}
}

// txPanic has a transaction's function panic: nothing it wrote stays, the
// panic reaches the caller, and the store goes on working.
func txPanic(t *testing.T, ctx context.Context, st storage.Store) {
	id := iri(t, "notes/1")
	func() {
		defer func() {
			if r := recover(); r != "boom" {
				t.Fatalf("recovered %v, want the function's panic", r)
			}
		}()
		st.Tx.InTx(ctx, func(ctx context.Context, tx storage.Store) error {
			if err := tx.Objects.Put(ctx, storage.Object{IRI: id, Type: "Note", Data: doc("Note", id)}); err != nil {
				return err
			}
			panic("boom")
		})
	}()
	_, err := st.Objects.Get(ctx, id)
	mustErr(t, err, storage.ErrNotFound, "Get of an object put by a function that panicked")
	other := iri(t, "notes/2")
	must(t, st.Objects.Put(ctx, storage.Object{IRI: other, Type: "Note", Data: doc("Note", other)}), "Put after the panic")
	runTx(t, ctx, st, true, func(ctx context.Context, tx storage.Store) error {
		return tx.Objects.Put(ctx, storage.Object{IRI: id, Type: "Note", Data: doc("Note", id)})
	})
	_, err = st.Objects.Get(ctx, id)
	must(t, err, "Get of an object put by a transaction after the panic")
}

// txCancelled starts a transaction with a context already cancelled.
func txCancelled(t *testing.T, ctx context.Context, st storage.Store) {
	called := false
	err := st.Tx.InTx(cancelled(), func(ctx context.Context, tx storage.Store) error {
		called = true
		return nil
	})
	checkCancelled(t, "InTx", err)
	if called {
		t.Fatal("InTx with a cancelled context called its function")
	}
}

// txCancelledInside cancels a transaction's context while its function
// runs: the writes after fail, and nothing is committed, whether the
// function returns their error or nil.
func txCancelledInside(t *testing.T, ctx context.Context, st storage.Store) {
	for _, ignore := range []bool{false, true} {
		t.Run(fmt.Sprintf("function returns nil: %v", ignore), func(t *testing.T) {
			id, other := iri(t, "notes/1"), iri(t, "notes/2")
			cctx, cancel := context.WithCancel(ctx)
			defer cancel()
			err := st.Tx.InTx(cctx, func(ctx context.Context, tx storage.Store) error {
				if err := tx.Objects.Put(ctx, storage.Object{IRI: id, Type: "Note", Data: doc("Note", id)}); err != nil {
					return err
				}
				cancel()
				err := tx.Objects.Put(ctx, storage.Object{IRI: other, Type: "Note", Data: doc("Note", other)})
				if !errors.Is(err, context.Canceled) {
					return fmt.Errorf("Put after the context was cancelled: %v, want context.Canceled", err)
				}
				if ignore {
					return nil
				}
				return err
			})
			checkCancelled(t, "InTx", err)
			for _, id := range []string{id, other} {
				_, err := st.Objects.Get(ctx, id)
				mustErr(t, err, storage.ErrNotFound, "Get of an object put by a transaction whose context was cancelled")
			}
		})
	}
}

// txCancelledMidCall cancels transactions at random moments: each
// reports success with all of its effects, or the cancellation with none.
func txCancelledMidCall(t *testing.T, ctx context.Context, st storage.Store) {
	cancelMidCall(t, ctx, inboxCall(t, st))
}

// inboxCall is a transaction of an inbox's writes, and a check that it
// took effect whole or not at all.
func inboxCall(t *testing.T, st storage.Store) midCall {
	coll, alice := iri(t, "followers"), iri(t, "alice")
	object := func(key string) string { return iri(t, "notes/"+key) }
	member := func(key string) string { return iri(t, "users/"+key) }
	activity := func(key string) string { return iri(t, "activities/"+key) }
	return midCall{
		call: func(ctx context.Context, key string) error {
			return st.Tx.InTx(ctx, func(ctx context.Context, tx storage.Store) error {
				if first, err := tx.Dedupe.Record(ctx, activity(key), alice); err != nil || !first {
					return fmt.Errorf("Record = %v, %w", first, err)
				}
				if err := tx.Objects.Put(ctx, storage.Object{IRI: object(key), Type: "Note", Owner: alice, Data: doc("Note", object(key))}); err != nil {
					return err
				}
				return tx.Collections.Add(ctx, coll, storage.Member{IRI: member(key)})
			})
		},
		happened: func(ctx context.Context, key string) (bool, error) {
			_, oerr := st.Objects.Get(ctx, object(key))
			_, merr := st.Collections.Contains(ctx, coll, member(key))
			first, rerr := st.Dedupe.Record(ctx, activity(key), alice)
			for _, err := range []error{oerr, merr} {
				if err != nil && !errors.Is(err, storage.ErrNotFound) {
					return false, err
				}
			}
			if rerr != nil {
				return false, rerr
			}
			o, m, r := oerr == nil, merr == nil, !first
			if o != m || m != r {
				return false, fmt.Errorf("transaction %s applied in part: object %v, member %v, record %v", key, o, m, r)
			}
			return o, nil
		},
	}
}

// txCancelledMidCallConcurrent runs transactions from 8 goroutines at
// once for a second, half of them with contexts cancelled at random
// moments: those report success with all their effects or the
// cancellation with none, and the others, which share transactions with
// them in a store that groups commits, all succeed.
func txCancelledMidCallConcurrent(t *testing.T, ctx context.Context, st storage.Store) {
	c := inboxCall(t, st)
	const calibration = 10
	start := time.Now()
	for i := range calibration {
		must(t, c.call(ctx, fmt.Sprint("calibration-", i)), "InTx")
	}
	rtt := time.Since(start) / calibration

	type outcome struct {
		key       string
		cancelled bool
		err       error
	}
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		outcomes []outcome
		deadline = time.Now().Add(time.Second)
	)
	for g := range 8 {
		wg.Go(func() {
			for i := 0; i < 200 && time.Now().Before(deadline); i++ {
				key := fmt.Sprintf("%d-%d", g, i)
				cctx, cancel := context.WithCancel(ctx)
				cancelling := g%2 == 0
				if cancelling {
					timer := time.AfterFunc(time.Duration(rand.Int64N(int64(3*rtt)+1)), cancel)
					defer timer.Stop()
				}
				err := c.call(cctx, key)
				cancel()
				mu.Lock()
				outcomes = append(outcomes, outcome{key, cancelling, err})
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	var cancelled int
	for _, o := range outcomes {
		ok, err := c.happened(ctx, o.key)
		must(t, err, "checking the effect of transaction "+o.key)
		switch {
		case o.err == nil && !ok:
			t.Fatalf("transaction %s reported success and had no effect", o.key)
		case o.err == nil:
		case !o.cancelled:
			t.Fatalf("transaction %s, whose context never ended, failed beside transactions whose contexts did: %v", o.key, o.err)
		case !errors.Is(o.err, context.Canceled):
			t.Fatalf("transaction %s, its context cancelled: %v, want an error wrapping context.Canceled", o.key, o.err)
		case ok:
			t.Fatalf("transaction %s reported %q, yet took effect", o.key, o.err)
		default:
			cancelled++
		}
	}
	t.Logf("%d transactions of about %v each, %d of them cancelled before they took effect", len(outcomes), rtt, cancelled)
}
