package refserver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fedi-go/fedi/conformance"
	"github.com/fedi-go/fedi/examples/server/refserver"
	"github.com/fedi-go/fedi/internal/fedtest"
)

var update = flag.Bool("update", false, "rewrite examples/server/FEDERATION.md")

// start runs a reference server on a free loopback port until the test
// ends.
func start(t *testing.T, extra ...string) (*refserver.Server, string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	origin := "http://" + l.Addr().String()
	args := append([]string{"-addr", l.Addr().String(), "-origin", origin, "-data", t.TempDir(), "-allow-loopback", "-control",
		"-log-level", "error"}, extra...)
	cfg, err := refserver.ParseFlags("test", args, io.Discard)
	require.NoError(t, err)
	s, err := refserver.New(context.Background(), cfg, io.Discard)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, l) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			assert.NoError(t, err)
		case <-time.After(20 * time.Second):
			t.Error("the server did not shut down within 20 s")
		}
		s.Close()
	})
	return s, origin
}

// TestConformance runs the conformance kit against the reference server.
func TestConformance(t *testing.T) {
	s, origin := start(t, "-user", "alice", "-user", "bob")
	conformance.Run(t, conformance.Target{URL: origin, Actor: s.Users()[0].IRI,
		Vocabularies: []string{"mobilizon", "lemmy", "communecter"}})
}

// TestMainErrors: bad flags, an unwritable data directory, a bad DSN and
// a port in use each give one clear line on stderr and exit 1.
func TestMainErrors(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()
	file := filepath.Join(t.TempDir(), "a-file")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown flag", []string{"-nope"}, "flag provided but not defined"},
		{"bad addr", []string{"-addr", "nowhere"}, "-addr"},
		{"bad origin", []string{"-origin", "ftp://x"}, "-origin"},
		{"bad workers", []string{"-workers", "0"}, "-workers"},
		{"bad log format", []string{"-log-format", "xml"}, "-log-format"},
		{"bad user", []string{"-user", "a/b"}, "user name"},
		{"argument", []string{"extra"}, "unexpected argument"},
		{"data directory is a file", []string{"-data", file, "-addr", "127.0.0.1:0"}, "data directory"},
		{"bad DSN", []string{"-postgres", "postgres://nobody@127.0.0.1:1/none?connect_timeout=2", "-addr", "127.0.0.1:0"}, "PostgreSQL"},
		{"port in use", []string{"-data", t.TempDir(), "-addr", busy.Addr().String()}, "cannot listen on " + busy.Addr().String()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := refserver.Main("server", tt.args, &stdout, &stderr)
			assert.Equal(t, 1, code, stderr.String())
			msg := stderr.String()
			if tt.name != "unknown flag" {
				assert.Equal(t, 1, strings.Count(msg, "\n"), "one line: %q", msg)
			}
			assert.Contains(t, msg, tt.want)
			assert.NotContains(t, msg, "goroutine", "no stack trace")
		})
	}
	var stdout, stderr bytes.Buffer
	assert.Equal(t, 0, refserver.Main("server", []string{"-h"}, &stdout, &stderr))
	for _, f := range []string{"-addr", "-origin", "-data", "-postgres", "-user", "-allow-loopback", "-control", "-workers", "-log-format"} {
		assert.Contains(t, stderr.String(), f, "-h documents %s", f)
	}
}

// TestFederationMD fails when examples/server/FEDERATION.md is stale:
// run go test ./examples/server/refserver -run TestFederationMD -update.
func TestFederationMD(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, refserver.WriteDocument(&b))
	path := filepath.Join("..", "FEDERATION.md")
	if *update {
		require.NoError(t, os.WriteFile(path, b.Bytes(), 0o644))
	}
	committed, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, string(committed), b.String(), "examples/server/FEDERATION.md is stale: rerun this test with -update")
	for _, s := range []string{"## Federation philosophy", "## Supported activities", "## Inbox behaviour", "## Extension properties", "joinMode"} {
		assert.Contains(t, b.String(), s)
	}
}

