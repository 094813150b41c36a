package storagetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/fedi-go/fedi/storage"
)

// Windows of the checks that depend on time: at least minWindow, and at
// least windowTrips round trips of the queue, since a check makes a few
// calls inside its window.
const (
	minWindow   = 500 * time.Millisecond
	windowTrips = 10
)

// clock scales the windows of a queue's time-dependent checks to the
// queue's round trip, and counts those checks and the ones that skipped.
type clock struct {
	mu           sync.Mutex
	rtt          time.Duration
	ran, skipped int
}

// measure times the calls of a delivery's life on q, keeping the slowest.
func (c *clock) measure(t *testing.T, q storage.Queue) {
	ctx := context.Background()
	var slowest time.Duration
	timed := func(what string, call func() error) {
		t.Helper()
		start := time.Now()
		must(t, call(), what)
		slowest = max(slowest, time.Since(start))
	}
	for i := range 3 {
		d := delivery(t, iri(t, "inbox"), i, "")
		var ds []storage.Delivery
		timed("Enqueue", func() error { return q.Enqueue(ctx, d) })
		timed("Lease", func() (err error) { ds, err = q.Lease(ctx, 1, time.Minute); return err })
		if len(ds) != 1 {
			t.Fatalf("Lease = %d deliveries, want the one enqueued", len(ds))
		}
		timed("Retry", func() error { return q.Retry(ctx, ds[0].Receipt, time.Now().Add(-time.Second), "x") })
		timed("Lease", func() (err error) { ds, err = q.Lease(ctx, 1, time.Minute); return err })
		if len(ds) != 1 {
			t.Fatalf("Lease = %d deliveries, want the one retried", len(ds))
		}
		timed("Ack", func() error { return q.Ack(ctx, ds[0].Receipt) })
		timed("Stats", func() error { _, err := q.Stats(ctx); return err })
	}
	c.mu.Lock()
	c.rtt = slowest
	c.mu.Unlock()
	t.Logf("the slowest call took %v: windows of %v", slowest, c.window())
}

// window is how long a check lets a lease run or a retry wait.
func (c *clock) window() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return max(minWindow, windowTrips*c.rtt)
}

// timed counts the check f as one that depends on time.
func (c *clock) timed(f func(*testing.T, context.Context, storage.Queue)) func(*testing.T, context.Context, storage.Queue) {
	return func(t *testing.T, ctx context.Context, q storage.Queue) {
		c.mu.Lock()
		c.ran++
		c.mu.Unlock()
		f(t, ctx, q)
	}
}

// check fails when every check that depends on time skipped: then none
// of them checked anything.
func (c *clock) check(t *testing.T) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ran > 0 && c.skipped == c.ran {
		t.Errorf("all %d checks that depend on time ran past their windows, scaled to a round trip of %v: they checked nothing", c.ran, c.rtt)
	}
}

// tooLate skips a check that failed after its deadline, when the time it
// relies on had passed and the failure means nothing, and fails it
// otherwise.
func (c *clock) tooLate(t *testing.T, deadline time.Time, format string, args ...any) {
	t.Helper()
	if !time.Now().Before(deadline) {
		c.mu.Lock()
		c.skipped++
		c.mu.Unlock()
		t.Skipf("inconclusive, this machine is too busy: the check ran past its %v window: "+format, append([]any{c.window()}, args...)...)
	}
	t.Fatalf(format, args...)
}

// leaseNone checks that nothing can be leased before deadline.
func (c *clock) leaseNone(t *testing.T, ctx context.Context, q storage.Queue, deadline time.Time) {
	t.Helper()
	if ds := lease(t, ctx, q, 10, time.Minute); len(ds) != 0 {
		c.tooLate(t, deadline, "Lease = %d deliveries (the first %s), want none before %v", len(ds), ds[0].Activity, deadline)
	}
}

// statsBefore checks the stats while deadline has not passed.
func (c *clock) statsBefore(t *testing.T, ctx context.Context, q storage.Queue, want storage.QueueStats, deadline time.Time) {
	t.Helper()
	st, err := q.Stats(ctx)
	must(t, err, "Stats")
	st.OldestAge = 0
	if st != want {
		c.tooLate(t, deadline, "Stats = %+v, want %+v", st, want)
	}
}

func (c *clock) queueNotBefore(t *testing.T, ctx context.Context, q storage.Queue) {
	inbox := iri(t, "inbox")
	later := delivery(t, inbox, 1, "")
	later.NotBefore = time.Now().Add(c.window())
	now := delivery(t, inbox, 2, "")
	must(t, q.Enqueue(ctx, later, now), "Enqueue")
	ds := lease(t, ctx, q, 10, time.Minute)
	if len(ds) != 1 || ds[0].Activity != now.Activity {
		c.tooLate(t, later.NotBefore, "Lease = %d deliveries, want only the one due now", len(ds))
	}
	must(t, q.Ack(ctx, ds[0].Receipt), "Ack")
	c.statsBefore(t, ctx, q, storage.QueueStats{Scheduled: 1}, later.NotBefore)
	time.Sleep(time.Until(later.NotBefore) + 50*time.Millisecond)
	ds = leaseIs(t, ctx, q, 10, time.Minute, later.Activity)
	near(t, ds[0].NotBefore, later.NotBefore, time.Millisecond, "NotBefore")
}

