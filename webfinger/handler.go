package webfinger

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"log/slog"
	"net/http"
	"strings"
)

// ErrNotFound is what a LookupFunc returns for a resource it does not
// know; the handler answers 404.
var ErrNotFound = errors.New("webfinger: resource not found")

// Account is what the application says about one of its actors.
type Account struct {
	Username   string   // the acct: user part, usually preferredUsername
	ActorIRI   string   // the actor's id, linked as rel=self
	ProfileURL string   // the HTML profile page, if there is one
	Aliases    []string // more aliases, if any
	Links      []Link   // more links, if any
}

// LookupFunc finds the account a resource names: by r.User for acct:
// resources (r.Host is already checked to be ours), by r.IRI otherwise.
// It returns ErrNotFound for an unknown resource.
type LookupFunc func(ctx context.Context, r Resource) (*Account, error)

// HandlerOptions configures a Handler. Lookup is required.
type HandlerOptions struct {
	Lookup LookupFunc
	// Hosts are the hosts (with port, if any) that acct: resources may
	// name; the first is the one aliases name. Empty means the request's
	// Host. NewHandler copies the slice.
	Hosts []string
	// BaseURL is the scheme and host of the server, used in host-meta's
	// template, such as "https://example.com". Set it in production.
	// Empty means derived from the request, which suits tests only: the
	// Host header is the client's to choose, so the template would point
	// wherever the client said (and a cache in front would keep it), and
	// behind a proxy that terminates TLS the scheme would come out http.
	BaseURL string
	// Logger receives lookup failures; nil means slog.Default().
	Logger *slog.Logger
}

// Handler serves RFC 7033 WebFinger at /.well-known/webfinger, and
// host-meta (XRD) through HostMeta. It is safe for concurrent use.
type Handler struct {
	opts HandlerOptions
}

// NewHandler validates o and builds a Handler.
func NewHandler(o HandlerOptions) (*Handler, error) {
	if o.Lookup == nil {
		return nil, errors.New("webfinger: HandlerOptions.Lookup is required")
	}
	hosts := make([]string, len(o.Hosts))
	for i, h := range o.Hosts {
		if !validHost(h) {
			return nil, errors.New("webfinger: HandlerOptions.Hosts: " + h + " is not a host")
		}
		hosts[i] = strings.ToLower(h)
	}
	o.Hosts = hosts
	o.BaseURL = strings.TrimSuffix(o.BaseURL, "/")
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Handler{opts: o}, nil
}

// Register adds the WebFinger and host-meta routes to mux.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.Handle("GET /.well-known/webfinger", h)
	mux.Handle("GET /.well-known/host-meta", h.HostMeta())
}

// ServeHTTP answers a WebFinger query: 400 for a missing or malformed
// resource, 404 for an unknown one, else the JRD with a self link of type
// application/activity+json and a profile-page link. Every answer allows
// any origin, as RFC 7033 asks.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	q := r.URL.Query()
	raw := q.Get("resource")
	if raw == "" {
		http.Error(w, "missing resource parameter", http.StatusBadRequest)
		return
	}
	res, err := ParseResource(raw)
	if err != nil {
		http.Error(w, "malformed resource", http.StatusBadRequest)
		return
	}
	if res.IsAcct() && !h.ours(res.Host, r) {
		http.Error(w, "unknown resource", http.StatusNotFound)
		return
	}
	acct, err := h.opts.Lookup(r.Context(), res)
	if errors.Is(err, ErrNotFound) || (err == nil && acct == nil) {
		http.Error(w, "unknown resource", http.StatusNotFound)
		return
	}
	if err != nil {
		h.opts.Logger.ErrorContext(r.Context(), "webfinger lookup failed", "resource", raw, "error", err)
		http.Error(w, "lookup failed", http.StatusInternalServerError)
		return
	}
	jrd := h.describe(res, acct, r)
	if rels := q["rel"]; len(rels) > 0 {
		kept := jrd.Links[:0]
		for _, l := range jrd.Links {
			for _, rel := range rels {
				if l.Rel == rel {
					kept = append(kept, l)
					break
				}
			}
		}
		jrd.Links = kept
	}
	body, err := json.Marshal(jrd)
	if err != nil {
		http.Error(w, "encoding failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/jrd+json")
	_, _ = w.Write(body)
}

func (h *Handler) ours(host string, r *http.Request) bool {
	if len(h.opts.Hosts) == 0 {
		return strings.EqualFold(host, r.Host)
	}
	for _, o := range h.opts.Hosts {
		if o == host {
			return true
		}
	}
	return false
}

func (h *Handler) describe(res Resource, a *Account, r *http.Request) *JRD {
	jrd := &JRD{Subject: res.String()}
	host := r.Host
	if len(h.opts.Hosts) > 0 {
		host = h.opts.Hosts[0]
	}
	if !res.IsAcct() && a.Username != "" {
		jrd.Aliases = append(jrd.Aliases, "acct:"+a.Username+"@"+strings.ToLower(host))
	}
	for _, alias := range append([]string{a.ActorIRI, a.ProfileURL}, a.Aliases...) {
		if alias != "" && alias != jrd.Subject && !contains(jrd.Aliases, alias) {
			jrd.Aliases = append(jrd.Aliases, alias)
		}
	}
	if a.ActorIRI != "" {
		jrd.Links = append(jrd.Links, Link{Rel: RelSelf, Type: TypeActivity, Href: a.ActorIRI})
	}
	if a.ProfileURL != "" {
		jrd.Links = append(jrd.Links, Link{Rel: RelProfilePage, Type: "text/html", Href: a.ProfileURL})
	}
	jrd.Links = append(jrd.Links, a.Links...)
	return jrd
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// HostMeta returns the handler of /.well-known/host-meta: an XRD whose
// lrdd link points at this server's WebFinger endpoint. Some peers still
// ask for it before WebFinger.
func (h *Handler) HostMeta() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		base := h.opts.BaseURL
		if base == "" {
			scheme := "http"
			if r.TLS != nil {
				scheme = "https"
			}
			base = scheme + "://" + r.Host
		}
		var b strings.Builder
		b.WriteString(xml.Header)
		b.WriteString(`<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">` + "\n")
		b.WriteString(`  <Link rel="lrdd" template="`)
		_ = xml.EscapeText(&writer{&b}, []byte(base+"/.well-known/webfinger?resource={uri}"))
		b.WriteString(`"/>` + "\n</XRD>\n")
		w.Header().Set("Content-Type", "application/xrd+xml; charset=utf-8")
		_, _ = w.Write([]byte(b.String()))
	})
}

type writer struct{ b *strings.Builder }

func (w *writer) Write(p []byte) (int, error) { return w.b.Write(p) }
