package outbox_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	ap "github.com/go-ap/activitypub"
	"github.com/stretchr/testify/require"

	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/fetch"
	"github.com/fedi-go/fedi/outbox"
	"github.com/fedi-go/fedi/signature"
	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/storage/memory"
	"github.com/fedi-go/fedi/vocab"
)

// origin is where the local actors of an env live. Nothing listens
// there: what is delivered goes to peers on loopback.
const origin = "https://local.example"

var reg = vocab.MustRegistry()

// quiet discards logs, unless FEDI_TEST_LOG is set.
var quiet = func() *slog.Logger {
	if os.Getenv("FEDI_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}()

// env is an outbox over a memory store, with local actors that sign with
// Ed25519 keys (cheap to make and to sign with).
type env struct {
	t      *testing.T
	ctx    context.Context
	mem    storage.Store // the memory store underneath
	st     storage.Store // what the outbox uses: mem, or mem wrapped
	scheme actor.Scheme
	actors *actor.Store
	out    *outbox.Outbox
	client *fetch.Client
}

type envOption func(*env)

// withStore makes the outbox use wrap(mem).
func withStore(wrap func(storage.Store) storage.Store) envOption {
	return func(e *env) { e.st = wrap(e.mem) }
}

func newEnv(t *testing.T, opts ...envOption) *env {
	t.Helper()
	scheme, err := actor.NewScheme(origin)
	require.NoError(t, err)
	e := &env{t: t, ctx: context.Background(), mem: memory.New(), scheme: scheme}
	e.st = e.mem
	for _, o := range opts {
		o(e)
	}
	e.actors = actor.NewStore(e.mem, scheme, reg)
	e.out, err = outbox.New(outbox.Options{Registry: reg, Store: e.st, Actors: e.actors, Scheme: scheme, Logger: quiet})
	require.NoError(t, err)
	e.client, err = fetch.New(fetch.Options{AllowLoopback: true, Timeout: 5 * time.Second, Logger: quiet})
	require.NoError(t, err)
	t.Cleanup(e.client.Close)
	return e
}

// user creates a local Person with an Ed25519 key.
func (e *env) user(name string) string {
	e.t.Helper()
	iri := e.scheme.Actor(name)
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(e.t, err)
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	require.NoError(e.t, err)
	ks := e.mem.Keys.(storage.KeyStore)
	require.NoError(e.t, ks.PutKey(e.ctx, storage.Key{ID: iri + "#main-key", Owner: iri,
		PEM: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})}))
	a, err := e.actors.Create(e.ctx, actor.Actor{Name: name, Type: "Person"})
	require.NoError(e.t, err)
	return a.IRI
}

// worker builds a Worker over the env's outbox. Unless o says otherwise,
// a failed attempt is retried an hour later, so that a drain does not
// retry it.
func (e *env) worker(o outbox.WorkerOptions) *outbox.Worker {
	e.t.Helper()
	if o.Client == nil {
		o.Client = e.client
	}
	if o.Retry.Backoff == nil {
		o.Retry.Backoff = func(int) time.Duration { return time.Hour }
	}
	if o.Logger == nil {
		o.Logger = quiet
	}
	w, err := outbox.NewWorker(e.out, o)
	require.NoError(e.t, err)
	return w
}

// drain runs w until nothing is due.
func (e *env) drain(w *outbox.Worker) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(e.ctx, 60*time.Second)
	defer cancel()
	for {
		n, err := w.RunOnce(ctx, 1000)
		require.NoError(e.t, err)
		if n == 0 {
			return
		}
	}
}

// cache makes a remote actor known, fresh, without a fetch.
func (e *env) cache(iri, inbox, shared string) {
	e.t.Helper()
	require.NoError(e.t, e.mem.Actors.Put(e.ctx, storage.RemoteActor{IRI: iri, Inbox: inbox, SharedInbox: shared, Fetched: time.Now()}))
}

// follower adds remote to the followers of local.
func (e *env) follower(local, remote string) {
	e.t.Helper()
	require.NoError(e.t, e.mem.Collections.Add(e.ctx, e.scheme.Collection(local, actor.Followers), storage.Member{IRI: remote}))
}

