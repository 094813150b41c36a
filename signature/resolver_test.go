package signature_test

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
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
}
