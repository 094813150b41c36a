package inbox

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"time"

	ap "github.com/go-ap/activitypub"

	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/fetch"
	"github.com/fedi-go/fedi/signature"
	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/vocab"
)

// Defaults of Options.
const (
	DefaultMaxBodyBytes = 1 << 20
	DefaultBodyTimeout  = 10 * time.Second
	DefaultFetchBudget  = 10
)

// QueuedInbox is the Inbox of the deliveries the Handler enqueues when
// Options.Queue is set: the worker that leases them hands them to
// Handler.Process instead of POSTing them.
const QueuedInbox = "fedi:inbound"

// Options configures a Handler. The zero value of every field but those
// marked required is its default.
type Options struct {
	// Registry decodes activities; required.
	Registry *vocab.Registry
	// Store holds what the handlers read and write; required: Objects,
	// Collections and Dedupe (and Queue with Queue set). With Store.Tx
	// set, each activity's effects are applied all or nothing.
	Store storage.Store
	// Actors finds the recipients; required.
	Actors actor.Directory
	// Scheme is the application's IRI scheme, complete; required.
	Scheme actor.Scheme
	// Verifier verifies signatures; required.
	Verifier *signature.Verifier
	// Mux routes activities to their handlers; required.
	Mux *Mux
	// Client fetches objects from their origin when an activity embeds
	// one of another origin; without it such activities are refused.
	Client *fetch.Client
	// Sender sends what handlers send (an Accept of a Follow): the
	// outbox. Without it Activity.Send fails.
	Sender Sender
	// MaxBodyBytes caps the body: 413 beyond. 0 means
	// DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// BodyTimeout bounds the time to read the body, so that a client
	// sending it a byte at a time cannot hold the handler; 0 means
	// DefaultBodyTimeout. Set http.Server's ReadHeaderTimeout too.
	BodyTimeout time.Duration
	// FetchBudget caps the fetches one delivery may cause: its key, its
	// actor, the foreign objects it embeds. 0 means DefaultFetchBudget.
	FetchBudget int
	// Blocked, when set, is asked about every activity's actor before
	// anything else is done with it; true refuses it with 403. Block
	// actors and whole domains here (actor.Origin gives the domain).
	Blocked func(ctx context.Context, actorIRI string) (bool, error)
	// Queue makes the handler answer 202 as soon as the activity is
	// checked and recorded, and apply its effects later: it enqueues the
	// activity in Store.Queue (with Inbox QueuedInbox) in the transaction
	// that records it, and a worker hands it to Process. For slow
	// effects; the 202 goes out only once the enqueue has committed.
	Queue bool
	// Observe, when set, is told of every delivery: accepted (with the
	// recipients it was new to) or refused (with the status and
	// reason), after the fact. It must be quick.
	Observe func(ctx context.Context, e Event)
	// Logger receives what is refused and why, and the activities no
	// handler takes (at debug level); nil means slog.Default().
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Handler is the inbox: an http.Handler for personal inboxes and the
// shared inbox alike (the request's path tells which). It is safe for
// concurrent use.
//
// Each POST goes through, in this order: the body cap (413) and the
// method (405); the signature (401); decoding with the registry (400);
// authorization, apart from any effect (401, 403: see the Rule type);
// the recipients (404 for a personal inbox of an unknown actor; the local
// actors a shared-inbox delivery addresses, each once); each handler's
// Check; then, in one storage transaction, dedupe per recipient and each
// handler's Apply; and 202. A failure answers a short plain-text reason,
// logs the detail, and leaves storage unchanged.
type Handler struct {
	opts Options
	log  *slog.Logger
	env  *env
}

// NewHandler validates o and builds a Handler.
func NewHandler(o Options) (*Handler, error) {
	switch {
	case o.Registry == nil:
		return nil, errors.New("inbox: Options.Registry is required")
	case o.Store.Objects == nil || o.Store.Collections == nil || o.Store.Dedupe == nil:
		return nil, errors.New("inbox: Options.Store needs Objects, Collections and Dedupe")
	case o.Queue && o.Store.Queue == nil:
		return nil, errors.New("inbox: Options.Queue needs Store.Queue")
	case o.Actors == nil:
		return nil, errors.New("inbox: Options.Actors is required")
	case o.Scheme.Origin == "" || o.Scheme.Collection == nil:
		return nil, errors.New("inbox: Options.Scheme is required, complete (see actor.NewScheme)")
	case o.Verifier == nil:
		return nil, errors.New("inbox: Options.Verifier is required")
	case o.Mux == nil:
		return nil, errors.New("inbox: Options.Mux is required")
	case o.Mux.reg != o.Registry:
		return nil, errors.New("inbox: Options.Mux was made for another registry")
	case o.MaxBodyBytes < 0 || o.BodyTimeout < 0 || o.FetchBudget < 0:
		return nil, errors.New("inbox: negative limit in Options")
	}
	if o.MaxBodyBytes == 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.BodyTimeout == 0 {
		o.BodyTimeout = DefaultBodyTimeout
	}
	if o.FetchBudget == 0 {
		o.FetchBudget = DefaultFetchBudget
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	h := &Handler{opts: o, log: o.Logger}
	h.env = &env{h: h}
	return h, nil
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := fetch.WithBudget(r.Context(), h.opts.FetchBudget)
	a, fresh, err := h.serve(ctx, w, r)
	h.observe(ctx, Event{Path: r.URL.Path, Status: http.StatusAccepted, Activity: a, Recipients: fresh}, err)
	if err != nil {
		h.refused(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusAccepted)
	_, _ = io.WriteString(w, "accepted for "+strconv.Itoa(len(fresh))+" recipient(s)\n")
}

// Event is what the handler reports of each delivery, accepted or
// refused, to Options.Observe.
type Event struct {
	// Path is the inbox's path; empty for a delivery of ours to
	// ourselves (DeliverLocal).
	Path string
	// Status is 202, or the refusal's status; Reason the refusal's
	// short reason and Err its detail.
	Status int
	Reason string
	Err    error
	// Activity is the activity, once it decoded; nil before. Its Store
	// is not to be used.
	Activity *Activity
	// Recipients are the IRIs it was new to and applied for: local
	// actors, or the shared inbox's for the server. Empty for a
	// duplicate or a refusal.
	Recipients []string
}

func (h *Handler) observe(ctx context.Context, ev Event, e *Error) {
	if h.opts.Observe == nil {
		return
	}
	if e != nil {
		ev.Status, ev.Reason, ev.Err, ev.Recipients = e.Code, e.Safe, e.Err, nil
	}
	h.opts.Observe(ctx, ev)
}

func errOf(e *Error) error {
	if e == nil {
		return nil
	}
	return e
}

func (h *Handler) refused(w http.ResponseWriter, r *http.Request, e *Error) {
	level := slog.LevelInfo
	if e.Code >= 500 {
		level = slog.LevelError
	}
	h.log.Log(r.Context(), level, "inbox: refused", "path", r.URL.Path, "status", e.Code, "reason", e.Safe, "err", e.Err)
	if e.Code == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", http.MethodPost)
	}
	if e.Code == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "60")
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(e.Code)
	_, _ = io.WriteString(w, e.Safe+"\n")
}

// serve does the work of ServeHTTP and returns the activity (once it
// decoded) and the recipients it was new to.
func (h *Handler) serve(ctx context.Context, w http.ResponseWriter, r *http.Request) (*Activity, []string, *Error) {
	if r.Method != http.MethodPost {
		return nil, nil, refuse(http.StatusMethodNotAllowed, ErrMethod, "only POST", nil)
	}
	body, e := h.readBody(w, r)
	if e != nil {
		return nil, nil, e
	}
	signer, err := h.opts.Verifier.Verify(ctx, r, body)
	if err != nil {
		if a := h.goneActorDelete(ctx, body, err); a != nil {
			// The actor deleted itself and its server answers 410 for
			// it: its key cannot be fetched, but its Delete stands.
			recipients, e := h.recipients(ctx, r, a)
			if e != nil {
				return a, nil, e
			}
			fresh, e := h.accept(ctx, a, recipients, nil)
			return a, fresh, e
		}
		safe := "signature not verified"
		var se *signature.Error
		if errors.As(err, &se) {
			safe = se.Safe()
		}
		return nil, nil, refuse(http.StatusUnauthorized, ErrSignature, safe, err)
	}
	a, e := h.decode(body)
	if e != nil {
		return nil, nil, e
	}
	a.Signer = signer
	if e := h.authorize(ctx, a); e != nil {
		return a, nil, e
	}
	recipients, e := h.recipients(ctx, r, a)
	if e != nil {
		return a, nil, e
	}
	fresh, e := h.accept(ctx, a, recipients, nil)
	return a, fresh, e
}

// goneActorDelete recognises the one unverifiable activity that is
// accepted, as Mastodon accepts it: a Delete of an actor by itself, whose
// key could not be fetched because its server now answers 410 Gone for
// the actor. The 410 is checked with a fetch of the actor: the server
// that hosted it says it is gone, which is all the Delete says. It
// returns the checked activity, or nil.
func (h *Handler) goneActorDelete(ctx context.Context, body []byte, verr error) *Activity {
	if !errors.Is(verr, signature.ErrKeyFetch) && !errors.Is(verr, signature.ErrUnknownKey) {
		return nil
	}
	a, e := h.decode(body)
	if e != nil || !slices.Contains(a.Types, "Delete") {
		return nil
	}
	actors := vocab.IRIs(vocab.ActorOf(a.Item))
	objects := vocab.IRIs(vocab.ObjectOf(a.Item))
	if len(actors) != 1 || len(objects) != 1 || actors[0] != objects[0] || h.opts.Scheme.IsLocal(actors[0]) || h.opts.Client == nil {
		return nil
	}
	if a.ID != "" && !actor.SameOrigin(a.ID, actors[0]) {
		return nil
	}
	_, err := h.opts.Client.Get(ctx, actors[0])
	var se *fetch.StatusError
	if !errors.As(err, &se) || se.Code != http.StatusGone {
		return nil
	}
	a.Actor, a.Object = actors[0], ap.IRI(actors[0])
	if h.opts.Blocked != nil {
		if blocked, err := h.opts.Blocked(ctx, a.Actor); err != nil || blocked {
			return nil
		}
	}
	h.log.InfoContext(ctx, "inbox: the Delete of a gone actor, unverifiable, accepted", "actor", a.Actor)
	return a
}

// readBody reads the body within the size cap and the time bound.
func (h *Handler) readBody(w http.ResponseWriter, r *http.Request) ([]byte, *Error) {
	if r.ContentLength > h.opts.MaxBodyBytes {
		return nil, refuse(http.StatusRequestEntityTooLarge, ErrBodyTooLarge, "body too large", nil)
	}
	// Bound the read where the connection allows it (a real server);
	// a recorder in tests has no deadline to set.
	rc := http.NewResponseController(w)
	deadline := h.opts.Now().Add(h.opts.BodyTimeout)
	_ = rc.SetReadDeadline(deadline)
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.opts.MaxBodyBytes))
	if err == nil {
		_ = rc.SetReadDeadline(time.Time{})
	} else {
		// What is left of the body is not worth reading: close the
		// connection after the answer rather than drain it.
		w.Header().Set("Connection", "close")
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, refuse(http.StatusRequestEntityTooLarge, ErrBodyTooLarge, "body too large", nil)
		}
		if h.opts.Now().After(deadline) {
			return nil, refuse(http.StatusRequestTimeout, ErrBodyTimeout, "body not received in time", err)
		}
		return nil, refuse(http.StatusBadRequest, ErrMalformed, "body could not be read", err)
	}
	return body, nil
}

