// Package conformance is a kit a project runs in its own CI to prove its
// wiring of fedi (or any ActivityPub server) federates safely: it plays
// a remote server against the target, with fake actors served on
// loopback and requests it signs itself, and checks what peers such as
// Mastodon and Fedify check.
//
//	func TestFederation(t *testing.T) {
//		conformance.Run(t, conformance.Target{
//			Handler: myServer, // or URL: "http://127.0.0.1:8080"
//			Actor:   "https://example.test/users/alice",
//		})
//	}
//
// One subtest per case: WebFinger and the actor document (the fields
// Mastodon and Fedify require); the inbox's refusals (unsigned, forged,
// tampered digest, stale date, key owner not the actor, Update and Delete
// by a non-owner, oversize, deep nesting, invalid JSON, a hostile IRI,
// replay); replays of real payload shapes of each vocabulary the target
// declares; and the follow handshake, whose Accept must reach the kit's
// actor signed by the target's key.
//
// The target fetches the kit's actors from 127.0.0.1 over http: in tests,
// build its fetch.Client with AllowLoopback. Its delivery worker must run
// during the test, for the Accept to go out.
package conformance

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fedi-go/fedi/signature"
)

// Target is the server under test.
type Target struct {
	// Handler is the server as an http.Handler; requests reach it as if
	// to the Actor's origin (with TLS when it is https). Either Handler
	// or URL is required.
	Handler http.Handler
	// URL is the base URL of a running server on loopback, whose origin
	// is the Actor's.
	URL string
	// Actor is the IRI of one of the target's actors; required.
	Actor string
	// Handle is its WebFinger handle (user@host); empty means the
	// actor's preferredUsername at the actor's host.
	Handle string
	// ManualApproval says the actor approves followers by hand: the
	// handshake then expects no Accept.
	ManualApproval bool
	// Vocabularies names the vocabularies whose real payloads are
	// replayed: "mastodon" (always), "mobilizon", "lemmy", "communecter".
	Vocabularies []string
	// Skip lists the cases not to run, by subtest name.
	Skip []string
	// Timeout bounds each wait for the target (its Accept); 0 means 20 s.
	Timeout time.Duration
	// MaxBodyBytes is the body the target refuses as too large; 0 means
	// 1 MiB (the kit sends twice as much).
	MaxBodyBytes int64
}

// Run runs every case against t.
func Run(t *testing.T, target Target) {
	t.Helper()
	k, err := newKit(t, target)
	if err != nil {
		t.Fatalf("conformance: %v", err)
	}
	for _, c := range cases {
		if slices.Contains(target.Skip, c.name) {
			continue
		}
		t.Run(c.name, func(t *testing.T) { c.run(t, k) })
	}
}

type kase struct {
	name string
	run  func(t *testing.T, k *kit)
}

// kit is a run in progress: the target, and the kit's own fake server.
type kit struct {
	target  Target
	origin  *url.URL // the target's origin
	client  *http.Client
	peer    *httptest.Server
	actors  map[string]*fakeActor
	mu      sync.Mutex
	inboxed []posted
	doc     map[string]any // the target actor's document, once fetched
	inbox   string
	keys    signature.KeyResolver
	ver     *signature.Verifier
	seq     int
}

type fakeActor struct {
	iri string
	key *rsa.PrivateKey
}

type posted struct {
	path   string
	body   []byte
	signer *signature.Result
	err    error
}

