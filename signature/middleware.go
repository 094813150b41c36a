package signature

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
)

type resultKey struct{}

// NewContext returns a context carrying the verified signer.
func NewContext(ctx context.Context, res *Result) context.Context {
	return context.WithValue(ctx, resultKey{}, res)
}

// FromContext returns the verified signer that Middleware put into the
// request's context.
func FromContext(ctx context.Context) (*Result, bool) {
	res, ok := ctx.Value(resultKey{}).(*Result)
	return res, ok && res != nil
}

// Middleware verifies every request before next sees it. It reads the
// body (up to MaxBodyBytes, 413 beyond), verifies, restores the body for
// next, and puts the Result into the context (see FromContext). A request
// that fails gets 401 with the name of the failed check as its body; the
// detail goes to the logger only.
func (v *Verifier) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, v.opts.MaxBodyBytes))
		if err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
				return
			}
			http.Error(w, "cannot read the request body", http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		res, err := v.Verify(r.Context(), r, body)
		if err != nil {
			safe := "signature verification failed"
			var e *Error
			if errors.As(err, &e) {
				safe = e.Safe()
			}
			v.opts.Logger.WarnContext(r.Context(), "signature verification failed",
				"method", r.Method, "path", r.URL.Path, "remote", r.RemoteAddr, "error", err)
			http.Error(w, safe, http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r.WithContext(NewContext(r.Context(), res)))
	})
}
