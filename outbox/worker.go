package outbox

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/fetch"
	"github.com/fedi-go/fedi/signature"
	"github.com/fedi-go/fedi/storage"
)

// Defaults of WorkerOptions.
const (
	DefaultConcurrency  = 8
	DefaultPerHost      = 4
	DefaultVisibility   = 2 * time.Minute
	DefaultPoll         = time.Second
	DefaultMaxAttempts  = 16
	DefaultMaxLeases    = 5
	DefaultFanoutBudget = 2000
	DefaultBatch        = 256
)

// ErrPermanent marks an error of a local job (see WorkerOptions.Local)
// that will fail again however often it is retried: the Worker gives up
// on the delivery instead of retrying it.
var ErrPermanent = errors.New("outbox: permanent failure")

// EventKind says what happened to a delivery.
type EventKind uint8

// The kinds of Event.
const (
	Delivered EventKind = iota // the inbox answered 2xx
	Retried                    // it failed and will be tried again
	Failed                     // it was given up on: a dead letter
	Gone                       // the inbox answered 410: its actor is marked gone
	Expanded                   // a fan-out was expanded into deliveries
)

func (k EventKind) String() string {
	switch k {
	case Delivered:
		return "delivered"
	case Retried:
		return "retried"
	case Failed:
		return "failed"
	case Gone:
		return "gone"
	case Expanded:
		return "expanded"
	}
	return "EventKind(" + strconv.Itoa(int(k)) + ")"
}

// Event is what the Worker reports of each attempt, for metrics.
type Event struct {
	Kind     EventKind
	Activity string
	Inbox    string // for Expanded, FanoutInbox
	Status   int    // the HTTP status; 0 for a network error or a local job
	Attempt  int    // 1 for the first attempt
	Latency  time.Duration
	Err      error // why it failed
	Count    int   // for Expanded: the deliveries enqueued
}

// RetryPolicy says when a failed delivery is tried again.
type RetryPolicy struct {
	// MaxAttempts is the number of attempts before a delivery is given
	// up on; 0 means DefaultMaxAttempts (16).
	MaxAttempts int
	// Backoff returns the wait after the given failed attempt (1 for the
	// first); nil means MastodonBackoff. A Retry-After answer waits at
	// least what it asks.
	Backoff func(attempt int) time.Duration
}

// MastodonBackoff is the default backoff, Mastodon's: attempt⁴ + 15
// seconds plus up to 30×(attempt+1) seconds of jitter, so that 16
// attempts span about two and a half days.
func MastodonBackoff(attempt int) time.Duration {
	n := float64(attempt)
	base := n*n*n*n + 15
	jitter := rand.Float64() * 30 * (n + 1)
	return time.Duration((base + jitter) * float64(time.Second))
}

// WorkerOptions configures a Worker.
type WorkerOptions struct {
	// Client is the safe client that delivers and fetches; required.
	Client *fetch.Client
	// Knocker signs deliveries; nil means a new one over Client with
	// the default first knock (draft-cavage, RFC 9421 at hosts seen to
	// verify it). Share it with the inbox's Verifier as its Observer.
	Knocker *signature.Knocker
	// Remote finds remote actors' inboxes; nil means one over
	// Store.Actors and Client.
	Remote *actor.Remote
	// Local, when set, takes the deliveries that stay on this server:
	// those to our own inboxes (a local actor following another) and
	// those whose Inbox is a job name other than FanoutInbox (the
	// inbox's queued activities). It must Ack d itself, in the
	// transaction of its effects, and return nil; or return an error,
	// wrapping ErrPermanent when retrying cannot help. Without it, our
	// own inboxes are POSTed to like any other.
	Local func(ctx context.Context, d storage.Delivery) error
	// Concurrency bounds the deliveries attempted at once; 0 means
	// DefaultConcurrency.
	Concurrency int
	// PerHost bounds the deliveries attempted at once to one host; 0
	// means DefaultPerHost.
	PerHost int
	// Visibility is the lease of a delivery; 0 means DefaultVisibility.
	Visibility time.Duration
	// Poll is how long an idle worker waits before it looks at the queue
	// again (a Send in this process wakes it at once); 0 means
	// DefaultPoll.
	Poll time.Duration
	// Retry is the retry policy.
	Retry RetryPolicy
	// MaxLeases gives up on a delivery leased this many times without an
	// outcome (it crashed or hung the workers that took it); 0 means
	// DefaultMaxLeases.
	MaxLeases int
	// FanoutBudget caps the fetches one fan-out may make (remote actors
	// not cached, remote collections); 0 means DefaultFanoutBudget.
	FanoutBudget int
	// Observe, when set, is told of every attempt. It must be quick.
	Observe func(Event)
	// Logger receives what the worker does; nil means the outbox's.
	Logger *slog.Logger
}

