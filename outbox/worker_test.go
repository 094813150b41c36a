package outbox_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	ap "github.com/go-ap/activitypub"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fedi-go/fedi/outbox"
	"github.com/fedi-go/fedi/storage"
)

// TestWorkerOutcomes: what the worker does with each answer of an inbox.
func TestWorkerOutcomes(t *testing.T) {
	tests := []struct {
		status    int
		posts     int // POSTs made: 400, 401 and 403 are knocked at twice, once per signature scheme
		kinds     []outbox.EventKind
		scheduled int64 // retried later
		dead      int64 // given up on
		gone      bool  // the actor is marked gone
	}{
		{200, 1, []outbox.EventKind{outbox.Expanded, outbox.Delivered}, 0, 0, false},
		{202, 1, []outbox.EventKind{outbox.Expanded, outbox.Delivered}, 0, 0, false},
		{204, 1, []outbox.EventKind{outbox.Expanded, outbox.Delivered}, 0, 0, false},
		{410, 1, []outbox.EventKind{outbox.Expanded, outbox.Failed, outbox.Gone}, 0, 1, true},
		{403, 2, []outbox.EventKind{outbox.Expanded, outbox.Failed}, 0, 1, false},
		{401, 2, []outbox.EventKind{outbox.Expanded, outbox.Failed}, 0, 1, false},
		{400, 2, []outbox.EventKind{outbox.Expanded, outbox.Failed}, 0, 1, false},
		{404, 1, []outbox.EventKind{outbox.Expanded, outbox.Failed}, 0, 1, false},
		{422, 1, []outbox.EventKind{outbox.Expanded, outbox.Failed}, 0, 1, false},
		{500, 1, []outbox.EventKind{outbox.Expanded, outbox.Retried}, 1, 0, false},
		{502, 1, []outbox.EventKind{outbox.Expanded, outbox.Retried}, 1, 0, false},
		{503, 1, []outbox.EventKind{outbox.Expanded, outbox.Retried}, 1, 0, false},
		{408, 1, []outbox.EventKind{outbox.Expanded, outbox.Retried}, 1, 0, false},
		{429, 1, []outbox.EventKind{outbox.Expanded, outbox.Retried}, 1, 0, false},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.status), func(t *testing.T) {
			e := newEnv(t)
			alice := e.user("alice")
			p := newPeer(t)
			p.setRespond(func(post) (int, http.Header) { return tt.status, nil })
			bob := p.actor("bob", false)
			require.NoError(t, e.mem.Actors.Put(e.ctx, storage.RemoteActor{IRI: bob, Inbox: bob + "/inbox", Fetched: time.Now()}))
			ev := &events{}
			id := e.send(note(alice, ap.IRI(bob)))
			e.drain(e.worker(outbox.WorkerOptions{Observe: ev.observe}))

			assert.Len(t, p.posts(), tt.posts)
			assert.Equal(t, tt.kinds, ev.kinds())
			s := e.stats()
			assert.Equal(t, tt.scheduled, s.Scheduled, "retried")
			assert.Equal(t, tt.dead, s.Dead, "dead letters")
			assert.Equal(t, int64(0), s.Ready+s.Leased)
			for _, k := range []outbox.EventKind{outbox.Delivered, outbox.Retried, outbox.Failed, outbox.Gone} {
				for _, got := range ev.of(k) {
					assert.Equal(t, id, got.Activity)
					assert.Equal(t, bob+"/inbox", got.Inbox)
					assert.Equal(t, tt.status, got.Status)
					assert.Equal(t, 1, got.Attempt)
					if k == outbox.Retried || k == outbox.Failed {
						assert.Error(t, got.Err, k.String())
					}
					if k != outbox.Failed {
						assert.Positive(t, got.Latency, k.String())
					}
				}
			}
			if d := e.dead(); tt.dead > 0 && assert.Len(t, d, 1) {
				assert.Equal(t, bob+"/inbox", d[0].Inbox)
				assert.Contains(t, d[0].LastError, strconv.Itoa(tt.status))
			}
			ra, err := e.mem.Actors.Get(e.ctx, bob)
			require.NoError(t, err)
			assert.Equal(t, tt.gone, !ra.Gone.IsZero(), "gone")
		})
	}
}

// TestWorkerHonoursRetryAfter: the wait before a retry is the backoff's,
// or what Retry-After asks when that is longer, in seconds or as a date.
func TestWorkerHonoursRetryAfter(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		retryAfter func() string
		backoff    time.Duration
		want       time.Duration
	}{
		{"429 with seconds", 429, func() string { return "120" }, time.Second, 120 * time.Second},
		{"503 with seconds", 503, func() string { return "600" }, time.Second, 600 * time.Second},
		{"429 with a date", 429, func() string { return time.Now().Add(300 * time.Second).UTC().Format(http.TimeFormat) }, time.Second, 300 * time.Second},
		{"a date in the past", 503, func() string { return time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat) }, time.Second, time.Second},
		{"shorter than the backoff", 429, func() string { return "5" }, time.Hour, time.Hour},
		{"garbage", 429, func() string { return "soon" }, 2 * time.Second, 2 * time.Second},
		{"none", 500, func() string { return "" }, 3 * time.Second, 3 * time.Second},
		{"more than a day", 429, func() string { return "864000" }, time.Second, 24 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var q *spyQueue
			e := newEnv(t, withStore(func(st storage.Store) storage.Store {
				q = &spyQueue{Queue: st.Queue}
				st.Queue = q
				return st
			}))
			alice := e.user("alice")
			p := newPeer(t)
			p.setRespond(func(post) (int, http.Header) {
				h := http.Header{}
				if v := tt.retryAfter(); v != "" {
					h.Set("Retry-After", v)
				}
				return tt.status, h
			})
			bob := p.actor("bob", false)
			e.send(note(alice, ap.IRI(bob)))
			e.drain(e.worker(outbox.WorkerOptions{Retry: outbox.RetryPolicy{Backoff: func(int) time.Duration { return tt.backoff }}}))

			calls := q.retryCalls()
			require.Len(t, calls, 1)
			assert.InDelta(t, tt.want.Seconds(), calls[0].At.Sub(calls[0].Called).Seconds(), 3)
			assert.Contains(t, calls[0].Err, strconv.Itoa(tt.status))
			assert.Equal(t, int64(1), e.stats().Scheduled)
		})
	}
}

func TestWorkerRetriesNetworkErrors(t *testing.T) {
	e := newEnv(t)
	alice := e.user("alice")
	// A port nothing listens on any more.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := "http://" + l.Addr().String()
	require.NoError(t, l.Close())
	bob := closed + "/users/bob"
	e.cache(bob, bob+"/inbox", "")
	ev := &events{}
	e.send(note(alice, ap.IRI(bob)))
	e.drain(e.worker(outbox.WorkerOptions{Observe: ev.observe}))

	r := ev.of(outbox.Retried)
	require.Len(t, r, 1)
	assert.Equal(t, 0, r[0].Status)
	assert.Error(t, r[0].Err)
	assert.Equal(t, int64(1), e.stats().Scheduled)
}

