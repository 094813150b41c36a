package fedi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/fetch"
	"github.com/fedi-go/fedi/inbox"
	"github.com/fedi-go/fedi/nodeinfo"
	"github.com/fedi-go/fedi/outbox"
	"github.com/fedi-go/fedi/serve"
	"github.com/fedi-go/fedi/signature"
	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/vocab"
	"github.com/fedi-go/fedi/webfinger"
)

// Version is the version fedi reports in NodeInfo and its User-Agent.
const Version = "0.1.0"

// Options configures New. Origin, Store and Registry are required; the
// zero value of every other field is its default.
type Options struct {
	// Origin is the scheme and host of the server, such as
	// "https://example.com": every local IRI starts with it.
	Origin string
	// Store keeps everything; every field of it is used. The adapters
	// fedi ships fill it (storage/sqlite, storage/postgres,
	// storage/memory).
	Store storage.Store
	// Registry decodes and encodes with the vocabularies the application
	// speaks.
	Registry *vocab.Registry

	// Scheme is the IRI scheme; its zero fields get the defaults of
	// actor.NewScheme (actors at /users/{name}). Its Origin is Origin.
	Scheme actor.Scheme
	// Actors finds the local actors; nil means an actor.Store over Store
	// (see Federation.LocalActors).
	Actors actor.Directory
	// Client is the one HTTP client for every outgoing request; nil
	// means fetch.New with the defaults (no loopback, no private
	// addresses).
	Client *fetch.Client
	// Logger receives what fedi does: each activity in and out at info
	// level; nil means slog.Default().
	Logger *slog.Logger
	// HTML serves browsers on the same URLs as the ActivityStreams
	// documents; without it they get 406.
	HTML http.Handler
	// Blocked, when set, refuses the actors (and domains) it names, in
	// the inbox and for signed GETs.
	Blocked func(ctx context.Context, actorIRI string) (bool, error)
	// AuthorizedFetch requires signed GETs, except of actor documents.
	AuthorizedFetch bool
	// QueueInbound applies the inbox's side effects asynchronously, from
	// the queue, after the 202 (see inbox.Options.Queue).
	QueueInbound bool
	// Inbox, Worker and Serve override options of the pieces; the fields
	// New sets itself (registry, store, actors, scheme, client, ...) are
	// ignored.
	Inbox  inbox.Options
	Worker outbox.WorkerOptions
	Serve  serve.Options
	// Software names the application in NodeInfo; the default is fedi.
	Software nodeinfo.Software
	// ClientAuth, when set, enables client-to-server posting to the
	// outboxes (Federation.Client): it returns the local actor a request
	// speaks for, from the application's session or token.
	ClientAuth func(r *http.Request) (actorIRI string, err error)
}

// Federation is what New returns: the pieces of a federating server,
// wired together. Mount them with Register, or one by one on an
// application's own routes, and run the Worker.
type Federation struct {
	Scheme   actor.Scheme
	Registry *vocab.Registry
	Store    storage.Store
	// Actors finds the local actors; LocalActors is the same when it is
	// the default actor.Store (nil otherwise): create actors with it.
	Actors      actor.Directory
	LocalActors *actor.Store
	// Mux routes received activities; register behaviours on it
	// (core.Register, a platform's Register) before serving.
	Mux *inbox.Mux
	// Inbox is the handler of personal inboxes and the shared inbox.
	Inbox *inbox.Handler
	// Outbox sends; Worker delivers (run it).
	Outbox *outbox.Outbox
	Worker *outbox.Worker
	// Objects serves actors, objects and collections.
	Objects *serve.Handler
	// ClientOutbox takes client-to-server POSTs to the outboxes; nil
	// unless Options.ClientAuth is set.
	ClientOutbox *outbox.ClientHandler
	// WebFinger and NodeInfo serve discovery.
	WebFinger *webfinger.Handler
	NodeInfo  *nodeinfo.Handler
	// Client, Keys, Verifier, Knocker and Remote are the HTTP and
	// signature machinery, shared by the pieces.
	Client   *fetch.Client
	Keys     *signature.Resolver
	Verifier *signature.Verifier
	Knocker  *signature.Knocker
	Remote   *actor.Remote
	log      *slog.Logger
}