func (e *env) followers(local string) ap.IRI {
	return ap.IRI(e.scheme.Collection(local, actor.Followers))
}

// stats returns the queue's counts.
func (e *env) stats() storage.QueueStats {
	e.t.Helper()
	s, err := e.mem.Queue.Stats(e.ctx)
	require.NoError(e.t, err)
	return s
}

// depth returns the number of deliveries in the queue, dead or alive.
func (e *env) depth() int64 {
	s := e.stats()
	return s.Ready + s.Scheduled + s.Leased + s.Dead
}

// dead returns the dead letters.
func (e *env) dead() []storage.Delivery {
	e.t.Helper()
	d, _, err := e.mem.Queue.(storage.DeadLetters).Dead(e.ctx, "", 1000)
	require.NoError(e.t, err)
	return d
}

// note returns a Create of a new Note by who, addressed to to.
func note(who string, to ...ap.IRI) *vocab.Activity {
	n := vocab.NewObject("Note", "")
	n.Content = vocab.Text("hello")
	c := vocab.NewActivity("Create", "", ap.IRI(who), n)
	for _, iri := range to {
		c.To = append(c.To, iri)
	}
	return c
}

// post is one POST a peer received.
type post struct {
	Path   string
	Body   []byte
	ID     string
	Type   string
	Doc    map[string]any
	Signer string           // the key owner, when the peer verifies signatures
	Scheme signature.Scheme // the signature's scheme, when verified
	VErr   error            // why the signature did not verify
	Status int              // what the peer answered
	At     time.Time
}

// peer is another server on loopback: it serves the documents it is given
// and records the POSTs it receives.
type peer struct {
	t   testing.TB
	srv *httptest.Server
	URL string

	mu      sync.Mutex
	docs    map[string]any // path → document
	got     []post
	gets    []string
	respond func(p post) (int, http.Header) // nil: 202
	delay   time.Duration
	verify  *signature.Verifier

	inflight, peak atomic.Int32
}

func newPeer(t testing.TB) *peer {
	p := &peer{t: t, docs: map[string]any{}}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.srv.Close)
	p.URL = p.srv.URL
	return p
}

func (p *peer) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet {
		p.mu.Lock()
		p.gets = append(p.gets, r.URL.RequestURI())
		doc, ok := p.docs[r.URL.RequestURI()]
		p.mu.Unlock()
		switch d := doc.(type) {
		case int:
			w.WriteHeader(d)
		case nil:
			http.NotFound(w, r)
		default:
			if !ok {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Content-Type", "application/activity+json")
			_ = json.NewEncoder(w).Encode(d)
		}
		return
	}
	n := p.inflight.Add(1)
	defer p.inflight.Add(-1)
	for {
		old := p.peak.Load()
		if n <= old || p.peak.CompareAndSwap(old, n) {
			break
		}
	}
	body, _ := io.ReadAll(r.Body)
	rec := post{Path: r.URL.Path, Body: body, At: time.Now()}
	_ = json.Unmarshal(body, &rec.Doc)
	rec.ID, _ = rec.Doc["id"].(string)
	rec.Type, _ = rec.Doc["type"].(string)
	p.mu.Lock()
	v, respond, delay := p.verify, p.respond, p.delay
	p.mu.Unlock()
	if v != nil {
		res, err := v.Verify(r.Context(), r, body)
		if err == nil {
			rec.Signer, rec.Scheme = res.Owner, res.Scheme
		}
		rec.VErr = err
	}
	if delay > 0 {
		time.Sleep(delay)
	}
	status, h := http.StatusAccepted, http.Header(nil)
	if respond != nil {
		status, h = respond(rec)
	}
	rec.Status = status
	for k, vs := range h {
		w.Header()[k] = vs
	}
	w.WriteHeader(status)
	p.mu.Lock()
	p.got = append(p.got, rec)
	p.mu.Unlock()
}

