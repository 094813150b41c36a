package signature

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"
)

// Scheme is a signature format.
type Scheme uint8

// The schemes. Cavage is the zero value because it is what every
// fediverse server accepts.
const (
	Cavage  Scheme = iota // draft-cavage-http-signatures-12, the Signature header
	RFC9421               // RFC 9421 HTTP Message Signatures
)

func (s Scheme) String() string {
	if s == RFC9421 {
		return "rfc9421"
	}
	return "cavage"
}

// Defaults of a Verifier.
const (
	// DefaultWindow is Mastodon's: a Date or created more than 12 hours
	// away from now is stale.
	DefaultWindow = 12 * time.Hour
	// DefaultExpiresTolerance forgives a little clock skew on expires.
	DefaultExpiresTolerance = 5 * time.Second
	// DefaultMaxBodyBytes caps the body the middleware reads.
	DefaultMaxBodyBytes = 1 << 20
)

// VerifierOptions configures a Verifier. Keys is required; the zero value
// of every other field is its default.
type VerifierOptions struct {
	// Keys resolves keyIds; usually a *Resolver.
	Keys KeyResolver
	// Window bounds how far Date and created may be from now, both ways.
	Window time.Duration
	// ExpiresTolerance is how long past expires a signature still counts.
	ExpiresTolerance time.Duration
	// TrustProxy says that the server is behind a proxy that sets
	// X-Forwarded-Host and X-Forwarded-Proto, so that they, not r.Host
	// and r.TLS, say what the sender signed. The last value of each
	// counts (of the last field line, after its last comma): the one the
	// trusted proxy set or appended; values before it may come from the
	// client. Never set it on a server that clients reach directly: they
	// could then choose the host.
	//
	// Behind a proxy that terminates TLS, r.TLS is nil, so an RFC 9421
	// signature covering @target-uri (or @scheme), which the sender made
	// over https, verifies only with TrustProxy and X-Forwarded-Proto.
	TrustProxy bool
	// MaxBodyBytes caps the body the middleware reads.
	MaxBodyBytes int64
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives the detail of failed verifications in the
	// middleware; nil means slog.Default().
	Logger *slog.Logger
	// Observer, when set, is told of every verified request: the host of
	// the key's owner and the scheme. Set it to the *Knocker that
	// delivers, so that it knocks with RFC 9421 first at the hosts seen
	// to sign with it, and with draft-cavage first elsewhere.
	Observer Observer
}

// Observer learns which scheme a verified request was signed with, and
// the host (authority, as in a URL) of the actor that signed it.
// *Knocker implements it. Observe is called from the goroutine that
// called Verify, so it must be quick and safe for concurrent use.
type Observer interface {
	Observe(host string, s Scheme)
}

// ObserverFunc adapts a function to Observer.
type ObserverFunc func(host string, s Scheme)

// Observe calls f.
func (f ObserverFunc) Observe(host string, s Scheme) { f(host, s) }

var _ Observer = (*Knocker)(nil)

// Verifier checks draft-cavage and RFC 9421 signatures of incoming
// requests. It is safe for concurrent use.
type Verifier struct {
	opts VerifierOptions
}

// Result says who signed a request.
type Result struct {
	KeyID     string
	Owner     string // the actor that owns the key: compare it with the activity's actor
	Scheme    Scheme
	Algorithm string // the algorithm the key decided, e.g. "rsa-sha256" or "rsa-v1_5-sha256"
	Key       *Key
}

// NewVerifier validates o and builds a Verifier.
func NewVerifier(o VerifierOptions) (*Verifier, error) {
	if o.Keys == nil {
		return nil, errors.New("signature: VerifierOptions.Keys is required")
	}
	if o.Window < 0 || o.ExpiresTolerance < 0 || o.MaxBodyBytes < 0 {
		return nil, errors.New("signature: negative limit in VerifierOptions")
	}
	if o.Window == 0 {
		o.Window = DefaultWindow
	}
	if o.ExpiresTolerance == 0 {
		o.ExpiresTolerance = DefaultExpiresTolerance
	}
	if o.MaxBodyBytes == 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Verifier{opts: o}, nil
}

// Verify checks the signature of r, whose body (already read) is body.
// Body may be nil only for a request without one: a nil body when r has a
// Content-Length above 0, or an unknown one, fails with ErrNoBody, since
// nothing would then bind the body that the caller goes on to read.
//
// Verify requires the signature to cover the request target and host, a
// Date or created within the window, and the digest when there is a body;
// it recomputes every sha-256 and sha-512 Digest and Content-Digest value;
// then it resolves the key and verifies with the algorithm the key type
// decides. A failure against a cached key is retried once with a
// refreshed key. A draft-cavage signature of a request with a query that
// does not verify over the path and query is tried once more over the
// path alone, as Mastodon does: Fedify (and older Mastodon) sign
// (request-target) without the query, so such a signature does not bind
// the query. An RFC 9421 signature of a request with a query must cover
// it, through @query, @target-uri or @request-target; @path alone is
// refused. Every error is an *Error naming the failed check. A verified
// request is reported to VerifierOptions.Observer.
func (v *Verifier) Verify(ctx context.Context, r *http.Request, body []byte) (*Result, error) {
	res, err := v.verify(ctx, r, body)
	if err == nil && v.opts.Observer != nil {
		signer := res.Owner
		if signer == "" {
			signer = res.KeyID
		}
		if host := hostOf(signer); host != "" {
			v.opts.Observer.Observe(host, res.Scheme)
		}
	}
	return res, err
}

