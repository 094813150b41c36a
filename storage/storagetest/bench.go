package storagetest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fedi-go/fedi/storage"
)

// Benchmark measures the operations whose speed bounds a server: dedupe
// inserts, object puts and gets, enqueues, and leases with acks by 1 and
// 8 concurrent workers. newStore is called once per benchmark (not per
// b.N) and must return an empty store. Each reports its throughput as
// ops/s (deliveries/s for the queue) next to ns/op. LeaseAck acks each
// leased batch with one call, LeaseAckEach each delivery with its own, and
// LeaseAckKeyed is LeaseAck with ordering keys, as an outbox enqueues a
// fan-out: one key, the object's id, per 50 deliveries to 50 inboxes. Tx
// is BenchmarkTx.
func Benchmark(b *testing.B, newStore func(b *testing.B) storage.Store) {
	b.Run("Dedupe/Record", func(b *testing.B) { benchDedupe(b, newStore(b).Dedupe) })
	b.Run("Objects/Put", func(b *testing.B) { benchPut(b, newStore(b).Objects) })
	b.Run("Objects/Get", func(b *testing.B) { benchGet(b, newStore(b).Objects) })
	b.Run("Queue", func(b *testing.B) {
		b.Run("Enqueue", func(b *testing.B) { benchEnqueue(b, newStore(b).Queue, 1) })
		b.Run("Enqueue100", func(b *testing.B) { benchEnqueue(b, newStore(b).Queue, 100) })
		BenchmarkLeaseAck(b, func(b *testing.B) storage.Queue { return newStore(b).Queue })
	})
	b.Run("Tx", func(b *testing.B) { BenchmarkTx(b, newStore) })
}

// BenchmarkTx measures the writes of a busy inbox: 16 goroutines at once
// each record an activity, put its 2 KB object and add it to a
// collection, either in one transaction (InTx, skipped when the store has
// no Tx) or as three writes of their own (Separate), in the same run.
// Each reports ops/s, an op being the three writes. newStore is called
// once per benchmark and must return an empty store.
func BenchmarkTx(b *testing.B, newStore func(b *testing.B) storage.Store) {
	b.Run("InTx", func(b *testing.B) {
		st := newStore(b)
		if st.Tx == nil {
			b.Skip("Store.Tx is nil")
		}
		benchInbox(b, st, true)
	})
	b.Run("Separate", func(b *testing.B) { benchInbox(b, newStore(b), false) })
}

