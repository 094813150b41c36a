// Package fedtest runs fedi servers on loopback for tests: each a
// Federation over an in-memory store (or one the test gives), with the
// default behaviour registered, served by an httptest server whose
// origin is its own.
package fedtest

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/fedi-go/fedi"
	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/behaviour/core"
	"github.com/fedi-go/fedi/fetch"
	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/storage/memory"
	"github.com/fedi-go/fedi/vocab"
	"github.com/fedi-go/fedi/vocab/communecter"
	"github.com/fedi-go/fedi/vocab/lemmy"
	"github.com/fedi-go/fedi/vocab/mobilizon"
)

// Registry is a registry of every bundled vocabulary.
var Registry = vocab.MustRegistry(mobilizon.Vocabulary, lemmy.Vocabulary, communecter.Vocabulary)

// Server is a running fedi server.
type Server struct {
	*fedi.Federation
	URL  string
	HTTP *httptest.Server
}

// Config changes what New builds.
type Config struct {
	// Store is the store; nil fields mean memory.New().
	Store storage.Store
	// Options are passed to fedi.New, with Origin, Store, Registry and
	// Client set by New.
	Options fedi.Options
	// NoCore leaves the default behaviour unregistered.
	NoCore bool
	// Setup runs on the Federation before it serves.
	Setup func(*fedi.Federation)
}

// New starts a server. It is stopped with t.Cleanup.
func New(t testing.TB, cfg Config) *Server {
	t.Helper()
	var handler http.Handler = http.NotFoundHandler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	st := cfg.Store
	if st.Objects == nil {
		st = memory.New()
	}
	client, err := fetch.New(fetch.Options{AllowLoopback: true, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(client.Close)
	o := cfg.Options
	o.Origin, o.Store, o.Registry = srv.URL, st, Registry
	if o.Client == nil {
		o.Client = client
	}
	if o.Logger == nil {
		o.Logger = Logger()
	}
	f, err := fedi.New(o)
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.NoCore {
		core.Register(f.Mux, core.Options{Remote: f.Remote})
	}
	if cfg.Setup != nil {
		cfg.Setup(f)
	}
	mux := http.NewServeMux()
	f.Register(mux)
	handler = mux
	return &Server{Federation: f, URL: srv.URL, HTTP: srv}
}

// Logger logs to stderr at the level FEDI_TEST_LOG names (debug, info,
// warn), and discards otherwise.
func Logger() *slog.Logger {
	var lvl slog.Level
	switch os.Getenv("FEDI_TEST_LOG") {
	case "debug":
		lvl = slog.LevelDebug
	case "info":
		lvl = slog.LevelInfo
	case "warn":
		lvl = slog.LevelWarn
	default:
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))
}

// User creates a local Person.
func (s *Server) User(t testing.TB, name string) *actor.Actor {
	t.Helper()
	a, err := s.LocalActors.Create(context.Background(), actor.Actor{Name: name, Type: "Person"})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// Drain runs the worker until the queue has nothing due, within 30 s.
func (s *Server) Drain(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		n, err := s.Worker.RunOnce(ctx, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

// DrainAll drains the servers in turn until none has anything due.
func DrainAll(t testing.TB, servers ...*Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		total := 0
		for _, s := range servers {
			n, err := s.Worker.RunOnce(ctx, 1000)
			if err != nil {
				t.Fatal(err)
			}
			total += n
		}
		if total == 0 {
			return
		}
	}
}