// queueLeaseExpiry is the crashed worker: its lease runs out, another
// worker takes the delivery, and the first worker's receipt is dead.
func (c *clock) queueLeaseExpiry(t *testing.T, ctx context.Context, q storage.Queue) {
	d := delivery(t, iri(t, "inbox"), 1, "")
	must(t, q.Enqueue(ctx, d), "Enqueue")
	first := leaseIs(t, ctx, q, 10, c.window(), d.Activity)[0]
	c.statsBefore(t, ctx, q, storage.QueueStats{Leased: 1}, first.LeaseExpires)
	c.leaseNone(t, ctx, q, first.LeaseExpires)
	time.Sleep(time.Until(first.LeaseExpires) + 100*time.Millisecond)
	statsAre(t, ctx, q, storage.QueueStats{Ready: 1})
	second := leaseIs(t, ctx, q, 10, time.Minute, d.Activity)[0]
	if second.ID != first.ID || second.Receipt == first.Receipt {
		t.Fatalf("re-lease: ID %q receipt %q; first lease: ID %q receipt %q; want the same ID and a new receipt", second.ID, second.Receipt, first.ID, first.Receipt)
	}
	mustErr(t, q.Ack(ctx, first.Receipt), storage.ErrConflict, "Ack of a lease taken over")
	mustErr(t, q.Retry(ctx, first.Receipt, time.Now(), "late"), storage.ErrConflict, "Retry of a lease taken over")
	mustErr(t, q.GiveUp(ctx, first.Receipt, "late"), storage.ErrConflict, "GiveUp of a lease taken over")
	must(t, q.Ack(ctx, second.Receipt), "Ack of the new lease")
	statsAre(t, ctx, q, storage.QueueStats{})
}

func (c *clock) queueRetry(t *testing.T, ctx context.Context, q storage.Queue) {
	d := delivery(t, iri(t, "inbox"), 1, "")
	must(t, q.Enqueue(ctx, d), "Enqueue")
	first := lease(t, ctx, q, 1, time.Minute)[0]
	at := time.Now().Add(c.window())
	must(t, q.Retry(ctx, first.Receipt, at, "HTTP 503"), "Retry")
	mustErr(t, q.Ack(ctx, first.Receipt), storage.ErrConflict, "Ack after Retry ended the lease")
	c.statsBefore(t, ctx, q, storage.QueueStats{Scheduled: 1}, at)
	c.leaseNone(t, ctx, q, at)
	time.Sleep(time.Until(at) + 50*time.Millisecond)
	second := leaseIs(t, ctx, q, 10, time.Minute, d.Activity)[0]
	if second.Attempts != 1 || second.LastError != "HTTP 503" {
		t.Fatalf("after Retry: Attempts %d, LastError %q; want 1, %q", second.Attempts, second.LastError, "HTTP 503")
	}
	near(t, second.NotBefore, at, time.Millisecond, "NotBefore after Retry")
	must(t, q.Retry(ctx, second.Receipt, time.Now().Add(-time.Second), "HTTP 429"), "Retry in the past")
	third := leaseIs(t, ctx, q, 10, time.Minute, d.Activity)[0]
	if third.Attempts != 2 || third.LastError != "HTTP 429" {
		t.Fatalf("after two Retries: Attempts %d, LastError %q", third.Attempts, third.LastError)
	}
	must(t, q.Ack(ctx, third.Receipt), "Ack")
}

// queueOrderingWaits checks that the deliveries after one in its chain
// wait for its retry, and for its lease to expire when its worker
// crashed, and go once that time has passed.
func (c *clock) queueOrderingWaits(t *testing.T, ctx context.Context, q storage.Queue) {
	inbox, note := iri(t, "inbox"), iri(t, "notes/1")
	create, update, del := delivery(t, inbox, 1, note), delivery(t, inbox, 2, note), delivery(t, inbox, 3, note)
	must(t, q.Enqueue(ctx, create, update, del), "Enqueue")
	ds := leaseIs(t, ctx, q, 10, time.Minute, create.Activity)
	// The Create fails and waits: everything after it waits too.
	at := time.Now().Add(c.window())
	must(t, q.Retry(ctx, ds[0].Receipt, at, "HTTP 503"), "Retry")
	c.leaseNone(t, ctx, q, at)
	time.Sleep(time.Until(at) + 50*time.Millisecond)
	ds = leaseIs(t, ctx, q, 10, time.Minute, create.Activity)
	must(t, q.Ack(ctx, ds[0].Receipt), "Ack create")
	// A crashed worker holding the Update keeps holding the Delete back
	// until its lease expires.
	ds = leaseIs(t, ctx, q, 10, c.window(), update.Activity)
	c.leaseNone(t, ctx, q, ds[0].LeaseExpires)
	time.Sleep(time.Until(ds[0].LeaseExpires) + 50*time.Millisecond)
	ds = leaseIs(t, ctx, q, 10, time.Minute, update.Activity)
	must(t, q.Ack(ctx, ds[0].Receipt), "Ack update")
	ds = leaseIs(t, ctx, q, 10, time.Minute, del.Activity)
	must(t, q.Ack(ctx, ds[0].Receipt), "Ack delete")
}
