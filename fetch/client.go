package fetch

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// Defaults of a Client.
const (
	DefaultMaxBytes       = 1 << 20
	DefaultMaxRedirects   = 5
	DefaultConnectTimeout = 5 * time.Second
	DefaultHeaderTimeout  = 10 * time.Second
	DefaultTimeout        = 30 * time.Second
	DefaultUserAgent      = "fedi/0.1 (+https://github.com/fedi-go/fedi)"
)

// AcceptActivity is the Accept header of ActivityStreams fetches. Some
// servers (Fedify among them) answer 406 to anything that does not name
// application/activity+json.
const AcceptActivity = `application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"`

// RequestSigner signs an outgoing request; body is the request body (nil
// for GET). The signature package's Signer implements it. It must be safe
// for concurrent use.
type RequestSigner interface {
	SignRequest(r *http.Request, body []byte) error
}

// Options configures a Client. The zero value is a client for the public
// internet with the default limits.
type Options struct {
	// AllowLoopback lets the client reach 127.0.0.0/8 and ::1, and speak
	// plain http to loopback hosts ("localhost" and loopback IP literals).
	// It is for tests and a local reference server; it allows nothing else
	// that the guard refuses, not even the IPv4-compatible, NAT64 and 6to4
	// addresses that embed 127.0.0.1, which are routed elsewhere.
	AllowLoopback bool
	// MaxBytes caps a response body; 0 means DefaultMaxBytes.
	MaxBytes int64
	// MaxRedirects caps the redirects a GET follows; 0 means
	// DefaultMaxRedirects, a negative value follows none.
	MaxRedirects int
	// ConnectTimeout, HeaderTimeout and Timeout bound the TCP connect, the
	// wait for response headers, and the whole request including the body;
	// 0 means the default.
	ConnectTimeout, HeaderTimeout, Timeout time.Duration
	// UserAgent is sent with every request; "" means DefaultUserAgent.
	UserAgent string
	// Signer, when set, signs every GET (authorized fetch). GetOptions
	// overrides it per request.
	Signer RequestSigner
	// Resolver resolves host names; nil means net.DefaultResolver.
	Resolver Resolver
	// TLSConfig, when set, is used for https (for example a test CA).
	TLSConfig *tls.Config
	// Logger receives one debug record per request; nil means
	// slog.Default().
	Logger *slog.Logger
}

// Client is the SSRF-safe HTTP client. It is safe for concurrent use.
type Client struct {
	opts  Options
	hc    *http.Client
	guard *guard
	log   *slog.Logger
}

