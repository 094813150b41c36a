package bench

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	ap "github.com/go-ap/activitypub"

	"github.com/fedi-go/fedi"
	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/internal/fedtest"
	"github.com/fedi-go/fedi/outbox"
	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/vocab"
)

// BenchmarkFanout sends one Create to followers spread over 1,000 hosts
// with shared inboxes (recording servers on 127.0.0.1) and reports the
// drain time, deliveries/s and the peak heap, beside the floor: RSA-2048
// signatures/s on as many goroutines, in the same run. It runs with
// 2,000 and 10,000 followers: the same 1,000 deliveries, so the peak
// heap shows whether memory grows with the followers.
func BenchmarkFanout(b *testing.B) {
	const hosts = 1000
	floor := signFloor(b)
	b.Run("sign+post", func(b *testing.B) {
		rate := signPostFloor(b, hosts)
		b.ReportMetric(rate, "deliveries/s")
		b.ReportMetric(rate/floor, "of-sign-floor")
		fmt.Fprintf(os.Stderr, "fan-out: a bare signed POST to each of %d hosts: %.0f/s, %.2f of the signing floor (%.0f/s)\n", hosts, rate, rate/floor, floor)
	})
	for _, followers := range []int{2000, 10000} {
		b.Run(fmt.Sprintf("followers=%d", followers), func(b *testing.B) {
			// One fan-out whatever b.N is: it is the unit measured, and
			// its figures are reported as metrics.
			{
				r := fanout(b, hosts, followers)
				rate := float64(hosts) / r.drain.Seconds()
				b.ReportMetric(r.drain.Seconds(), "drain-s")
				b.ReportMetric(rate, "deliveries/s")
				b.ReportMetric(rate/floor, "of-sign-floor")
				b.ReportMetric(float64(r.peakHeap)/(1<<20), "peak-heap-MiB")
				fmt.Fprintf(os.Stderr, "fan-out: %d followers on %d hosts: drained in %v, %.0f deliveries/s, %.2f of the signing floor (%.0f/s), peak heap %.1f MiB\n",
					followers, hosts, r.drain.Round(time.Millisecond), rate, rate/floor, floor, float64(r.peakHeap)/(1<<20))
			}
		})
	}
}

// fanoutConcurrency is the deliveries a fan-out makes at once.
const fanoutConcurrency = 32

// signFloor measures RSA-2048 PKCS #1 v1.5 signatures per second on
// GOMAXPROCS goroutines.
func signFloor(b *testing.B) float64 {
	key := fedtest.Key(0)
	digest := sha256.Sum256([]byte("(request-target): post /inbox"))
	const n = 600
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= n {
				if _, err := key.Sign(rand.Reader, digest[:], crypto.SHA256); err != nil {
					b.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	return n / time.Since(start).Seconds()
}

// signPostFloor measures what a delivery costs at the least: an RSA-2048
// signature and a POST of a small body on a new connection to each of
// hosts recording servers on 127.0.0.1, as many at once as the fan-out's
// workers, with nothing else: no queue, no storage, no expansion.
func signPostFloor(b *testing.B, hosts int) float64 {
	var got atomic.Int64
	recorder := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		got.Add(1)
		w.WriteHeader(http.StatusAccepted)
	})
	urls := make([]string, hosts)
	for i := range urls {
		s := httptest.NewServer(recorder)
		defer s.Close()
		urls[i] = s.URL + "/inbox"
	}
	key := fedtest.Key(0)
	body := []byte(`{"type":"Create","object":{"type":"Note","content":"to every follower"}}`)
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range fanoutConcurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(hosts) {
					return
				}
				digest := sha256.Sum256(fmt.Appendf(nil, "(request-target): post /inbox\nhost: %s\ndate: %s", urls[i], time.Now().UTC().Format(http.TimeFormat)))
				sig, err := key.Sign(rand.Reader, digest[:], crypto.SHA256)
				if err != nil {
					b.Error(err)
					return
				}
				req, _ := http.NewRequest(http.MethodPost, urls[i], bytes.NewReader(body))
				req.Header.Set("Signature", base64.StdEncoding.EncodeToString(sig))
				resp, err := hc.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
	if got.Load() != int64(hosts) {
		b.Fatalf("%d of %d posts arrived", got.Load(), hosts)
	}
	return float64(hosts) / time.Since(start).Seconds()
}

type fanoutResult struct {
	drain    time.Duration
	peakHeap uint64
}

func fanout(b *testing.B, hosts, followers int) fanoutResult {
	b.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var got atomic.Int64
	var first, t0 atomic.Int64
	recorder := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if got.Add(1) == 1 {
			first.Store(time.Now().UnixNano() - t0.Load())
		}
		w.WriteHeader(http.StatusAccepted)
	})
	urls := make([]string, hosts)
	for i := range urls {
		s := httptest.NewServer(recorder)
		defer s.Close()
		urls[i] = s.URL
	}
	st := openSQLite(b)
	srv := fedtest.New(b, fedtest.Config{Store: st, Options: fedi.Options{Worker: outbox.WorkerOptions{Concurrency: fanoutConcurrency}}})
	star := srv.User(b, "star")
	coll := srv.Scheme.Collection(star.IRI, actor.Followers)
	now := time.Now()
	const batch = 500
	for i := 0; i < followers; i += batch {
		err := storage.InTx(ctx, st, func(ctx context.Context, tx storage.Store) error {
			for j := i; j < min(i+batch, followers); j++ {
				host := urls[j%hosts]
				iri := fmt.Sprintf("%s/users/f%d", host, j)
				if err := tx.Actors.Put(ctx, storage.RemoteActor{IRI: iri, Inbox: iri + "/inbox", SharedInbox: host + "/inbox", Fetched: now}); err != nil {
					return err
				}
				if err := tx.Collections.Add(ctx, coll, storage.Member{IRI: iri}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	var peak atomic.Uint64
	stop := make(chan struct{})
	var sampler sync.WaitGroup
	sampler.Add(1)
	go func() {
		defer sampler.Done()
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			if m.HeapAlloc > peak.Load() {
				peak.Store(m.HeapAlloc)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()

	stopProfile := profile(b)
	b.ResetTimer()
	start := time.Now()
	t0.Store(start.UnixNano())
	cpu0 := cpuTime()
	go func() { _ = srv.Run(ctx) }()
	note := vocab.NewObject("Note", "")
	note.Content = vocab.Text("to every follower")
	create := vocab.NewActivity("Create", "", ap.IRI(star.IRI), note)
	create.To = ap.ItemCollection{vocab.PublicIRI}
	create.CC = ap.ItemCollection{ap.IRI(coll)}
	if _, err := srv.Send(ctx, create); err != nil {
		b.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Minute)
	for got.Load() < int64(hosts) {
		if time.Now().After(deadline) {
			b.Fatalf("only %d of %d deliveries in 5 minutes", got.Load(), hosts)
		}
		time.Sleep(2 * time.Millisecond)
	}
	drain := time.Since(start)
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(hosts), "cpu-µs/delivery")
	b.StopTimer()
	stopProfile()
	b.ReportMetric(float64(first.Load())/1e6, "first-delivery-ms")
	close(stop)
	sampler.Wait()
	if n := got.Load(); n != int64(hosts) {
		b.Fatalf("%d deliveries, want %d", n, hosts)
	}
	return fanoutResult{drain: drain, peakHeap: peak.Load() - min(peak.Load(), base.HeapAlloc)}
}
