package storagetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/fedi-go/fedi/storage"
)

// TestQueue checks a Queue implementation, and its DeadLetters and
// LeaseExtender when it has them. newQueue is called once per subtest and
// must return an empty queue.
//
// The checks that depend on time let leases run and retries wait for a
// window scaled to the queue's round trip, which TestQueue measures first.
// One that still runs past its window, on a machine too busy to tell,
// skips; if every one of them skips, TestQueue fails.
func TestQueue(t *testing.T, newQueue func(t *testing.T) storage.Queue) {
	t.Helper()
	c := &clock{}
	t.Run("RoundTrip", func(t *testing.T) { c.measure(t, newQueue(t)) })
	defer c.check(t)
	runAll(t, newQueue, []subtest[storage.Queue]{
		{"EnqueueLease", queueEnqueueLease},
		{"BatchSize", queueBatchSize},
		{"NotBefore", c.timed(c.queueNotBefore)},
		{"Ack", queueAck},
		{"AckBatch", queueAckBatch},
		{"AckRepeated", queueAckRepeated},
		{"LeaseExpiry", c.timed(c.queueLeaseExpiry)},
		{"AckAfterExpiry", queueAckAfterExpiry},
		{"LeaseCount", queueLeaseCount},
		{"Extend", queueExtend},
		{"Retry", c.timed(c.queueRetry)},
		{"LastError", queueLastError},
		{"GiveUp", queueGiveUp},
		{"DeadLetters", queueDeadLetters},
		{"RequeueOvertaken", queueRequeueOvertaken},
		{"OrderingKey", queueOrdering},
		{"OrderingKeyWaits", c.timed(c.queueOrderingWaits)},
		{"OrderingKeyConcurrent", queueOrderingConcurrent},
		{"ConcurrentLease", queueConcurrentLease},
		{"Stats", queueStats},
		{"Large", queueLarge},
		{"Invalid", queueInvalid},
		{"LongIRIs", queueLongIRIs},
		{"UnicodeIRIs", queueUnicode},
		{"Cancelled", queueCancelled},
		{"EnqueueCancelledMidCall", queueEnqueueCancelledMidCall},
		{"AckCancelledMidCall", queueAckCancelledMidCall},
	})
}

// delivery returns a delivery of activity n to inbox.
func delivery(t *testing.T, inbox string, n int, key string) storage.Delivery {
	act := iri(t, fmt.Sprintf("activities/%d", n))
	return storage.Delivery{Activity: act, Inbox: inbox, Body: doc("Create", act), OrderingKey: key}
}

func lease(t *testing.T, ctx context.Context, q storage.Queue, n int, vis time.Duration) []storage.Delivery {
	t.Helper()
	ds, err := q.Lease(ctx, n, vis)
	must(t, err, "Lease")
	return ds
}

func leaseIs(t *testing.T, ctx context.Context, q storage.Queue, n int, vis time.Duration, want ...string) []storage.Delivery {
	t.Helper()
	ds := lease(t, ctx, q, n, vis)
	got := make([]string, len(ds))
	for i, d := range ds {
		got[i] = d.Activity
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("Lease = %q, want %q", got, want)
	}
	return ds
}

func statsAre(t *testing.T, ctx context.Context, q storage.Queue, want storage.QueueStats) storage.QueueStats {
	t.Helper()
	st, err := q.Stats(ctx)
	must(t, err, "Stats")
	got := st
	got.OldestAge, want.OldestAge = 0, 0
	if got != want {
		t.Fatalf("Stats = %+v, want %+v", got, want)
	}
	return st
}

func queueEnqueueLease(t *testing.T, ctx context.Context, q storage.Queue) {
	inbox := iri(t, "inbox")
	ds := []storage.Delivery{delivery(t, inbox, 1, ""), delivery(t, inbox, 2, iri(t, "note/2")), delivery(t, iri(t, "other/inbox"), 3, "")}
	before := time.Now()
	must(t, q.Enqueue(ctx, ds...), "Enqueue")
	must(t, q.Enqueue(ctx), "Enqueue of nothing")
	got := leaseIs(t, ctx, q, 10, time.Minute, ds[0].Activity, ds[1].Activity, ds[2].Activity)
	ids, receipts := map[string]bool{}, map[string]bool{}
	for i, d := range got {
		w := ds[i]
		if d.Inbox != w.Inbox || !bytes.Equal(d.Body, w.Body) || d.OrderingKey != w.OrderingKey {
			t.Fatalf("Lease returned %+v, want %+v", d, w)
		}
		if d.ID == "" || ids[d.ID] || d.Receipt == "" || receipts[d.Receipt] {
			t.Fatalf("Lease returned delivery %d with ID %q and receipt %q, want unique, non-empty ones", i, d.ID, d.Receipt)
		}
		ids[d.ID], receipts[d.Receipt] = true, true
		if d.Attempts != 0 || d.LastError != "" || !d.GaveUp.IsZero() {
			t.Fatalf("a fresh delivery has Attempts %d, LastError %q, GaveUp %v", d.Attempts, d.LastError, d.GaveUp)
		}
		near(t, d.Enqueued, before, 5*time.Second, "Enqueued")
		near(t, d.NotBefore, before, 5*time.Second, "NotBefore of a delivery enqueued without one")
		near(t, d.LeaseExpires, before.Add(time.Minute), 5*time.Second, "LeaseExpires")
	}
	leaseIs(t, ctx, q, 10, time.Minute)
}