// TestNewWithoutUsers: a Config with no users gets alice, so every
// control route has a user to act as.
func TestNewWithoutUsers(t *testing.T) {
	cfg, err := refserver.ParseFlags("test", []string{"-addr", "127.0.0.1:0", "-origin", "http://127.0.0.1:1", "-data", t.TempDir(), "-control", "-log-level", "error"}, io.Discard)
	require.NoError(t, err)
	cfg.Users = nil
	s, err := refserver.New(context.Background(), cfg, io.Discard)
	require.NoError(t, err)
	defer s.Close()
	require.Len(t, s.Users(), 1)
	assert.Equal(t, "alice", s.Users()[0].Name)
	r := httptest.NewRequest(http.MethodGet, "/_control/followers", nil)
	r.RemoteAddr = "127.0.0.1:5555"
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, r)
	assert.Equal(t, http.StatusOK, w.Code, w.Body.String())
}

// TestControlAPI: loopback only, JSON errors with reasons.
func TestControlAPI(t *testing.T) {
	s, origin := start(t)
	post := func(path, body string) (int, map[string]any) {
		resp, err := http.Post(origin+path, "application/json", strings.NewReader(body))
		require.NoError(t, err)
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	status, out := post("/_control/note", `{"content": `)
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Contains(t, out["error"], "not a JSON object")
	status, out = post("/_control/note", `{}`)
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Contains(t, out["error"], `"content"`)
	status, out = post("/_control/note", `{"content": "hi", "user": "nobody"}`)
	assert.Equal(t, http.StatusNotFound, status)
	status, out = post("/_control/follow", `{}`)
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Contains(t, out["error"], `"handle" or "actor" required`)
	status, out = post("/_control/follow", `{"handle": "bob@"}`)
	assert.Equal(t, http.StatusBadRequest, status, out)
	status, out = post("/_control/follow", `{"handle": "bob@127.0.0.1:1"}`)
	assert.Equal(t, http.StatusBadGateway, status, out)
	status, out = post("/_control/note", `{"content": "<p>hello</p>"}`)
	require.Equal(t, http.StatusOK, status, out)
	assert.NotEmpty(t, out["note"])
	status, out = post("/_control/user", `{"name": "town", "type": "Group"}`)
	require.Equal(t, http.StatusOK, status, out)
	assert.Equal(t, origin+"/users/town", out["actor"])

	// Not from loopback: refused.
	rec := httptestRecorder()
	req, _ := http.NewRequest(http.MethodGet, origin+"/_control/info", nil)
	req.RemoteAddr = "192.0.2.7:4444"
	s.Handler().ServeHTTP(rec, req)
	assert.Equal(t, http.StatusForbidden, rec.Code)
}

// TestHTMLSanitized: a remote note's content cannot run script in the
// HTML view.
func TestHTMLSanitized(t *testing.T) {
	s, origin := start(t)
	alice := s.Users()[0]
	rem := fedtest.NewRemote(t)
	mallory := rem.Actor(t, "mallory", 0)
	note := rem.URL + "/notes/1"
	body := fedtest.JSON(`{"id":%q,"type":"Create","actor":%q,"to":["https://www.w3.org/ns/activitystreams#Public",%q],"object":{"id":%q,"type":"Note","attributedTo":%q,"to":["https://www.w3.org/ns/activitystreams#Public"],"content":"<p>hi<script>alert(1)</script><img src=x onerror=alert(2)><a href=\"javascript:alert(3)\">x</a></p>"}}`,
		rem.URL+"/create/1", mallory, alice.IRI, note, mallory)
	status, msg := fedtest.Do(t, rem.Signed(t, mallory, alice.IRI+"/inbox", body))
	require.Equal(t, http.StatusAccepted, status, msg)

	req, _ := http.NewRequest(http.MethodGet, alice.IRI, nil)
	req.Header.Set("Accept", "text/html")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	page, _ := io.ReadAll(resp.Body)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, resp.Header.Get("Content-Type"), "text/html")
	html := string(page)
	assert.Contains(t, html, "hi", "the note is shown")
	for _, bad := range []string{"<script", "onerror", "javascript:"} {
		assert.NotContains(t, html, bad)
	}
	_ = origin
}

func httptestRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }
