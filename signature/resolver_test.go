package signature_test

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fedi-go/fedi/fetch"
	"github.com/fedi-go/fedi/signature"
)

// keyServer serves actor and key documents in the shapes peers use. Each
// document is a template in which "SRV" is replaced by the server's URL.
type keyServer struct {
	*httptest.Server
	mu   sync.Mutex
	docs map[string]string
	hits atomic.Int64
}

func newKeyServer(t *testing.T) *keyServer {
	ks := &keyServer{docs: map[string]string{}}
	ks.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ks.hits.Add(1)
		ks.mu.Lock()
		doc, ok := ks.docs[r.URL.Path]
		ks.mu.Unlock()
		switch {
		case !ok:
			http.NotFound(w, r)
		case doc == "GONE":
			w.WriteHeader(http.StatusGone)
		default:
			w.Header().Set("Content-Type", "application/activity+json")
			_, _ = w.Write([]byte(strings.ReplaceAll(doc, "SRV", ks.URL)))
		}
	}))
	t.Cleanup(ks.Close)
	return ks
}

func (ks *keyServer) set(path, doc string) {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	ks.docs[path] = doc
}

func spki(t *testing.T, pub crypto.PublicKey) string {
	s, err := signature.PublicKeyPEM(pub)
	require.NoError(t, err)
	return s
}

func pkcs1(pub *rsa.PublicKey) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(pub)}))
}

func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func actorDoc(id string, extra map[string]any) string {
	m := map[string]any{"@context": []string{"https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"},
		"id": id, "type": "Person", "inbox": id + "/inbox"}
	for k, v := range extra {
		m[k] = v
	}
	return js(m)
}

func newResolver(t *testing.T, o signature.ResolverOptions) *signature.Resolver {
	t.Helper()
	c, err := fetch.New(fetch.Options{AllowLoopback: true})
	require.NoError(t, err)
	t.Cleanup(c.Close)
	o.Client = c
	r, err := signature.NewResolver(o)
	require.NoError(t, err)
	return r
}

func TestResolverShapes(t *testing.T) {
	rsaPub := testKeys()["rsa"].Public()
	edPub := testKeys()["ed25519"].Public()
	mk, err := signature.Multikey(edPub)
	require.NoError(t, err)
	rsaMK, err := signature.Multikey(rsaPub)
	require.NoError(t, err)

	ks := newKeyServer(t)
	ks.set("/users/bob", actorDoc("SRV/users/bob", map[string]any{
		"publicKey": map[string]any{"id": "SRV/users/bob#main-key", "owner": "SRV/users/bob", "publicKeyPem": spki(t, rsaPub)}}))
	ks.set("/users/arr", actorDoc("SRV/users/arr", map[string]any{
		"publicKey": []any{
			map[string]any{"id": "SRV/users/arr#main-key", "owner": "SRV/users/arr", "publicKeyPem": spki(t, rsaPub)},
			map[string]any{"id": "SRV/users/arr#key-2", "owner": "SRV/users/arr", "publicKeyPem": pkcs1(rsaPub.(*rsa.PublicKey))},
		}}))
	ks.set("/users/fedify", actorDoc("SRV/users/fedify", map[string]any{
		"publicKey": map[string]any{"id": "SRV/users/fedify#main-key", "type": "CryptographicKey", "owner": "SRV/users/fedify", "publicKeyPem": spki(t, rsaPub)},
		"assertionMethod": []any{
			map[string]any{"id": "SRV/users/fedify#main-key", "type": "Multikey", "controller": "SRV/users/fedify", "publicKeyMultibase": rsaMK},
			map[string]any{"id": "SRV/users/fedify#key-2", "type": "Multikey", "controller": "SRV/users/fedify", "publicKeyMultibase": mk},
		}}))
	ks.set("/users/single", actorDoc("SRV/users/single", map[string]any{
		"publicKey": map[string]any{"id": "SRV/users/single#main-key", "publicKeyPem": spki(t, rsaPub)}}))
	ks.set("/keys/sa", js(map[string]any{"id": "SRV/keys/sa", "type": "CryptographicKey", "owner": "SRV/users/sa", "publicKeyPem": spki(t, rsaPub)}))
	ks.set("/users/sa", actorDoc("SRV/users/sa", map[string]any{"publicKey": "SRV/keys/sa"}))
	ks.set("/keys/orphan", js(map[string]any{"id": "SRV/keys/orphan", "type": "CryptographicKey", "publicKeyPem": spki(t, rsaPub)}))
	ks.set("/keys/unlisted", js(map[string]any{"id": "SRV/keys/unlisted", "type": "CryptographicKey", "owner": "SRV/users/bob", "publicKeyPem": spki(t, rsaPub)}))
	ks.set("/users/liar", actorDoc("SRV/users/liar", map[string]any{
		"publicKey": map[string]any{"id": "SRV/users/liar#main-key", "owner": "SRV/users/bob", "publicKeyPem": spki(t, rsaPub)}}))
	ks.set("/users/badpem", actorDoc("SRV/users/badpem", map[string]any{
		"publicKey": map[string]any{"id": "SRV/users/badpem#main-key", "publicKeyPem": "not a pem"}}))
	ks.set("/users/gone", "GONE")
	ks.set("/users/huge", actorDoc("SRV/users/huge", map[string]any{"summary": strings.Repeat("x", 300<<10)}))

	tests := []struct {
		keyID, owner string
		pub          crypto.PublicKey
		want         error
	}{
		{keyID: "/users/bob#main-key", owner: "/users/bob", pub: rsaPub},
		{keyID: "/users/arr#key-2", owner: "/users/arr", pub: rsaPub},
		{keyID: "/users/fedify#main-key", owner: "/users/fedify", pub: rsaPub},
		{keyID: "/users/fedify#key-2", owner: "/users/fedify", pub: edPub},
		{keyID: "/users/single", owner: "/users/single", pub: rsaPub},
		{keyID: "/keys/sa", owner: "/users/sa", pub: rsaPub},
		{keyID: "/users/bob#other-key", want: signature.ErrUnknownKey},
		{keyID: "/users/arr", want: signature.ErrUnknownKey}, // two keys: ambiguous
		{keyID: "/users/nobody#main-key", want: signature.ErrUnknownKey},
		{keyID: "/users/gone#main-key", want: signature.ErrUnknownKey},
		{keyID: "/keys/orphan", want: signature.ErrKeyOwner},
		{keyID: "/users/liar#main-key", want: signature.ErrKeyOwner},
		{keyID: "/keys/unlisted", want: signature.ErrOwnerKey},
		{keyID: "/users/badpem#main-key", want: signature.ErrUnsupportedKey},
		{keyID: "/users/huge#main-key", want: fetch.ErrTooLarge},
	}
	r := newResolver(t, signature.ResolverOptions{})
	for _, tt := range tests {
		t.Run(tt.keyID, func(t *testing.T) {
			k, err := r.ResolveKey(context.Background(), ks.URL+tt.keyID)
			if tt.want != nil {
				require.ErrorIs(t, err, tt.want)
				var e *signature.Error
				require.ErrorAs(t, err, &e)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, ks.URL+tt.owner, k.Owner)
			assert.Equal(t, ks.URL+tt.keyID, k.ID)
			assert.True(t, k.Public.(interface{ Equal(crypto.PublicKey) bool }).Equal(tt.pub))
		})
	}
	t.Run("too large is a key fetch failure", func(t *testing.T) {
		_, err := r.ResolveKey(context.Background(), ks.URL+"/users/huge#main-key")
		assert.ErrorIs(t, err, signature.ErrKeyFetch)
	})
}