// Worker delivers what an Outbox enqueued: it expands each fan-out into
// one delivery per inbox and POSTs each, signed afresh with the sending
// actor's newest key. Any number of Workers, in any number of processes
// sharing the store, may run at once. It is safe for concurrent use.
type Worker struct {
	out    *Outbox
	opts   WorkerOptions
	log    *slog.Logger
	wake   chan struct{}
	ackCh  chan string
	mu     sync.Mutex
	hosts  map[string]chan struct{}
	keys   map[string]cachedKey
	failed map[string]*HostHealth
	// senders are the actors of recent activities, by id: a fan-out's
	// deliveries share one body, read once. Cleared when it holds
	// maxSenders.
	senders map[string]string
}

// maxSenders bounds Worker.senders.
const maxSenders = 1024

type cachedKey struct {
	id     string
	signer crypto.Signer
	at     time.Time
}

// HostHealth is what the worker saw of one host.
type HostHealth struct {
	Host      string
	Delivered int64
	Failures  int64 // failed attempts, retried or not
	LastError string
	LastAt    time.Time
}

// NewWorker validates o and builds a Worker for out. It wakes when out
// sends, unless out's Options.Notify was set.
func NewWorker(out *Outbox, o WorkerOptions) (*Worker, error) {
	if out == nil {
		return nil, errors.New("outbox: NewWorker needs an Outbox")
	}
	if o.Client == nil {
		return nil, errors.New("outbox: WorkerOptions.Client is required")
	}
	if o.Concurrency < 0 || o.PerHost < 0 || o.Visibility < 0 || o.Poll < 0 || o.MaxLeases < 0 || o.Retry.MaxAttempts < 0 || o.FanoutBudget < 0 {
		return nil, errors.New("outbox: negative limit in WorkerOptions")
	}
	if o.Concurrency == 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.PerHost == 0 {
		o.PerHost = DefaultPerHost
	}
	if o.Visibility == 0 {
		o.Visibility = DefaultVisibility
	}
	if o.Poll == 0 {
		o.Poll = DefaultPoll
	}
	if o.MaxLeases == 0 {
		o.MaxLeases = DefaultMaxLeases
	}
	if o.Retry.MaxAttempts == 0 {
		o.Retry.MaxAttempts = DefaultMaxAttempts
	}
	if o.Retry.Backoff == nil {
		o.Retry.Backoff = MastodonBackoff
	}
	if o.FanoutBudget == 0 {
		o.FanoutBudget = DefaultFanoutBudget
	}
	if o.Knocker == nil {
		k, err := signature.NewKnocker(signature.KnockerOptions{Client: o.Client})
		if err != nil {
			return nil, err
		}
		o.Knocker = k
	}
	if o.Remote == nil {
		if out.opts.Store.Actors == nil {
			return nil, errors.New("outbox: the store has no Actors cache; set WorkerOptions.Remote")
		}
		o.Remote = &actor.Remote{Cache: out.opts.Store.Actors, Client: o.Client, Registry: out.opts.Registry, Now: out.opts.Now}
	}
	if o.Logger == nil {
		o.Logger = out.log
	}
	w := &Worker{out: out, opts: o, log: o.Logger, wake: make(chan struct{}, 1),
		hosts: map[string]chan struct{}{}, keys: map[string]cachedKey{}, failed: map[string]*HostHealth{}}
	if out.opts.Notify == nil {
		out.opts.Notify = w.Wake
	}
	return w, nil
}

