package signature_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fedi-go/fedi/fetch"
	"github.com/fedi-go/fedi/signature"
)

// What a test inbox does with a signature of one scheme.
type answer uint8

const (
	refuse answer = iota // 401 without looking, as Fedify 1.5 does to RFC 9421
	verify               // verify: 202, or 401 if it fails
	blind                // 200 "error" without verifying, as Mobilizon does
)

// inbox is a test inbox that answers each scheme as it is told to, and
// records the schemes it saw.
type inbox struct {
	mu      sync.Mutex
	answers map[signature.Scheme]answer
	got     []signature.Scheme
	v       *signature.Verifier
}

func (in *inbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	scheme := signature.Cavage
	if r.Header.Get("Signature-Input") != "" {
		scheme = signature.RFC9421
	}
	in.mu.Lock()
	in.got = append(in.got, scheme)
	a := in.answers[scheme]
	in.mu.Unlock()
	switch a {
	case refuse:
		http.Error(w, "unsupported signature", http.StatusUnauthorized)
	case blind:
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`"error"`))
	case verify:
		if _, err := in.v.Verify(r.Context(), r, body); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}
}

// The peers the knocker meets, by how they answer each scheme.
var peers = map[string]map[signature.Scheme]answer{
	"fedify":    {signature.Cavage: verify, signature.RFC9421: refuse},
	"modern":    {signature.Cavage: verify, signature.RFC9421: verify},
	"mobilizon": {signature.Cavage: verify, signature.RFC9421: blind},
	"refusing":  {signature.Cavage: refuse, signature.RFC9421: refuse},
	"rfc-only":  {signature.Cavage: refuse, signature.RFC9421: verify},
}

// A step of a knocker scenario: one delivery to a peer, an observation of
// a peer, or time passing.
type step struct {
	post     string // deliver to this peer, expecting tried and status
	tried    []signature.Scheme
	status   int
	observe  string // report a verified signature of this peer
	scheme   signature.Scheme
	advance  time.Duration
	peerSaw  []signature.Scheme // when set, what the peer saw in all
	preferOf string             // when set, check Preferred of this peer
	prefer   signature.Scheme
}

var (
	cav      = []signature.Scheme{signature.Cavage}
	rfc      = []signature.Scheme{signature.RFC9421}
	cavToRFC = []signature.Scheme{signature.Cavage, signature.RFC9421}
	rfcToCav = []signature.Scheme{signature.RFC9421, signature.Cavage}
)

