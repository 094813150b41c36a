package outbox_test

import (
	"net/http"
	"sync"
	"testing"
	"time"

	ap "github.com/go-ap/activitypub"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fedi-go/fedi"
	"github.com/fedi-go/fedi/fetch"
	"github.com/fedi-go/fedi/internal/fedtest"
	"github.com/fedi-go/fedi/outbox"
	"github.com/fedi-go/fedi/signature"
)

// TestDeliveriesAreSigned: a peer verifies every attempt with the key
// the fedi server publishes in its actor document: the first knock
// (draft-cavage), the second knock after a 401 (RFC 9421), and the retry
// after a 500, each signed afresh.
func TestDeliveriesAreSigned(t *testing.T) {
	srv := fedtest.New(t, fedtest.Config{Options: fedi.Options{Worker: outbox.WorkerOptions{
		Retry: outbox.RetryPolicy{Backoff: func(int) time.Duration { return 0 }}}}})
	alice := srv.User(t, "alice")

	client, err := fetch.New(fetch.Options{AllowLoopback: true, Timeout: 5 * time.Second, Logger: quiet})
	require.NoError(t, err)
	t.Cleanup(client.Close)
	keys, err := signature.NewResolver(signature.ResolverOptions{Client: client})
	require.NoError(t, err)
	v, err := signature.NewVerifier(signature.VerifierOptions{Keys: keys, Logger: quiet})
	require.NoError(t, err)
	p := newPeer(t)
	p.setVerifier(v)
	var mu sync.Mutex
	answers := []int{http.StatusUnauthorized, http.StatusInternalServerError, http.StatusAccepted}
	p.setRespond(func(r post) (int, http.Header) {
		mu.Lock()
		defer mu.Unlock()
		if r.VErr != nil {
			return http.StatusUnauthorized, nil
		}
		status := answers[0]
		if len(answers) > 1 {
			answers = answers[1:]
		}
		return status, nil
	})
	bob := p.actor("bob", false)

	_, err = srv.Send(t.Context(), note(alice.IRI, ap.IRI(bob)))
	require.NoError(t, err)
	srv.Drain(t)

	got := p.posts()
	require.Len(t, got, 3)
	for i, r := range got {
		require.NoError(t, r.VErr, "attempt %d", i)
		assert.Equal(t, alice.IRI, r.Signer, "attempt %d", i)
	}
	assert.Equal(t, []signature.Scheme{signature.Cavage, signature.RFC9421, signature.Cavage},
		[]signature.Scheme{got[0].Scheme, got[1].Scheme, got[2].Scheme})
	assert.Equal(t, []int{401, 500, 202}, []int{got[0].Status, got[1].Status, got[2].Status})
	hosts := srv.Worker.Hosts()
	require.Len(t, hosts, 1)
	assert.Equal(t, int64(1), hosts[0].Delivered)
	assert.Equal(t, int64(1), hosts[0].Failures, "the 500; the 401 was answered by the second knock")
}
