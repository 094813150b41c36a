// Package refserver is fedi's reference server: a federating ActivityPub
// server with every bundled vocabulary and behaviour, an HTML view of
// what federated, and a control API that scripts drive. `go run
// ./examples/server` and `fedi serve` run it.
package refserver

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/fedi-go/fedi"
	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/behaviour/communecter"
	"github.com/fedi-go/fedi/behaviour/core"
	"github.com/fedi-go/fedi/behaviour/gathio"
	"github.com/fedi-go/fedi/behaviour/lemmy"
	"github.com/fedi-go/fedi/behaviour/mobilizon"
	"github.com/fedi-go/fedi/fetch"
	"github.com/fedi-go/fedi/inbox"
	"github.com/fedi-go/fedi/nodeinfo"
	"github.com/fedi-go/fedi/outbox"
	"github.com/fedi-go/fedi/serve"
	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/storage/memory"
	"github.com/fedi-go/fedi/storage/postgres"
	"github.com/fedi-go/fedi/storage/sqlite"
	"github.com/fedi-go/fedi/vocab"
	vcc "github.com/fedi-go/fedi/vocab/communecter"
	vlemmy "github.com/fedi-go/fedi/vocab/lemmy"
	vmz "github.com/fedi-go/fedi/vocab/mobilizon"
)

// Registry is the reference server's registry: every bundled vocabulary.
func Registry() *vocab.Registry {
	return vocab.MustRegistry(vmz.Vocabulary, vlemmy.Vocabulary, vcc.Vocabulary)
}

// Server is a configured reference server, ready to Run.
type Server struct {
	cfg     Config
	log     *slog.Logger
	fed     *fedi.Federation
	closeDB func() error
	mux     *http.ServeMux
	handler http.Handler
	ctl     *control
	users   []*actor.Actor
	storeIs string

	// The platforms' helpers, set by their registrations.
	mz    mobilizon.Deps
	gt    gathio.Deps
	lm    lemmy.Actions
	cc    *communecter.Client
	relay *actor.Actor
}

// New opens the store, wires fedi with every behaviour, and creates the
// configured users when they are missing. Its errors are one line, fit
// for a person.
func New(ctx context.Context, cfg Config, logOut io.Writer) (*Server, error) {
	if len(cfg.Users) == 0 {
		cfg.Users = []string{"alice"}
	}
	s := &Server{cfg: cfg, log: newLogger(cfg, logOut)}
	st, err := s.openStore(ctx)
	if err != nil {
		return nil, err
	}
	return s.wire(ctx, st)
}

// newWithStore builds a server over st.
func newWithStore(ctx context.Context, cfg Config, logOut io.Writer, st storage.Store, what string) (*Server, error) {
	s := &Server{cfg: cfg, log: newLogger(cfg, logOut), closeDB: func() error { return nil }, storeIs: what}
	return s.wire(ctx, st)
}

func (s *Server) wire(ctx context.Context, st storage.Store) (*Server, error) {
	cfg := s.cfg
	client, err := fetch.New(fetch.Options{AllowLoopback: cfg.AllowLoopback, Logger: s.log, UserAgent: "fedi-refserver/" + fedi.Version + " (+" + cfg.Origin + ")"})
	if err != nil {
		s.closeDB()
		return nil, err
	}
	if s.ctl, err = newControl(s, client); err != nil {
		s.closeDB()
		return nil, err
	}
	html := &htmlView{s: s}
	s.fed, err = fedi.New(fedi.Options{
		Origin: cfg.Origin, Store: st, Registry: Registry(), Client: client, Logger: s.log, HTML: html,
		Worker:   outbox.WorkerOptions{Concurrency: cfg.Workers, Observe: s.ctl.observeDelivery},
		Inbox:    inbox.Options{Observe: s.ctl.observeInbox},
		Software: nodeinfo.Software{Name: "fedi-refserver", Version: fedi.Version, Repository: "https://github.com/fedi-go/fedi"},
		Serve:    serve.Options{Collections: servedCollections()},
	})
	if err != nil {
		s.closeDB()
		return nil, fmt.Errorf("the federation: %v", err)
	}
	core.Register(s.fed.Mux, core.Options{Remote: s.fed.Remote})
	if err := registerBehaviours(ctx, s); err != nil {
		s.closeDB()
		return nil, err
	}
	for _, name := range cfg.Users {
		a, err := s.fed.LocalActors.Ensure(ctx, actor.Actor{Name: name, Type: "Person"})
		if err != nil {
			s.closeDB()
			return nil, fmt.Errorf("creating the user %s: %v", name, err)
		}
		s.users = append(s.users, a)
	}
	s.mux = http.NewServeMux()
	s.register(s.mux)
	s.mux.Handle("GET /{$}", html.home())
	s.mux.Handle("GET /queue", html.queue())
	s.mux.HandleFunc("GET /FEDERATION.md", s.federationMD)
	if cfg.Control {
		s.mux.Handle("/_control", s.ctl)
		s.mux.Handle("/_control/", s.ctl)
	}
	s.handler = s.mux
	return s, nil
}

// register mounts fedi's handlers as Federation.Register does, with the
// objects handler wrapped by the platforms (Lemmy answers its hidden
// items as gone).
func (s *Server) register(mux *http.ServeMux) {
	f := s.fed
	shared := "/inbox"
	if u, err := url.Parse(f.Scheme.SharedInbox); err == nil && u.Path != "" {
		shared = u.Path
	}
	mux.Handle("POST "+shared, f.Inbox)
	mux.Handle("POST /users/{name}/inbox", f.Inbox)
	mux.Handle("GET /users/", s.objectsHandler())
	f.WebFinger.Register(mux)
	f.NodeInfo.Register(mux)
}

