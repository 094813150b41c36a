package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fedi-go/fedi/signature"
)

// peer is a loopback server with one actor, alice, and documents that
// fail in each of the ways the CLI must explain.
func peer(t *testing.T, verifier *signature.Verifier) *httptest.Server {
	t.Helper()
	var srv *httptest.Server
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/webfinger", func(w http.ResponseWriter, r *http.Request) {
		host := strings.TrimPrefix(srv.URL, "http://")
		user, _ := strings.CutSuffix(strings.TrimPrefix(r.URL.Query().Get("resource"), "acct:"), "@"+host)
		w.Header().Set("Content-Type", "application/jrd+json")
		fmt.Fprintf(w, `{"subject":"acct:%s@%s","links":[{"rel":"self","type":"application/activity+json","href":"%s/users/%s"}]}`, user, host, srv.URL, user)
	})
	mux.HandleFunc("GET /users/{name}", func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("name")
		if verifier != nil {
			if _, err := verifier.Verify(r.Context(), r, nil); err != nil {
				http.Error(w, err.Error(), http.StatusUnauthorized)
				return
			}
		}
		id := srv.URL + "/users/" + name
		switch name {
		case "html":
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, "<html></html>")
			return
		case "other":
			id = "https://elsewhere.example/users/other"
		case "huge":
			w.Header().Set("Content-Type", "application/activity+json")
			fmt.Fprintf(w, `{"id":%q,"summary":"%s"}`, id, strings.Repeat("x", 2<<20))
			return
		}
		w.Header().Set("Content-Type", "application/activity+json")
		fmt.Fprintf(w, `{"@context":["https://www.w3.org/ns/activitystreams","https://w3id.org/security/v1"],"id":%q,"type":"Person","preferredUsername":%q,"inbox":"%s/inbox","endpoints":{"sharedInbox":"%s/inbox"},"publicKey":{"id":"%s#main-key","owner":%q,"publicKeyPem":"-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----\n"}}`,
			id, name, id, srv.URL, id, id)
	})
	srv = httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func cli(t *testing.T, f func(context.Context, []string, io.Writer, io.Writer) int, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := f(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestWebfingerCommand(t *testing.T) {
	srv := peer(t, nil)
	host := strings.TrimPrefix(srv.URL, "http://")
	code, out, errOut := cli(t, runWebfinger, "-allow-loopback", "@alice@"+host)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, `"href": "`+srv.URL+`/users/alice"`)

	code, _, errOut = cli(t, runWebfinger, "alice@"+host)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "refused to connect")
	assert.Contains(t, errOut, "-allow-loopback")

	code, _, _ = cli(t, runWebfinger)
	assert.Equal(t, 2, code)
}

func TestLookupCommand(t *testing.T) {
	srv := peer(t, nil)
	host := strings.TrimPrefix(srv.URL, "http://")
	setResolver(t)

	code, out, errOut := cli(t, runLookup, "alice@"+host, "-allow-loopback")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "type               Person")
	assert.Contains(t, out, "id                 "+srv.URL+"/users/alice")
	assert.Contains(t, out, "sharedInbox        "+srv.URL+"/inbox")
	assert.Contains(t, out, "publicKey type     unusable")

	code, out, errOut = cli(t, runLookup, "-allow-loopback", "-json", srv.URL+"/users/bob")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, `"preferredUsername": "bob"`)

	tests := []struct {
		name string
		args []string
		want string
	}{
		{"DNS", []string{"alice@nowhere.example"}, "DNS lookup failed"},
		{"refused", []string{"https://" + host + "/users/alice"}, "refused to connect"},
		{"refused by name", []string{"https://peer.example/users/alice"}, "refused to connect"},
		{"http without -allow-loopback", []string{srv.URL + "/users/alice"}, "scheme refused"},
		{"non-JSON", []string{"-allow-loopback", srv.URL + "/users/html"}, "not JSON"},
		{"id mismatch", []string{"-allow-loopback", srv.URL + "/users/other"}, "id mismatch"},
		{"too large", []string{"-allow-loopback", srv.URL + "/users/huge"}, "too large"},
		{"not a handle", []string{"alice"}, "not a handle"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := cli(t, runLookup, tt.args...)
			assert.Equal(t, 1, code)
			assert.Contains(t, errOut, tt.want)
		})
	}
	code, _, errOut = cli(t, runLookup, "-signed", srv.URL+"/users/alice")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "-key")
}

func TestLookupSigned(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	const keyID = "https://local.example/actor#main-key"
	v, err := signature.NewVerifier(signature.VerifierOptions{Keys: signature.KeyResolverFunc(func(_ context.Context, id string) (*signature.Key, error) {
		if id != keyID {
			return nil, &signature.Error{Check: signature.ErrUnknownKey}
		}
		return &signature.Key{ID: id, Owner: "https://local.example/actor", Public: key.Public()}, nil
	})})
	require.NoError(t, err)
	srv := peer(t, v)
	file := filepath.Join(t.TempDir(), "key.pem")
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600))

	code, _, errOut := cli(t, runLookup, "-allow-loopback", srv.URL+"/users/alice")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "HTTP 401")

	code, out, errOut := cli(t, runLookup, srv.URL+"/users/alice", "--signed", "-key", file, "-key-id", keyID, "-allow-loopback")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "Person")
}

// stubResolver answers every name with a loopback address, or fails for
// nowhere.example, so that no test sends a DNS query or a packet off the
// machine (the fetch package's own tests cover the other refused ranges,
// with a hook that stops even a broken guard from connecting).
type stubResolver struct{}

func (stubResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if host == "nowhere.example" {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
}

func setResolver(t *testing.T) {
	lookupResolver = stubResolver{}
	t.Cleanup(func() { lookupResolver = nil })
}
