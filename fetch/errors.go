package fetch

import (
	"errors"
	"fmt"
	"net/netip"
)

// Sentinel errors. Every error a Client returns wraps one of them, so that
// callers branch with errors.Is and still print a precise message.
var (
	// ErrRefused reports a connection the SSRF guard refused: the address
	// was loopback, private, link-local, CGNAT, multicast, unspecified or
	// reserved. No packet was sent to it.
	ErrRefused = errors.New("fetch: address refused")
	// ErrDNS reports a host name that did not resolve.
	ErrDNS = errors.New("fetch: DNS lookup failed")
	// ErrScheme reports a URL whose scheme the client does not speak: not
	// https, or http to a host that is not loopback.
	ErrScheme = errors.New("fetch: scheme not allowed")
	// ErrTimeout reports a connect, response-header or whole-request
	// timeout.
	ErrTimeout = errors.New("fetch: timeout")
	// ErrTooLarge reports a response body beyond Options.MaxBytes.
	ErrTooLarge = errors.New("fetch: response too large")
	// ErrRedirectLoop reports a redirect back to a URL already visited.
	ErrRedirectLoop = errors.New("fetch: redirect loop")
	// ErrTooManyRedirects reports more than Options.MaxRedirects redirects.
	ErrTooManyRedirects = errors.New("fetch: too many redirects")
	// ErrInsecureRedirect reports a redirect from https to http.
	ErrInsecureRedirect = errors.New("fetch: redirect from https to http")
	// ErrContentType reports a response whose Content-Type is not one the
	// caller accepts.
	ErrContentType = errors.New("fetch: unexpected content type")
	// ErrNotJSON reports a body that is not a JSON object.
	ErrNotJSON = errors.New("fetch: response is not a JSON object")
	// ErrIDMismatch reports a document whose id is not the URL it was
	// fetched from.
	ErrIDMismatch = errors.New("fetch: document id does not match its URL")
	// ErrStatus reports a non-2xx response; see StatusError for the code.
	ErrStatus = errors.New("fetch: unexpected status")
	// ErrBudget reports a fetch beyond the operation's Budget.
	ErrBudget = errors.New("fetch: fetch budget exhausted")
	// ErrURL reports a URL that cannot be parsed or has no host.
	ErrURL = errors.New("fetch: invalid URL")
	// ErrSign reports a RequestSigner that failed.
	ErrSign = errors.New("fetch: signing the request failed")
)

// Error is what every failed call returns: the operation, the URL, one of
// the sentinel errors, and the underlying cause if there is one.
type Error struct {
	Op     string // "GET" or "POST"
	URL    string // the URL being fetched when it failed (after redirects)
	Err    error  // one of the sentinel errors
	Detail string // what exactly was wrong, for logs
	Cause  error  // the underlying error, if any
}

func (e *Error) Error() string {
	s := e.Err.Error()
	if e.URL != "" {
		s += ": " + e.Op + " " + e.URL
	}
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	if e.Cause != nil {
		s += ": " + e.Cause.Error()
	}
	return s
}

// Unwrap returns the sentinel and the cause, so that errors.Is matches
// both.
func (e *Error) Unwrap() []error {
	if e.Cause == nil {
		return []error{e.Err}
	}
	return []error{e.Err, e.Cause}
}

// StatusError carries the status code of a non-2xx response. It unwraps to
// ErrStatus.
type StatusError struct {
	Code int
}

func (e *StatusError) Error() string { return fmt.Sprintf("fetch: unexpected status %d", e.Code) }

// Unwrap returns ErrStatus.
func (e *StatusError) Unwrap() error { return ErrStatus }

// RefusedError says which address the guard refused and why. It unwraps to
// ErrRefused.
type RefusedError struct {
	Addr   netip.Addr
	Reason string // "loopback", "private", "link-local", ...
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("fetch: address refused: %s is %s", e.Addr, e.Reason)
}

// Unwrap returns ErrRefused.
func (e *RefusedError) Unwrap() error { return ErrRefused }
