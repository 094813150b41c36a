// Package serve answers GET requests for what the application
// federates: its actors' documents (with their keys), their objects and
// activities (410 Gone with a Tombstone once deleted), and their
// collections, paged, with content negotiation between ActivityStreams
// JSON and the application's own HTML.
//
//	h, _ := serve.New(serve.Options{Registry: reg, Store: st, Actors: actors, Scheme: scheme, HTML: pages})
//	mux.Handle("GET /users/", h)
//
// What is not public is served only to a signed request from an actor it
// addresses (or a follower, when it addresses the followers), and is
// otherwise 404, as if it did not exist. With RequireSignature
// (authorized fetch), every GET must be signed except those of actor
// documents, which carry the keys peers verify signatures with.
package serve

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	ap "github.com/go-ap/activitypub"

	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/signature"
	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/vocab"
)

// Content types.
const (
	ActivityJSON = "application/activity+json"
	LDJSON       = `application/ld+json; profile="https://www.w3.org/ns/activitystreams"`
)

// DefaultPageSize is the size of a collection page.
const DefaultPageSize = 20

// maxTrail bounds the cursors a page URL carries back to the first page,
// for its prev link.
const maxTrail = 32

// Options configures a Handler. Registry, Store, Actors and Scheme are
// required.
type Options struct {
	Registry *vocab.Registry
	Store    storage.Store
	Actors   actor.Directory
	Scheme   actor.Scheme
	// HTML serves the requests that prefer text/html, on the same URLs;
	// without it they get 406 Not Acceptable.
	HTML http.Handler
	// Verifier identifies the signer of a signed GET, for what is not
	// public; without it every request is anonymous.
	Verifier *signature.Verifier
	// RequireSignature refuses unsigned GETs (401), except of actor
	// documents: authorized fetch, as Mastodon's secure mode.
	RequireSignature bool
	// CountOnly lists the collection names ("followers", "following")
	// served with their totalItems only.
	CountOnly []string
	// Collections lists the collection names served besides fedi's own
	// (inbox is never served): a platform's "participants", "members".
	Collections []string
	// ItemsAsActivities lists the collections whose pages list the
	// activity that put each member there rather than the member; the
	// default is likes and shares, whose items are Like and Announce
	// activities.
	ItemsAsActivities []string
	// Blocked, when set, refuses a signed GET from the actors it names
	// (403).
	Blocked func(ctx context.Context, actorIRI string) (bool, error)
	// PageSize is the size of a collection page; 0 means
	// DefaultPageSize.
	PageSize int
	// Logger receives failures; nil means slog.Default().
	Logger *slog.Logger
}

// Handler serves GETs of local IRIs. It is safe for concurrent use.
type Handler struct {
	opts  Options
	log   *slog.Logger
	names map[string]bool
}