func TestKnocker(t *testing.T) {
	const (
		ok  = http.StatusAccepted
		ok2 = http.StatusOK
		no  = http.StatusUnauthorized
	)
	R := signature.RFC9421
	C := signature.Cavage
	tests := []struct {
		name  string
		first signature.Scheme
		steps []step
	}{
		{name: "default: draft-cavage first", steps: []step{
			{post: "fedify", tried: cav, status: ok},
			{post: "modern", tried: cav, status: ok},
			{post: "modern", tried: cav, status: ok, preferOf: "modern", prefer: C},
		}},
		{name: "default: a peer that answers 200 to what it cannot verify gets draft-cavage", steps: []step{
			{post: "mobilizon", tried: cav, status: ok},
			{post: "mobilizon", tried: cav, status: ok, peerSaw: []signature.Scheme{C, C}},
		}},
		{name: "default: an observed host gets RFC 9421 first", steps: []step{
			{observe: "modern", scheme: R},
			{post: "modern", tried: rfc, status: ok, preferOf: "modern", prefer: R},
			{post: "fedify", tried: cav, status: ok, preferOf: "fedify", prefer: C},
		}},
		{name: "default: observing draft-cavage changes nothing", steps: []step{
			{observe: "modern", scheme: C},
			{post: "modern", tried: cav, status: ok},
		}},
		{name: "default: an observed host that refuses RFC 9421 is remembered", steps: []step{
			{observe: "fedify", scheme: R},
			{post: "fedify", tried: rfcToCav, status: ok},
			{post: "fedify", tried: cav, status: ok},
			{observe: "fedify", scheme: R, preferOf: "fedify", prefer: C}, // the refusal stands
			{post: "fedify", tried: cav, status: ok},
			{advance: 2 * time.Hour, preferOf: "fedify", prefer: C}, // forgotten: back to the default
			{observe: "fedify", scheme: R, preferOf: "fedify", prefer: R},
		}},
		{name: "default: an observation expires", steps: []step{
			{observe: "modern", scheme: R},
			{advance: 2 * time.Hour},
			{post: "modern", tried: cav, status: ok},
		}},
		{name: "default: a 2xx to RFC 9421 after a refused draft-cavage teaches nothing", steps: []step{
			{post: "rfc-only", tried: cavToRFC, status: ok},
			{post: "rfc-only", tried: cavToRFC, status: ok, preferOf: "rfc-only", prefer: C},
			{observe: "rfc-only", scheme: R},
			{post: "rfc-only", tried: rfc, status: ok},
		}},
		{name: "default: one retry, no more", steps: []step{
			{post: "refusing", tried: cavToRFC, status: no},
			{post: "refusing", tried: cavToRFC, status: no},
		}},
		{name: "strict: RFC 9421 first, draft-cavage remembered after a refusal", first: R, steps: []step{
			{post: "fedify", tried: rfcToCav, status: ok},
			{post: "fedify", tried: cav, status: ok},
			{advance: 2 * time.Hour},
			{post: "fedify", tried: rfcToCav, status: ok},
		}},
		{name: "strict: a modern peer", first: R, steps: []step{
			{post: "modern", tried: rfc, status: ok},
			{post: "modern", tried: rfc, status: ok},
		}},
		{name: "strict: the cost, a peer that answers 200 to what it cannot verify", first: R, steps: []step{
			{post: "mobilizon", tried: rfc, status: ok2},
			{post: "mobilizon", tried: rfc, status: ok2, peerSaw: []signature.Scheme{R, R}},
		}},
		{name: "strict: observing draft-cavage changes nothing", first: R, steps: []step{
			{observe: "modern", scheme: C},
			{post: "modern", tried: rfc, status: ok},
		}},
		{name: "strict: one retry, no more, nothing remembered", first: R, steps: []step{
			{post: "refusing", tried: rfcToCav, status: no},
			{post: "refusing", tried: rfcToCav, status: no},
		}},
	}
	key := testKeys()["rsa"]
	v := newVerifier(t, keysOf(testKeyID, key), signature.VerifierOptions{})
	c, err := fetch.New(fetch.Options{AllowLoopback: true})
	require.NoError(t, err)
	t.Cleanup(c.Close)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The servers differ by port, so they are distinct hosts to
			// the knocker.
			inboxes, urls, hosts := map[string]*inbox{}, map[string]string{}, map[string]string{}
			for name, answers := range peers {
				in := &inbox{answers: answers, v: v}
				srv := httptest.NewServer(in)
				t.Cleanup(srv.Close)
				inboxes[name], urls[name], hosts[name] = in, srv.URL+"/users/alice/inbox", strings.TrimPrefix(srv.URL, "http://")
			}
			now := time.Now()
			k, err := signature.NewKnocker(signature.KnockerOptions{Client: c, KeyID: testKeyID, Key: key, FirstKnock: tt.first,
				Memory: time.Hour, Now: func() time.Time { return now }})
			require.NoError(t, err)
			for i, s := range tt.steps {
				switch {
				case s.post != "":
					kn, err := k.Post(context.Background(), urls[s.post], "application/activity+json", activity)
					require.NoError(t, err, "step %d", i)
					assert.Equal(t, s.tried, kn.Tried, "step %d: tried", i)
					assert.Equal(t, s.status, kn.Response.StatusCode, "step %d: status", i)
				case s.observe != "":
					k.Observe(hosts[s.observe], s.scheme)
				case s.advance != 0:
					now = now.Add(s.advance)
				}
				if s.peerSaw != nil {
					in := inboxes[s.post]
					in.mu.Lock()
					assert.Equal(t, s.peerSaw, in.got, "step %d: what the peer saw", i)
					in.mu.Unlock()
				}
				if s.preferOf != "" {
					assert.Equal(t, s.prefer, k.Preferred(hosts[s.preferOf]), "step %d: preferred", i)
				}
			}
		})
	}
}

func TestKnockerMemoryBound(t *testing.T) {
	c, err := fetch.New(fetch.Options{AllowLoopback: true})
	require.NoError(t, err)
	t.Cleanup(c.Close)
	k, err := signature.NewKnocker(signature.KnockerOptions{Client: c, KeyID: testKeyID, Key: testKeys()["rsa"], MaxHosts: 2})
	require.NoError(t, err)
	for _, h := range []string{"a.example", "b.example", "c.example"} {
		k.Observe(h, signature.RFC9421)
	}
	assert.Equal(t, signature.Cavage, k.Preferred("a.example"), "the least recently used host is forgotten")
	assert.Equal(t, signature.RFC9421, k.Preferred("b.example"))
	assert.Equal(t, signature.RFC9421, k.Preferred("C.Example"), "hosts are case-insensitive")

	_, err = signature.NewKnocker(signature.KnockerOptions{Client: c, KeyID: testKeyID, Key: testKeys()["rsa"], FirstKnock: 7})
	assert.Error(t, err)
}