func newKit(t *testing.T, target Target) (*kit, error) {
	if target.Actor == "" || (target.Handler == nil && target.URL == "") {
		return nil, errors.New("Target needs Actor and Handler or URL")
	}
	u, err := url.Parse(target.Actor)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("Target.Actor %q is not an absolute IRI", target.Actor)
	}
	if target.Timeout == 0 {
		target.Timeout = 20 * time.Second
	}
	if target.MaxBodyBytes == 0 {
		target.MaxBodyBytes = 1 << 20
	}
	k := &kit{target: target, origin: &url.URL{Scheme: u.Scheme, Host: u.Host}, client: &http.Client{Timeout: 30 * time.Second},
		actors: map[string]*fakeActor{}}
	k.keys = signature.KeyResolverFunc(k.resolveTargetKey)
	if k.ver, err = signature.NewVerifier(signature.VerifierOptions{Keys: k.keys}); err != nil {
		return nil, err
	}
	k.peer = httptest.NewServer(http.HandlerFunc(k.servePeer))
	t.Cleanup(k.peer.Close)
	for _, name := range []string{"mallory", "trent"} {
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, err
		}
		k.actors[name] = &fakeActor{iri: k.peer.URL + "/users/" + name, key: key}
	}
	return k, nil
}

// servePeer serves the kit's actors and records what reaches their
// inboxes, verified against the target's key.
func (k *kit) servePeer(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		res, err := k.ver.Verify(r.Context(), r, body)
		k.mu.Lock()
		k.inboxed = append(k.inboxed, posted{path: r.URL.Path, body: body, signer: res, err: err})
		k.mu.Unlock()
		if err != nil {
			http.Error(w, "signature not verified", http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusAccepted)
		return
	}
	name, ok := strings.CutPrefix(r.URL.Path, "/users/")
	a := k.actors[name]
	if !ok || a == nil {
		http.NotFound(w, r)
		return
	}
	pem, _ := signature.PublicKeyPEM(a.key.Public())
	w.Header().Set("Content-Type", "application/activity+json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"@context":          []string{"https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"},
		"id":                a.iri,
		"type":              "Person",
		"preferredUsername": name,
		"inbox":             a.iri + "/inbox",
		"outbox":            a.iri + "/outbox",
		"followers":         a.iri + "/followers",
		"endpoints":         map[string]string{"sharedInbox": k.peer.URL + "/inbox"},
		"publicKey":         map[string]string{"id": a.iri + "#main-key", "owner": a.iri, "publicKeyPem": pem},
	})
}

// resolveTargetKey resolves a key of the target from its actor
// document, fetched through the target itself.
func (k *kit) resolveTargetKey(ctx context.Context, keyID string) (*signature.Key, error) {
	iri, _, _ := strings.Cut(keyID, "#")
	status, _, body, err := k.get(ctx, iri, "application/activity+json")
	if err != nil || status != http.StatusOK {
		return nil, &signature.Error{Check: signature.ErrUnknownKey, Detail: fmt.Sprintf("%s: %d %v", iri, status, err)}
	}
	var doc struct {
		ID        string `json:"id"`
		PublicKey struct {
			ID    string `json:"id"`
			Owner string `json:"owner"`
			PEM   string `json:"publicKeyPem"`
		} `json:"publicKey"`
	}
	if err := json.Unmarshal(body, &doc); err != nil || doc.PublicKey.ID != keyID {
		return nil, &signature.Error{Check: signature.ErrUnknownKey, Detail: keyID}
	}
	pub, err := signature.ParsePublicKeyPEM(doc.PublicKey.PEM)
	if err != nil {
		return nil, &signature.Error{Check: signature.ErrUnsupportedKey, Detail: keyID, Cause: err}
	}
	return &signature.Key{ID: keyID, Owner: doc.ID, Public: pub}, nil
}