// Wake makes an idle Run look at the queue at once.
func (w *Worker) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run delivers until ctx ends, then returns ctx's error once the
// attempts in flight have ended. A delivery whose attempt was cut short
// stays leased, and is tried again when its lease expires, by this
// process after a restart or by another.
func (w *Worker) Run(ctx context.Context) error {
	q := w.out.opts.Store.Queue
	slots := make(chan struct{}, w.opts.Concurrency)
	var wg sync.WaitGroup
	acks := newAcker(q, w.log)
	ackDone := make(chan struct{})
	go func() { acks.run(ctx); close(ackDone) }()
	defer func() {
		wg.Wait()
		acks.stop()
		<-ackDone
	}()
	idle := w.opts.Poll
	// Deliveries are leased ahead, up to half the concurrency more than
	// the free slots, so that a busy worker leases in batches rather than
	// once per delivery; one left waiting until half its lease is gone is
	// let go, to be leased again, rather than attempted late.
	var (
		ahead    []storage.Delivery
		leasedAt time.Time // when ahead was leased, on this process's clock
	)
	for {
		if len(ahead) == 0 {
			free := w.opts.Concurrency - len(slots)
			batch, err := q.Lease(ctx, max(free, 1)+w.opts.Concurrency/2, w.opts.Visibility)
			if err != nil && ctx.Err() == nil {
				w.log.ErrorContext(ctx, "outbox: lease", "err", err)
			}
			if len(batch) == 0 {
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-w.wake:
				case <-time.After(idle):
				}
				continue
			}
			ahead, leasedAt = batch, time.Now()
		}
		// Wait for a free slot.
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		d := ahead[0]
		ahead = ahead[1:]
		if time.Since(leasedAt) > w.opts.Visibility/2 {
			<-slots
			continue
		}
		wg.Add(1)
		go func() {
			defer func() { <-slots; wg.Done() }()
			w.handle(ctx, d, acks)
		}()
	}
}

// RunOnce leases and handles what is due now, up to limit deliveries,
// and returns how many it handled: for tests and for draining a queue
// without a long-running worker.
func (w *Worker) RunOnce(ctx context.Context, limit int) (int, error) {
	q := w.out.opts.Store.Queue
	acks := newAcker(q, w.log)
	done := make(chan struct{})
	go func() { acks.run(ctx); close(done) }()
	defer func() { acks.stop(); <-done }()
	n := 0
	for n < limit {
		batch, err := q.Lease(ctx, min(w.opts.Concurrency, limit-n), w.opts.Visibility)
		if err != nil {
			return n, err
		}
		if len(batch) == 0 {
			return n, nil
		}
		var wg sync.WaitGroup
		for _, d := range batch {
			wg.Add(1)
			go func() { defer wg.Done(); w.handle(ctx, d, acks) }()
		}
		wg.Wait()
		acks.flush()
		n += len(batch)
	}
	return n, nil
}

// handle attempts one leased delivery and records its outcome.
func (w *Worker) handle(ctx context.Context, d storage.Delivery, acks *acker) {
	if d.Leases > w.opts.MaxLeases {
		w.giveUp(ctx, d, 0, fmt.Errorf("leased %d times without an outcome", d.Leases))
		return
	}
	switch {
	case d.Inbox == FanoutInbox:
		start := time.Now()
		n, err := w.fanOut(ctx, d)
		if err != nil {
			w.fail(ctx, d, 0, 0, err)
			return
		}
		w.observe(Event{Kind: Expanded, Activity: d.Activity, Inbox: d.Inbox, Attempt: d.Attempts + 1, Latency: time.Since(start), Count: n})
		return
	case w.opts.Local != nil && (w.out.opts.Scheme.IsLocal(d.Inbox) || !strings.Contains(d.Inbox, "://")):
		start := time.Now()
		if err := w.opts.Local(ctx, d); err != nil {
			w.fail(ctx, d, 0, 0, err)
			return
		}
		w.observe(Event{Kind: Delivered, Activity: d.Activity, Inbox: d.Inbox, Attempt: d.Attempts + 1, Latency: time.Since(start)})
		return
	}
	host := hostOf(d.Inbox)
	sem := w.hostSem(host)
	select {
	case sem <- struct{}{}:
	case <-ctx.Done():
		return
	}
	start := time.Now()
	status, retryAfter, err := w.post(ctx, d)
	<-sem
	latency := time.Since(start)
	if ctx.Err() != nil {
		return // cut short by shutdown: the lease expires and it is tried again
	}
	switch {
	case err == nil && status >= 200 && status < 300:
		acks.ack(d.Receipt)
		w.health(host, nil)
		w.observe(Event{Kind: Delivered, Activity: d.Activity, Inbox: d.Inbox, Status: status, Attempt: d.Attempts + 1, Latency: latency})
	case err == nil && status == http.StatusGone:
		w.health(host, fmt.Errorf("410 Gone"))
		w.markGone(ctx, d.Inbox)
		w.giveUp(ctx, d, status, errors.New("410 Gone: the recipient is gone"))
		w.observe(Event{Kind: Gone, Activity: d.Activity, Inbox: d.Inbox, Status: status, Attempt: d.Attempts + 1, Latency: latency})
	case err == nil && status >= 400 && status < 500 && status != http.StatusRequestTimeout && status != http.StatusTooManyRequests:
		err = fmt.Errorf("%d %s", status, http.StatusText(status))
		w.health(host, err)
		w.giveUp(ctx, d, status, err)
	case errors.Is(err, ErrPermanent):
		// Nothing to sign with, or nothing to send: no retry can help.
		w.giveUp(ctx, d, 0, err)
	default:
		if err == nil {
			err = fmt.Errorf("%d %s", status, http.StatusText(status))
		}
		w.health(host, err)
		w.retry(ctx, d, status, retryAfter, err, latency)
	}
}

