// Package nodeinfo serves NodeInfo 2.1: the discovery document at
// /.well-known/nodeinfo and the schema 2.1 document it links to, which
// crawlers and other servers read to learn the software and its usage.
// The application supplies the counts.
//
//	h, err := nodeinfo.NewHandler(nodeinfo.Options{
//		Software: nodeinfo.Software{Name: "myapp", Version: "1.0.0"},
//		BaseURL:  "https://example.com",
//		Usage: func(ctx context.Context) (nodeinfo.Usage, error) { return counts(ctx) },
//	})
//	h.Register(mux)
package nodeinfo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
)

// Schema21 is the rel of a NodeInfo 2.1 link, and the profile of its
// content type.
const Schema21 = "http://nodeinfo.diaspora.software/ns/schema/2.1"

// ContentType is the content type of a NodeInfo 2.1 document.
const ContentType = `application/json; profile="` + Schema21 + `#"`

// Path is where the NodeInfo 2.1 document is served.
const Path = "/nodeinfo/2.1"

// Software describes the server software.
type Software struct {
	Name       string `json:"name"` // lower case, [a-z0-9-]
	Version    string `json:"version"`
	Repository string `json:"repository,omitempty"`
	Homepage   string `json:"homepage,omitempty"`
}

// Users counts the server's users.
type Users struct {
	Total          int `json:"total"`
	ActiveHalfyear int `json:"activeHalfyear"`
	ActiveMonth    int `json:"activeMonth"`
}

// Usage is what the application counts.
type Usage struct {
	Users         Users `json:"users"`
	LocalPosts    int   `json:"localPosts"`
	LocalComments int   `json:"localComments"`
}

// Options configures a Handler. Software.Name and Software.Version are
// required.
type Options struct {
	Software Software
	// Protocols defaults to ["activitypub"].
	Protocols []string
	// OpenRegistrations says whether anyone can sign up.
	OpenRegistrations bool
	// Usage returns the current counts; nil means zeros.
	Usage func(ctx context.Context) (Usage, error)
	// Metadata is free-form; nil means {}.
	Metadata map[string]any
	// BaseURL is the scheme and host the discovery document links to,
	// such as "https://example.com". Set it in production. Empty means
	// derived from the request, which suits tests only: the Host header
	// is the client's to choose, so the link would point wherever the
	// client said (and a cache in front would keep it), and behind a
	// proxy that terminates TLS the scheme would come out http.
	BaseURL string
	// Logger receives Usage failures; nil means slog.Default().
	Logger *slog.Logger
}

var softwareName = regexp.MustCompile(`^[a-z0-9-]+$`)

// Handler serves NodeInfo. It is safe for concurrent use.
type Handler struct {
	opts Options
}

// NewHandler validates o and builds a Handler.
func NewHandler(o Options) (*Handler, error) {
	if !softwareName.MatchString(o.Software.Name) {
		return nil, fmt.Errorf("nodeinfo: Software.Name %q must match [a-z0-9-]+", o.Software.Name)
	}
	if o.Software.Version == "" {
		return nil, errors.New("nodeinfo: Software.Version is required")
	}
	if len(o.Protocols) == 0 {
		o.Protocols = []string{"activitypub"}
	}
	if o.Metadata == nil {
		o.Metadata = map[string]any{}
	}
	o.BaseURL = strings.TrimSuffix(o.BaseURL, "/")
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Handler{opts: o}, nil
}

// Register adds /.well-known/nodeinfo and /nodeinfo/2.1 to mux.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.Handle("GET /.well-known/nodeinfo", h.WellKnown())
	mux.Handle("GET "+Path, h.Document())
}

// WellKnown serves the discovery document.
func (h *Handler) WellKnown() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		base := h.opts.BaseURL
		if base == "" {
			scheme := "http"
			if r.TLS != nil {
				scheme = "https"
			}
			base = scheme + "://" + r.Host
		}
		writeJSON(w, "application/json", map[string]any{
			"links": []map[string]string{{"rel": Schema21, "href": base + Path}},
		})
	})
}

// Document serves the NodeInfo 2.1 document.
func (h *Handler) Document() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var usage Usage
		if h.opts.Usage != nil {
			var err error
			if usage, err = h.opts.Usage(r.Context()); err != nil {
				h.opts.Logger.ErrorContext(r.Context(), "nodeinfo usage failed", "error", err)
				http.Error(w, "usage unavailable", http.StatusInternalServerError)
				return
			}
		}
		writeJSON(w, ContentType, document{
			Version:           "2.1",
			Software:          h.opts.Software,
			Protocols:         h.opts.Protocols,
			Services:          services{Inbound: []string{}, Outbound: []string{}},
			OpenRegistrations: h.opts.OpenRegistrations,
			Usage:             usage,
			Metadata:          h.opts.Metadata,
		})
	})
}

// document is the NodeInfo 2.1 schema, in its field order.
type document struct {
	Version           string         `json:"version"`
	Software          Software       `json:"software"`
	Protocols         []string       `json:"protocols"`
	Services          services       `json:"services"`
	OpenRegistrations bool           `json:"openRegistrations"`
	Usage             Usage          `json:"usage"`
	Metadata          map[string]any `json:"metadata"`
}

type services struct {
	Inbound  []string `json:"inbound"`
	Outbound []string `json:"outbound"`
}

func writeJSON(w http.ResponseWriter, ct string, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		http.Error(w, "encoding failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Access-Control-Allow-Origin", "*")
	_, _ = w.Write(append(b, '\n'))
}