// New validates o and builds a Client.
func New(o Options) (*Client, error) {
	if o.MaxBytes < 0 || o.ConnectTimeout < 0 || o.HeaderTimeout < 0 || o.Timeout < 0 {
		return nil, errors.New("fetch: negative limit in Options")
	}
	if o.MaxBytes == 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	switch {
	case o.MaxRedirects == 0:
		o.MaxRedirects = DefaultMaxRedirects
	case o.MaxRedirects < 0:
		o.MaxRedirects = 0
	}
	if o.ConnectTimeout == 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	if o.HeaderTimeout == 0 {
		o.HeaderTimeout = DefaultHeaderTimeout
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.UserAgent == "" {
		o.UserAgent = DefaultUserAgent
	}
	if strings.ContainsAny(o.UserAgent, "\r\n") {
		return nil, errors.New("fetch: UserAgent contains a line break")
	}
	if o.Resolver == nil {
		o.Resolver = net.DefaultResolver
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	g := &guard{resolver: o.Resolver, allowLoopback: o.AllowLoopback}
	g.dialer = net.Dialer{Timeout: o.ConnectTimeout, KeepAlive: 30 * time.Second, Control: g.control}
	tr := &http.Transport{
		Proxy:                  nil, // a proxy would connect on our behalf, past the guard
		DialContext:            g.dialContext,
		TLSClientConfig:        o.TLSConfig,
		TLSHandshakeTimeout:    o.ConnectTimeout,
		ResponseHeaderTimeout:  o.HeaderTimeout,
		MaxResponseHeaderBytes: 64 << 10,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           100,
		MaxIdleConnsPerHost:    4,
		IdleConnTimeout:        90 * time.Second,
	}
	hc := &http.Client{
		Transport: tr,
		// Redirects are followed by hand, so that each hop is checked and
		// re-signed.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return &Client{opts: o, hc: hc, guard: g, log: o.Logger}, nil
}

// Close closes idle connections.
func (c *Client) Close() { c.hc.CloseIdleConnections() }

// AllowsLoopback reports whether the client may reach loopback hosts, so
// that callers that build URLs (WebFinger) know whether http is allowed.
func (c *Client) AllowsLoopback() bool { return c.opts.AllowLoopback }

// Document is a fetched ActivityStreams document.
type Document struct {
	URL         string // the final URL, after redirects
	ID          string // the document's id, equal to URL unless GetOptions.SkipIDCheck was set
	ContentType string
	Body        []byte

	idIsURL bool
}

// IDIsURL reports whether the document's id is the URL it was fetched
// from. It holds for every document Get returns; only a fetch with
// GetOptions.SkipIDCheck can return a document for which it does not.
func (d *Document) IDIsURL() bool { return d.idIsURL }

// Response is a fetched resource that is not checked as an ActivityStreams
// document, or the answer to a POST.
type Response struct {
	URL        string
	StatusCode int
	Header     http.Header
	Body       []byte
}

// GetOptions changes one GET.
type GetOptions struct {
	// Signer signs this request, overriding Options.Signer.
	Signer RequestSigner
	// Unsigned sends this request unsigned even when Options.Signer is
	// set.
	Unsigned bool
	// MaxBytes caps this response body below Options.MaxBytes (key
	// documents are small, and a cap near their size limits what a hostile
	// keyId can make us read); 0 or more than Options.MaxBytes means
	// Options.MaxBytes.
	MaxBytes int64
	// SkipIDCheck accepts a document whose id is not the URL it was
	// fetched from (it must still have a string id). Document.ID is then
	// the document's own id, and Document.IDIsURL says whether it
	// matched. Such a document speaks for no one: its host served it, but
	// nothing says that its id stands behind what it contains. It is for
	// following a reference to the document that names the real id, which
	// is then fetched without this option, as Mastodon does for keyIds
	// that serve their actor (GoToSocial's …/main-key) or a variant of its
	// URL (BookWyrm's …/user/x/ for …/user/x). Never set it to take a
	// document's content at its word.
	SkipIDCheck bool
}

// Get fetches the ActivityStreams document at iri (its fragment is not
// sent). It fails unless the response is 2xx, has an ActivityStreams or
// JSON content type, is a JSON object within MaxBytes, and has an id equal
// to the final URL.
func (c *Client) Get(ctx context.Context, iri string) (*Document, error) {
	return c.GetWith(ctx, iri, GetOptions{})
}

// GetWith is Get with per-request options.
func (c *Client) GetWith(ctx context.Context, iri string, o GetOptions) (*Document, error) {
	signer := c.opts.Signer
	if o.Signer != nil {
		signer = o.Signer
	}
	if o.Unsigned {
		signer = nil
	}
	max := c.opts.MaxBytes
	if o.MaxBytes > 0 && o.MaxBytes < max {
		max = o.MaxBytes
	}
	resp, err := c.get(ctx, iri, AcceptActivity, signer, max)
	if err != nil {
		return nil, err
	}
	ct := resp.Header.Get("Content-Type")
	if !isActivityType(ct) {
		return nil, &Error{Op: "GET", URL: resp.URL, Err: ErrContentType, Detail: fmt.Sprintf("%q", ct)}
	}
	var probe struct {
		ID json.RawMessage `json:"id"`
	}
	if err := json.Unmarshal(resp.Body, &probe); err != nil {
		return nil, &Error{Op: "GET", URL: resp.URL, Err: ErrNotJSON, Cause: err}
	}
	var id string
	if err := json.Unmarshal(probe.ID, &id); err != nil || id == "" {
		return nil, &Error{Op: "GET", URL: resp.URL, Err: ErrIDMismatch, Detail: "the document has no string id"}
	}
	same := sameURL(id, resp.URL)
	if !same && !o.SkipIDCheck {
		return nil, &Error{Op: "GET", URL: resp.URL, Err: ErrIDMismatch, Detail: fmt.Sprintf("id is %q", id)}
	}
	return &Document{URL: resp.URL, ID: id, ContentType: ct, Body: resp.Body, idIsURL: same}, nil
}

// GetJSON fetches a JSON resource that is not an ActivityStreams
// document, such as a WebFinger JRD or a NodeInfo document, with the given
// Accept header. It fails unless the response is 2xx with a JSON content
// type (application/json or any +json type) and fits MaxBytes. It is never
// signed.
func (c *Client) GetJSON(ctx context.Context, rawURL, accept string) (*Response, error) {
	resp, err := c.get(ctx, rawURL, accept, nil, c.opts.MaxBytes)
	if err != nil {
		return nil, err
	}
	ct := resp.Header.Get("Content-Type")
	if !isJSONType(ct) {
		return nil, &Error{Op: "GET", URL: resp.URL, Err: ErrContentType, Detail: fmt.Sprintf("%q", ct)}
	}
	if !json.Valid(resp.Body) || !bytes.HasPrefix(bytes.TrimLeft(resp.Body, " \t\r\n"), []byte("{")) {
		return nil, &Error{Op: "GET", URL: resp.URL, Err: ErrNotJSON}
	}
	return resp, nil
}

// Post sends body to rawURL, signed by signer when it is not nil. It never
// follows a redirect (a signature covers the path, so a redirected
// delivery could not verify), and returns the response whatever its
// status: the caller decides what a status means. Only a transport
// failure is an error. The response body is read up to 64 KiB.
func (c *Client) Post(ctx context.Context, rawURL, contentType string, body []byte, signer RequestSigner) (*Response, error) {
	if b, ok := BudgetFrom(ctx); ok && !b.take() {
		return nil, &Error{Op: "POST", URL: rawURL, Err: ErrBudget}
	}
	u, e := c.checkURL(rawURL)
	if e != nil {
		return nil, e.at("POST", rawURL)
	}
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, &Error{Op: "POST", URL: rawURL, Err: ErrURL, Cause: err}
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("User-Agent", c.opts.UserAgent)
	if signer != nil {
		if err := signer.SignRequest(req, body); err != nil {
			return nil, &Error{Op: "POST", URL: u.String(), Err: ErrSign, Cause: err}
		}
	}
	start := time.Now()
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, c.transportError("POST", u.String(), err)
	}
	defer resp.Body.Close()
	limit := min(c.opts.MaxBytes, 64<<10)
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit))
	if err != nil {
		return nil, c.transportError("POST", u.String(), err)
	}
	c.log.DebugContext(ctx, "fetch", "method", "POST", "url", u.String(), "status", resp.StatusCode, "duration", time.Since(start))
	return &Response{URL: u.String(), StatusCode: resp.StatusCode, Header: resp.Header, Body: data}, nil
}

