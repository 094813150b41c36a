package interop

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fedi-go/fedi/fetch"
	"github.com/fedi-go/fedi/internal/testenv"
	"github.com/fedi-go/fedi/signature"
	"github.com/fedi-go/fedi/vocab"
	"github.com/fedi-go/fedi/webfinger"
)

// peerEnv names a prepared copy of shared/peers/fedify (with
// node_modules installed by npm ci). CI sets it; see the README. Without
// it, or without node, the test skips, and fails in CI.
const peerEnv = "FEDI_FEDIFY_PEER"

// fedifyPeer is a running Fedify peer.
type fedifyPeer struct {
	origin string // http://127.0.0.1:PORT
	host   string // 127.0.0.1:PORT
}

// startPeer starts `node peer.mjs --port P` in its own process group,
// waits (bounded) for its READY line, and stops the whole group in
// t.Cleanup.
func startPeer(t *testing.T) *fedifyPeer {
	t.Helper()
	dir := os.Getenv(peerEnv)
	if dir == "" {
		testenv.Missing(t, "%s is not set: the Fedify interop test needs a prepared peer (cp -r shared/peers/fedify DIR && (cd DIR && npm ci) && export %s=DIR)", peerEnv, peerEnv)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		testenv.Missing(t, "node is not installed: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@fedify", "fedify")); err != nil {
		t.Fatalf("%s=%s has no node_modules/@fedify/fedify: run npm ci there", peerEnv, dir)
	}
	port := freePort(t)
	cmd := exec.Command(node, "peer.mjs", "--port", fmt.Sprint(port), "--log-level", "warning")
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	waited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(waited) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-waited:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-waited
		}
	})

	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if line := sc.Text(); strings.HasPrefix(line, "READY ") {
				ready <- line
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case line := <-ready:
		t.Logf("peer: %s", line)
	case <-waited:
		t.Fatalf("the peer exited before READY: %s", stderr.String())
	case <-time.After(90 * time.Second):
		t.Fatalf("the peer did not print READY within 90 s: %s", stderr.String())
	}
	host := fmt.Sprintf("127.0.0.1:%d", port)
	return &fedifyPeer{origin: "http://" + host, host: host}
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// control calls the peer's control API.
func (p *fedifyPeer) control(t *testing.T, method, path string, body any, out any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(t, err)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, p.origin+path, rd)
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	c := &http.Client{Timeout: 60 * time.Second}
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	require.Less(t, resp.StatusCode, 300, "%s %s: %s", method, path, data)
	if out != nil {
		require.NoError(t, json.Unmarshal(data, out), string(data))
	}
}

// ourServer is our side: one actor with an RSA key (Fedify 1.5 verifies
// only RSA), an inbox behind the signature middleware, and WebFinger.
type ourServer struct {
	*httptest.Server
	actor, keyID string
	key          *rsa.PrivateKey

	mu       sync.Mutex
	received []received
}

type received struct {
	signer *signature.Result
	body   []byte
}

func newOurServer(t *testing.T, client *fetch.Client) *ourServer {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	s := &ourServer{key: key}
	resolver, err := signature.NewResolver(signature.ResolverOptions{Client: client})
	require.NoError(t, err)
	verifier, err := signature.NewVerifier(signature.VerifierOptions{Keys: resolver})
	require.NoError(t, err)
	pemText, err := signature.PublicKeyPEM(key.Public())
	require.NoError(t, err)

	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/gopher", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/activity+json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"@context":          []string{"https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"},
			"id":                s.actor,
			"type":              "Person",
			"preferredUsername": "gopher",
			"inbox":             s.actor + "/inbox",
			"outbox":            s.actor + "/outbox",
			"publicKey":         map[string]string{"id": s.keyID, "owner": s.actor, "publicKeyPem": pemText},
		})
	})
	mux.Handle("POST /users/gopher/inbox", verifier.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res, _ := signature.FromContext(r.Context())
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.received = append(s.received, received{signer: res, body: body})
		s.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	})))
	wf, err := webfinger.NewHandler(webfinger.HandlerOptions{Lookup: func(_ context.Context, r webfinger.Resource) (*webfinger.Account, error) {
		if r.User != "gopher" && r.IRI != s.actor {
			return nil, webfinger.ErrNotFound
		}
		return &webfinger.Account{Username: "gopher", ActorIRI: s.actor}, nil
	}})
	require.NoError(t, err)
	wf.Register(mux)
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	s.actor = s.URL + "/users/gopher"
	s.keyID = s.actor + "#main-key"
	return s
}

