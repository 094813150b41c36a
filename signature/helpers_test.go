package signature_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/fedi-go/fedi/signature"
)

// Keys are made once per test binary: RSA generation is slow.
var testKeys = sync.OnceValue(func() map[string]crypto.Signer {
	r1, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	r2, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return map[string]crypto.Signer{"rsa": r1, "rsa2": r2, "ed25519": ed, "p256": ec}
})

const (
	testActor = "https://remote.example/users/bob"
	testKeyID = testActor + "#main-key"
	testInbox = "https://local.example/users/alice/inbox"
)

// staticKeys resolves keyIds from a map and counts look-ups.
type staticKeys struct {
	mu    sync.Mutex
	keys  map[string]*signature.Key
	calls int
}

func keysOf(kid string, priv crypto.Signer) *staticKeys {
	return &staticKeys{keys: map[string]*signature.Key{kid: {ID: kid, Owner: testActor, Public: priv.Public()}}}
}

func (s *staticKeys) ResolveKey(_ context.Context, keyID string) (*signature.Key, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	k, ok := s.keys[keyID]
	if !ok {
		return nil, &signature.Error{Check: signature.ErrUnknownKey, Detail: keyID}
	}
	return k, nil
}

// signed builds a client request, signs it, and returns the request as a
// server would see it.
func signed(t testing.TB, s *signature.Signer, method, target string, body []byte) *http.Request {
	t.Helper()
	cr, err := http.NewRequest(method, target, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		cr.Header.Set("Content-Type", "application/activity+json")
	} else {
		cr.Header.Set("Accept", "application/activity+json")
	}
	if err := s.SignRequest(cr, body); err != nil {
		t.Fatal(err)
	}
	return serverSide(cr, body)
}

// serverSide turns a client request into the request a handler gets.
func serverSide(cr *http.Request, body []byte) *http.Request {
	sr := httptest.NewRequest(cr.Method, cr.URL.RequestURI(), bytes.NewReader(body))
	sr.Host = cr.URL.Host
	if cr.URL.Scheme == "https" {
		sr.TLS = httptestTLS
	}
	for k, v := range cr.Header {
		sr.Header[k] = append([]string(nil), v...)
	}
	return sr
}

var httptestTLS = httptest.NewRequest("GET", "https://x/", nil).TLS

func newSigner(t testing.TB, key crypto.Signer, scheme signature.Scheme) *signature.Signer {
	t.Helper()
	s, err := signature.NewSigner(signature.SignerOptions{KeyID: testKeyID, Key: key, Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newVerifier(t testing.TB, keys signature.KeyResolver, o signature.VerifierOptions) *signature.Verifier {
	t.Helper()
	o.Keys = keys
	v, err := signature.NewVerifier(o)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
