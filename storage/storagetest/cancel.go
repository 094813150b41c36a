package storagetest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/fedi-go/fedi/storage"
)

// midCall is a write that cancelMidCall cancels while it runs.
type midCall struct {
	// setup, when set, prepares call key outside the cancelled context.
	setup func(ctx context.Context, key string) error
	// call makes the write whose keys are key's alone.
	call func(ctx context.Context, key string) error
	// happened reports whether call key took effect.
	happened func(ctx context.Context, key string) (bool, error)
}

// Bounds of cancelMidCall, so that a slow store costs time, not failures.
const (
	midCallMax    = 500
	midCallBudget = time.Second
)

// cancelMidCall makes call after call with a context cancelled at a
// random moment of it: before it starts, while it runs, or after it
// ended. A call that reports the cancellation must have had no effect,
// and one that reports success must have had it. A store that reported a
// committed write as cancelled would lose it: the inbox answers an error,
// the peer retries, and dedupe drops the retry as a duplicate.
func cancelMidCall(t *testing.T, ctx context.Context, c midCall) {
	t.Helper()
	setup := func(key string) {
		if c.setup != nil {
			must(t, c.setup(ctx, key), "setup of call "+key)
		}
	}
	// A call's round trip, to cancel within it.
	const calibration = 20
	var rtt time.Duration
	for i := range calibration {
		key := fmt.Sprint("calibration-", i)
		setup(key)
		start := time.Now()
		must(t, c.call(ctx, key), "call "+key)
		rtt += time.Since(start)
		if ok, err := c.happened(ctx, key); err != nil || !ok {
			t.Fatalf("call %s succeeded; its effect: %v, %v", key, ok, err)
		}
	}
	rtt /= calibration

	var calls, cancelled int
	for deadline := time.Now().Add(midCallBudget); calls < midCallMax && time.Now().Before(deadline); calls++ {
		key := fmt.Sprint(calls)
		setup(key)
		cctx, cancel := context.WithCancel(ctx)
		timer := time.AfterFunc(time.Duration(rand.Int64N(int64(rtt)*3/2+1)), cancel)
		err := c.call(cctx, key)
		timer.Stop()
		cancel()
		ok, herr := c.happened(ctx, key)
		must(t, herr, "checking the effect of call "+key)
		switch {
		case err == nil && !ok:
			t.Fatalf("call %s reported success and had no effect", key)
		case err == nil:
		case !errors.Is(err, context.Canceled):
			t.Fatalf("call %s, its context cancelled: %v, want an error wrapping context.Canceled", key, err)
		case ok:
			t.Fatalf("call %s reported %q, yet took effect: a caller told it failed will do it again, or give up on what was done", key, err)
		default:
			cancelled++
		}
	}
	t.Logf("%d calls of about %v each, %d of them cancelled before they took effect", calls, rtt, cancelled)
}

func objectsCancelledMidCall(t *testing.T, ctx context.Context, s storage.Objects) {
	cancelMidCall(t, ctx, midCall{
		call: func(ctx context.Context, key string) error {
			id := iri(t, "notes/"+key)
			return s.Put(ctx, storage.Object{IRI: id, Type: "Note", Data: doc("Note", id)})
		},
		happened: func(ctx context.Context, key string) (bool, error) {
			_, err := s.Get(ctx, iri(t, "notes/"+key))
			if errors.Is(err, storage.ErrNotFound) {
				return false, nil
			}
			return err == nil, err
		},
	})
}

func collectionsCancelledMidCall(t *testing.T, ctx context.Context, s storage.Collections) {
	coll := iri(t, "followers")
	cancelMidCall(t, ctx, midCall{
		call: func(ctx context.Context, key string) error {
			return s.Add(ctx, coll, storage.Member{IRI: iri(t, "actors/"+key)})
		},
		happened: func(ctx context.Context, key string) (bool, error) {
			_, err := s.Contains(ctx, coll, iri(t, "actors/"+key))
			if errors.Is(err, storage.ErrNotFound) {
				return false, nil
			}
			return err == nil, err
		},
	})
}

func dedupeCancelledMidCall(t *testing.T, ctx context.Context, s storage.Dedupe) {
	alice := iri(t, "alice")
	cancelMidCall(t, ctx, midCall{
		call: func(ctx context.Context, key string) error {
			first, err := s.Record(ctx, iri(t, "activities/"+key), alice)
			if err == nil && !first {
				return fmt.Errorf("the first Record of %s was not first", key)
			}
			return err
		},
		happened: func(ctx context.Context, key string) (bool, error) {
			first, err := s.Record(ctx, iri(t, "activities/"+key), alice)
			return !first, err
		},
	})
}

func queueEnqueueCancelledMidCall(t *testing.T, ctx context.Context, q storage.Queue) {
	inbox := iri(t, "inbox")
	act := func(key string) string { return iri(t, "activities/"+key) }
	cancelMidCall(t, ctx, midCall{
		call: func(ctx context.Context, key string) error {
			return q.Enqueue(ctx, storage.Delivery{Activity: act(key), Inbox: inbox, Body: doc("Create", act(key))})
		},
		happened: func(ctx context.Context, key string) (bool, error) {
			ds, err := q.Lease(ctx, 10, time.Minute)
			if err != nil || len(ds) == 0 {
				return false, err
			}
			if len(ds) > 1 || ds[0].Activity != act(key) {
				return false, fmt.Errorf("Lease returned %d deliveries, the first %s; want only %s", len(ds), ds[0].Activity, act(key))
			}
			return true, q.Ack(ctx, ds[0].Receipt)
		},
	})
}

func queueAckCancelledMidCall(t *testing.T, ctx context.Context, q storage.Queue) {
	inbox := iri(t, "inbox")
	receipts := map[string]string{}
	cancelMidCall(t, ctx, midCall{
		setup: func(ctx context.Context, key string) error {
			act := iri(t, "activities/"+key)
			if err := q.Enqueue(ctx, storage.Delivery{Activity: act, Inbox: inbox, Body: doc("Create", act)}); err != nil {
				return err
			}
			ds, err := q.Lease(ctx, 10, time.Minute)
			if err == nil && len(ds) != 1 {
				err = fmt.Errorf("Lease returned %d deliveries, want the one enqueued", len(ds))
			}
			if err != nil {
				return err
			}
			receipts[key] = ds[0].Receipt
			return nil
		},
		call: func(ctx context.Context, key string) error {
			return q.Ack(ctx, receipts[key])
		},
		happened: func(ctx context.Context, key string) (bool, error) {
			// Acking again succeeds only if the first Ack did not.
			err := q.Ack(ctx, receipts[key])
			if errors.Is(err, storage.ErrNotFound) {
				return true, nil
			}
			return false, err
		},
	})
}