// New validates o and builds a Handler.
func New(o Options) (*Handler, error) {
	switch {
	case o.Registry == nil:
		return nil, errors.New("serve: Options.Registry is required")
	case o.Store.Objects == nil || o.Store.Collections == nil:
		return nil, errors.New("serve: Options.Store needs Objects and Collections")
	case o.Actors == nil:
		return nil, errors.New("serve: Options.Actors is required")
	case o.Scheme.Origin == "" || o.Scheme.ParseCollection == nil:
		return nil, errors.New("serve: Options.Scheme is required, complete (see actor.NewScheme)")
	case o.RequireSignature && o.Verifier == nil:
		return nil, errors.New("serve: RequireSignature needs a Verifier")
	case o.PageSize < 0 || o.PageSize > storage.MaxPageLimit:
		return nil, fmt.Errorf("serve: PageSize must be between 1 and %d", storage.MaxPageLimit)
	}
	if o.PageSize == 0 {
		o.PageSize = DefaultPageSize
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.ItemsAsActivities == nil {
		o.ItemsAsActivities = []string{actor.Likes, actor.Shares}
	}
	names := map[string]bool{}
	for _, n := range []string{actor.Outbox, actor.Followers, actor.Following, actor.Liked, actor.Likes, actor.Shares, actor.Replies} {
		names[n] = true
	}
	for _, n := range o.Collections {
		names[n] = true
	}
	return &Handler{opts: o, log: o.Logger, names: names}, nil
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		plain(w, http.StatusMethodNotAllowed, "only GET")
		return
	}
	w.Header().Add("Vary", "Accept")
	jsonType, html := negotiate(r.Header.Get("Accept"))
	if html {
		if h.opts.HTML != nil {
			h.opts.HTML.ServeHTTP(w, r)
			return
		}
		if jsonType == "" {
			plain(w, http.StatusNotAcceptable, "this server serves application/activity+json here")
			return
		}
	}
	if jsonType == "" {
		plain(w, http.StatusNotAcceptable, "this server serves application/activity+json here")
		return
	}
	iri := h.opts.Scheme.Origin + r.URL.EscapedPath()
	ctx := r.Context()
	signer, status, msg := h.signer(ctx, r)
	if status != 0 {
		plain(w, status, msg)
		return
	}
	doc, status, err := h.lookup(ctx, iri, r.URL.Query(), signer)
	if err != nil {
		h.log.ErrorContext(ctx, "serve: lookup", "iri", iri, "err", err)
		plain(w, http.StatusInternalServerError, "internal error")
		return
	}
	if status == http.StatusUnauthorized {
		plain(w, status, "sign the request: this server requires authorized fetch")
		return
	}
	if doc == nil {
		plain(w, status, http.StatusText(status))
		return
	}
	w.Header().Set("Content-Type", jsonType)
	w.Header().Set("Content-Length", strconv.Itoa(len(doc)))
	w.WriteHeader(status)
	if r.Method == http.MethodGet {
		_, _ = w.Write(doc)
	}
}

// signer verifies a signed request and returns its signer's IRI, or the
// status to refuse it with.
func (h *Handler) signer(ctx context.Context, r *http.Request) (string, int, string) {
	if r.Header.Get("Signature") == "" && r.Header.Get("Signature-Input") == "" {
		return "", 0, ""
	}
	if h.opts.Verifier == nil {
		return "", 0, ""
	}
	res, err := h.opts.Verifier.Verify(ctx, r, nil)
	if err != nil {
		msg := "signature not verified"
		var se *signature.Error
		if errors.As(err, &se) {
			msg = se.Safe()
		}
		return "", http.StatusUnauthorized, msg
	}
	if h.opts.Blocked != nil {
		if blocked, err := h.opts.Blocked(ctx, res.Owner); err != nil || blocked {
			return "", http.StatusForbidden, "forbidden"
		}
	}
	return res.Owner, 0, ""
}

// lookup returns the document of iri and its status; a nil document
// with the status when there is none to serve.
func (h *Handler) lookup(ctx context.Context, iri string, q url.Values, signer string) ([]byte, int, error) {
	a, err := h.opts.Actors.ByIRI(ctx, iri)
	switch {
	case err == nil:
		doc, err := actor.Document(ctx, h.opts.Scheme, h.opts.Store.Keys, a)
		if err != nil {
			return nil, 0, err
		}
		b, err := h.opts.Registry.Encode(doc)
		return b, http.StatusOK, err
	case errors.Is(err, actor.ErrGone):
		// The stored Tombstone says what the actor was and when it went.
		if o, err := h.opts.Store.Objects.Get(ctx, iri); err == nil && !o.Deleted.IsZero() && h.opts.Scheme.IsLocal(o.IRI) {
			return o.Data, http.StatusGone, nil
		}
		b, err := h.opts.Registry.Encode(vocab.NewTombstone(ap.IRI(iri), "", time.Time{}))
		return b, http.StatusGone, err
	case !errors.Is(err, actor.ErrNotFound):
		return nil, 0, err
	}
	if h.opts.RequireSignature && signer == "" {
		return nil, http.StatusUnauthorized, nil
	}
	if owner, name, ok := h.opts.Scheme.ParseCollection(iri); ok && h.names[name] {
		if exists, err := h.ownerExists(ctx, owner); err != nil || exists {
			if err != nil {
				return nil, 0, err
			}
			return h.collection(ctx, iri, owner, name, q, signer)
		}
	}
	o, err := h.opts.Store.Objects.Get(ctx, iri)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && !h.opts.Scheme.IsLocal(o.IRI)) {
		return nil, http.StatusNotFound, nil
	}
	if err != nil {
		return nil, 0, err
	}
	if !o.Deleted.IsZero() {
		return o.Data, http.StatusGone, nil
	}
	it, err := h.opts.Registry.Decode(o.Data)
	if err != nil {
		return nil, 0, err
	}
	ok, err := h.visible(ctx, it, o.Owner, signer)
	if err != nil || !ok {
		return nil, http.StatusNotFound, err
	}
	return o.Data, http.StatusOK, nil
}