// fail records a failed local job or fan-out.
func (w *Worker) fail(ctx context.Context, d storage.Delivery, status int, latency time.Duration, err error) {
	if errors.Is(err, ErrPermanent) {
		w.giveUp(ctx, d, status, err)
		return
	}
	w.retry(ctx, d, status, 0, err, latency)
}

func (w *Worker) retry(ctx context.Context, d storage.Delivery, status int, retryAfter time.Duration, cause error, latency time.Duration) {
	attempt := d.Attempts + 1
	if attempt >= w.opts.Retry.MaxAttempts {
		w.giveUp(ctx, d, status, fmt.Errorf("gave up after %d attempts: %w", attempt, cause))
		return
	}
	wait := max(w.opts.Retry.Backoff(attempt), retryAfter)
	at := w.out.opts.Now().Add(wait)
	if err := w.out.opts.Store.Queue.Retry(context.WithoutCancel(ctx), d.Receipt, at, cause.Error()); err != nil {
		w.log.WarnContext(ctx, "outbox: recording a retry", "delivery", d.ID, "err", err)
	}
	w.log.InfoContext(ctx, "outbox: delivery failed, will retry", "activity", d.Activity, "inbox", d.Inbox, "attempt", attempt, "in", wait.Round(time.Second), "err", cause)
	w.observe(Event{Kind: Retried, Activity: d.Activity, Inbox: d.Inbox, Status: status, Attempt: attempt, Latency: latency, Err: cause})
}

func (w *Worker) giveUp(ctx context.Context, d storage.Delivery, status int, cause error) {
	if err := w.out.opts.Store.Queue.GiveUp(context.WithoutCancel(ctx), d.Receipt, cause.Error()); err != nil {
		w.log.WarnContext(ctx, "outbox: recording a dead letter", "delivery", d.ID, "err", err)
	}
	w.log.WarnContext(ctx, "outbox: delivery given up", "activity", d.Activity, "inbox", d.Inbox, "attempts", d.Attempts+1, "err", cause)
	w.observe(Event{Kind: Failed, Activity: d.Activity, Inbox: d.Inbox, Status: status, Attempt: d.Attempts + 1, Err: cause})
}

func (w *Worker) observe(e Event) {
	if w.opts.Observe != nil {
		w.opts.Observe(e)
	}
}

// post signs d as its activity's actor and POSTs it once (twice when the
// knocker falls back to the other signature scheme).
func (w *Worker) post(ctx context.Context, d storage.Delivery) (status int, retryAfter time.Duration, err error) {
	who, err := w.sender(d)
	if err != nil {
		return 0, 0, err
	}
	k, err := w.key(ctx, who)
	if err != nil {
		return 0, 0, err
	}
	kn, err := w.opts.Knocker.PostAs(ctx, k.id, k.signer, d.Inbox, "application/activity+json", d.Body)
	if err != nil {
		return 0, 0, err
	}
	resp := kn.Response
	return resp.StatusCode, parseRetryAfter(resp.Header.Get("Retry-After"), w.out.opts.Now()), nil
}

