package signature_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fedi-go/fedi/fetch"
	"github.com/fedi-go/fedi/signature"
)

// inbox is a test inbox that verifies with a Verifier and accepts only
// the schemes it is told to, answering 401 to the others, as Fedify 1.5
// does to RFC 9421.
type inbox struct {
	mu      sync.Mutex
	accept  map[signature.Scheme]bool
	got     []signature.Scheme
	verifer *signature.Verifier
}

func (in *inbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	scheme := signature.Cavage
	if r.Header.Get("Signature-Input") != "" {
		scheme = signature.RFC9421
	}
	in.mu.Lock()
	in.got = append(in.got, scheme)
	ok := in.accept[scheme]
	in.mu.Unlock()
	if !ok {
		http.Error(w, "unsupported signature", http.StatusUnauthorized)
		return
	}
	if _, err := in.verifer.Verify(r.Context(), r, body); err != nil {
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

func TestKnocker(t *testing.T) {
	key := testKeys()["rsa"]
	v := newVerifier(t, keysOf(testKeyID, key), signature.VerifierOptions{})
	cavageOnly := &inbox{accept: map[signature.Scheme]bool{signature.Cavage: true}, verifer: v}
	modern := &inbox{accept: map[signature.Scheme]bool{signature.Cavage: true, signature.RFC9421: true}, verifer: v}
	refusing := &inbox{accept: map[signature.Scheme]bool{}, verifer: v}
	srvOld, srvNew, srvNo := httptest.NewServer(cavageOnly), httptest.NewServer(modern), httptest.NewServer(refusing)
	t.Cleanup(srvOld.Close)
	t.Cleanup(srvNew.Close)
	t.Cleanup(srvNo.Close)
	// The servers differ by port, so they are distinct hosts to the
	// knocker.
	now := time.Now()
	c, err := fetch.New(fetch.Options{AllowLoopback: true})
	require.NoError(t, err)
	k, err := signature.NewKnocker(signature.KnockerOptions{Client: c, KeyID: testKeyID, Key: key, Memory: time.Hour, Now: func() time.Time { return now }})
	require.NoError(t, err)
	ctx := context.Background()
	post := func(url string) *signature.Knock {
		kn, err := k.Post(ctx, url+"/users/alice/inbox", "application/activity+json", activity)
		require.NoError(t, err)
		return kn
	}

	kn := post(srvOld.URL)
	assert.Equal(t, http.StatusAccepted, kn.Response.StatusCode)
	assert.Equal(t, []signature.Scheme{signature.RFC9421, signature.Cavage}, kn.Tried, "falls back to cavage")
	kn = post(srvOld.URL)
	assert.Equal(t, []signature.Scheme{signature.Cavage}, kn.Tried, "remembers cavage for that host")

	kn = post(srvNew.URL)
	assert.Equal(t, http.StatusAccepted, kn.Response.StatusCode)
	assert.Equal(t, []signature.Scheme{signature.RFC9421}, kn.Tried)

	kn = post(srvNo.URL)
	assert.Equal(t, http.StatusUnauthorized, kn.Response.StatusCode)
	assert.Equal(t, []signature.Scheme{signature.RFC9421, signature.Cavage}, kn.Tried, "one retry, no more")

	now = now.Add(2 * time.Hour)
	kn = post(srvOld.URL)
	assert.Equal(t, []signature.Scheme{signature.RFC9421, signature.Cavage}, kn.Tried, "the memory expires")
}