func queueBatchSize(t *testing.T, ctx context.Context, q storage.Queue) {
	inbox := iri(t, "inbox")
	var want []string
	for i := range 5 {
		d := delivery(t, inbox, i, "")
		must(t, q.Enqueue(ctx, d), "Enqueue")
		want = append(want, d.Activity)
	}
	leaseIs(t, ctx, q, 0, time.Minute)
	leaseIs(t, ctx, q, 2, time.Minute, want[0:2]...)
	leaseIs(t, ctx, q, 2, time.Minute, want[2:4]...)
	leaseIs(t, ctx, q, 2, time.Minute, want[4])
}

func queueAck(t *testing.T, ctx context.Context, q storage.Queue) {
	d := delivery(t, iri(t, "inbox"), 1, "")
	must(t, q.Enqueue(ctx, d), "Enqueue")
	ds := lease(t, ctx, q, 1, time.Minute)
	must(t, q.Ack(ctx, ds[0].Receipt), "Ack")
	mustErr(t, q.Ack(ctx, ds[0].Receipt), storage.ErrNotFound, "Ack twice")
	mustErr(t, q.Retry(ctx, ds[0].Receipt, time.Now(), "x"), storage.ErrNotFound, "Retry after Ack")
	mustErr(t, q.GiveUp(ctx, ds[0].Receipt, "x"), storage.ErrNotFound, "GiveUp after Ack")
	statsAre(t, ctx, q, storage.QueueStats{})
	leaseIs(t, ctx, q, 10, time.Minute)
}

// queueAckBatch acks several receipts at once, one of them taken over by
// another worker and one already acked: those two are reported, the rest
// acked.
func queueAckBatch(t *testing.T, ctx context.Context, q storage.Queue) {
	inbox := iri(t, "inbox")
	must(t, q.Ack(ctx), "Ack of nothing")
	must(t, q.Enqueue(ctx, delivery(t, inbox, 1, ""), delivery(t, inbox, 2, ""), delivery(t, inbox, 3, "")), "Enqueue")
	ds := lease(t, ctx, q, 3, time.Minute)
	must(t, q.Enqueue(ctx, delivery(t, inbox, 4, "")), "Enqueue")
	stale := lease(t, ctx, q, 1, 100*time.Millisecond)[0]
	time.Sleep(200 * time.Millisecond)
	fresh := lease(t, ctx, q, 1, time.Minute)[0]
	must(t, q.Ack(ctx, ds[0].Receipt), "Ack")
	statsAre(t, ctx, q, storage.QueueStats{Leased: 3})

	err := q.Ack(ctx, ds[1].Receipt, stale.Receipt, ds[0].Receipt, ds[2].Receipt)
	receiptFailed(t, err, stale.Receipt, "Ack of a batch with a lease taken over", storage.ErrConflict)
	receiptFailed(t, err, ds[0].Receipt, "Ack of a batch with a delivery acked before", storage.ErrNotFound)
	if res := receiptErrors(err); len(res) != 2 {
		t.Fatalf("Ack of a batch with two failed receipts: %d *storage.ReceiptError (%v), want one for each", len(res), err)
	}
	statsAre(t, ctx, q, storage.QueueStats{Leased: 1})
	must(t, q.Ack(ctx, fresh.Receipt), "Ack")
	statsAre(t, ctx, q, storage.QueueStats{})
}

// queueAckRepeated gives one receipt twice in one Ack: the first acks the
// delivery, the second finds it gone.
func queueAckRepeated(t *testing.T, ctx context.Context, q storage.Queue) {
	inbox := iri(t, "inbox")
	must(t, q.Enqueue(ctx, delivery(t, inbox, 1, ""), delivery(t, inbox, 2, "")), "Enqueue")
	ds := lease(t, ctx, q, 2, time.Minute)
	err := q.Ack(ctx, ds[0].Receipt, ds[0].Receipt, ds[1].Receipt)
	receiptFailed(t, err, ds[0].Receipt, "Ack of a receipt given twice", storage.ErrNotFound)
	if res := receiptErrors(err); len(res) != 1 || errors.Is(err, storage.ErrConflict) {
		t.Fatalf("Ack of a receipt given twice: %v, want only the second to fail", err)
	}
	statsAre(t, ctx, q, storage.QueueStats{})
}