func (v *Verifier) verify(ctx context.Context, r *http.Request, body []byte) (*Result, error) {
	if body == nil && (r.ContentLength > 0 || r.ContentLength == -1) {
		return nil, fail(ErrNoBody, fmt.Sprintf("Verify was given a nil body for a request with Content-Length %d; "+
			"the caller must read r.Body and pass it (nil is for requests without a body)", r.ContentLength))
	}
	facts := factsOf(r, v.opts.TrustProxy)
	rf := &facts
	if lines := r.Header.Values("Signature-Input"); len(lines) > 0 {
		input, err := joinField("Signature-Input", lines)
		if err != nil {
			return nil, err
		}
		return v.verifyHTTPSig(ctx, r, rf, input, body)
	}
	if sig := r.Header.Values("Signature"); len(sig) > 0 {
		if len(sig) > 1 {
			return nil, fail(ErrMalformed, "more than one Signature header")
		}
		return v.verifyCavage(ctx, r, rf, sig[0], body)
	}
	return nil, fail(ErrNoSignature, "")
}

func (v *Verifier) verifyCavage(ctx context.Context, r *http.Request, rf *requestFacts, header string, body []byte) (*Result, error) {
	p, err := ParseCavage(header)
	if err != nil {
		return nil, err
	}
	covers := func(h string) bool {
		for _, x := range p.Headers {
			if x == h {
				return true
			}
		}
		return false
	}
	switch {
	case !covers("(request-target)"):
		return nil, fail(ErrNotCovered, "(request-target)")
	case !covers("host"):
		return nil, fail(ErrNotCovered, "host")
	case !covers("date") && !covers("(created)"):
		return nil, fail(ErrNotCovered, "date or (created)")
	}
	if covers("date") {
		if err := v.checkDate(r); err != nil {
			return nil, err
		}
	}
	if err := v.checkTimes(p.Created, p.Expires); err != nil {
		return nil, err
	}
	if err := v.checkBody(r, body, covers("digest"), covers("content-digest")); err != nil {
		return nil, err
	}
	// The signing strings are built in stack buffers: a typical one is
	// 250 bytes, and one that outgrows its buffer moves to the heap.
	var buf, pathBuf [1024]byte
	msg, err := cavageSigningString(buf[:0], p, rf, rf.requestURI)
	if err != nil {
		return nil, err
	}
	// The signing string over the path alone, built only when a request
	// with a query fails over the path and query.
	var pathOnly []byte
	withQuery := len(rf.path) < len(rf.requestURI)
	var alg string
	key, err := v.withKey(ctx, p.KeyID, func(k *Key) error {
		a, err := cavageAlgorithm(k.Public, p.Algorithm)
		if err != nil {
			return err
		}
		alg = a
		if verifyCavage(k.Public, msg, p.Signature) {
			return nil
		}
		if withQuery {
			if pathOnly == nil {
				if pathOnly, err = cavageSigningString(pathBuf[:0], p, rf, rf.path); err != nil {
					return err
				}
			}
			if verifyCavage(k.Public, pathOnly, p.Signature) {
				return nil
			}
		}
		return fail(ErrBadSignature, "keyId "+p.KeyID)
	})
	if err != nil {
		return nil, err
	}
	return &Result{KeyID: p.KeyID, Owner: key.Owner, Scheme: Cavage, Algorithm: alg, Key: key}, nil
}

