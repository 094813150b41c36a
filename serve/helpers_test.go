package serve_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	ap "github.com/go-ap/activitypub"
	"github.com/stretchr/testify/require"

	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/outbox"
	"github.com/fedi-go/fedi/serve"
	"github.com/fedi-go/fedi/signature"
	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/storage/memory"
	"github.com/fedi-go/fedi/vocab"
)

const origin = "https://local.example"

var (
	reg   = vocab.MustRegistry()
	quiet = slog.New(slog.DiscardHandler)
)

// env serves the objects of a memory store. Remote actors sign GETs with
// Ed25519 keys that the verifier knows without fetching them.
type env struct {
	t      *testing.T
	ctx    context.Context
	st     storage.Store
	scheme actor.Scheme
	actors *actor.Store
	out    *outbox.Outbox
	v      *signature.Verifier

	mu   sync.Mutex
	keys map[string]ed25519.PrivateKey // remote actor → its key
}

func newEnv(t *testing.T) *env {
	t.Helper()
	scheme, err := actor.NewScheme(origin)
	require.NoError(t, err)
	e := &env{t: t, ctx: context.Background(), st: memory.New(), scheme: scheme, keys: map[string]ed25519.PrivateKey{}}
	e.actors = actor.NewStore(e.st, scheme, reg)
	e.out, err = outbox.New(outbox.Options{Registry: reg, Store: e.st, Actors: e.actors, Scheme: scheme, Logger: quiet})
	require.NoError(t, err)
	e.v, err = signature.NewVerifier(signature.VerifierOptions{Logger: quiet,
		Keys: signature.KeyResolverFunc(func(_ context.Context, keyID string) (*signature.Key, error) {
			e.mu.Lock()
			defer e.mu.Unlock()
			owner := keyID[:len(keyID)-len("#main-key")]
			k, ok := e.keys[owner]
			if !ok {
				return nil, fmt.Errorf("no key %s", keyID)
			}
			return &signature.Key{ID: keyID, Owner: owner, Public: k.Public()}, nil
		})})
	require.NoError(t, err)
	return e
}

// handler builds a Handler over the env with o's other fields.
func (e *env) handler(o serve.Options) *serve.Handler {
	e.t.Helper()
	o.Registry, o.Store, o.Actors, o.Scheme, o.Logger = reg, e.st, e.actors, e.scheme, quiet
	if o.Verifier == nil {
		o.Verifier = e.v
	}
	h, err := serve.New(o)
	require.NoError(e.t, err)
	return h
}

// user creates a local actor with an Ed25519 key.
func (e *env) user(a actor.Actor) *actor.Actor {
	e.t.Helper()
	iri := e.scheme.Actor(a.Name)
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(e.t, err)
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	require.NoError(e.t, err)
	require.NoError(e.t, e.st.Keys.(storage.KeyStore).PutKey(e.ctx, storage.Key{ID: iri + "#main-key", Owner: iri,
		PEM: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})}))
	got, err := e.actors.Create(e.ctx, a)
	require.NoError(e.t, err)
	return got
}

// remote makes a remote actor whose signatures the verifier knows.
func (e *env) remote(name string) string {
	e.t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(e.t, err)
	iri := "https://remote.example/users/" + name
	e.mu.Lock()
	e.keys[iri] = priv
	e.mu.Unlock()
	return iri
}

// send sends an activity and returns its id.
func (e *env) send(it vocab.Item) string {
	e.t.Helper()
	id, err := e.out.Send(e.ctx, it)
	require.NoError(e.t, err)
	return id
}

// post sends a Note by who to the given recipients and returns the
// Create's id and the note's.
func (e *env) post(who string, to ...ap.IRI) (string, string) {
	e.t.Helper()
	n := vocab.NewObject("Note", "")
	n.Content = vocab.Text("hello")
	c := vocab.NewActivity("Create", "", ap.IRI(who), n)
	for _, iri := range to {
		c.To = append(c.To, iri)
	}
	id := e.send(c)
	return id, string(n.ID)
}

// get GETs url from h, signed as signer ("" for anonymous), with accept.
func (e *env) get(h http.Handler, url, signer, accept string) *httptest.ResponseRecorder {
	e.t.Helper()
	r := httptest.NewRequest(http.MethodGet, url, nil)
	if accept != "" {
		r.Header.Set("Accept", accept)
	}
	if signer != "" {
		e.mu.Lock()
		k := e.keys[signer]
		e.mu.Unlock()
		s, err := signature.NewSigner(signature.SignerOptions{KeyID: signer + "#main-key", Key: k})
		require.NoError(e.t, err)
		require.NoError(e.t, s.SignRequest(r, nil))
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// doc GETs url as JSON and decodes it, requiring the status.
func (e *env) doc(h http.Handler, url, signer string, status int) map[string]any {
	e.t.Helper()
	w := e.get(h, url, signer, serve.ActivityJSON)
	require.Equal(e.t, status, w.Code, "%s: %s", url, w.Body.String())
	var m map[string]any
	require.NoError(e.t, json.Unmarshal(w.Body.Bytes(), &m), w.Body.String())
	return m
}

// list returns v as a list, whether it was one value or several.
func list(v any) []any {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		return x
	}
	return []any{v}
}

// strs returns the strings of a JSON list.
func strs(v any) []string {
	var out []string
	for _, x := range list(v) {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}