// get performs a GET, following redirects by hand, and reads the body.
// Every request it sends, each redirect hop included, spends one unit of
// the context's budget: a hop costs the remote server as little as a
// fetch does, and costs us as much.
func (c *Client) get(ctx context.Context, rawURL, accept string, signer RequestSigner, maxBytes int64) (*Response, error) {
	budget, hasBudget := BudgetFrom(ctx)
	if hasBudget && !budget.take() {
		return nil, &Error{Op: "GET", URL: rawURL, Err: ErrBudget}
	}
	u, e := c.checkURL(rawURL)
	if e != nil {
		return nil, e.at("GET", rawURL)
	}
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	seen := map[string]bool{}
	for hops := 0; ; hops++ {
		cur := u.String()
		if hops > 0 && hasBudget && !budget.take() {
			return nil, &Error{Op: "GET", URL: cur, Err: ErrBudget, Detail: fmt.Sprintf("no fetch left for redirect %d", hops)}
		}
		seen[cur] = true
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, cur, nil)
		if err != nil {
			return nil, &Error{Op: "GET", URL: cur, Err: ErrURL, Cause: err}
		}
		req.Header.Set("Accept", accept)
		req.Header.Set("User-Agent", c.opts.UserAgent)
		if signer != nil {
			if err := signer.SignRequest(req, nil); err != nil {
				return nil, &Error{Op: "GET", URL: cur, Err: ErrSign, Cause: err}
			}
		}
		start := time.Now()
		resp, err := c.hc.Do(req)
		if err != nil {
			return nil, c.transportError("GET", cur, err)
		}
		c.log.DebugContext(ctx, "fetch", "method", "GET", "url", cur, "status", resp.StatusCode, "duration", time.Since(start))
		switch resp.StatusCode {
		case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
			http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
			drain(resp)
			next, e := c.redirect(u, resp.Header.Get("Location"))
			if e != nil {
				return nil, e.at("GET", cur)
			}
			if seen[next.String()] {
				return nil, &Error{Op: "GET", URL: cur, Err: ErrRedirectLoop, Detail: "back to " + next.String()}
			}
			if hops+1 > c.opts.MaxRedirects {
				return nil, &Error{Op: "GET", URL: cur, Err: ErrTooManyRedirects, Detail: fmt.Sprintf("more than %d", c.opts.MaxRedirects)}
			}
			u = next
			continue
		}
		defer resp.Body.Close()
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
			drain(resp)
			return nil, &Error{Op: "GET", URL: cur, Err: ErrStatus, Cause: &StatusError{Code: resp.StatusCode}}
		}
		if resp.ContentLength > maxBytes {
			return nil, &Error{Op: "GET", URL: cur, Err: ErrTooLarge,
				Detail: fmt.Sprintf("Content-Length %d, the limit is %d", resp.ContentLength, maxBytes)}
		}
		data, err := io.ReadAll(io.LimitReader(resp.Body, maxBytes+1))
		if err != nil {
			return nil, c.transportError("GET", cur, err)
		}
		if int64(len(data)) > maxBytes {
			return nil, &Error{Op: "GET", URL: cur, Err: ErrTooLarge, Detail: fmt.Sprintf("more than %d bytes", maxBytes)}
		}
		return &Response{URL: cur, StatusCode: resp.StatusCode, Header: resp.Header, Body: data}, nil
	}
}