// TestResolverIDDetour: a keyId whose document has another id is followed
// to that id, fetched strictly, and trusted only for what that actor
// lists.
func TestResolverIDDetour(t *testing.T) {
	rsaPub, otherPub := testKeys()["rsa"].Public(), testKeys()["rsa2"].Public()
	ctxLD := []string{"https://w3id.org/security/v1", "https://www.w3.org/ns/activitystreams"}
	ks := newKeyServer(t)
	// GoToSocial: …/main-key serves a stub of the actor.
	gtsKey := map[string]any{"id": "SRV/users/gts/main-key", "owner": "SRV/users/gts", "publicKeyPem": spki(t, rsaPub)}
	ks.set("/users/gts/main-key", js(map[string]any{"@context": ctxLD, "id": "SRV/users/gts", "preferredUsername": "gts", "publicKey": gtsKey}))
	ks.set("/users/gts", actorDoc("SRV/users/gts", map[string]any{"publicKey": gtsKey}))
	// BookWyrm: the keyId's path ends in '/', the actor's id does not.
	bw := actorDoc("SRV/user/bw", map[string]any{"publicKey": map[string]any{"id": "SRV/user/bw/#main-key", "owner": "SRV/user/bw", "publicKeyPem": spki(t, rsaPub)}})
	ks.set("/user/bw", bw)
	ks.set("/user/bw/", bw)
	// An impostor: its document names the victim as its id and carries
	// its own key under its own keyId; the victim lists no such key.
	ks.set("/evil/main-key", js(map[string]any{"@context": ctxLD, "id": "SRV/users/victim",
		"publicKey": map[string]any{"id": "SRV/evil/main-key", "owner": "SRV/users/victim", "publicKeyPem": spki(t, otherPub)}}))
	ks.set("/users/victim", actorDoc("SRV/users/victim", map[string]any{
		"publicKey": map[string]any{"id": "SRV/users/victim#main-key", "owner": "SRV/users/victim", "publicKeyPem": spki(t, rsaPub)}}))
	// The loose document's key material differs from the actor's: only
	// the actor's counts.
	ks.set("/users/mixed/main-key", js(map[string]any{"@context": ctxLD, "id": "SRV/users/mixed",
		"publicKey": map[string]any{"id": "SRV/users/mixed/main-key", "owner": "SRV/users/mixed", "publicKeyPem": spki(t, otherPub)}}))
	ks.set("/users/mixed", actorDoc("SRV/users/mixed", map[string]any{
		"publicKey": map[string]any{"id": "SRV/users/mixed/main-key", "owner": "SRV/users/mixed", "publicKeyPem": spki(t, rsaPub)}}))
	// The id leads to a document whose own id is elsewhere again.
	ks.set("/users/hop/main-key", js(map[string]any{"id": "SRV/users/hop2"}))
	ks.set("/users/hop2", actorDoc("SRV/users/hop3", nil))
	// The id leads to a key, not an actor.
	ks.set("/keys/alias", js(map[string]any{"id": "SRV/keys/real", "owner": "SRV/users/victim", "publicKeyPem": spki(t, rsaPub)}))
	ks.set("/keys/real", js(map[string]any{"id": "SRV/keys/real", "owner": "SRV/users/victim", "publicKeyPem": spki(t, rsaPub)}))
	// The actor lists the key but the key names another owner.
	ks.set("/users/liar/main-key", js(map[string]any{"id": "SRV/users/liar"}))
	ks.set("/users/liar", actorDoc("SRV/users/liar", map[string]any{
		"publicKey": map[string]any{"id": "SRV/users/liar/main-key", "owner": "SRV/users/victim", "publicKeyPem": spki(t, rsaPub)}}))
	// A keyId that is no key of the actor it leads to: the fallback of a
	// bare actor id to its only key does not apply on the detour.
	ks.set("/users/one/key", js(map[string]any{"id": "SRV/users/one"}))
	ks.set("/users/one", actorDoc("SRV/users/one", map[string]any{
		"publicKey": map[string]any{"id": "SRV/users/one#main-key", "owner": "SRV/users/one", "publicKeyPem": spki(t, rsaPub)}}))

	tests := []struct {
		name      string
		keyID     string
		budget    int // 0 means none
		wantOwner string
		wantErr   []error
		wantHits  int64
	}{
		{name: "GoToSocial", keyID: "/users/gts/main-key", wantOwner: "/users/gts", wantHits: 2},
		{name: "GoToSocial within a budget of 2", keyID: "/users/gts/main-key", budget: 2, wantOwner: "/users/gts", wantHits: 2},
		{name: "GoToSocial beyond a budget of 1", keyID: "/users/gts/main-key", budget: 1, wantErr: []error{signature.ErrKeyFetch, fetch.ErrBudget}, wantHits: 1},
		{name: "BookWyrm", keyID: "/user/bw/#main-key", wantOwner: "/user/bw", wantHits: 2},
		{name: "same id costs one fetch", keyID: "/users/victim#main-key", wantOwner: "/users/victim", wantHits: 1},
		{name: "impostor", keyID: "/evil/main-key", wantErr: []error{signature.ErrUnknownKey}, wantHits: 2},
		{name: "material from the actor only", keyID: "/users/mixed/main-key", wantOwner: "/users/mixed", wantHits: 2},
		{name: "second document's id elsewhere too", keyID: "/users/hop/main-key", wantErr: []error{signature.ErrKeyFetch, fetch.ErrIDMismatch}, wantHits: 2},
		{name: "id leads to a key", keyID: "/keys/alias", wantErr: []error{signature.ErrUnknownKey}, wantHits: 2},
		{name: "key names another owner", keyID: "/users/liar/main-key", wantErr: []error{signature.ErrKeyOwner}, wantHits: 2},
		{name: "keyId not listed by the actor", keyID: "/users/one/key", wantErr: []error{signature.ErrUnknownKey}, wantHits: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newResolver(t, signature.ResolverOptions{})
			ctx := context.Background()
			if tt.budget > 0 {
				ctx = fetch.WithBudget(ctx, tt.budget)
			}
			ks.hits.Store(0)
			k, err := r.ResolveKey(ctx, ks.URL+tt.keyID)
			assert.Equal(t, tt.wantHits, ks.hits.Load(), "fetches")
			if tt.wantErr != nil {
				for _, want := range tt.wantErr {
					require.ErrorIs(t, err, want)
				}
				return
			}
			require.NoError(t, err)
			assert.Equal(t, ks.URL+tt.keyID, k.ID)
			assert.Equal(t, ks.URL+tt.wantOwner, k.Owner)
			assert.True(t, k.Public.(*rsa.PublicKey).Equal(rsaPub), "the key is the strictly fetched actor's")
		})
	}
}