// TestVerifierObserver: a verified request is reported with the host of
// its signer and its scheme; a failed one is not. With the Knocker as the
// observer, a host that signs with RFC 9421 gets RFC 9421 first.
func TestVerifierObserver(t *testing.T) {
	key := testKeys()["ed25519"]
	type seen struct {
		host   string
		scheme signature.Scheme
	}
	var got []seen
	obs := signature.ObserverFunc(func(host string, s signature.Scheme) { got = append(got, seen{host, s}) })
	v := newVerifier(t, keysOf(testKeyID, key), signature.VerifierOptions{Observer: obs})
	tests := []struct {
		scheme signature.Scheme
		body   []byte
		want   []seen
	}{
		{signature.RFC9421, activity, []seen{{"remote.example", signature.RFC9421}}},
		{signature.Cavage, activity, []seen{{"remote.example", signature.Cavage}}},
		{signature.RFC9421, []byte(`{"tampered":true}`), nil},
	}
	for _, tt := range tests {
		t.Run(tt.scheme.String(), func(t *testing.T) {
			got = nil
			r := signed(t, newSigner(t, key, tt.scheme), http.MethodPost, testInbox, activity)
			_, err := v.Verify(context.Background(), r, tt.body)
			assert.Equal(t, tt.want == nil, err != nil)
			assert.Equal(t, tt.want, got)
		})
	}

	t.Run("the knocker as the observer", func(t *testing.T) {
		c, err := fetch.New(fetch.Options{AllowLoopback: true})
		require.NoError(t, err)
		t.Cleanup(c.Close)
		k, err := signature.NewKnocker(signature.KnockerOptions{Client: c, KeyID: testKeyID, Key: key})
		require.NoError(t, err)
		v := newVerifier(t, keysOf(testKeyID, key), signature.VerifierOptions{Observer: k})
		assert.Equal(t, signature.Cavage, k.Preferred("remote.example"))
		_, err = v.Verify(context.Background(), signed(t, newSigner(t, key, signature.Cavage), http.MethodPost, testInbox, activity), activity)
		require.NoError(t, err)
		assert.Equal(t, signature.Cavage, k.Preferred("remote.example"))
		_, err = v.Verify(context.Background(), signed(t, newSigner(t, key, signature.RFC9421), http.MethodPost, testInbox, activity), activity)
		require.NoError(t, err)
		assert.Equal(t, signature.RFC9421, k.Preferred("remote.example"))
	})
}

// TestKnockerPostAs: one knocker signs for several actors, each with its
// own key, and what it learns of a host serves them all.
func TestKnockerPostAs(t *testing.T) {
	keys := testKeys()
	const other = "https://remote.example/users/carol#main-key"
	resolver := keysOf(testKeyID, keys["rsa"])
	resolver.keys[other] = &signature.Key{ID: other, Owner: testActor, Public: keys["ed25519"].Public()}
	v := newVerifier(t, resolver, signature.VerifierOptions{})
	in := &inbox{answers: peers["fedify"], v: v}
	srv := httptest.NewServer(in)
	t.Cleanup(srv.Close)
	c, err := fetch.New(fetch.Options{AllowLoopback: true})
	require.NoError(t, err)
	t.Cleanup(c.Close)
	k, err := signature.NewKnocker(signature.KnockerOptions{Client: c, FirstKnock: signature.RFC9421})
	require.NoError(t, err)

	_, err = k.Post(context.Background(), srv.URL+"/inbox", "application/activity+json", activity)
	assert.Error(t, err, "a knocker without a key cannot Post")

	kn, err := k.PostAs(context.Background(), testKeyID, keys["rsa"], srv.URL+"/inbox", "application/activity+json", activity)
	require.NoError(t, err)
	assert.Equal(t, rfcToCav, kn.Tried)
	assert.Equal(t, http.StatusAccepted, kn.Response.StatusCode)
	// The refusal of RFC 9421 learnt with one key serves the other.
	kn, err = k.PostAs(context.Background(), other, keys["ed25519"], srv.URL+"/inbox", "application/activity+json", activity)
	require.NoError(t, err)
	assert.Equal(t, cav, kn.Tried)
	assert.Equal(t, http.StatusAccepted, kn.Response.StatusCode)

	_, err = k.PostAs(context.Background(), "", keys["rsa"], srv.URL+"/inbox", "application/activity+json", activity)
	assert.Error(t, err, "a key id is required")
}