// redirect resolves a Location against the current URL and checks it.
func (c *Client) redirect(cur *url.URL, loc string) (*url.URL, *Error) {
	if loc == "" {
		return nil, &Error{Err: ErrStatus, Detail: "redirect without Location"}
	}
	next, err := cur.Parse(loc)
	if err != nil {
		return nil, &Error{Err: ErrURL, Detail: "bad Location", Cause: err}
	}
	if cur.Scheme == "https" && next.Scheme != "https" {
		return nil, &Error{Err: ErrInsecureRedirect, Detail: "to " + next.Redacted()}
	}
	return c.checkURL(next.String())
}

// checkURL parses rawURL, drops its fragment, and refuses schemes and
// hosts the client does not speak to.
func (c *Client) checkURL(rawURL string) (*url.URL, *Error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, &Error{Err: ErrURL, Cause: err}
	}
	if u.Host == "" || u.Hostname() == "" {
		return nil, &Error{Err: ErrURL, Detail: "no host"}
	}
	if u.User != nil {
		return nil, &Error{Err: ErrURL, Detail: "credentials in URL"}
	}
	u.Fragment, u.RawFragment = "", ""
	switch u.Scheme {
	case "https":
	case "http":
		if !c.opts.AllowLoopback || !IsLoopbackHost(u.Hostname()) {
			return nil, &Error{Err: ErrScheme, Detail: "plain http is allowed only to loopback hosts, with AllowLoopback"}
		}
	default:
		return nil, &Error{Err: ErrScheme, Detail: fmt.Sprintf("%q", u.Scheme)}
	}
	return u, nil
}

// IsLoopbackHost reports whether host (without port) is "localhost" or a
// loopback IP literal.
func IsLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(strings.Trim(host, "[]"))
	return err == nil && ip.Unmap().IsLoopback()
}

// transportError maps an error of http.Client.Do or of reading a body to
// one of the sentinels.
func (c *Client) transportError(op, u string, err error) error {
	var refused *RefusedError
	var dns *dnsError
	var ne net.Error
	switch {
	case errors.As(err, &refused):
		return &Error{Op: op, URL: u, Err: ErrRefused, Cause: refused}
	case errors.As(err, &dns):
		return &Error{Op: op, URL: u, Err: ErrDNS, Cause: dns}
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return &Error{Op: op, URL: u, Err: ErrTimeout, Cause: err}
	case errors.Is(err, context.Canceled):
		return &Error{Op: op, URL: u, Err: context.Canceled}
	}
	return &Error{Op: op, URL: u, Err: ErrConnect, Cause: err}
}

// ErrConnect reports any other transport failure: connection refused or
// reset, TLS failure, malformed response.
var ErrConnect = errors.New("fetch: request failed")

// at sets where an error of checkURL or redirect happened.
func (e *Error) at(op, u string) *Error {
	e.Op, e.URL = op, u
	return e
}

func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	resp.Body.Close()
}

// isActivityType accepts the types an ActivityStreams document is served
// as: application/activity+json, application/ld+json (any profile), and
// plain application/json, which several servers still use.
func isActivityType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	switch mt {
	case "application/activity+json", "application/ld+json", "application/json":
		return true
	}
	return false
}

// isJSONType accepts application/json and any application/*+json type.
func isJSONType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	return mt == "application/json" || (strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))
}

// sameURL compares two absolute URLs, ignoring the case of scheme and
// host and a default port.
func sameURL(a, b string) bool {
	if a == b {
		return true
	}
	ua, err1 := url.Parse(a)
	ub, err2 := url.Parse(b)
	if err1 != nil || err2 != nil {
		return false
	}
	return strings.EqualFold(ua.Scheme, ub.Scheme) &&
		strings.EqualFold(hostPort(ua), hostPort(ub)) &&
		ua.EscapedPath() == ub.EscapedPath() &&
		ua.RawQuery == ub.RawQuery &&
		ua.Fragment == ub.Fragment
}

func hostPort(u *url.URL) string {
	p := u.Port()
	if (p == "443" && strings.EqualFold(u.Scheme, "https")) || (p == "80" && strings.EqualFold(u.Scheme, "http")) {
		p = ""
	}
	if p == "" {
		return u.Hostname()
	}
	return net.JoinHostPort(u.Hostname(), p)
}
