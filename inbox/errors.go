package inbox

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/fedi-go/fedi/storage"
)

// Sentinel errors, one per kind of refusal, so that callers and tests
// branch with errors.Is. Every refusal the Handler answers is an *Error
// wrapping one of them.
var (
	// ErrBodyTooLarge reports a body over Options.MaxBodyBytes (413).
	ErrBodyTooLarge = errors.New("inbox: body too large")
	// ErrBodyTimeout reports a body not read within Options.BodyTimeout.
	ErrBodyTimeout = errors.New("inbox: body too slow")
	// ErrMethod reports a request that is not a POST (405).
	ErrMethod = errors.New("inbox: method not allowed")
	// ErrSignature reports a missing, bad or unsupported signature (401).
	ErrSignature = errors.New("inbox: signature not verified")
	// ErrMalformed reports a body that does not decode to an activity
	// (400).
	ErrMalformed = errors.New("inbox: malformed activity")
	// ErrNotActor reports an activity whose actor is not the key's owner
	// (401).
	ErrNotActor = errors.New("inbox: the signer is not the actor")
	// ErrForbidden reports an activity its actor may not send: a foreign
	// object, something it does not own, a blocked actor (403).
	ErrForbidden = errors.New("inbox: forbidden")
	// ErrUnverifiable reports an object that could not be fetched from
	// its origin to be checked (403, or 503 when the origin was
	// unreachable, so that the sender retries).
	ErrUnverifiable = errors.New("inbox: object not verifiable at its origin")
	// ErrNoRecipient reports a personal inbox of an unknown actor (404).
	ErrNoRecipient = errors.New("inbox: no such recipient")
	// ErrRejected reports an activity a handler refused (4xx).
	ErrRejected = errors.New("inbox: rejected")
	// ErrInternal reports a failure of ours, such as storage being down
	// (500): the sender retries, and nothing of the activity was applied.
	ErrInternal = errors.New("inbox: internal error")
)

// Error is a refusal: the status to answer, a message safe to send to
// the peer, and the detail for the logs.
type Error struct {
	// Code is the HTTP status.
	Code int
	// Safe is the short plain-text reason sent to the peer. It never
	// echoes the peer's input or names internal state.
	Safe string
	// Err is what happened, for logs and errors.Is: it wraps one of the
	// sentinel errors.
	Err error
}

// Error implements error.
func (e *Error) Error() string { return fmt.Sprintf("inbox: %d %s: %v", e.Code, e.Safe, e.Err) }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Reject returns the error a handler returns to refuse an activity with
// a 4xx status code and a reason safe to send to the peer; nothing the
// handler wrote is kept.
func Reject(code int, safe string) *Error {
	if code < 400 || code > 499 {
		code = http.StatusUnprocessableEntity
	}
	return &Error{Code: code, Safe: safe, Err: fmt.Errorf("%w: %s", ErrRejected, safe)}
}

// Forbid returns a 403 refusal with a reason safe to send to the peer.
func Forbid(safe string) *Error {
	return &Error{Code: http.StatusForbidden, Safe: safe, Err: fmt.Errorf("%w: %s", ErrForbidden, safe)}
}

func refuse(code int, sentinel error, safe string, detail error) *Error {
	err := fmt.Errorf("%w: %s", sentinel, safe)
	if detail != nil {
		err = fmt.Errorf("%w: %s: %w", sentinel, safe, detail)
	}
	return &Error{Code: code, Safe: safe, Err: err}
}

// classify turns what a handler returned into the refusal to answer. An
// *Error stands; storage's ErrConflict and ErrInvalid are the peer's
// doing (409, 400); anything else is ours and transient (500), so that
// the sender retries.
func classify(err error) *Error {
	var e *Error
	switch {
	case errors.As(err, &e):
		return e
	case errors.Is(err, storage.ErrConflict):
		return &Error{Code: http.StatusConflict, Safe: "conflicts with what is stored", Err: err}
	case errors.Is(err, storage.ErrInvalid):
		return &Error{Code: http.StatusBadRequest, Safe: "cannot be stored", Err: err}
	}
	return &Error{Code: http.StatusInternalServerError, Safe: "internal error", Err: fmt.Errorf("%w: %w", ErrInternal, err)}
}