// receiptErrors returns the *storage.ReceiptError in err's tree, by
// receipt.
func receiptErrors(err error) map[string]*storage.ReceiptError {
	found := map[string]*storage.ReceiptError{}
	var walk func(error)
	walk = func(err error) {
		switch e := err.(type) {
		case *storage.ReceiptError:
			found[e.Receipt] = e
		case interface{ Unwrap() []error }:
			for _, err := range e.Unwrap() {
				walk(err)
			}
		case interface{ Unwrap() error }:
			walk(e.Unwrap())
		}
	}
	walk(err)
	return found
}

// receiptFailed fails unless err holds a *storage.ReceiptError for
// receipt that wraps one of want.
func receiptFailed(t *testing.T, err error, receipt, what string, want ...error) {
	t.Helper()
	re := receiptErrors(err)[receipt]
	if re == nil {
		t.Fatalf("%s: got error %v, want a *storage.ReceiptError for %q", what, err, receipt)
	}
	for _, w := range want {
		if errors.Is(re, w) {
			return
		}
	}
	t.Fatalf("%s: receipt %q failed with %v, want one of %v", what, receipt, re, want)
}

func queueAckAfterExpiry(t *testing.T, ctx context.Context, q storage.Queue) {
	d := delivery(t, iri(t, "inbox"), 1, "")
	must(t, q.Enqueue(ctx, d), "Enqueue")
	ds := lease(t, ctx, q, 1, 100*time.Millisecond)
	time.Sleep(200 * time.Millisecond)
	must(t, q.Ack(ctx, ds[0].Receipt), "Ack of an expired lease nobody took over")
	leaseIs(t, ctx, q, 10, time.Minute)
}

// queueLeaseCount is a delivery that crashes every worker that takes it:
// each lease counts, with no attempt recorded, so that a worker can give
// up on it.
func queueLeaseCount(t *testing.T, ctx context.Context, q storage.Queue) {
	d := delivery(t, iri(t, "inbox"), 1, "")
	must(t, q.Enqueue(ctx, d), "Enqueue")
	for i := 1; i <= 3; i++ {
		l := leaseIs(t, ctx, q, 10, 50*time.Millisecond, d.Activity)[0]
		if l.Leases != i || l.Attempts != 0 {
			t.Fatalf("lease %d: Leases %d, Attempts %d; want %d, 0", i, l.Leases, l.Attempts, i)
		}
		time.Sleep(100 * time.Millisecond) // the worker died
	}
	l := leaseIs(t, ctx, q, 10, time.Minute, d.Activity)[0]
	must(t, q.Retry(ctx, l.Receipt, time.Now().Add(-time.Second), "HTTP 503"), "Retry")
	l = leaseIs(t, ctx, q, 10, time.Minute, d.Activity)[0]
	if l.Leases != 5 || l.Attempts != 1 {
		t.Fatalf("after 3 lost leases, one Retry and a lease: Leases %d, Attempts %d; want 5, 1", l.Leases, l.Attempts)
	}
	must(t, q.GiveUp(ctx, l.Receipt, "leased too often"), "GiveUp")
	if dl, ok := q.(storage.DeadLetters); ok {
		dead, _, err := dl.Dead(ctx, "", 10)
		must(t, err, "Dead")
		if len(dead) != 1 || dead[0].Leases != 5 || dead[0].Attempts != 2 {
			t.Fatalf("dead letters %+v, want the delivery with Leases 5 and Attempts 2", dead)
		}
	}
}