func TestFedifyInterop(t *testing.T) {
	peer := startPeer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	client, err := fetch.New(fetch.Options{AllowLoopback: true})
	require.NoError(t, err)
	defer client.Close()
	ours := newOurServer(t, client)

	var info struct {
		Actor, Inbox, SharedInbox string
	}
	peer.control(t, http.MethodGet, "/_control/info", nil, &info)

	t.Run("our client resolves and fetches the peer's actor", func(t *testing.T) {
		wf, err := webfinger.NewClient(client)
		require.NoError(t, err)
		iri, err := wf.Resolve(ctx, "@alice@"+peer.host)
		require.NoError(t, err)
		assert.Equal(t, info.Actor, iri)

		doc, err := client.Get(ctx, iri)
		require.NoError(t, err)
		it, err := vocab.MustRegistry().Decode(doc.Body)
		require.NoError(t, err)
		actor, ok := it.(*vocab.Actor)
		require.True(t, ok, "decoded to %T", it)
		assert.Equal(t, info.Inbox, string(actor.Inbox.GetLink()))
		assert.Equal(t, info.SharedInbox, string(actor.Endpoints.SharedInbox.GetLink()))
		assert.Equal(t, iri+"#main-key", string(actor.PublicKey.ID))

		// Both of its keys resolve: the RSA publicKey and the Ed25519
		// Multikey in assertionMethod.
		resolver, err := signature.NewResolver(signature.ResolverOptions{Client: client})
		require.NoError(t, err)
		for _, kid := range []string{iri + "#main-key", iri + "#key-2"} {
			k, err := resolver.ResolveKey(ctx, kid)
			require.NoError(t, err, kid)
			assert.Equal(t, iri, k.Owner)
		}
	})

	create := func(n string) (id string, body []byte) {
		id = ours.URL + "/activities/create-" + n
		body, _ = json.Marshal(map[string]any{
			"@context": "https://www.w3.org/ns/activitystreams",
			"id":       id,
			"type":     "Create",
			"actor":    ours.actor,
			"to":       info.Actor,
			"object": map[string]any{
				"id": ours.URL + "/notes/" + n, "type": "Note", "attributedTo": ours.actor,
				"content": "<p>hello from fedi</p>", "to": info.Actor,
			},
		})
		return id, body
	}
	// received checks that the peer got activity id, signed with our
	// key by draft-cavage.
	received := func(t *testing.T, id string) {
		t.Helper()
		var got []struct {
			ID, Actor string
			Transport struct {
				Signature struct {
					KeyID     string
					Algorithm string
					Headers   []string
				}
			}
		}
		peer.control(t, http.MethodGet, "/_control/received?wait=20&id="+id, nil, &got)
		require.Len(t, got, 1)
		assert.Equal(t, ours.actor, got[0].Actor)
		assert.Equal(t, ours.keyID, got[0].Transport.Signature.KeyID)
		assert.Equal(t, "rsa-sha256", got[0].Transport.Signature.Algorithm)
	}

	t.Run("an RFC-9421-first knock falls back to cavage and is accepted", func(t *testing.T) {
		k, err := signature.NewKnocker(signature.KnockerOptions{Client: client, KeyID: ours.keyID, Key: ours.key, FirstKnock: signature.RFC9421})
		require.NoError(t, err)
		id, body := create("1")
		knock, err := k.Post(ctx, info.Inbox, "application/activity+json", body)
		require.NoError(t, err)
		assert.Equal(t, []signature.Scheme{signature.RFC9421, signature.Cavage}, knock.Tried,
			"Fedify 1.5 refuses RFC 9421, so the knocker must fall back")
		require.Equal(t, http.StatusAccepted, knock.Response.StatusCode, string(knock.Response.Body))
		assert.Equal(t, signature.Cavage, k.Preferred(peer.host))
		received(t, id)

		// The next delivery knocks with cavage straight away.
		id, body = create("2")
		knock, err = k.Post(ctx, info.Inbox, "application/activity+json", body)
		require.NoError(t, err)
		assert.Equal(t, []signature.Scheme{signature.Cavage}, knock.Tried)
		assert.Equal(t, http.StatusAccepted, knock.Response.StatusCode)
		received(t, id)
	})

	t.Run("the default knock is cavage and is accepted", func(t *testing.T) {
		k, err := signature.NewKnocker(signature.KnockerOptions{Client: client, KeyID: ours.keyID, Key: ours.key})
		require.NoError(t, err)
		id, body := create("3")
		knock, err := k.Post(ctx, info.Inbox, "application/activity+json", body)
		require.NoError(t, err)
		assert.Equal(t, []signature.Scheme{signature.Cavage}, knock.Tried, "a host not known to verify RFC 9421 gets cavage first")
		require.Equal(t, http.StatusAccepted, knock.Response.StatusCode, string(knock.Response.Body))
		received(t, id)
	})

	t.Run("we verify a delivery the peer signs", func(t *testing.T) {
		var res struct {
			ID         string
			Deliveries []struct {
				Status int
			}
		}
		peer.control(t, http.MethodPost, "/_control/send", map[string]any{
			"inbox": ours.actor + "/inbox",
			"activity": map[string]any{
				"type":   "Create",
				"to":     ours.actor,
				"object": map[string]any{"type": "Note", "content": "hello from Fedify", "attributedTo": info.Actor, "to": ours.actor},
			},
		}, &res)
		require.Len(t, res.Deliveries, 1)
		require.Equal(t, http.StatusAccepted, res.Deliveries[0].Status, "our inbox refused the peer's signature")
		ours.mu.Lock()
		defer ours.mu.Unlock()
		require.Len(t, ours.received, 1)
		r := ours.received[0]
		assert.Equal(t, signature.Cavage, r.signer.Scheme)
		assert.Equal(t, info.Actor+"#main-key", r.signer.KeyID)
		var act struct{ Actor string }
		require.NoError(t, json.Unmarshal(r.body, &act))
		assert.Equal(t, act.Actor, r.signer.Owner, "the key's owner is the activity's actor")
	})
}