// serveDoc serves doc (a JSON-able value, or an int status) at path
// (with its query, if any).
func (p *peer) serveDoc(path string, doc any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.docs[path] = doc
}

// actor serves an actor document at /users/name, with a shared inbox
// when shared is set, and returns its IRI.
func (p *peer) actor(name string, shared bool) string {
	iri := p.URL + "/users/" + name
	doc := map[string]any{
		"@context":          "https://www.w3.org/ns/activitystreams",
		"id":                iri,
		"type":              "Person",
		"preferredUsername": name,
		"inbox":             iri + "/inbox",
		"outbox":            iri + "/outbox",
	}
	if shared {
		doc["endpoints"] = map[string]any{"sharedInbox": p.URL + "/inbox"}
	}
	p.serveDoc("/users/"+name, doc)
	return iri
}

// collection serves an OrderedCollection of members at path, whose first
// page is a link, in pages of size n.
func (p *peer) collection(path string, members []string, n int) string {
	iri := p.URL + path
	pageIRI := func(i int) string { return iri + "?page=" + strconv.Itoa(i) }
	p.serveDoc(path, map[string]any{
		"@context": "https://www.w3.org/ns/activitystreams", "id": iri, "type": "OrderedCollection",
		"totalItems": len(members), "first": pageIRI(0),
	})
	for i := 0; i*n < len(members); i++ {
		page := map[string]any{
			"@context": "https://www.w3.org/ns/activitystreams", "id": pageIRI(i), "type": "OrderedCollectionPage",
			"partOf": iri, "orderedItems": members[i*n : min((i+1)*n, len(members))],
		}
		if (i+1)*n < len(members) {
			page["next"] = pageIRI(i + 1)
		}
		p.serveDoc(path+"?page="+strconv.Itoa(i), page)
	}
	return iri
}

// posts returns what the peer received, in order.
func (p *peer) posts() []post {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]post(nil), p.got...)
}

// postsTo returns the POSTs to path.
func (p *peer) postsTo(path string) []post {
	var out []post
	for _, r := range p.posts() {
		if r.Path == path {
			out = append(out, r)
		}
	}
	return out
}

// getCount returns the number of GETs the peer served.
func (p *peer) getCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.gets)
}

func (p *peer) setRespond(f func(post) (int, http.Header)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.respond = f
}

func (p *peer) setVerifier(v *signature.Verifier) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.verify = v
}

func (p *peer) setDelay(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.delay = d
}

// pathOf returns the path of an IRI on a peer.
func pathOf(iri string) string {
	i := strings.Index(iri, "://")
	if i < 0 {
		return iri
	}
	rest := iri[i+3:]
	if j := strings.IndexByte(rest, '/'); j >= 0 {
		return rest[j:]
	}
	return "/"
}

// events records what a Worker observes.
type events struct {
	mu  sync.Mutex
	all []outbox.Event
}

func (ev *events) observe(e outbox.Event) {
	ev.mu.Lock()
	defer ev.mu.Unlock()
	ev.all = append(ev.all, e)
}

func (ev *events) kinds() []outbox.EventKind {
	ev.mu.Lock()
	defer ev.mu.Unlock()
	var out []outbox.EventKind
	for _, e := range ev.all {
		out = append(out, e.Kind)
	}
	return out
}