// ownerExists reports whether owner is a local actor or object that is
// not deleted: the collections of what is gone are gone with it.
func (h *Handler) ownerExists(ctx context.Context, owner string) (bool, error) {
	switch _, err := h.opts.Actors.ByIRI(ctx, owner); {
	case err == nil:
		return true, nil
	case errors.Is(err, actor.ErrGone):
		return false, nil
	}
	o, err := h.opts.Store.Objects.Get(ctx, owner)
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	return err == nil && o.Deleted.IsZero() && h.opts.Scheme.IsLocal(owner), err
}

// visible reports whether an object may be served to signer ("" for an
// anonymous request): public ones to anyone; others to their owner, to
// the actors they address, and to the followers of their owner when they
// address the owner's followers.
func (h *Handler) visible(ctx context.Context, it vocab.Item, owner, signer string) (bool, error) {
	aud := vocab.Audience(it)
	if slices.Contains(aud, vocab.PublicIRI) {
		return true, nil
	}
	if signer == "" {
		return false, nil
	}
	if signer == owner || slices.Contains(aud, ap.IRI(signer)) {
		return true, nil
	}
	if owner != "" {
		followers := h.opts.Scheme.Collection(owner, actor.Followers)
		if slices.Contains(aud, ap.IRI(followers)) {
			m, err := h.opts.Store.Collections.Contains(ctx, followers, signer)
			if err == nil && m.State == storage.Accepted {
				return true, nil
			}
			if err != nil && !errors.Is(err, storage.ErrNotFound) {
				return false, err
			}
		}
	}
	return false, nil
}

// collection serves a collection, or one of its pages.
func (h *Handler) collection(ctx context.Context, iri, owner, name string, q url.Values, signer string) ([]byte, int, error) {
	cols := h.opts.Store.Collections
	total, err := cols.Count(ctx, iri, storage.Accepted)
	if err != nil {
		return nil, 0, err
	}
	if q.Get("page") == "" || slices.Contains(h.opts.CountOnly, name) {
		c := vocab.NewOrderedCollection(ap.IRI(iri))
		// The items are on the pages: an empty orderedItems here would
		// tell a client that reads it first that there are none.
		c.OrderedItems = nil
		c.TotalItems = uint(total)
		if !slices.Contains(h.opts.CountOnly, name) {
			c.First = ap.IRI(pageURL(iri, "", nil))
		}
		b, err := h.opts.Registry.Encode(c)
		return b, http.StatusOK, err
	}
	cursor := q.Get("cursor")
	trail := decodeTrail(q.Get("trail"))
	p, err := cols.Page(ctx, iri, storage.PageOptions{Cursor: cursor, Limit: h.opts.PageSize})
	if errors.Is(err, storage.ErrInvalid) {
		return nil, http.StatusBadRequest, nil
	}
	if err != nil {
		return nil, 0, err
	}
	page := &vocab.OrderedCollectionPage{}
	page.Type = ap.OrderedCollectionPageType
	page.ID = ap.IRI(pageURL(iri, cursor, trail))
	page.PartOf = ap.IRI(iri)
	page.TotalItems = uint(total)
	asActivity := slices.Contains(h.opts.ItemsAsActivities, name)
	for _, m := range p.Members {
		item := m.IRI
		if asActivity && m.Activity != "" {
			item = m.Activity
		}
		if name == actor.Outbox {
			ok, err := h.publicStored(ctx, item, owner, signer)
			if err != nil {
				return nil, 0, err
			}
			if !ok {
				continue
			}
		}
		page.OrderedItems = append(page.OrderedItems, ap.IRI(item))
	}
	if page.OrderedItems == nil {
		page.OrderedItems = ap.ItemCollection{}
	}
	if p.Next != "" {
		page.Next = ap.IRI(pageURL(iri, p.Next, append(slices.Clone(trail), cursor)))
	}
	if cursor != "" && len(trail) > 0 {
		page.Prev = ap.IRI(pageURL(iri, trail[len(trail)-1], trail[:len(trail)-1]))
	}
	b, err := h.opts.Registry.Encode(page)
	return b, http.StatusOK, err
}

