// Package bench measures the federation core on the real mix: the inbox
// against the bare cost of what it must do (verify an RSA signature and
// decode), and a fan-out against the bare cost of signing, each measured
// in the same run.
//
//	go test -run '^$' -bench Inbox -benchtime 16000x ./internal/bench
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

	ap "github.com/go-ap/activitypub"
	"github.com/jackc/pgx/v5"

	"github.com/fedi-go/fedi"
	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/internal/fedtest"
	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/storage/postgres"
	"github.com/fedi-go/fedi/storage/sqlite"
	"github.com/fedi-go/fedi/vocab"
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
	for _, mode := range []string{"inprocess", "loopback", "inprocess-queued", "inprocess-mix", "inprocess-postgres"} {
		b.Run(mode, func(b *testing.B) {
			open := openSQLite
			if mode == "inprocess-postgres" {
				open = openPostgres
			}
			rate, cpu := deliver(b, open(b), deliverOptions{loopback: mode == "loopback", queued: mode == "inprocess-queued", mix: mode == "inprocess-mix"})
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

// deliverOptions say how deliver delivers.
type deliverOptions struct {
	// loopback sends through a client and a server of HTTP on 127.0.0.1,
	// whose cost is then counted too; otherwise each request goes
	// straight to the server's handler.
	loopback bool
	// queued has the inbox apply the side effects later, from the durable
	// queue (fedi.Options.QueueInbound): the 202 follows the enqueue
	// alone. deliver then also runs the server's worker until every
	// activity is applied, and reports that rate, all included, as
	// applied/s.
	queued bool
	// mix delivers the mix of a busy inbox instead of Create{Note}s alone:
	// of every 20, 10 Create{Note}, 5 Like and 3 Announce of one of the
	// user's notes, and 2 Delete of notes created before the clock
	// starts.
	mix bool
}

// deliver delivers b.N signed, unique activities to one user of a server
// on st from clients() goroutines, each waiting for its 202 before it
// sends the next, and returns the accepted/s and the CPU time of the
// process per delivery.
func deliver(b *testing.B, st storage.Store, o deliverOptions) (rate, cpuPerOp float64) {
	loopback, queued := o.loopback, o.queued
	srv := fedtest.New(b, fedtest.Config{Store: st, Options: fedi.Options{QueueInbound: queued}})
	alice := srv.User(b, "alice")
	rem := fedtest.NewRemote(b)
	bob := rem.Actor(b, "bob", 0)
	as := func(int) string { return bob }
	body := func(i int) []byte { return noteBody(bob, i) }
	var check func()
	if o.mix {
		as, body, check = mixBodies(b, srv, rem, alice.IRI)
	}
	reqs := signAll(b, rem, alice.IRI+"/inbox", b.N, as, body)
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
	if queued {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- srv.Run(ctx) }()
		for {
			qs, err := st.Queue.Stats(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if qs.Ready+qs.Leased+qs.Scheduled == 0 {
				break
			}
			if time.Since(start) > 5*time.Minute {
				b.Fatalf("the inbound queue did not drain: %+v", qs)
			}
			time.Sleep(50 * time.Millisecond) // Stats reads the whole queue: not too often
		}
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "applied/s")
		cancel()
		<-done
	}
	b.StopTimer()
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d of %d deliveries were not accepted", n, b.N)
	}
	if check != nil {
		check()
	}
	return float64(b.N) / elapsed.Seconds(), float64(cpu.Microseconds()) / float64(b.N)
}

// mixSenders is how many remote actors send the mix.
const mixSenders = 8

// mixBodies returns the senders and bodies of the mix deliverOptions.mix
// describes, to alice from mixSenders actors of rem, and creates what
// they refer to: a note of alice's, and the senders' notes that the
// Deletes delete. check, called once they are delivered, fails the
// benchmark unless each kind took effect.
func mixBodies(b *testing.B, srv *fedtest.Server, rem *fedtest.Remote, alice string) (as func(i int) string, body func(i int) []byte, check func()) {
	ctx := context.Background()
	senders := make([]string, mixSenders)
	for k := range senders {
		senders[k] = rem.Actor(b, fmt.Sprintf("s%d", k), k)
	}
	as = func(i int) string { return senders[i%mixSenders] }
	note := vocab.NewObject("Note", "")
	note.Content = vocab.Text("a note of alice's")
	create := vocab.NewActivity("Create", "", ap.IRI(alice), note)
	create.To = ap.ItemCollection{vocab.PublicIRI}
	if _, err := srv.Send(ctx, create); err != nil {
		b.Fatal(err)
	}
	theirs := string(vocab.IRIOf(create.Object))
	if theirs == "" {
		b.Fatal("the note of alice's has no id")
	}
	// The i-th delivery, when it is a Delete, deletes note old+i of its
	// sender, created here.
	const old = 1 << 30
	isDelete := func(i int) bool { return i%20 >= 18 }
	var pre []int
	for i := range b.N {
		if isDelete(i) {
			pre = append(pre, i)
		}
	}
	for _, req := range signAll(b, rem, alice+"/inbox", len(pre),
		func(k int) string { return as(pre[k]) }, func(k int) []byte { return noteBody(as(pre[k]), old+pre[k]) }) {
		w := httptest.NewRecorder()
		srv.HTTP.Config.Handler.ServeHTTP(w, req)
		if w.Code != http.StatusAccepted {
			b.Fatalf("a note to delete: %d %s", w.Code, w.Body)
		}
	}
	body = func(i int) []byte {
		who := as(i)
		switch r := i % 20; {
		case r < 10:
			return noteBody(who, i)
		case r < 15:
			return fmt.Appendf(nil, `{"@context":"https://www.w3.org/ns/activitystreams","id":"%s/likes/%d","type":"Like","actor":"%s","object":"%s"}`, who, i, who, theirs)
		case r < 18:
			return fmt.Appendf(nil, `{"@context":"https://www.w3.org/ns/activitystreams","id":"%s/statuses/%d/activity","type":"Announce","actor":"%s","published":"2026-12-01T10:00:00Z",`+
				`"to":["https://www.w3.org/ns/activitystreams#Public"],"cc":["%s","%s/followers"],"object":"%s"}`, who, i, who, alice, who, theirs)
		default:
			return fmt.Appendf(nil, `{"@context":"https://www.w3.org/ns/activitystreams","id":"%[1]s/statuses/%[2]d#delete","type":"Delete","actor":"%[1]s",`+
				`"to":["https://www.w3.org/ns/activitystreams#Public"],"object":{"id":"%[1]s/statuses/%[2]d","type":"Tombstone"}}`, who, old+i)
		}
	}
	check = func() {
		// The likes and shares collections list the actors who liked or
		// announced.
		want := map[string]map[string]bool{actor.Likes: {}, actor.Shares: {}}
		for i := range b.N {
			switch r := i % 20; {
			case r >= 10 && r < 15:
				want[actor.Likes][as(i)] = true
			case r >= 15 && r < 18:
				want[actor.Shares][as(i)] = true
			}
		}
		for name, who := range want {
			n, err := srv.Store.Collections.Count(ctx, srv.Scheme.Collection(theirs, name), storage.Accepted)
			if err != nil || n != len(who) {
				b.Fatalf("%s of alice's note: %d, %v; want %d", name, n, err, len(who))
			}
		}
		if len(pre) > 0 {
			last := pre[len(pre)-1]
			o, err := srv.Store.Objects.Get(ctx, fmt.Sprintf("%s/statuses/%d", as(last), old+last))
			if err != nil || o.Deleted.IsZero() {
				b.Fatalf("a deleted note: %+v, %v; want a tombstone", o, err)
			}
		}
	}
	return as, body, check
}

// signAll signs n deliveries to inbox, the i-th of body(i) from as(i),
// on every core: signing is the sender's cost, paid before the clock
// runs.
func signAll(b *testing.B, rem *fedtest.Remote, inbox string, n int, as func(i int) string, body func(i int) []byte) []*http.Request {
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
				reqs[i] = rem.Signed(b, as(int(i)), inbox, body(int(i)))
			}
		}()
	}
	wg.Wait()
	return reqs
}
