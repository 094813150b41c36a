package fedtest

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/fedi-go/fedi/signature"
)

// keys are RSA keys made once per test binary: making one takes long.
var (
	keysOnce sync.Once
	keyPool  []*rsa.PrivateKey
)

// Key returns the i-th test RSA-2048 key (0 ≤ i < 4).
func Key(i int) *rsa.PrivateKey {
	keysOnce.Do(func() {
		for range 4 {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			keyPool = append(keyPool, k)
		}
	})
	return keyPool[i%len(keyPool)]
}

// Remote is a fake remote server on loopback: it serves the documents a
// test puts in it (actors with their keys, objects), answers 410 for
// those it marks gone, and signs requests as its actors.
type Remote struct {
	URL  string
	HTTP *httptest.Server
	mu   sync.Mutex
	docs map[string][]byte // path → document
	gone map[string]bool
	keys map[string]crypto.Signer // actor IRI → key
	// Received are the bodies POSTed to it, by path.
	Received map[string][][]byte
}

// NewRemote starts a Remote, stopped with t.Cleanup.
func NewRemote(t testing.TB) *Remote {
	t.Helper()
	r := &Remote{docs: map[string][]byte{}, gone: map[string]bool{}, keys: map[string]crypto.Signer{}, Received: map[string][][]byte{}}
	r.HTTP = httptest.NewServer(http.HandlerFunc(r.serve))
	r.URL = r.HTTP.URL
	t.Cleanup(r.HTTP.Close)
	return r
}

func (r *Remote) serve(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if req.Method == http.MethodPost {
		b, _ := io.ReadAll(req.Body)
		r.Received[req.URL.Path] = append(r.Received[req.URL.Path], b)
		w.WriteHeader(http.StatusAccepted)
		return
	}
	if r.gone[req.URL.Path] {
		http.Error(w, "gone", http.StatusGone)
		return
	}
	doc, ok := r.docs[req.URL.Path]
	if !ok {
		http.NotFound(w, req)
		return
	}
	w.Header().Set("Content-Type", "application/activity+json")
	_, _ = w.Write(doc)
}

// Actor adds an actor named name with the i-th test key and returns its
// IRI.
func (r *Remote) Actor(t testing.TB, name string, key int) string {
	t.Helper()
	iri := r.URL + "/users/" + name
	k := Key(key)
	pem, err := signature.PublicKeyPEM(k.Public())
	if err != nil {
		t.Fatal(err)
	}
	doc := map[string]any{
		"@context":          []string{"https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"},
		"id":                iri,
		"type":              "Person",
		"preferredUsername": name,
		"inbox":             iri + "/inbox",
		"outbox":            iri + "/outbox",
		"followers":         iri + "/followers",
		"endpoints":         map[string]string{"sharedInbox": r.URL + "/inbox"},
		"publicKey":         map[string]string{"id": iri + "#main-key", "owner": iri, "publicKeyPem": pem},
	}
	r.Put(t, iri, doc)
	r.mu.Lock()
	r.keys[iri] = k
	r.mu.Unlock()
	return iri
}

// Put serves doc (JSON-encoded unless it is []byte or a string) at iri,
// which must be on this server.
func (r *Remote) Put(t testing.TB, iri string, doc any) {
	t.Helper()
	path, ok := strings.CutPrefix(iri, r.URL)
	if !ok {
		t.Fatalf("%s is not on %s", iri, r.URL)
	}
	var b []byte
	switch d := doc.(type) {
	case []byte:
		b = d
	case string:
		b = []byte(d)
	default:
		var err error
		if b, err = json.Marshal(doc); err != nil {
			t.Fatal(err)
		}
	}
	r.mu.Lock()
	r.docs[path] = b
	delete(r.gone, path)
	r.mu.Unlock()
}

// Gone makes iri answer 410.
func (r *Remote) Gone(iri string) {
	r.mu.Lock()
	r.gone[strings.TrimPrefix(iri, r.URL)] = true
	r.mu.Unlock()
}

// Signed returns a POST of body to url signed (draft-cavage) by the
// actor as, with its own key.
func (r *Remote) Signed(t testing.TB, as, url string, body []byte) *http.Request {
	t.Helper()
	r.mu.Lock()
	k := r.keys[as]
	r.mu.Unlock()
	if k == nil {
		t.Fatalf("no actor %s on %s", as, r.URL)
	}
	return SignedWith(t, as+"#main-key", k, url, body, signature.Cavage)
}

// SignedWith returns a POST of body to url signed with key as keyID.
func SignedWith(t testing.TB, keyID string, key crypto.Signer, url string, body []byte, scheme signature.Scheme) *http.Request {
	t.Helper()
	s, err := signature.NewSigner(signature.SignerOptions{KeyID: keyID, Key: key, Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/activity+json")
	if err := s.SignRequest(req, body); err != nil {
		t.Fatal(err)
	}
	return req
}

// Do sends req and returns the status and body.
func Do(t testing.TB, req *http.Request) (int, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// JSON formats a document from a format and arguments, for test
// payloads.
func JSON(format string, args ...any) []byte { return []byte(fmt.Sprintf(format, args...)) }

// Got returns the bodies POSTed to path so far.
func (r *Remote) Got(path string) [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]byte(nil), r.Received[path]...)
}