func TestWorkerGivesUpAfterMaxAttempts(t *testing.T) {
	e := newEnv(t)
	alice := e.user("alice")
	p := newPeer(t)
	p.setRespond(func(post) (int, http.Header) { return 500, nil })
	bob := p.actor("bob", false)
	ev := &events{}
	e.send(note(alice, ap.IRI(bob)))
	w := e.worker(outbox.WorkerOptions{Observe: ev.observe,
		Retry: outbox.RetryPolicy{MaxAttempts: 3, Backoff: func(int) time.Duration { return 0 }}})
	e.drain(w)
	stats, err := w.Stats(e.ctx)
	require.NoError(t, err)
	assert.Equal(t, storage.QueueStats{Dead: 1}, stats, "the queue's depth, for monitoring")
	hosts := w.Hosts()
	require.Len(t, hosts, 1)
	assert.Equal(t, int64(3), hosts[0].Failures)
	assert.Contains(t, hosts[0].LastError, "500")

	assert.Len(t, p.posts(), 3, "three attempts")
	assert.Equal(t, []outbox.EventKind{outbox.Expanded, outbox.Retried, outbox.Retried, outbox.Failed}, ev.kinds())
	f := ev.of(outbox.Failed)
	assert.Equal(t, 3, f[0].Attempt)
	d := e.dead()
	require.Len(t, d, 1)
	assert.Equal(t, 3, d[0].Attempts)
	assert.Contains(t, d[0].LastError, "3 attempts")
}

func TestMastodonBackoff(t *testing.T) {
	total := time.Duration(0)
	for attempt := 1; attempt < outbox.DefaultMaxAttempts; attempt++ {
		d := outbox.MastodonBackoff(attempt)
		n := time.Duration(attempt)
		low := (n*n*n*n + 15) * time.Second
		assert.GreaterOrEqual(t, d, low, "attempt %d", attempt)
		assert.LessOrEqual(t, d, low+30*(n+1)*time.Second, "attempt %d", attempt)
		total += d
	}
	assert.Greater(t, total, 36*time.Hour, "16 attempts span days")
	assert.Less(t, total, 4*24*time.Hour)
}

// TestWorkerGivesUpAfterMaxLeases: a delivery whose workers keep dying
// with it is given up on rather than leased forever.
func TestWorkerGivesUpAfterMaxLeases(t *testing.T) {
	e := newEnv(t)
	alice := e.user("alice")
	p := newPeer(t)
	bob := p.actor("bob", false)
	e.cache(bob, bob+"/inbox", "")
	ev := &events{}
	w := e.worker(outbox.WorkerOptions{Observe: ev.observe, MaxLeases: 2})
	e.send(note(alice, ap.IRI(bob)))
	n, err := w.RunOnce(e.ctx, 1) // the fan-out
	require.NoError(t, err)
	require.Equal(t, 1, n)
	for range 2 { // two workers take the delivery and die with it
		ds, err := e.mem.Queue.Lease(e.ctx, 1, 10*time.Millisecond)
		require.NoError(t, err)
		require.Len(t, ds, 1)
		time.Sleep(20 * time.Millisecond)
	}
	e.drain(w)
	assert.Empty(t, p.posts(), "it is not attempted again")
	d := e.dead()
	require.Len(t, d, 1)
	assert.Contains(t, d[0].LastError, "leased 3 times")
	assert.Equal(t, []outbox.EventKind{outbox.Expanded, outbox.Failed}, ev.kinds())
}

// TestWorkerPerHostLimit: a slow host never has more deliveries in
// flight than PerHost, however many the worker could make at once.
func TestWorkerPerHostLimit(t *testing.T) {
	e := newEnv(t)
	alice := e.user("alice")
	slow, other := newPeer(t), newPeer(t)
	slow.setDelay(100 * time.Millisecond)
	other.setDelay(100 * time.Millisecond)
	var to []ap.IRI
	for i := range 8 {
		to = append(to, ap.IRI(slow.actor(fmt.Sprintf("s%d", i), false)), ap.IRI(other.actor(fmt.Sprintf("o%d", i), false)))
	}
	e.send(note(alice, to...))
	e.drain(e.worker(outbox.WorkerOptions{Concurrency: 8, PerHost: 2}))

	assert.Len(t, slow.posts(), 8)
	assert.Len(t, other.posts(), 8)
	assert.Equal(t, int32(2), slow.peak.Load(), "at most two at a time at one host, and two at once")
	assert.Equal(t, int32(2), other.peak.Load())
}