func TestResolverCache(t *testing.T) {
	now := time.Unix(1700000000, 0)
	clock := func() time.Time { return now }
	rsaPub := testKeys()["rsa"].Public()
	ks := newKeyServer(t)
	for _, u := range []string{"a", "b"} {
		ks.set("/users/"+u, actorDoc("SRV/users/"+u, map[string]any{
			"publicKey": map[string]any{"id": "SRV/users/" + u + "#main-key", "owner": "SRV/users/" + u, "publicKeyPem": spki(t, rsaPub)}}))
	}
	r := newResolver(t, signature.ResolverOptions{TTL: time.Hour, MaxKeys: 1, Now: clock})
	ctx := context.Background()
	a, b := ks.URL+"/users/a#main-key", ks.URL+"/users/b#main-key"

	_, err := r.ResolveKey(ctx, a)
	require.NoError(t, err)
	_, err = r.ResolveKey(ctx, a)
	require.NoError(t, err)
	assert.EqualValues(t, 1, ks.hits.Load(), "the second look-up is cached")

	now = now.Add(2 * time.Hour)
	_, err = r.ResolveKey(ctx, a)
	require.NoError(t, err)
	assert.EqualValues(t, 2, ks.hits.Load(), "past the TTL the key is fetched again")

	_, err = r.ResolveKey(ctx, b)
	require.NoError(t, err)
	_, err = r.ResolveKey(ctx, a)
	require.NoError(t, err)
	assert.EqualValues(t, 4, ks.hits.Load(), "MaxKeys 1 evicted a")

	r.Forget(a)
	_, err = r.ResolveKey(ctx, a)
	require.NoError(t, err)
	assert.EqualValues(t, 5, ks.hits.Load())
}