func (ev *events) of(kind outbox.EventKind) []outbox.Event {
	ev.mu.Lock()
	defer ev.mu.Unlock()
	var out []outbox.Event
	for _, e := range ev.all {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

// spyQueue wraps a Queue and records what the outbox asks of it. It
// passes the optional capabilities through.
type spyQueue struct {
	storage.Queue
	mu       sync.Mutex
	enqueues []int   // the size of each Enqueue
	ticks    []int64 // the tick of each Enqueue
	clock    *atomic.Int64
	retries  []retryCall
	// fail, when set, is asked before every call; an error it returns is
	// the call's (a crashed process's store does nothing).
	fail func(op string) error
}

type retryCall struct {
	At     time.Time
	Called time.Time
	Err    string
}

func (q *spyQueue) check(op string) error {
	if q.fail != nil {
		return q.fail(op)
	}
	return nil
}

func (q *spyQueue) Enqueue(ctx context.Context, ds ...storage.Delivery) error {
	if err := q.check("enqueue"); err != nil {
		return err
	}
	q.mu.Lock()
	q.enqueues = append(q.enqueues, len(ds))
	if q.clock != nil {
		q.ticks = append(q.ticks, q.clock.Add(1))
	}
	q.mu.Unlock()
	return q.Queue.Enqueue(ctx, ds...)
}

func (q *spyQueue) Ack(ctx context.Context, receipts ...string) error {
	if err := q.check("ack"); err != nil {
		return err
	}
	return q.Queue.Ack(ctx, receipts...)
}

func (q *spyQueue) Retry(ctx context.Context, receipt string, at time.Time, lastErr string) error {
	if err := q.check("retry"); err != nil {
		return err
	}
	q.mu.Lock()
	q.retries = append(q.retries, retryCall{At: at, Called: time.Now(), Err: lastErr})
	q.mu.Unlock()
	return q.Queue.Retry(ctx, receipt, at, lastErr)
}

func (q *spyQueue) GiveUp(ctx context.Context, receipt string, lastErr string) error {
	if err := q.check("giveup"); err != nil {
		return err
	}
	return q.Queue.GiveUp(ctx, receipt, lastErr)
}

func (q *spyQueue) Extend(ctx context.Context, receipt string, visibility time.Duration) error {
	if err := q.check("extend"); err != nil {
		return err
	}
	return q.Queue.(storage.LeaseExtender).Extend(ctx, receipt, visibility)
}

func (q *spyQueue) Requeue(ctx context.Context, id string, at time.Time) error {
	return q.Queue.(storage.DeadLetters).Requeue(ctx, id, at)
}

func (q *spyQueue) Discard(ctx context.Context, id string) error {
	return q.Queue.(storage.DeadLetters).Discard(ctx, id)
}

func (q *spyQueue) Dead(ctx context.Context, cursor string, limit int) ([]storage.Delivery, string, error) {
	return q.Queue.(storage.DeadLetters).Dead(ctx, cursor, limit)
}

func (q *spyQueue) retryCalls() []retryCall {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]retryCall(nil), q.retries...)
}

func (q *spyQueue) enqueueSizes() []int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]int(nil), q.enqueues...)
}

// spyCollections wraps Collections and records the pages read.
type spyCollections struct {
	storage.Collections
	mu    sync.Mutex
	pages map[string][]int   // collection → the limit of each Page
	ticks map[string][]int64 // collection → the tick of each Page
	clock *atomic.Int64
}

func (c *spyCollections) Page(ctx context.Context, collection string, opts storage.PageOptions) (storage.Page, error) {
	c.mu.Lock()
	if c.pages == nil {
		c.pages = map[string][]int{}
	}
	c.pages[collection] = append(c.pages[collection], opts.Limit)
	if c.clock != nil {
		if c.ticks == nil {
			c.ticks = map[string][]int64{}
		}
		c.ticks[collection] = append(c.ticks[collection], c.clock.Add(1))
	}
	c.mu.Unlock()
	return c.Collections.Page(ctx, collection, opts)
}

func (c *spyCollections) pagesOf(collection string) []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]int(nil), c.pages[collection]...)
}

// stored decodes the stored object iri as a map.
func (e *env) stored(iri string) (storage.Object, map[string]any) {
	e.t.Helper()
	o, err := e.mem.Objects.Get(e.ctx, iri)
	require.NoError(e.t, err, iri)
	var m map[string]any
	require.NoError(e.t, json.Unmarshal(o.Data, &m))
	return o, m
}

// members returns the accepted members of a collection, newest first.
func (e *env) members(collection string, state storage.State) []string {
	e.t.Helper()
	p, err := e.mem.Collections.Page(e.ctx, collection, storage.PageOptions{State: state, Limit: storage.MaxPageLimit})
	require.NoError(e.t, err)
	var out []string
	for _, m := range p.Members {
		out = append(out, m.IRI)
	}
	return out
}