// Federation returns the wired federation, for tests.
func (s *Server) Federation() *fedi.Federation { return s.fed }

// Handler returns the server's HTTP handler, for tests.
func (s *Server) Handler() http.Handler { return s.handler }

// Users returns the local users created on start.
func (s *Server) Users() []*actor.Actor { return s.users }

// Close closes the store.
func (s *Server) Close() error { return s.closeDB() }

func (s *Server) openStore(ctx context.Context) (storage.Store, error) {
	if s.cfg.Postgres != "" {
		octx, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		db, err := postgres.Open(octx, s.cfg.Postgres, postgres.Options{Logger: s.log})
		if err != nil {
			return storage.Store{}, fmt.Errorf("cannot open the PostgreSQL database: %v", oneLine(err))
		}
		s.closeDB = func() error { db.Close(); return nil }
		s.storeIs = "PostgreSQL"
		return db.Store(), nil
	}
	if err := os.MkdirAll(s.cfg.DataDir, 0o700); err != nil {
		return storage.Store{}, fmt.Errorf("cannot create the data directory %s: %v", s.cfg.DataDir, oneLine(errors.Unwrap(err)))
	}
	path := filepath.Join(s.cfg.DataDir, "fedi.db")
	db, err := sqlite.Open(ctx, path, sqlite.Options{Logger: s.log})
	if err != nil {
		return storage.Store{}, fmt.Errorf("cannot open the database in %s: %v", s.cfg.DataDir, oneLine(err))
	}
	s.closeDB = db.Close
	s.storeIs = "SQLite " + path
	return db.Store(), nil
}

func oneLine(err error) string {
	if err == nil {
		return "unknown error"
	}
	return strings.Join(strings.Fields(err.Error()), " ")
}

func newLogger(cfg Config, out io.Writer) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: lvl}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(out, opts))
	}
	return slog.New(slog.NewTextHandler(out, opts))
}

// Run serves on l until ctx ends, then shuts down gracefully: it stops
// accepting, finishes the requests in flight, and stops the delivery
// worker, whose deliveries cut short stay leased and are retried after a
// restart (or by another process).
func (s *Server) Run(ctx context.Context, l net.Listener) error {
	srv := fedi.Server(s.cfg.Addr, s.handler)
	wctx, stopWorker := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = s.fed.Run(wctx)
	}()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	s.log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if serr := srv.Shutdown(sctx); serr != nil && err == nil {
		err = serr
	}
	stopWorker()
	wg.Wait()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// Listen listens on the configured address, with a clear error when it
// cannot.
func (s *Server) Listen() (net.Listener, error) { return listen(s.cfg.Addr) }

func listen(addr string) (net.Listener, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		msg := oneLine(err)
		var se *os.SyscallError
		if errors.As(err, &se) {
			msg = oneLine(se.Err)
		}
		return nil, fmt.Errorf("cannot listen on %s: %s", addr, msg)
	}
	return l, nil
}

// Banner prints the URLs to try.
func (s *Server) Banner(w io.Writer) {
	o := s.cfg.Origin
	host := strings.TrimPrefix(strings.TrimPrefix(o, "https://"), "http://")
	fmt.Fprintf(w, "fedi reference server on %s (listening on %s, %s)\n", o, s.cfg.Addr, s.storeIs)
	fmt.Fprintf(w, "  home:        %s/\n", o)
	for _, u := range s.users {
		fmt.Fprintf(w, "  actor:       %s   (@%s@%s)\n", u.IRI, u.Name, host)
	}
	if len(s.users) > 0 {
		fmt.Fprintf(w, "  webfinger:   %s/.well-known/webfinger?resource=acct:%s@%s\n", o, s.users[0].Name, host)
	}
	fmt.Fprintf(w, "  nodeinfo:    %s/.well-known/nodeinfo\n", o)
	fmt.Fprintf(w, "  federation:  %s/FEDERATION.md\n", o)
	fmt.Fprintf(w, "  queue:       %s/queue\n", o)
	if s.cfg.Control {
		fmt.Fprintf(w, "  control API: %s/_control (loopback clients only)\n", o)
	}
	fmt.Fprintf(w, "  try:         curl -H 'Accept: application/activity+json' %s\n", s.users[0].IRI)
}

// Main runs the reference server with the command-line args (without
// the program name) and returns the exit status: 0, or 1 after one
// clear line on stderr.
func Main(name string, args []string, stdout, stderr io.Writer) int {
	cfg, err := ParseFlags(name, args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// Listen first: a port in use is found before anything is opened.
	l, err := listen(cfg.Addr)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 1
	}
	s, err := New(ctx, cfg, stderr)
	if err != nil {
		l.Close()
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 1
	}
	defer s.Close()
	s.Banner(stdout)
	if err := s.Run(ctx, l); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 1
	}
	return 0
}

// newInMemory builds a server over an in-memory store, with no users,
// for what needs the wiring but not a running server.
func newInMemory() (*Server, error) {
	cfg := Config{Addr: "127.0.0.1:0", Origin: "https://example.com", Workers: 1, LogFormat: "text", LogLevel: "error"}
	return newWithStore(context.Background(), cfg, io.Discard, memory.New(), "memory")
}