// queueExtend is a worker whose batch outlasts its lease: it extends the
// lease, which then outlives its first end, and keeps its receipt.
func queueExtend(t *testing.T, ctx context.Context, q storage.Queue) {
	ext, ok := q.(storage.LeaseExtender)
	if !ok {
		t.Skip("the Queue does not implement LeaseExtender")
	}
	inbox := iri(t, "inbox")
	d := delivery(t, inbox, 1, "")
	must(t, q.Enqueue(ctx, d), "Enqueue")
	l := leaseIs(t, ctx, q, 10, 100*time.Millisecond, d.Activity)[0]
	must(t, ext.Extend(ctx, l.Receipt, time.Minute), "Extend")
	time.Sleep(200 * time.Millisecond) // past the lease's first end
	leaseIs(t, ctx, q, 10, time.Minute)
	statsAre(t, ctx, q, storage.QueueStats{Leased: 1})
	must(t, q.Ack(ctx, l.Receipt), "Ack of an extended lease")
	receiptFailed(t, ext.Extend(ctx, l.Receipt, time.Minute), l.Receipt, "Extend after Ack", storage.ErrNotFound)

	// A lease taken over, or ended by Retry, stays lost.
	d = delivery(t, inbox, 2, "")
	must(t, q.Enqueue(ctx, d), "Enqueue")
	stale := leaseIs(t, ctx, q, 10, 100*time.Millisecond, d.Activity)[0]
	time.Sleep(200 * time.Millisecond)
	fresh := leaseIs(t, ctx, q, 10, time.Minute, d.Activity)[0]
	receiptFailed(t, ext.Extend(ctx, stale.Receipt, time.Minute), stale.Receipt, "Extend of a lease taken over", storage.ErrConflict)
	mustErr(t, ext.Extend(ctx, fresh.Receipt, 0), storage.ErrInvalid, "Extend by no time")
	for _, r := range mangled(fresh.Receipt) {
		receiptFailed(t, ext.Extend(ctx, r, time.Minute), r, fmt.Sprintf("Extend(%q)", r), storage.ErrInvalid, storage.ErrNotFound)
	}
	must(t, q.Retry(ctx, fresh.Receipt, time.Now().Add(time.Hour), "HTTP 503"), "Retry")
	receiptFailed(t, ext.Extend(ctx, fresh.Receipt, time.Minute), fresh.Receipt, "Extend after Retry", storage.ErrConflict)
	statsAre(t, ctx, q, storage.QueueStats{Scheduled: 1})
	checkCancelled(t, "Extend", ext.Extend(cancelled(), fresh.Receipt, time.Minute))
}

func queueLastError(t *testing.T, ctx context.Context, q storage.Queue) {
	must(t, q.Enqueue(ctx, delivery(t, iri(t, "inbox"), 1, "")), "Enqueue")
	d := lease(t, ctx, q, 1, time.Minute)[0]
	hostile := "bad \x00 bytes \xff\xfe " + strings.Repeat("é", 10000)
	must(t, q.Retry(ctx, d.Receipt, time.Now(), hostile), "Retry with a hostile error text")
	d = lease(t, ctx, q, 1, time.Minute)[0]
	if !utf8.ValidString(d.LastError) || strings.ContainsRune(d.LastError, 0) || len(d.LastError) > 4096 || !strings.HasPrefix(d.LastError, "bad ") {
		t.Fatalf("LastError kept %d bytes %q..., want valid UTF-8 without NUL, at most 4 KiB, starting %q", len(d.LastError), d.LastError[:min(len(d.LastError), 20)], "bad ")
	}
}

func queueGiveUp(t *testing.T, ctx context.Context, q storage.Queue) {
	d := delivery(t, iri(t, "inbox"), 1, "")
	must(t, q.Enqueue(ctx, d), "Enqueue")
	l := lease(t, ctx, q, 1, time.Minute)[0]
	must(t, q.GiveUp(ctx, l.Receipt, "HTTP 404"), "GiveUp")
	mustErr(t, q.Ack(ctx, l.Receipt), storage.ErrNotFound, "Ack after GiveUp")
	mustErr(t, q.GiveUp(ctx, l.Receipt, "again"), storage.ErrNotFound, "GiveUp twice")
	leaseIs(t, ctx, q, 10, time.Millisecond)
	time.Sleep(10 * time.Millisecond)
	leaseIs(t, ctx, q, 10, time.Minute)
	statsAre(t, ctx, q, storage.QueueStats{Dead: 1})
}