// publicStored reports whether the stored activity iri may be listed to
// signer.
func (h *Handler) publicStored(ctx context.Context, iri, owner, signer string) (bool, error) {
	o, err := h.opts.Store.Objects.Get(ctx, iri)
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if !o.Deleted.IsZero() {
		return false, nil
	}
	it, err := h.opts.Registry.Decode(o.Data)
	if err != nil {
		return false, nil
	}
	return h.visible(ctx, it, o.Owner, signer)
}

// pageURL returns the URL of the page of iri that starts at cursor, with
// the cursors of the pages before it.
func pageURL(iri, cursor string, trail []string) string {
	v := url.Values{"page": {"true"}}
	if cursor != "" {
		v.Set("cursor", cursor)
	}
	if len(trail) > maxTrail {
		trail = trail[len(trail)-maxTrail:]
	}
	if cursor != "" && len(trail) > 0 {
		b, _ := json.Marshal(trail)
		v.Set("trail", base64.RawURLEncoding.EncodeToString(b))
	}
	return iri + "?" + v.Encode()
}

func decodeTrail(s string) []string {
	if s == "" {
		return nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) > 4096 {
		return nil
	}
	var t []string
	if json.Unmarshal(b, &t) != nil || len(t) > maxTrail {
		return nil
	}
	return t
}

// negotiate reads an Accept header: the JSON content type to answer
// with ("" when the client accepts none), and whether the client prefers
// HTML. No Accept, or */* alone, gets JSON.
func negotiate(accept string) (jsonType string, html bool) {
	if strings.TrimSpace(accept) == "" {
		return ActivityJSON, false
	}
	var qAS, qLD, qJSON, qHTML, qAny float64 = -1, -1, -1, -1, -1
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if qs, ok := params["q"]; ok {
			if v, err := strconv.ParseFloat(qs, 64); err == nil {
				q = v
			}
		}
		switch mt {
		case "application/activity+json":
			qAS = max(qAS, q)
		case "application/ld+json":
			qLD = max(qLD, q)
		case "application/json":
			qJSON = max(qJSON, q)
		case "text/html", "application/xhtml+xml":
			qHTML = max(qHTML, q)
		case "*/*", "application/*":
			qAny = max(qAny, q)
		}
	}
	best := max(qAS, qLD, qJSON, qAny)
	switch {
	case best <= 0:
		jsonType = ""
	case qAS >= qLD && qAS > 0:
		jsonType = ActivityJSON
	case qLD > 0 && qLD >= qAS:
		jsonType = LDJSON
	default:
		jsonType = ActivityJSON
	}
	explicitJSON := max(qAS, qLD, qJSON)
	html = qHTML > 0 && qHTML > explicitJSON && (qHTML >= qAny || explicitJSON <= 0)
	return jsonType, html
}

func plain(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, msg+"\n")
}
