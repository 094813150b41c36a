package signature_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fedi-go/fedi/signature"
)

func TestMiddleware(t *testing.T) {
	key := testKeys()["rsa"]
	var logs bytes.Buffer
	v := newVerifier(t, keysOf(testKeyID, key), signature.VerifierOptions{
		MaxBodyBytes: 4096,
		Logger:       slog.New(slog.NewTextHandler(&logs, nil)),
	})
	var gotOwner, gotBody string
	h := v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res, ok := signature.FromContext(r.Context())
		require.True(t, ok)
		gotOwner = res.Owner
		b, _ := io.ReadAll(r.Body)
		gotBody = string(b)
		w.WriteHeader(http.StatusAccepted)
	}))

	t.Run("verified", func(t *testing.T) {
		r := signed(t, newSigner(t, key, signature.Cavage), http.MethodPost, testInbox, activity)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		assert.Equal(t, http.StatusAccepted, w.Code)
		assert.Equal(t, testActor, gotOwner)
		assert.Equal(t, string(activity), gotBody, "the handler reads the body again")
	})
	t.Run("refused with a safe message", func(t *testing.T) {
		r := signed(t, newSigner(t, key, signature.Cavage), http.MethodPost, testInbox, activity)
		r.Body = io.NopCloser(strings.NewReader(`{"type":"Delete","secret":"internal.host"}`))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		assert.Equal(t, http.StatusUnauthorized, w.Code)
		assert.Equal(t, signature.ErrDigestMismatch.Error()+"\n", w.Body.String())
		assert.Contains(t, logs.String(), "signature verification failed")
	})
	t.Run("unsigned", func(t *testing.T) {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/users/alice/inbox", strings.NewReader("{}")))
		assert.Equal(t, http.StatusUnauthorized, w.Code)
		assert.Equal(t, signature.ErrNoSignature.Error()+"\n", w.Body.String())
	})
	t.Run("too large", func(t *testing.T) {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/users/alice/inbox", strings.NewReader(strings.Repeat("x", 5000))))
		assert.Equal(t, http.StatusRequestEntityTooLarge, w.Code)
	})
	t.Run("no result without middleware", func(t *testing.T) {
		_, ok := signature.FromContext(httptest.NewRequest("GET", "/", nil).Context())
		assert.False(t, ok)
	})
}