func (v *Verifier) verifyHTTPSig(ctx context.Context, r *http.Request, rf *requestFacts, input string, body []byte) (*Result, error) {
	sigs := r.Header.Values("Signature")
	if len(sigs) == 0 {
		return nil, fail(ErrMalformed, "Signature-Input without Signature")
	}
	sig, err := joinField("Signature", sigs)
	if err != nil {
		return nil, err
	}
	p, err := ParseHTTPSig(input, sig)
	if err != nil {
		return nil, err
	}
	switch {
	case !p.covers("@method"):
		return nil, fail(ErrNotCovered, "@method")
	case !p.covers("@target-uri") && !p.covers("@request-target") && !p.covers("@path"):
		return nil, fail(ErrNotCovered, "@target-uri")
	case rf.query != "" && !p.covers("@target-uri") && !p.covers("@request-target") && !p.covers("@query"):
		// @path leaves the query out: without this, a query added after
		// signing would still verify.
		return nil, fail(ErrNotCovered, "@query")
	case !p.covers("@target-uri") && !p.covers("@authority") && !p.covers("host"):
		return nil, fail(ErrNotCovered, "@authority")
	case p.Created == 0 && !p.covers("date"):
		return nil, fail(ErrNotCovered, "created or date")
	}
	if p.covers("date") {
		if err := v.checkDate(r); err != nil {
			return nil, err
		}
	}
	if err := v.checkTimes(p.Created, p.Expires); err != nil {
		return nil, err
	}
	if err := v.checkBody(r, body, p.covers("digest"), p.covers("content-digest")); err != nil {
		return nil, err
	}
	// Built in a stack buffer, as in verifyCavage.
	var buf [1024]byte
	base, err := signatureBase(buf[:0], p, rf)
	if err != nil {
		return nil, err
	}
	var alg string
	key, err := v.withKey(ctx, p.KeyID, func(k *Key) error {
		a, err := httpsigAlgorithm(k.Public, p.Alg)
		if err != nil {
			return err
		}
		alg = a
		if !verifyHTTPSig(k.Public, a, base, p.Signature) {
			return fail(ErrBadSignature, "keyid "+p.KeyID)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &Result{KeyID: p.KeyID, Owner: key.Owner, Scheme: RFC9421, Algorithm: alg, Key: key}, nil
}

// withKey resolves keyID and runs check with it; when the signature does
// not verify and the resolver caches, it refreshes the key once and
// checks again, so that a rotated key is picked up.
func (v *Verifier) withKey(ctx context.Context, keyID string, check func(*Key) error) (*Key, error) {
	key, err := v.opts.Keys.ResolveKey(ctx, keyID)
	if err != nil {
		return nil, asError(err, keyID)
	}
	err = check(key)
	if errors.Is(err, ErrBadSignature) {
		if rf, ok := v.opts.Keys.(KeyRefresher); ok {
			fresh, ferr := rf.RefreshKey(ctx, keyID)
			if ferr == nil && fresh != key {
				key, err = fresh, check(fresh)
			}
		}
	}
	if err != nil {
		return nil, err
	}
	return key, nil
}

// asError keeps a resolver's *Error and wraps anything else.
func asError(err error, keyID string) error {
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	return &Error{Check: ErrKeyFetch, Detail: keyID, Cause: err}
}

func (v *Verifier) checkDate(r *http.Request) error {
	d := r.Header.Get("Date")
	if d == "" {
		return fail(ErrMissingHeader, "date")
	}
	t, err := http.ParseTime(d)
	if err != nil {
		return &Error{Check: ErrMalformed, Detail: fmt.Sprintf("Date %q", d), Cause: err}
	}
	return v.inWindow("Date", t)
}

func (v *Verifier) checkTimes(created, expires int64) error {
	if created != 0 {
		if err := v.inWindow("created", time.Unix(created, 0)); err != nil {
			return err
		}
	}
	if expires != 0 && v.opts.Now().After(time.Unix(expires, 0).Add(v.opts.ExpiresTolerance)) {
		return fail(ErrExpired, fmt.Sprintf("expired at %s", time.Unix(expires, 0).UTC().Format(time.RFC3339)))
	}
	return nil
}

func (v *Verifier) inWindow(what string, t time.Time) error {
	now := v.opts.Now()
	if d := now.Sub(t); d > v.opts.Window || -d > v.opts.Window {
		return fail(ErrStale, fmt.Sprintf("%s is %s, %s from now (the window is ±%s)",
			what, t.UTC().Format(time.RFC3339), d.Round(time.Second), v.opts.Window))
	}
	return nil
}

// checkBody recomputes every digest and requires a signed one when there
// is a body.
func (v *Verifier) checkBody(r *http.Request, body []byte, digestSigned, contentDigestSigned bool) error {
	hasDigest := r.Header.Get("Digest") != ""
	hasContentDigest := r.Header.Get("Content-Digest") != ""
	if len(body) > 0 && !digestSigned && !contentDigestSigned {
		if hasDigest || hasContentDigest {
			return fail(ErrNotCovered, "the digest header is present but not signed")
		}
		return fail(ErrNotCovered, "digest: a request with a body must sign its digest")
	}
	if digestSigned && !hasDigest {
		return fail(ErrMissingHeader, "digest")
	}
	if contentDigestSigned && !hasContentDigest {
		return fail(ErrMissingHeader, "content-digest")
	}
	if !hasDigest && !hasContentDigest {
		return nil
	}
	checked, err := checkDigests(r.Header, body)
	if err != nil {
		return err
	}
	if (digestSigned || contentDigestSigned) && !(digestSigned && checked[0] > 0) && !(contentDigestSigned && checked[1] > 0) {
		return fail(ErrDigestUnsupported, "the signed digest header has no sha-256 or sha-512 value")
	}
	return nil
}