// TestKeyRotation: the actor changes its key; a signature by the new key
// fails against the cached old one, the verifier refreshes once, and the
// new key verifies. Within MinRefresh no refetch happens.
func TestKeyRotation(t *testing.T) {
	now := time.Now()
	clock := func() time.Time { return now }
	oldKey, newKey := testKeys()["rsa"], testKeys()["rsa2"]
	ks := newKeyServer(t)
	setKey := func(k crypto.Signer) {
		ks.set("/users/bob", actorDoc("SRV/users/bob", map[string]any{
			"publicKey": map[string]any{"id": "SRV/users/bob#main-key", "owner": "SRV/users/bob", "publicKeyPem": spki(t, k.Public())}}))
	}
	setKey(oldKey)
	keyID := ks.URL + "/users/bob#main-key"
	r := newResolver(t, signature.ResolverOptions{Now: clock, MinRefresh: time.Minute})
	v := newVerifier(t, r, signature.VerifierOptions{Now: clock})
	verify := func(k crypto.Signer) error {
		s, err := signature.NewSigner(signature.SignerOptions{KeyID: keyID, Key: k, Now: clock})
		require.NoError(t, err)
		req := signed(t, s, http.MethodPost, testInbox, activity)
		_, err = v.Verify(context.Background(), req, activity)
		return err
	}
	require.NoError(t, verify(oldKey))
	assert.EqualValues(t, 1, ks.hits.Load())

	setKey(newKey)
	require.ErrorIs(t, verify(newKey), signature.ErrBadSignature, "within MinRefresh the cached key stands")
	assert.EqualValues(t, 1, ks.hits.Load())

	now = now.Add(2 * time.Minute)
	require.NoError(t, verify(newKey), "the refreshed key verifies")
	assert.EqualValues(t, 2, ks.hits.Load())
	require.ErrorIs(t, verify(oldKey), signature.ErrBadSignature)
	assert.EqualValues(t, 2, ks.hits.Load(), "a bad signature right after a refresh does not fetch again")
}

func TestResolverValidates(t *testing.T) {
	_, err := signature.NewResolver(signature.ResolverOptions{})
	assert.Error(t, err)
	c, err := fetch.New(fetch.Options{})
	require.NoError(t, err)
	_, err = signature.NewResolver(signature.ResolverOptions{Client: c, FetchTimeout: -time.Second})
	assert.Error(t, err)
}

// serveOnPairedHosts starts two servers on the same port of two loopback
// addresses, 127.0.0.1 and 127.0.0.2 (or ::1 where 127.0.0.2 is not
// configured), so that their URLs differ in the host alone. handlers gets
// both URLs and returns the two servers' handlers.
func serveOnPairedHosts(t *testing.T, handlers func(urlA, urlB string) (a, b http.Handler)) (urlA, urlB string) {
	t.Helper()
	for range 20 {
		la, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		port := la.Addr().(*net.TCPAddr).Port
		var lb net.Listener
		for _, host := range []string{"127.0.0.2", "::1"} {
			if lb, err = net.Listen("tcp", net.JoinHostPort(host, fmt.Sprint(port))); err == nil {
				break
			}
		}
		if lb == nil {
			la.Close()
			continue
		}
		urlA, urlB = "http://"+la.Addr().String(), "http://"+lb.Addr().String()
		ha, hb := handlers(urlA, urlB)
		sa, sb := &httptest.Server{Listener: la, Config: &http.Server{Handler: ha}}, &httptest.Server{Listener: lb, Config: &http.Server{Handler: hb}}
		sa.Start()
		sb.Start()
		t.Cleanup(sa.Close)
		t.Cleanup(sb.Close)
		return urlA, urlB
	}
	t.Fatal("found no port free on both 127.0.0.1 and 127.0.0.2 or ::1")
	return "", ""
}