// request builds a request to the target for path (or an absolute IRI on
// its origin).
func (k *kit) request(ctx context.Context, method, iri string, body []byte) (*http.Request, error) {
	u, err := url.Parse(iri)
	if err != nil {
		return nil, err
	}
	if !u.IsAbs() {
		u = k.origin.ResolveReference(u)
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	return http.NewRequestWithContext(ctx, method, u.String(), rd)
}

// do sends req to the target, through its Handler or to its URL.
func (k *kit) do(req *http.Request) (int, http.Header, []byte, error) {
	if k.target.Handler != nil {
		rec := httptest.NewRecorder()
		in := req.Clone(req.Context())
		in.Body = req.Body
		in.RequestURI = req.URL.RequestURI()
		in.RemoteAddr = "127.0.0.1:1"
		if req.URL.Scheme == "https" {
			in.TLS = &tls.ConnectionState{HandshakeComplete: true, ServerName: req.URL.Hostname()}
		}
		k.target.Handler.ServeHTTP(rec, in)
		return rec.Code, rec.Header(), rec.Body.Bytes(), nil
	}
	base, err := url.Parse(k.target.URL)
	if err != nil {
		return 0, nil, nil, err
	}
	out := req.Clone(req.Context())
	out.Body = req.Body
	out.URL.Scheme, out.URL.Host = base.Scheme, base.Host
	out.Host = req.URL.Host
	resp, err := k.client.Do(out)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	return resp.StatusCode, resp.Header, b, err
}

func (k *kit) get(ctx context.Context, iri, accept string) (int, http.Header, []byte, error) {
	req, err := k.request(ctx, http.MethodGet, iri, nil)
	if err != nil {
		return 0, nil, nil, err
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	return k.do(req)
}

// signed returns a POST of body to the target's inbox, signed by the
// kit's actor as with the key of signer (usually the same actor).
func (k *kit) signed(t *testing.T, as, signer string, body []byte, scheme signature.Scheme) *http.Request {
	t.Helper()
	a := k.actors[signer]
	s, err := signature.NewSigner(signature.SignerOptions{KeyID: a.iri + "#main-key", Key: a.key, Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	req, err := k.request(context.Background(), http.MethodPost, k.inboxIRI(t), body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/activity+json")
	if err := s.SignRequest(req, body); err != nil {
		t.Fatal(err)
	}
	_ = as
	return req
}

// inboxIRI returns the target actor's inbox, from its document.
func (k *kit) inboxIRI(t *testing.T) string {
	t.Helper()
	if k.inbox != "" {
		return k.inbox
	}
	doc := k.actorDoc(t)
	inbox, _ := doc["inbox"].(string)
	if inbox == "" {
		t.Fatalf("the actor document of %s has no inbox", k.target.Actor)
	}
	k.inbox = inbox
	return inbox
}

// actorDoc fetches the target actor's document once.
func (k *kit) actorDoc(t *testing.T) map[string]any {
	t.Helper()
	if k.doc != nil {
		return k.doc
	}
	status, _, body, err := k.get(context.Background(), k.target.Actor, "application/activity+json")
	if err != nil || status != http.StatusOK {
		t.Fatalf("GET %s: %d %v", k.target.Actor, status, err)
	}
	if err := json.Unmarshal(body, &k.doc); err != nil {
		t.Fatalf("GET %s: not JSON: %v", k.target.Actor, err)
	}
	return k.doc
}

// id returns a fresh activity id on the kit's origin.
func (k *kit) id(kind string) string {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.seq++
	return fmt.Sprintf("%s/activities/%s-%d-%d", k.peer.URL, kind, time.Now().UnixNano(), k.seq)
}

// waitPosted waits for a POST to the kit matching ok.
func (k *kit) waitPosted(ok func(p posted) bool) (posted, bool) {
	return k.waitPostedFor(k.target.Timeout, ok)
}

func (k *kit) waitPostedFor(d time.Duration, ok func(p posted) bool) (posted, bool) {
	deadline := time.Now().Add(d)
	for {
		k.mu.Lock()
		for _, p := range k.inboxed {
			if ok(p) {
				k.mu.Unlock()
				return p, true
			}
		}
		k.mu.Unlock()
		if time.Now().After(deadline) {
			return posted{}, false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (k *kit) postedCount(ok func(p posted) bool) int {
	k.mu.Lock()
	defer k.mu.Unlock()
	n := 0
	for _, p := range k.inboxed {
		if ok(p) {
			n++
		}
	}
	return n
}

func jsonOf(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// Cases returns the names of the cases Run runs, in order: the names
// Target.Skip takes.
func Cases() []string {
	out := make([]string, len(cases))
	for i, c := range cases {
		out[i] = c.name
	}
	return out
}