// New builds a Federation.
func New(o Options) (*Federation, error) {
	if o.Registry == nil {
		return nil, errors.New("fedi: Options.Registry is required")
	}
	st := o.Store
	if st.Objects == nil || st.Collections == nil || st.Dedupe == nil || st.Keys == nil || st.Queue == nil || st.Actors == nil {
		return nil, errors.New("fedi: Options.Store needs every concern: Objects, Collections, Dedupe, Keys, Queue and Actors")
	}
	s := o.Scheme
	s.Origin = o.Origin
	s, err := s.Complete()
	if err != nil {
		return nil, fmt.Errorf("fedi: %w", err)
	}
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	f := &Federation{Scheme: s, Registry: o.Registry, Store: st, log: log}
	if f.Client = o.Client; f.Client == nil {
		if f.Client, err = fetch.New(fetch.Options{Logger: log, UserAgent: "fedi/" + Version + " (+" + s.Origin + ")"}); err != nil {
			return nil, err
		}
	}
	if f.Keys, err = signature.NewResolver(signature.ResolverOptions{Client: f.Client}); err != nil {
		return nil, err
	}
	wo := o.Worker
	if f.Knocker = wo.Knocker; f.Knocker == nil {
		if f.Knocker, err = signature.NewKnocker(signature.KnockerOptions{Client: f.Client}); err != nil {
			return nil, err
		}
	}
	if f.Verifier, err = signature.NewVerifier(signature.VerifierOptions{Keys: f.Keys, Observer: f.Knocker, Logger: log}); err != nil {
		return nil, err
	}
	if f.Actors = o.Actors; f.Actors == nil {
		f.LocalActors = actor.NewStore(st, s, o.Registry)
		f.Actors = f.LocalActors
	}
	f.Remote = &actor.Remote{Cache: st.Actors, Client: f.Client, Registry: o.Registry}
	if f.Outbox, err = outbox.New(outbox.Options{Registry: o.Registry, Store: st, Actors: f.Actors, Scheme: s, Logger: log}); err != nil {
		return nil, err
	}
	f.Mux = inbox.NewMux(o.Registry)
	io := o.Inbox
	io.Registry, io.Store, io.Actors, io.Scheme, io.Verifier, io.Mux, io.Client, io.Sender = o.Registry, st, f.Actors, s, f.Verifier, f.Mux, f.Client, f.Outbox
	io.Queue = o.QueueInbound || io.Queue
	if io.Blocked == nil {
		io.Blocked = o.Blocked
	}
	if io.Logger == nil {
		io.Logger = log
	}
	if f.Inbox, err = inbox.NewHandler(io); err != nil {
		return nil, err
	}
	wo.Client, wo.Knocker, wo.Remote = f.Client, f.Knocker, f.Remote
	if wo.Local == nil {
		wo.Local = f.local
	}
	if f.Worker, err = outbox.NewWorker(f.Outbox, wo); err != nil {
		return nil, err
	}
	so := o.Serve
	so.Registry, so.Store, so.Actors, so.Scheme = o.Registry, st, f.Actors, s
	so.Verifier = f.Verifier
	so.RequireSignature = so.RequireSignature || o.AuthorizedFetch
	if so.HTML == nil {
		so.HTML = o.HTML
	}
	if so.Blocked == nil {
		so.Blocked = o.Blocked
	}
	if so.Logger == nil {
		so.Logger = log
	}
	if f.Objects, err = serve.New(so); err != nil {
		return nil, err
	}
	if o.ClientAuth != nil {
		if f.ClientOutbox, err = outbox.NewClientHandler(f.Outbox, outbox.ClientOptions{Authenticate: o.ClientAuth, Logger: log}); err != nil {
			return nil, err
		}
	}
	host := strings.TrimPrefix(strings.TrimPrefix(s.Origin, "https://"), "http://")
	if f.WebFinger, err = webfinger.NewHandler(webfinger.HandlerOptions{Hosts: []string{host}, BaseURL: s.Origin, Lookup: f.lookup, Logger: log}); err != nil {
		return nil, err
	}
	sw := o.Software
	if sw.Name == "" {
		sw = nodeinfo.Software{Name: "fedi", Version: Version, Repository: "https://github.com/fedi-go/fedi"}
	}
	if f.NodeInfo, err = nodeinfo.NewHandler(nodeinfo.Options{Software: sw, BaseURL: s.Origin, Usage: f.usage, Logger: log}); err != nil {
		return nil, err
	}
	return f, nil
}