func benchInbox(b *testing.B, st storage.Store, grouped bool) {
	const workers = 16
	ctx := context.Background()
	const recipient, sender = "https://example.test/users/alice", "https://remote.example/users/bob"
	var (
		next atomic.Int64
		wg   sync.WaitGroup
		errs = make(chan error, workers)
	)
	b.SetBytes(int64(len(benchDoc)))
	b.ResetTimer()
	for range workers {
		wg.Go(func() {
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				act := fmt.Sprintf("https://remote.example/activities/%d", i)
				note := fmt.Sprintf("https://remote.example/notes/%d", i)
				write := func(ctx context.Context, s storage.Store) error {
					first, err := s.Dedupe.Record(ctx, act, recipient)
					if err != nil || !first {
						return fmt.Errorf("Record = %v, %v", first, err)
					}
					if err := s.Objects.Put(ctx, storage.Object{IRI: note, Type: "Note", Owner: sender, Data: benchDoc}); err != nil {
						return err
					}
					return s.Collections.Add(ctx, recipient+"/inbox", storage.Member{IRI: act})
				}
				var err error
				if grouped {
					err = st.Tx.InTx(ctx, write)
				} else {
					err = write(ctx, st)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	perSecond(b, b.N, "ops")
}

// BenchmarkLeaseAck measures a queue's lease+ack throughput alone, with
// 1 and 8 workers, as Benchmark does, so that an adapter can run it as
// its own benchmark. newQueue is called once per benchmark and must
// return an empty queue.
func BenchmarkLeaseAck(b *testing.B, newQueue func(b *testing.B) storage.Queue) {
	for _, workers := range []int{1, 8} {
		b.Run(fmt.Sprintf("LeaseAck/workers=%d", workers), func(b *testing.B) {
			benchLeaseAck(b, newQueue(b), workers, true, false)
		})
		b.Run(fmt.Sprintf("LeaseAckKeyed/workers=%d", workers), func(b *testing.B) {
			benchLeaseAck(b, newQueue(b), workers, true, true)
		})
		b.Run(fmt.Sprintf("LeaseAckEach/workers=%d", workers), func(b *testing.B) {
			benchLeaseAck(b, newQueue(b), workers, false, false)
		})
	}
}

// perSecond reports n operations over the benchmark's elapsed time.
func perSecond(b *testing.B, n int, unit string) {
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(float64(n)/s, unit+"/s")
	}
}

// benchDoc is a 2 KB document, the size of a typical Create{Note}.
var benchDoc = bigDoc("https://example.test/notes/1", 2048)

func benchDedupe(b *testing.B, s storage.Dedupe) {
	ctx := context.Background()
	recipient := "https://example.test/users/alice"
	b.ResetTimer()
	for i := range b.N {
		first, err := s.Record(ctx, fmt.Sprintf("https://remote.example/activities/%d", i), recipient)
		if err != nil || !first {
			b.Fatalf("Record = %v, %v", first, err)
		}
	}
	perSecond(b, b.N, "records")
}

func benchPut(b *testing.B, s storage.Objects) {
	ctx := context.Background()
	owner := "https://example.test/users/alice"
	b.SetBytes(int64(len(benchDoc)))
	b.ResetTimer()
	for i := range b.N {
		id := fmt.Sprintf("https://example.test/notes/%d", i)
		if err := s.Put(ctx, storage.Object{IRI: id, Type: "Note", Owner: owner, Data: benchDoc}); err != nil {
			b.Fatal(err)
		}
	}
	perSecond(b, b.N, "puts")
}

func benchGet(b *testing.B, s storage.Objects) {
	ctx := context.Background()
	const n = 1000
	for i := range n {
		id := fmt.Sprintf("https://example.test/notes/%d", i)
		if err := s.Put(ctx, storage.Object{IRI: id, Type: "Note", Data: benchDoc}); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(benchDoc)))
	b.ResetTimer()
	for i := range b.N {
		if _, err := s.Get(ctx, fmt.Sprintf("https://example.test/notes/%d", i%n)); err != nil {
			b.Fatal(err)
		}
	}
	perSecond(b, b.N, "gets")
}

// benchDeliveries returns deliveries from to from+n-1, to 50 inboxes in
// turn, each 50 with one ordering key when keyed.
func benchDeliveries(from, n int, keyed bool) []storage.Delivery {
	ds := make([]storage.Delivery, n)
	for i := range ds {
		ds[i] = storage.Delivery{
			Activity: fmt.Sprintf("https://example.test/activities/%d", from+i),
			Inbox:    fmt.Sprintf("https://remote%d.example/inbox", (from+i)%50),
			Body:     benchDoc,
		}
		if keyed {
			ds[i].OrderingKey = fmt.Sprintf("https://example.test/notes/%d", (from+i)/50)
		}
	}
	return ds
}

func benchEnqueue(b *testing.B, q storage.Queue, batch int) {
	ctx := context.Background()
	ds := benchDeliveries(0, batch, false)
	b.ResetTimer()
	for range b.N {
		if err := q.Enqueue(ctx, ds...); err != nil {
			b.Fatal(err)
		}
	}
	perSecond(b, b.N*batch, "deliveries")
}

// benchLeaseAck fills the queue with b.N deliveries, untimed, with
// ordering keys or not, then has workers lease batches of 16 and ack
// them, the batch at once or each delivery on its own, until all are done.
func benchLeaseAck(b *testing.B, q storage.Queue, workers int, batch, keyed bool) {
	ctx := context.Background()
	const chunk = 1000
	for i := 0; i < b.N; i += chunk {
		if err := q.Enqueue(ctx, benchDeliveries(i, min(chunk, b.N-i), keyed)...); err != nil {
			b.Fatal(err)
		}
	}
	var (
		done atomic.Int64
		wg   sync.WaitGroup
		errs = make(chan error, workers)
	)
	b.ResetTimer()
	for range workers {
		wg.Go(func() {
			for done.Load() < int64(b.N) {
				ds, err := q.Lease(ctx, 16, time.Minute)
				if err != nil {
					errs <- err
					return
				}
				receipts := make([]string, len(ds))
				for i, d := range ds {
					receipts[i] = d.Receipt
					if !batch {
						err = q.Ack(ctx, d.Receipt)
					}
				}
				if batch {
					err = q.Ack(ctx, receipts...)
				}
				if err != nil {
					errs <- err
					return
				}
				done.Add(int64(len(ds)))
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	perSecond(b, b.N, "deliveries")
}