// sender returns the actor of d's activity, who signs its delivery.
func (w *Worker) sender(d storage.Delivery) (string, error) {
	if d.Activity == "" {
		return actorOfBody(d.Body)
	}
	w.mu.Lock()
	who, ok := w.senders[d.Activity]
	w.mu.Unlock()
	if ok {
		return who, nil
	}
	who, err := actorOfBody(d.Body)
	if err != nil {
		return "", err
	}
	w.mu.Lock()
	if w.senders == nil || len(w.senders) >= maxSenders {
		w.senders = make(map[string]string)
	}
	w.senders[d.Activity] = who
	w.mu.Unlock()
	return who, nil
}

// key returns the newest key of a local actor, cached for a minute so
// that a rotation is picked up soon.
func (w *Worker) key(ctx context.Context, who string) (cachedKey, error) {
	w.mu.Lock()
	k, ok := w.keys[who]
	w.mu.Unlock()
	if ok && time.Since(k.at) < time.Minute {
		return k, nil
	}
	keys := w.out.opts.Store.Keys
	if keys == nil {
		return cachedKey{}, errors.New("outbox: the store has no KeySource to sign with")
	}
	ks, err := keys.Keys(ctx, who)
	if err != nil {
		return cachedKey{}, err
	}
	if len(ks) == 0 {
		return cachedKey{}, fmt.Errorf("outbox: %s has no key to sign with: %w", who, ErrPermanent)
	}
	s, err := ks[0].PrivateKey()
	if err != nil {
		return cachedKey{}, err
	}
	k = cachedKey{id: ks[0].ID, signer: s, at: time.Now()}
	w.mu.Lock()
	w.keys[who] = k
	w.mu.Unlock()
	return k, nil
}

func (w *Worker) hostSem(host string) chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	s, ok := w.hosts[host]
	if !ok {
		s = make(chan struct{}, w.opts.PerHost)
		w.hosts[host] = s
	}
	return s
}

func (w *Worker) health(host string, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	h, ok := w.failed[host]
	if !ok {
		if len(w.failed) >= 10000 {
			return
		}
		h = &HostHealth{Host: host}
		w.failed[host] = h
	}
	if err == nil {
		h.Delivered++
		return
	}
	h.Failures++
	h.LastError, h.LastAt = err.Error(), time.Now()
}

// Hosts returns what this worker saw of each host it delivered to since
// it started, the hosts with failures first.
func (w *Worker) Hosts() []HostHealth {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]HostHealth, 0, len(w.failed))
	for _, h := range w.failed {
		out = append(out, *h)
	}
	sortHosts(out)
	return out
}

// Stats returns the queue's counts: its depth, what is leased, retried
// later, and dead.
func (w *Worker) Stats(ctx context.Context) (storage.QueueStats, error) {
	return w.out.opts.Store.Queue.Stats(ctx)
}

// markGone marks the actor whose personal inbox answered 410 as gone, so
// that nothing more is delivered to it.
func (w *Worker) markGone(ctx context.Context, inbox string) {
	owner, ok := strings.CutSuffix(inbox, "/inbox")
	if !ok || owner == "" {
		return
	}
	cache := w.out.opts.Store.Actors
	if cache == nil {
		return
	}
	ra, err := cache.Get(ctx, owner)
	if err != nil || ra.Inbox != inbox {
		return
	}
	if err := cache.MarkGone(context.WithoutCancel(ctx), owner, w.out.opts.Now()); err != nil {
		w.log.WarnContext(ctx, "outbox: marking an actor gone", "actor", owner, "err", err)
	}
}

// actorOfBody reads the actor of an activity document.
func actorOfBody(body []byte) (string, error) {
	var doc struct {
		Actor json.RawMessage `json:"actor"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return "", fmt.Errorf("outbox: delivery body: %w: %w", err, ErrPermanent)
	}
	var s string
	if json.Unmarshal(doc.Actor, &s) == nil && s != "" {
		return s, nil
	}
	var obj struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(doc.Actor, &obj) == nil && obj.ID != "" {
		return obj.ID, nil
	}
	return "", fmt.Errorf("outbox: delivery body names no actor: %w", ErrPermanent)
}

// parseRetryAfter reads a Retry-After header: seconds or an HTTP date.
// It caps the wait at a day.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	var d time.Duration
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s > 0 {
		d = time.Duration(s) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), 24*time.Hour)
}

func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	return strings.ToLower(u.Host)
}