// TestWorkerGivesUpWithoutAKey: an actor without a key to sign with is a
// permanent failure, not one to retry for days.
func TestWorkerGivesUpWithoutAKey(t *testing.T) {
	e := newEnv(t)
	alice := e.user("alice")
	p := newPeer(t)
	bob := p.actor("bob", false)
	require.NoError(t, e.mem.Keys.(storage.KeyStore).DeleteKey(e.ctx, alice+"#main-key"))
	e.send(note(alice, ap.IRI(bob)))
	e.drain(e.worker(outbox.WorkerOptions{}))
	assert.Empty(t, p.posts())
	d := e.dead()
	require.Len(t, d, 1)
	assert.Contains(t, d[0].LastError, "no key")
}

func TestWorkerRunStopsWithItsContext(t *testing.T) {
	e := newEnv(t)
	alice := e.user("alice")
	p := newPeer(t)
	bob := p.actor("bob", false)
	w := e.worker(outbox.WorkerOptions{Poll: 10 * time.Millisecond})
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	e.send(note(alice, ap.IRI(bob)))
	require.Eventually(t, func() bool { return len(p.posts()) == 1 }, 10*time.Second, 5*time.Millisecond,
		"a Send wakes the running worker")
	cancel()
	select {
	case err := <-done:
		assert.True(t, errors.Is(err, context.Canceled), "%v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return")
	}
	require.Eventually(t, func() bool { return e.depth() == 0 }, 5*time.Second, 5*time.Millisecond, "the delivery was acked")
}

func TestNewWorkerValidates(t *testing.T) {
	e := newEnv(t)
	_, err := outbox.NewWorker(e.out, outbox.WorkerOptions{})
	assert.Error(t, err, "no client")
	_, err = outbox.NewWorker(nil, outbox.WorkerOptions{Client: e.client})
	assert.Error(t, err, "no outbox")
	_, err = outbox.NewWorker(e.out, outbox.WorkerOptions{Client: e.client, PerHost: -1})
	assert.Error(t, err, "negative limit")
}

func TestEventKindString(t *testing.T) {
	names := []string{}
	for k := outbox.Delivered; k <= outbox.Expanded+1; k++ {
		names = append(names, k.String())
	}
	assert.Equal(t, "delivered retried failed gone expanded EventKind(5)", strings.Join(names, " "))
}

// TestWorkerRunLetsGoOfStaleLeases: Run leases deliveries ahead of its
// free slots; one that waited for a slot until half its lease was gone
// is let go, to be leased again, rather than attempted so late that its
// lease ends mid-attempt and it is leased, and delivered, a second time.
func TestWorkerRunLetsGoOfStaleLeases(t *testing.T) {
	e := newEnv(t)
	alice := e.user("alice")
	p := newPeer(t)
	p.setDelay(1200 * time.Millisecond)
	var to []ap.IRI
	for i := range 3 {
		to = append(to, ap.IRI(p.actor(fmt.Sprintf("r%d", i), false)))
	}
	e.send(note(alice, to...))
	n, err := e.worker(outbox.WorkerOptions{}).RunOnce(e.ctx, 1) // the fan-out, expanded into three deliveries
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.Empty(t, p.posts())
	require.Equal(t, int64(3), e.stats().Ready)

	// Two slots: the third delivery, leased with the first two, waits
	// 1.2 s for a slot, when 0.8 s of its 2 s lease are left.
	w := e.worker(outbox.WorkerOptions{Concurrency: 2, Visibility: 2 * time.Second, Poll: 10 * time.Millisecond})
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	require.Eventually(t, func() bool { return e.depth() == 0 }, 20*time.Second, 10*time.Millisecond, "everything delivered")
	cancel()
	<-done
	got := countByPath(p.posts())
	assert.Equal(t, map[string]int{"/users/r0/inbox": 1, "/users/r1/inbox": 1, "/users/r2/inbox": 1}, got, "each delivered once")
}
