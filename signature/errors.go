package signature

import "errors"

// Sentinel errors: each names one check. Every error Verify returns is an
// *Error whose Check is one of them, so callers branch with errors.Is and
// an HTTP response can say which check failed without leaking detail.
var (
	// ErrNoSignature reports a request with neither a Signature nor a
	// Signature-Input header.
	ErrNoSignature = errors.New("signature: request is not signed")
	// ErrMalformed reports a Signature, Signature-Input, Date or digest
	// header that cannot be parsed.
	ErrMalformed = errors.New("signature: malformed signature header")
	// ErrNotCovered reports a signature that does not cover a component
	// this package requires: (request-target) or @method and @target-uri,
	// host, date or created, and the digest when there is a body.
	ErrNotCovered = errors.New("signature: required header not signed")
	// ErrMissingHeader reports a header the signature covers that the
	// request does not carry.
	ErrMissingHeader = errors.New("signature: signed header missing from the request")
	// ErrStale reports a Date or created outside the allowed window.
	ErrStale = errors.New("signature: date outside the allowed window")
	// ErrExpired reports a signature past its expires time.
	ErrExpired = errors.New("signature: signature expired")
	// ErrDigestMismatch reports a Digest or Content-Digest that does not
	// match the body.
	ErrDigestMismatch = errors.New("signature: digest does not match the body")
	// ErrDigestUnsupported reports a signed digest header with no sha-256
	// or sha-512 value.
	ErrDigestUnsupported = errors.New("signature: no supported digest algorithm")
	// ErrAlgorithm reports an algorithm label that does not fit the key,
	// such as hmac-sha256 or rsa-sha256 with an Ed25519 key. The key type
	// decides the algorithm; a label can only be consistent with it.
	ErrAlgorithm = errors.New("signature: algorithm does not match the key")
	// ErrBadSignature reports a signature that does not verify.
	ErrBadSignature = errors.New("signature: signature does not verify")
	// ErrUnknownKey reports a keyId that does not dereference to a key:
	// the document is gone, or does not list that key.
	ErrUnknownKey = errors.New("signature: unknown key")
	// ErrKeyOwner reports a key that does not name its owner, or names an
	// owner other than the actor that publishes it.
	ErrKeyOwner = errors.New("signature: key does not name its owner")
	// ErrOwnerKey reports an owner whose actor document does not list the
	// key back.
	ErrOwnerKey = errors.New("signature: owner does not list the key")
	// ErrUnsupportedKey reports key material this package cannot use.
	ErrUnsupportedKey = errors.New("signature: unsupported key")
	// ErrKeyFetch reports a key document that could not be fetched; the
	// cause is a fetch error (fetch.ErrTooLarge, fetch.ErrRefused, ...).
	ErrKeyFetch = errors.New("signature: fetching the key failed")
	// ErrNoBody reports a call of Verify with a nil body for a request
	// that has one (a Content-Length above 0, or unknown). Nothing could
	// bind that body to the signature, so it is refused; it is the
	// caller's mistake, not the peer's: read r.Body and pass it.
	ErrNoBody = errors.New("signature: request body not given to Verify")
)

// Error is a failed check: which one, what exactly, and the cause.
type Error struct {
	Check  error  // one of the sentinel errors
	Detail string // for logs: which header, which value
	Cause  error  // the underlying error, if any
}

func (e *Error) Error() string {
	s := e.Check.Error()
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	if e.Cause != nil {
		s += ": " + e.Cause.Error()
	}
	return s
}

// Unwrap returns the check and the cause, so errors.Is matches both.
func (e *Error) Unwrap() []error {
	if e.Cause == nil {
		return []error{e.Check}
	}
	return []error{e.Check, e.Cause}
}

// Safe returns a message that may be sent to the client: the check that
// failed, without the detail (which can name internal hosts or echo the
// attacker's input).
func (e *Error) Safe() string { return e.Check.Error() }

func fail(check error, detail string) *Error { return &Error{Check: check, Detail: detail} }