// local hands the deliveries that stay on this server to the inbox: the
// inbox's queued activities, and activities of our actors to our own
// inboxes.
func (f *Federation) local(ctx context.Context, d storage.Delivery) error {
	var err error
	switch {
	case d.Inbox == inbox.QueuedInbox:
		err = f.Inbox.Process(ctx, d)
	case f.Scheme.IsLocal(d.Inbox):
		err = f.Inbox.DeliverLocal(ctx, d.Inbox, d.Body, d.Receipt)
	default:
		err = fmt.Errorf("fedi: no local job %q", d.Inbox)
		return fmt.Errorf("%w: %w", err, outbox.ErrPermanent)
	}
	if err != nil && inbox.Permanent(err) {
		return fmt.Errorf("%w: %w", err, outbox.ErrPermanent)
	}
	return err
}

// lookup answers WebFinger.
func (f *Federation) lookup(ctx context.Context, r webfinger.Resource) (*webfinger.Account, error) {
	var (
		a   *actor.Actor
		err error
	)
	if r.IsAcct() {
		a, err = f.Actors.ByName(ctx, r.User)
	} else {
		a, err = f.Actors.ByIRI(ctx, r.IRI)
	}
	if errors.Is(err, actor.ErrNotFound) || errors.Is(err, actor.ErrGone) {
		return nil, webfinger.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return &webfinger.Account{Username: a.Name, ActorIRI: a.IRI, ProfileURL: a.IRI}, nil
}

// usage counts for NodeInfo.
func (f *Federation) usage(ctx context.Context) (nodeinfo.Usage, error) {
	var u nodeinfo.Usage
	if f.LocalActors != nil {
		n, err := f.LocalActors.Count(ctx)
		if err != nil {
			return u, err
		}
		u.Users.Total = n
	}
	return u, nil
}

// Register mounts every handler on mux at the routes of the default
// scheme: the shared inbox, personal inboxes, WebFinger, host-meta,
// NodeInfo, GETs below /users/, and client-to-server POSTs to the
// outboxes when Options.ClientAuth is set. An application with its own scheme
// mounts the pieces itself.
func (f *Federation) Register(mux *http.ServeMux) {
	shared := pathOf(f.Scheme.SharedInbox)
	mux.Handle("POST "+shared, f.Inbox)
	mux.Handle("POST /users/{name}/inbox", f.Inbox)
	mux.Handle("GET /users/", f.Objects)
	if f.ClientOutbox != nil {
		mux.Handle("POST /users/{name}/outbox", f.ClientOutbox)
	}
	f.WebFinger.Register(mux)
	f.NodeInfo.Register(mux)
}

func pathOf(iri string) string {
	u, err := url.Parse(iri)
	if err != nil || u.Path == "" {
		return "/inbox"
	}
	return u.Path
}

// Run runs the delivery worker until ctx ends.
// It also forgets, every hour, the dedupe records older than
// DedupeRetention: peers stop retrying within days, and the records
// need not live forever.
func (f *Federation) Run(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(time.Hour)
		defer t.Stop()
		for {
			f.prune(ctx)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	err := f.Worker.Run(ctx)
	<-done
	return err
}

// DedupeRetention is how long the inbox remembers an activity it
// processed: longer than any peer retries (Mastodon's 16 attempts span
// about two and a half days).
const DedupeRetention = 7 * 24 * time.Hour

func (f *Federation) prune(ctx context.Context) {
	n, err := f.Store.Dedupe.Prune(ctx, time.Now().Add(-DedupeRetention))
	switch {
	case err != nil && ctx.Err() == nil:
		f.log.Warn("fedi: pruning dedupe records", "err", err)
	case n > 0:
		f.log.Info("fedi: dedupe records pruned", "count", n)
	}
}

// Send sends an activity of one of our actors: see outbox.Outbox.Send.
func (f *Federation) Send(ctx context.Context, act vocab.Item) (string, error) {
	return f.Outbox.Send(ctx, act)
}

// Server returns an http.Server for handler with the timeouts a
// federating server needs: a client that trickles its headers or body
// cannot hold a connection for long.
func Server(addr string, handler http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
}