// TestResolverKeyFromAnotherHost: a host cannot publish a key for an
// actor of another host by serving, at the same path, a document that
// claims the other host's id. The two hosts differ in nothing else, so
// that only the fetch client's host comparison stands between the
// attacker and an impersonation of the victim.
func TestResolverKeyFromAnotherHost(t *testing.T) {
	victimPEM, attackerPEM := spki(t, testKeys()["rsa"].Public()), spki(t, testKeys()["rsa2"].Public())
	victimURL, attackerURL := serveOnPairedHosts(t, func(victimURL, attackerURL string) (http.Handler, http.Handler) {
		victim := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/users/alice" {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Content-Type", "application/activity+json")
			fmt.Fprint(w, actorDoc(victimURL+"/users/alice", map[string]any{"publicKey": map[string]any{
				"id": victimURL + "/users/alice#main-key", "owner": victimURL + "/users/alice", "publicKeyPem": victimPEM}}))
		})
		// The attacker serves, at the victim's path, the victim's id with
		// a key of its own, which the victim never lists.
		attacker := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/activity+json")
			fmt.Fprint(w, actorDoc(victimURL+"/users/alice", map[string]any{"publicKey": map[string]any{
				"id": attackerURL + "/users/alice#main-key", "owner": victimURL + "/users/alice", "publicKeyPem": attackerPEM}}))
		})
		return victim, attacker
	})
	r := newResolver(t, signature.ResolverOptions{})

	k, err := r.ResolveKey(context.Background(), attackerURL+"/users/alice#main-key")
	require.ErrorIs(t, err, signature.ErrUnknownKey, "resolved to %+v", k)

	k, err = r.ResolveKey(context.Background(), victimURL+"/users/alice#main-key")
	require.NoError(t, err)
	assert.Equal(t, victimURL+"/users/alice", k.Owner)
}

// slowKeyServer serves bob's actor at /users/bob, each answer held until
// the test releases it. Every request that arrives is announced on
// arrived, and every one whose client went away before the release on
// gone.
type slowKeyServer struct {
	*httptest.Server
	arrived, gone chan struct{}
	release       func()
	hits          atomic.Int64
}

func newSlowKeyServer(t *testing.T) *slowKeyServer {
	pemText := spki(t, testKeys()["rsa"].Public())
	released := make(chan struct{})
	var once sync.Once
	s := &slowKeyServer{arrived: make(chan struct{}, 10), gone: make(chan struct{}, 10), release: func() { once.Do(func() { close(released) }) }}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		s.arrived <- struct{}{}
		select {
		case <-released:
		case <-r.Context().Done():
			s.gone <- struct{}{}
			return
		}
		self := "http://" + r.Host + "/users/bob"
		w.Header().Set("Content-Type", "application/activity+json")
		fmt.Fprint(w, actorDoc(self, map[string]any{"publicKey": map[string]any{"id": self + "#main-key", "owner": self, "publicKeyPem": pemText}}))
	}))
	t.Cleanup(s.Close)
	t.Cleanup(s.release) // before Close, which waits for the handlers
	return s
}

