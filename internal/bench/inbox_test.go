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
	cryptorand "crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/fedi-go/fedi/internal/fedtest"
	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/storage/postgres"
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

// openPostgres opens a PostgreSQL store in a schema of its own, dropped
// at the end, on the server FEDI_TEST_POSTGRES names; without it, the
// benchmark is skipped.
func openPostgres(b *testing.B) storage.Store {
	b.Helper()
	dsn := os.Getenv("FEDI_TEST_POSTGRES")
	if dsn == "" {
		b.Skip("FEDI_TEST_POSTGRES is not set")
	}
	var r [6]byte
	_, _ = cryptorand.Read(r[:])
	schema := "fedi_bench_" + hex.EncodeToString(r[:])
	ctx := context.Background()
	db, err := postgres.Open(ctx, dsn, postgres.Options{Schema: schema, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		db.Close()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			b.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{schema}.Sanitize()+` CASCADE`); err != nil {
			b.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return db.Store()
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

// clients is the number of concurrent clients delivering: enough that
// SQLite's group commit fills its batches.
func clients() int { return 64 * runtime.GOMAXPROCS(0) }

// BenchmarkInbox delivers signed, unique Create{Note}s (about 1.6 KB,
// RSA-2048 draft-cavage, keys cached) through the whole inbox handler,
// SQLite storage included, from concurrent clients, and reports
// accepted/s beside the floor: the bare RSA verify and decode of the same
// bodies, on as many goroutines, in the same run. It delivers twice: in
// process (httptest requests handed to the server's handler) and over
// loopback HTTP, whose client and server then share the CPU with it.
func BenchmarkInbox(b *testing.B) {
	var floor float64
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
	for _, mode := range []string{"inprocess", "loopback", "inprocess-postgres"} {
		b.Run(mode, func(b *testing.B) {
			open := openSQLite
			if mode == "inprocess-postgres" {
				open = openPostgres
			}
			rate, cpu := deliver(b, open(b), mode == "loopback")
			b.ReportMetric(rate, "accepted/s")
			b.ReportMetric(cpu, "cpu-µs/op")
			if floor > 0 && b.N > 1 { // not the framework's first run of one
				b.ReportMetric(rate/floor, "of-floor")
				fmt.Fprintf(os.Stderr, "inbox (%s, %d clients): %.0f accepted/s, %.0f µs of CPU each; floor (RSA verify + decode) %.0f/s: %.2f of the floor\n",
					mode, clients(), rate, cpu, floor, rate/floor)
			}
		})
	}
}

// deliver delivers b.N signed, unique Create{Note}s to one user of a
// server on SQLite from clients() goroutines, each waiting for its 202
// before it sends the next, and returns the accepted/s and the CPU time
// of the process per delivery. In process, each request goes straight to
// the server's handler; over loopback, through a client and a server of
// HTTP on 127.0.0.1, whose cost is then counted too.
func deliver(b *testing.B, st storage.Store, loopback bool) (rate, cpuPerOp float64) {
	srv := fedtest.New(b, fedtest.Config{Store: st})
	alice := srv.User(b, "alice")
	rem := fedtest.NewRemote(b)
	bob := rem.Actor(b, "bob", 0)
	reqs := signAll(b, rem, bob, alice.IRI+"/inbox", b.N)
	// One delivery first, so that the key is cached, as the benchmark
	// says.
	warm := rem.Signed(b, bob, alice.IRI+"/inbox", noteBody(bob, -1))
	if status, msg := fedtest.Do(b, warm); status != http.StatusAccepted {
		b.Fatalf("warm-up: %d %s", status, msg)
	}
	do := func(req *http.Request) bool {
		w := httptest.NewRecorder()
		srv.HTTP.Config.Handler.ServeHTTP(w, req)
		return w.Code == http.StatusAccepted
	}
	if loopback {
		tr := &http.Transport{MaxIdleConnsPerHost: clients(), MaxConnsPerHost: clients()}
		defer tr.CloseIdleConnections()
		hc := &http.Client{Transport: tr}
		do = func(req *http.Request) bool {
			resp, err := hc.Do(req)
			if err != nil {
				return false
			}
			_, _ = io.Copy(io.Discard, resp.Body) // so that the connection is reused
			resp.Body.Close()
			return resp.StatusCode == http.StatusAccepted
		}
	}
	var next, failed atomic.Int64
	var wg sync.WaitGroup
	defer profile(b)()
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime()
	for range clients() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(len(reqs)) {
					return
				}
				if !do(reqs[i]) {
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	elapsed, cpu := time.Since(start), cpuTime()-cpu0
	b.StopTimer()
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d of %d deliveries were not accepted", n, b.N)
	}
	return float64(b.N) / elapsed.Seconds(), float64(cpu.Microseconds()) / float64(b.N)
}

// signAll signs n unique deliveries of noteBody from as to inbox, on
// every core: signing is the sender's cost, paid before the clock runs.
func signAll(b *testing.B, rem *fedtest.Remote, as, inbox string, n int) []*http.Request {
	reqs := make([]*http.Request, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				reqs[i] = rem.Signed(b, as, inbox, noteBody(as, int(i)))
			}
		}()
	}
	wg.Wait()
	return reqs
}