// decode decodes the body into an Activity.
func (h *Handler) decode(body []byte) (*Activity, *Error) {
	it, err := h.opts.Registry.Decode(body)
	if err != nil {
		safe := "malformed activity"
		var de *vocab.DecodeError
		if errors.As(err, &de) {
			safe = "malformed activity: " + de.Err.Error() + " at " + truncate(de.Path, 80)
		}
		return nil, refuse(http.StatusBadRequest, ErrMalformed, safe, err)
	}
	switch it.(type) {
	case *vocab.Activity, *vocab.IntransitiveActivity:
	default:
		return nil, refuse(http.StatusBadRequest, ErrMalformed, "not an activity", fmt.Errorf("decoded to %T", it))
	}
	a := &Activity{Item: it, Raw: body, Received: h.opts.Now(), Types: vocab.Types(it), env: h.env}
	if len(a.Types) == 0 {
		return nil, refuse(http.StatusBadRequest, ErrMalformed, "the activity has no type", nil)
	}
	a.Type = string(it.GetType())
	a.ID = string(vocab.IRIOf(it))
	if len(a.ID) > storage.MaxIRI {
		return nil, refuse(http.StatusBadRequest, ErrMalformed, "the activity id is too long", nil)
	}
	if a.ID != "" && storage.CheckIRI("activity id", a.ID) != nil {
		return nil, refuse(http.StatusBadRequest, ErrMalformed, "the activity id cannot be stored", nil)
	}
	a.DedupeKey = a.ID
	if a.DedupeKey == "" {
		// Without an id, a replay is recognised by its bytes: a copy
		// replayed within the signature's window is the same body.
		sum := sha256.Sum256(body)
		a.DedupeKey = "urn:fedi:sha256:" + hex.EncodeToString(sum[:])
	}
	return a, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// recipients returns the local actors an activity is for: the owner of a
// personal inbox, or, at the shared inbox, every local actor it
// addresses. A nil actor in the result stands for the server itself.
func (h *Handler) recipients(ctx context.Context, r *http.Request, a *Activity) ([]*actor.Actor, *Error) {
	iri := h.opts.Scheme.Origin + r.URL.EscapedPath()
	if iri != h.opts.Scheme.SharedInbox {
		owner, name, ok := h.opts.Scheme.ParseCollection(iri)
		if !ok || name != actor.Inbox {
			return nil, refuse(http.StatusNotFound, ErrNoRecipient, "no such inbox", fmt.Errorf("path %s", r.URL.Path))
		}
		rec, err := h.opts.Actors.ByIRI(ctx, owner)
		switch {
		case errors.Is(err, actor.ErrNotFound):
			return nil, refuse(http.StatusNotFound, ErrNoRecipient, "no such inbox", err)
		case errors.Is(err, actor.ErrGone):
			return nil, refuse(http.StatusGone, ErrNoRecipient, "the recipient was deleted", err)
		case err != nil:
			return nil, classify(err)
		}
		return []*actor.Actor{rec}, nil
	}
	out, err := h.addressed(ctx, a)
	if err != nil {
		return nil, classify(err)
	}
	if len(out) == 0 {
		out = []*actor.Actor{nil}
	}
	return out, nil
}

// addressed returns the local actors an activity addresses: in to, cc,
// bto, bcc and audience, directly or as followers of its actor; and, for
// activities that do not address their object's owner (a Follow, an
// Accept, an Undo), the local actor that is their object, the actor of
// their embedded activity, or their target.
func (h *Handler) addressed(ctx context.Context, a *Activity) ([]*actor.Actor, error) {
	var out []*actor.Actor
	seen := map[string]bool{}
	add := func(iri string) error {
		if iri == "" || seen[iri] || !h.opts.Scheme.IsLocal(iri) {
			return nil
		}
		seen[iri] = true
		rec, err := h.opts.Actors.ByIRI(ctx, iri)
		if errors.Is(err, actor.ErrNotFound) || errors.Is(err, actor.ErrGone) {
			return nil
		}
		if err != nil {
			return err
		}
		out = append(out, rec)
		return nil
	}
	aud := vocab.Audience(a.Item)
	for _, iri := range aud {
		if err := add(string(iri)); err != nil {
			return nil, err
		}
	}
	if slices.ContainsFunc(aud, func(iri ap.IRI) bool { return h.isFollowersOf(ctx, string(iri), a.Actor) }) {
		if err := h.localFollowersOf(ctx, a.Actor, add); err != nil {
			return nil, err
		}
	}
	for _, it := range vocab.Items(a.Object) {
		if err := add(string(vocab.IRIOf(it))); err != nil {
			return nil, err
		}
		for _, inner := range vocab.IRIs(vocab.ActorOf(it)) {
			if err := add(inner); err != nil {
				return nil, err
			}
		}
		for _, inner := range vocab.IRIs(vocab.ObjectOf(it)) {
			if err := add(inner); err != nil {
				return nil, err
			}
		}
	}
	for _, iri := range vocab.IRIs(a.Target) {
		if err := add(iri); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// isFollowersOf reports whether iri is the followers collection of the
// remote actor: the one its cached document names, or, by the convention
// every major server follows, its IRI + "/followers".
func (h *Handler) isFollowersOf(ctx context.Context, iri, remote string) bool {
	if iri == remote+"/followers" {
		return true
	}
	if h.opts.Store.Actors == nil {
		return false
	}
	ra, err := h.opts.Store.Actors.Get(ctx, remote)
	if err != nil || ra.Document == nil {
		return false
	}
	var doc struct {
		Followers string `json:"followers"`
	}
	return json.Unmarshal(ra.Document, &doc) == nil && doc.Followers == iri
}

// localFollowersOf calls add for each local actor that follows remote:
// the owners of the following collections that hold it.
func (h *Handler) localFollowersOf(ctx context.Context, remote string, add func(string) error) error {
	ms, ok := h.opts.Store.Collections.(storage.Memberships)
	if !ok {
		return nil
	}
	cursor := ""
	for {
		p, err := ms.CollectionsOf(ctx, remote, storage.PageOptions{Cursor: cursor, Limit: storage.MaxPageLimit})
		if err != nil {
			return err
		}
		for _, m := range p.Members {
			if owner, name, ok := h.opts.Scheme.ParseCollection(m.IRI); ok && name == actor.Following {
				if err := add(owner); err != nil {
					return err
				}
			}
		}
		if p.Next == "" {
			return nil
		}
		cursor = p.Next
	}
}
