// Package bench measures the federation core on the real mix: the inbox
// against the bare cost of what it must do (verify an RSA signature and
// decode), and a fan-out against the bare cost of signing, each measured
// in the same run.
//
//	go test -run '^$' -bench Inbox -benchtime 8000x ./internal/bench
//	go test -run '^$' -bench Fanout -benchtime 1x ./internal/bench
package bench

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fedi-go/fedi/internal/fedtest"
	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/storage/sqlite"
)

// noteBody is a Create{Note} of about 1.6 KB, in the shape Mastodon
// sends, unique by n.
func noteBody(actor string, n int) []byte {
	content := strings.Repeat("Federation is a conversation between servers. ", 18)
	return fmt.Appendf(nil, `{"@context":["https://www.w3.org/ns/activitystreams",{"sensitive":"as:sensitive","toot":"http://joinmastodon.org/ns#"}],`+
		`"id":"%[1]s/statuses/%[2]d/activity","type":"Create","actor":"%[1]s","published":"2026-12-01T10:00:00Z",`+
		`"to":["https://www.w3.org/ns/activitystreams#Public"],"cc":["%[1]s/followers"],`+
		`"object":{"id":"%[1]s/statuses/%[2]d","type":"Note","summary":null,"inReplyTo":null,"published":"2026-12-01T10:00:00Z",`+
		`"url":"%[1]s/statuses/%[2]d","attributedTo":"%[1]s","to":["https://www.w3.org/ns/activitystreams#Public"],`+
		`"cc":["%[1]s/followers"],"sensitive":false,"content":"<p>%[3]s</p>","attachment":[],"tag":[]}}`, actor, n, content)
}

// openSQLite opens a SQLite store in a temporary directory.
func openSQLite(b *testing.B) storage.Store {
	b.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "fedi.db"), sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db.Store()
}

// clients is the number of concurrent clients delivering.
func clients() int { return 16 * runtime.GOMAXPROCS(0) }

// BenchmarkInbox delivers signed, unique Create{Note}s (about 1.6 KB,
// RSA-2048 draft-cavage, keys cached) through the whole inbox handler,
// SQLite storage included, from concurrent clients over loopback HTTP,
// and reports accepted/s beside the floor: the bare RSA verify and decode
// of the same bodies, on as many goroutines, in the same run.
func BenchmarkInbox(b *testing.B) {
	var floor, handler float64
	b.Run("floor", func(b *testing.B) {
		key := fedtest.Key(0)
		body := noteBody("https://remote.example/users/bob", 1)
		digest := sha256.Sum256([]byte("(request-target): post /inbox\nhost: example.com\ndate: x\ndigest: SHA-256=y"))
		sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, digest[:])
		if err != nil {
			b.Fatal(err)
		}
		// At least 20,000 operations, so that the floor is measured over
		// a second or so whatever b.N is.
		n := int64(max(b.N, 20000))
		var next atomic.Int64
		var wg sync.WaitGroup
		b.ResetTimer()
		start := time.Now()
		for range clients() {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for next.Add(1) <= n {
					if err := rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA256, digest[:], sig); err != nil {
						b.Error(err)
					}
					if _, err := fedtest.Registry.Decode(body); err != nil {
						b.Error(err)
					}
				}
			}()
		}
		wg.Wait()
		floor = float64(n) / time.Since(start).Seconds()
		b.ReportMetric(floor, "ops/s")
	})
	b.Run("handler", func(b *testing.B) {
		srv := fedtest.New(b, fedtest.Config{Store: openSQLite(b)})
		alice := srv.User(b, "alice")
		rem := fedtest.NewRemote(b)
		bob := rem.Actor(b, "bob", 0)
		// Sign every request first: signing is the sender's cost.
		reqs := make([]*http.Request, b.N)
		for i := range reqs {
			reqs[i] = rem.Signed(b, bob, alice.IRI+"/inbox", noteBody(bob, i))
		}
		// One delivery first, so that the key is cached, as the
		// benchmark says.
		warm := rem.Signed(b, bob, alice.IRI+"/inbox", noteBody(bob, -1))
		if status, msg := fedtest.Do(b, warm); status != http.StatusAccepted {
			b.Fatalf("warm-up: %d %s", status, msg)
		}
		tr := &http.Transport{MaxIdleConnsPerHost: clients(), MaxConnsPerHost: clients()}
		defer tr.CloseIdleConnections()
		hc := &http.Client{Transport: tr}
		var next, failed atomic.Int64
		var wg sync.WaitGroup
		b.ResetTimer()
		start := time.Now()
		for range clients() {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := next.Add(1) - 1
					if i >= int64(len(reqs)) {
						return
					}
					resp, err := hc.Do(reqs[i])
					if err != nil || resp.StatusCode != http.StatusAccepted {
						failed.Add(1)
					}
					if resp != nil {
						_, _ = io.Copy(io.Discard, resp.Body) // so that the connection is reused
						resp.Body.Close()
					}
				}
			}()
		}
		wg.Wait()
		handler = float64(b.N) / time.Since(start).Seconds()
		b.StopTimer()
		if n := failed.Load(); n > 0 {
			b.Fatalf("%d of %d deliveries were not accepted", n, b.N)
		}
		b.ReportMetric(handler, "accepted/s")
	})
	if floor > 0 && handler > 0 {
		fmt.Fprintf(os.Stderr, "inbox: %.0f accepted/s, floor (RSA verify + decode) %.0f/s: %.2f of the floor\n", handler, floor, handler/floor)
	}
}