func queueDeadLetters(t *testing.T, ctx context.Context, q storage.Queue) {
	dl, ok := q.(storage.DeadLetters)
	if !ok {
		t.Skip("the Queue does not implement DeadLetters")
	}
	inbox := iri(t, "inbox")
	var want []string
	for i := range 5 {
		d := delivery(t, inbox, i, "")
		must(t, q.Enqueue(ctx, d), "Enqueue")
		l := lease(t, ctx, q, 1, time.Minute)[0]
		must(t, q.GiveUp(ctx, l.Receipt, fmt.Sprint("HTTP 40", i)), "GiveUp")
		want = append([]string{d.Activity}, want...)
		time.Sleep(2 * time.Millisecond) // distinct GaveUp times, to check the order
	}
	var got []string
	var first storage.Delivery
	cursor := ""
	for range 5 {
		page, next, err := dl.Dead(ctx, cursor, 2)
		must(t, err, "Dead")
		for _, d := range page {
			got = append(got, d.Activity)
			if d.GaveUp.IsZero() || d.Attempts != 1 || !strings.HasPrefix(d.LastError, "HTTP 40") {
				t.Fatalf("dead letter %+v: want GaveUp set, 1 attempt and the last error", d)
			}
		}
		if first.ID == "" {
			first = page[0]
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("dead letters %v, want the newest first %v", got, want)
	}
	_, _, err := dl.Dead(ctx, "not a cursor", 2)
	mustErr(t, err, storage.ErrInvalid, "Dead with a malformed cursor")

	must(t, dl.Requeue(ctx, first.ID, time.Now()), "Requeue")
	mustErr(t, dl.Requeue(ctx, first.ID, time.Now()), storage.ErrNotFound, "Requeue of a live delivery")
	statsAre(t, ctx, q, storage.QueueStats{Ready: 1, Dead: 4})
	again := leaseIs(t, ctx, q, 10, time.Minute, first.Activity)[0]
	if again.Attempts != 1 || again.LastError != first.LastError || !again.GaveUp.IsZero() {
		t.Fatalf("requeued delivery %+v: want its attempts and last error kept, GaveUp cleared", again)
	}
	must(t, q.Ack(ctx, again.Receipt), "Ack")

	page, _, err := dl.Dead(ctx, "", 10)
	must(t, err, "Dead")
	for _, d := range page {
		must(t, dl.Discard(ctx, d.ID), "Discard")
	}
	mustErr(t, dl.Discard(ctx, page[0].ID), storage.ErrNotFound, "Discard twice")
	mustErr(t, dl.Requeue(ctx, page[0].ID, time.Now()), storage.ErrNotFound, "Requeue of a discarded delivery")
	statsAre(t, ctx, q, storage.QueueStats{})
}

// queueRequeueOvertaken gives up on a Create, which lets its Delete go:
// the Create may be requeued while the Delete waits, not once the Delete
// has been leased, since it would then arrive after it.
func queueRequeueOvertaken(t *testing.T, ctx context.Context, q storage.Queue) {
	dl, ok := q.(storage.DeadLetters)
	if !ok {
		t.Skip("the Queue does not implement DeadLetters")
	}
	inbox, note := iri(t, "inbox"), iri(t, "notes/1")
	create, del := delivery(t, inbox, 1, note), delivery(t, inbox, 2, note)
	elsewhere := delivery(t, iri(t, "other/inbox"), 3, note) // same key, another chain
	must(t, q.Enqueue(ctx, create, del, elsewhere), "Enqueue")
	ds := leaseIs(t, ctx, q, 10, time.Minute, create.Activity, elsewhere.Activity)
	must(t, q.GiveUp(ctx, ds[0].Receipt, "HTTP 401"), "GiveUp")
	must(t, q.GiveUp(ctx, ds[1].Receipt, "HTTP 401"), "GiveUp")

	// Before the Delete is leased, the Create goes back in front of it.
	must(t, dl.Requeue(ctx, ds[0].ID, time.Now()), "Requeue before the next delivery of the chain was leased")
	c := leaseIs(t, ctx, q, 10, time.Minute, create.Activity)[0]
	must(t, q.GiveUp(ctx, c.Receipt, "HTTP 401"), "GiveUp")

	d := leaseIs(t, ctx, q, 10, time.Minute, del.Activity)[0]
	mustErr(t, dl.Requeue(ctx, c.ID, time.Now()), storage.ErrConflict, "Requeue of a Create whose Delete is leased")
	must(t, q.Ack(ctx, d.Receipt), "Ack")
	mustErr(t, dl.Requeue(ctx, c.ID, time.Now()), storage.ErrConflict, "Requeue of a Create whose Delete was delivered")
	statsAre(t, ctx, q, storage.QueueStats{Dead: 2})

	// The other chain has nothing after it.
	must(t, dl.Requeue(ctx, ds[1].ID, time.Now()), "Requeue in another chain")
	leaseIs(t, ctx, q, 10, time.Minute, elsewhere.Activity)
	must(t, dl.Discard(ctx, c.ID), "Discard")
}

// queueOrdering checks that a delivery waits for the earlier deliveries
// with its inbox and ordering key: a Delete never overtakes its Create.
// It relies on no clock: leases last a minute and retries wait an hour or
// none.
func queueOrdering(t *testing.T, ctx context.Context, q storage.Queue) {
	a, b := iri(t, "a/inbox"), iri(t, "b/inbox")
	note, other, third := iri(t, "notes/1"), iri(t, "notes/2"), iri(t, "notes/3")
	create := delivery(t, a, 1, note)
	update := delivery(t, a, 2, note)
	del := delivery(t, a, 3, note)
	elsewhere := delivery(t, b, 4, note)  // same key, other inbox: independent
	unrelated := delivery(t, a, 5, other) // same inbox, other key: independent
	unordered := delivery(t, a, 6, "")    // no key
	must(t, q.Enqueue(ctx, create, update), "Enqueue")
	must(t, q.Enqueue(ctx, del, elsewhere, unrelated, unordered), "Enqueue")

	ds := leaseIs(t, ctx, q, 10, time.Minute, create.Activity, elsewhere.Activity, unrelated.Activity, unordered.Activity)
	for _, d := range ds[1:] {
		must(t, q.Ack(ctx, d.Receipt), "Ack")
	}
	// While a worker holds the Create, everything after it waits.
	leaseIs(t, ctx, q, 10, time.Minute)
	// The Create fails and is due again at once: it still goes first.
	must(t, q.Retry(ctx, ds[0].Receipt, time.Now().Add(-time.Second), "HTTP 503"), "Retry")
	ds = leaseIs(t, ctx, q, 10, time.Minute, create.Activity)
	must(t, q.Ack(ctx, ds[0].Receipt), "Ack create")
	ds = leaseIs(t, ctx, q, 10, time.Minute, update.Activity)
	leaseIs(t, ctx, q, 10, time.Minute)
	// Giving up on the Update lets the Delete go.
	must(t, q.GiveUp(ctx, ds[0].Receipt, "HTTP 400"), "GiveUp")
	ds = leaseIs(t, ctx, q, 10, time.Minute, del.Activity)
	must(t, q.Ack(ctx, ds[0].Receipt), "Ack delete")
	statsAre(t, ctx, q, storage.QueueStats{Dead: 1})

	// A Create retried in an hour holds its Update back for that hour.
	create, update = delivery(t, a, 7, third), delivery(t, a, 8, third)
	must(t, q.Enqueue(ctx, create, update), "Enqueue")
	ds = leaseIs(t, ctx, q, 10, time.Minute, create.Activity)
	must(t, q.Retry(ctx, ds[0].Receipt, time.Now().Add(time.Hour), "HTTP 503"), "Retry in an hour")
	leaseIs(t, ctx, q, 10, time.Minute)
}

// queueOrderingConcurrent has several workers drain interleaved chains and
// checks that no delivery is leased before the one ordered before it is
// done.
func queueOrderingConcurrent(t *testing.T, ctx context.Context, q storage.Queue) {
	const inboxes, keys, steps, workers = 3, 4, 5, 4
	var all []storage.Delivery
	for s := range steps {
		for i := range inboxes {
			for k := range keys {
				d := delivery(t, iri(t, fmt.Sprintf("inbox/%d", i)), s*100+i*10+k, iri(t, fmt.Sprintf("note/%d", k)))
				all = append(all, d)
			}
		}
	}
	// Enqueue one step at a time, in separate calls, as an outbox would.
	for s := range steps {
		must(t, q.Enqueue(ctx, all[s*inboxes*keys:(s+1)*inboxes*keys]...), "Enqueue")
	}
	step := func(d storage.Delivery) (chain string, s int) {
		var n int
		fmt.Sscanf(d.Activity[strings.LastIndex(d.Activity, "/")+1:], "%d", &n)
		return d.Inbox + " " + d.OrderingKey, n / 100
	}
	var (
		mu       sync.Mutex
		done     = map[string]int{}  // chain → steps acked
		inflight = map[string]bool{} // chain → a step is leased
		errs     []string
		wg       sync.WaitGroup
	)
	for range workers {
		wg.Go(func() {
			for idle := 0; idle < 50; {
				ds, err := q.Lease(ctx, 3, time.Minute)
				if err != nil {
					mu.Lock()
					errs = append(errs, err.Error())
					mu.Unlock()
					return
				}
				if len(ds) == 0 {
					idle++
					time.Sleep(2 * time.Millisecond)
					continue
				}
				idle = 0
				mu.Lock()
				for _, d := range ds {
					c, s := step(d)
					if done[c] != s || inflight[c] {
						errs = append(errs, fmt.Sprintf("step %d of %s leased after %d steps were done, with one in flight: %v", s, c, done[c], inflight[c]))
					}
					inflight[c] = true
				}
				mu.Unlock()
				for _, d := range ds {
					c, s := step(d)
					mu.Lock()
					// Before Ack: the next step may be leased as soon as
					// Ack commits.
					done[c], inflight[c] = s+1, false
					mu.Unlock()
					if err := q.Ack(ctx, d.Receipt); err != nil {
						mu.Lock()
						errs = append(errs, err.Error())
						mu.Unlock()
					}
				}
			}
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d errors, first: %s", len(errs), errs[0])
	}
	for c, n := range done {
		if n != steps {
			t.Fatalf("chain %s: %d of %d steps delivered", c, n, steps)
		}
	}
	if len(done) != inboxes*keys {
		t.Fatalf("%d chains delivered, want %d", len(done), inboxes*keys)
	}
}

// queueConcurrentLease has workers race for deliveries: none may be leased
// twice.
func queueConcurrentLease(t *testing.T, ctx context.Context, q storage.Queue) {
	const n, workers = 300, 8
	var ds []storage.Delivery
	for i := range n {
		ds = append(ds, delivery(t, iri(t, fmt.Sprintf("inbox/%d", i%7)), i, ""))
	}
	must(t, q.Enqueue(ctx, ds...), "Enqueue")
	var (
		mu     sync.Mutex
		leased = map[string]int{}
		errs   []error
		wg     sync.WaitGroup
		start  = make(chan struct{})
	)
	for range workers {
		wg.Go(func() {
			<-start
			for {
				got, err := q.Lease(ctx, 5, time.Minute)
				if err == nil && len(got) == 0 {
					return
				}
				for _, d := range got {
					mu.Lock()
					leased[d.Activity]++
					mu.Unlock()
					if err == nil {
						err = q.Ack(ctx, d.Receipt)
					}
				}
				if err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					return
				}
			}
		})
	}
	close(start)
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d errors, first: %v", len(errs), errs[0])
	}
	for _, d := range ds {
		if leased[d.Activity] != 1 {
			t.Fatalf("%s was leased %d times, want once", d.Activity, leased[d.Activity])
		}
	}
	statsAre(t, ctx, q, storage.QueueStats{})
}

func queueStats(t *testing.T, ctx context.Context, q storage.Queue) {
	st := statsAre(t, ctx, q, storage.QueueStats{})
	if st.OldestAge != 0 {
		t.Fatalf("OldestAge of an empty queue = %v", st.OldestAge)
	}
	inbox := iri(t, "inbox")
	later := delivery(t, inbox, 3, "")
	later.NotBefore = time.Now().Add(time.Hour)
	must(t, q.Enqueue(ctx, delivery(t, inbox, 1, ""), delivery(t, inbox, 2, ""), later, delivery(t, inbox, 4, "")), "Enqueue")
	time.Sleep(50 * time.Millisecond)
	ds := lease(t, ctx, q, 2, time.Minute)
	must(t, q.GiveUp(ctx, ds[1].Receipt, "gone"), "GiveUp")
	st = statsAre(t, ctx, q, storage.QueueStats{Ready: 1, Scheduled: 1, Leased: 1, Dead: 1})
	if st.OldestAge < 40*time.Millisecond || st.OldestAge > time.Minute {
		t.Fatalf("OldestAge = %v, want about 50ms", st.OldestAge)
	}
}

func queueLarge(t *testing.T, ctx context.Context, q storage.Queue) {
	d := delivery(t, iri(t, "inbox"), 1, "")
	d.Body = bigDoc(d.Activity, 1<<20)
	must(t, q.Enqueue(ctx, d), "Enqueue 1 MiB")
	got := lease(t, ctx, q, 1, time.Minute)
	if len(got) != 1 || !bytes.Equal(got[0].Body, d.Body) {
		t.Fatal("1 MiB body did not come back intact")
	}
}

func queueInvalid(t *testing.T, ctx context.Context, q storage.Queue) {
	inbox := iri(t, "inbox")
	good := delivery(t, inbox, 1, "")
	for _, tt := range []struct {
		name string
		d    storage.Delivery
	}{
		{"no inbox", storage.Delivery{Activity: good.Activity, Body: good.Body}},
		{"no activity", storage.Delivery{Inbox: inbox, Body: good.Body}},
		{"invalid body", storage.Delivery{Activity: good.Activity, Inbox: inbox, Body: []byte("{")}},
		{"NUL in ordering key", storage.Delivery{Activity: good.Activity, Inbox: inbox, Body: good.Body, OrderingKey: "a\x00"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			// One bad delivery spoils the batch: all or none.
			mustErr(t, q.Enqueue(ctx, good, tt.d), storage.ErrInvalid, "Enqueue")
			statsAre(t, ctx, q, storage.QueueStats{})
		})
	}
	_, err := q.Lease(ctx, 1, 0)
	mustErr(t, err, storage.ErrInvalid, "Lease with no visibility timeout")
	_, err = q.Lease(ctx, -1, time.Minute)
	mustErr(t, err, storage.ErrInvalid, "Lease of a negative count")
	queueForeignReceipts(t, ctx, q)
}

// mangled returns receipts made from one the store issued that it cannot
// have issued itself, whatever their form.
func mangled(receipt string) []string {
	return []string{"", receipt + "\x00", receipt + "#mangled", "mangled#" + receipt}
}

// queueForeignReceipts gives the queue receipts it never issued. Each
// fails, naming the receipt, with ErrInvalid when the store can tell, or
// else ErrNotFound, and leaves the lease it was made from alone. In a
// batch, ErrInvalid fails the whole call before anything is acked, while
// ErrNotFound fails that receipt alone.
func queueForeignReceipts(t *testing.T, ctx context.Context, q storage.Queue) {
	must(t, q.Enqueue(ctx, delivery(t, iri(t, "inbox"), 2, "")), "Enqueue")
	l := lease(t, ctx, q, 1, time.Minute)[0]
	for _, r := range mangled(l.Receipt) {
		receiptFailed(t, q.Ack(ctx, r), r, fmt.Sprintf("Ack(%q)", r), storage.ErrInvalid, storage.ErrNotFound)
		receiptFailed(t, q.Retry(ctx, r, time.Now(), "x"), r, fmt.Sprintf("Retry(%q)", r), storage.ErrInvalid, storage.ErrNotFound)
		receiptFailed(t, q.GiveUp(ctx, r, "x"), r, fmt.Sprintf("GiveUp(%q)", r), storage.ErrInvalid, storage.ErrNotFound)
	}
	statsAre(t, ctx, q, storage.QueueStats{Leased: 1})
	for _, r := range mangled(l.Receipt) {
		err := q.Ack(ctx, l.Receipt, r)
		receiptFailed(t, err, r, fmt.Sprintf("Ack(%q) in a batch", r), storage.ErrInvalid, storage.ErrNotFound)
		if errors.Is(err, storage.ErrInvalid) {
			statsAre(t, ctx, q, storage.QueueStats{Leased: 1})
			continue
		}
		if res := receiptErrors(err); len(res) != 1 {
			t.Fatalf("Ack of a good receipt and %q: %v, want only the second to fail", r, err)
		}
		statsAre(t, ctx, q, storage.QueueStats{})
		return
	}
	must(t, q.Ack(ctx, l.Receipt), "Ack")
}

func queueUnicode(t *testing.T, ctx context.Context, q storage.Queue) {
	// Each IRI is an inbox, an activity and an ordering key; inboxes that
	// differ only in normalization are different chains.
	var ds []storage.Delivery
	for _, u := range unicodeIRIs {
		ds = append(ds, storage.Delivery{Activity: u + "/act", Inbox: u, Body: doc("Create", u), OrderingKey: unicodeIRIs[0]})
	}
	must(t, q.Enqueue(ctx, ds...), "Enqueue")
	got := lease(t, ctx, q, 100, time.Minute)
	if len(got) != len(ds) {
		t.Fatalf("leased %d deliveries to distinct inboxes, want %d", len(got), len(ds))
	}
	for i, d := range got {
		if d.Inbox != ds[i].Inbox || d.Activity != ds[i].Activity || d.OrderingKey != ds[i].OrderingKey || !bytes.Equal(d.Body, ds[i].Body) {
			t.Fatalf("delivery %d came back as %+v, want %+v", i, d, ds[i])
		}
	}
}

func queueCancelled(t *testing.T, ctx context.Context, q storage.Queue) {
	d := delivery(t, iri(t, "inbox"), 1, "")
	c := cancelled()
	checkCancelled(t, "Enqueue", q.Enqueue(c, d))
	statsAre(t, ctx, q, storage.QueueStats{})
	must(t, q.Enqueue(ctx, d), "Enqueue")
	_, err := q.Lease(c, 1, time.Minute)
	checkCancelled(t, "Lease", err)
	l := leaseIs(t, ctx, q, 1, time.Minute, d.Activity)[0]
	checkCancelled(t, "Ack", q.Ack(c, l.Receipt))
	checkCancelled(t, "Retry", q.Retry(c, l.Receipt, time.Now(), "x"))
	checkCancelled(t, "GiveUp", q.GiveUp(c, l.Receipt, "x"))
	_, err = q.Stats(c)
	checkCancelled(t, "Stats", err)
	if dl, ok := q.(storage.DeadLetters); ok {
		_, _, err = dl.Dead(c, "", 1)
		checkCancelled(t, "Dead", err)
		checkCancelled(t, "Requeue", dl.Requeue(c, l.ID, time.Now()))
		checkCancelled(t, "Discard", dl.Discard(c, l.ID))
	}
	statsAre(t, ctx, q, storage.QueueStats{Leased: 1})
	must(t, q.Ack(ctx, l.Receipt), "Ack")
}