// within waits for ch, and fails the test after a few seconds.
func within[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(5 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

// waitUntil polls cond for a few seconds.
func waitUntil(t *testing.T, cond func() bool, what string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
	}
}

type resolved struct {
	key *signature.Key
	err error
}

func resolveAsync(r *signature.Resolver, ctx context.Context, keyID string) <-chan resolved {
	ch := make(chan resolved, 1)
	go func() {
		k, err := r.ResolveKey(ctx, keyID)
		ch <- resolved{k, err}
	}()
	return ch
}

// TestResolverSharedFetchOutlivesItsStarter: the caller that started a
// shared look-up goes away (its client disconnected); another caller
// waiting for the same key still gets it, from the one fetch, which was
// charged to the first caller's budget.
func TestResolverSharedFetchOutlivesItsStarter(t *testing.T) {
	srv := newSlowKeyServer(t)
	keyID := srv.URL + "/users/bob#main-key"
	r := newResolver(t, signature.ResolverOptions{})

	firstCtx, cancelFirst := context.WithCancel(fetch.WithBudget(context.Background(), 5))
	defer cancelFirst()
	budget, _ := fetch.BudgetFrom(firstCtx)
	first := resolveAsync(r, firstCtx, keyID)
	within(t, srv.arrived, "the key fetch")
	second := resolveAsync(r, context.Background(), keyID)
	waitUntil(t, func() bool { return r.Waiting(keyID) == 2 }, "the second caller joins the fetch")

	cancelFirst()
	got := within(t, first, "the first caller to give up")
	require.ErrorIs(t, got.err, context.Canceled)
	require.ErrorIs(t, got.err, signature.ErrKeyFetch)
	assert.Equal(t, 1, r.Waiting(keyID), "the fetch goes on for the second caller")

	srv.release()
	got = within(t, second, "the second caller's key")
	require.NoError(t, got.err)
	assert.Equal(t, srv.URL+"/users/bob", got.key.Owner)
	assert.EqualValues(t, 1, srv.hits.Load(), "one fetch for both callers")
	assert.Equal(t, 4, budget.Remaining(), "the fetch was charged to the first caller's budget")
	assert.Len(t, srv.gone, 0, "the fetch was never cancelled")

	// The key is cached: the first caller's next look-up needs no fetch.
	k, err := r.ResolveKey(context.Background(), keyID)
	require.NoError(t, err)
	assert.Same(t, got.key, k)
}

// TestResolverSharedFetchCancelledWhenAbandoned: when every caller has
// stopped waiting, the fetch stops too, and the next caller starts a
// fresh one.
func TestResolverSharedFetchCancelledWhenAbandoned(t *testing.T) {
	srv := newSlowKeyServer(t)
	keyID := srv.URL + "/users/bob#main-key"
	r := newResolver(t, signature.ResolverOptions{})

	ctx, cancel := context.WithCancel(context.Background())
	first := resolveAsync(r, ctx, keyID)
	within(t, srv.arrived, "the key fetch")
	cancel()
	require.ErrorIs(t, within(t, first, "the caller to give up").err, context.Canceled)
	within(t, srv.gone, "the abandoned fetch to be cancelled")

	next := resolveAsync(r, context.Background(), keyID)
	within(t, srv.arrived, "a fresh fetch")
	srv.release()
	require.NoError(t, within(t, next, "the key").err)
	assert.EqualValues(t, 2, srv.hits.Load())

	_, err := r.ResolveKey(ctx, keyID+"-other")
	require.ErrorIs(t, err, context.Canceled, "a caller already gone starts no fetch")
	assert.EqualValues(t, 2, srv.hits.Load())
}

// TestResolverFetchTimeout: a shared look-up has a deadline of its own,
// whatever its callers' contexts allow.
func TestResolverFetchTimeout(t *testing.T) {
	srv := newSlowKeyServer(t)
	r := newResolver(t, signature.ResolverOptions{FetchTimeout: 50 * time.Millisecond})
	got := within(t, resolveAsync(r, context.Background(), srv.URL+"/users/bob#main-key"), "the look-up to time out")
	require.ErrorIs(t, got.err, signature.ErrKeyFetch)
	require.ErrorIs(t, got.err, fetch.ErrTimeout)
}
