package fetch_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fedi-go/fedi/fetch"
)

func newClient(t *testing.T, o fetch.Options) *fetch.Client {
	t.Helper()
	o.AllowLoopback = true
	c, err := fetch.New(o)
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c
}

// actorServer serves an actor at /users/alice whose id is its own URL, and
// whatever extra routes a test adds.
func actorServer(t *testing.T, routes map[string]http.HandlerFunc) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	var srv *httptest.Server
	mux.HandleFunc("GET /users/alice", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/activity+json")
		fmt.Fprintf(w, `{"id":%q,"type":"Person","accept":%q,"sig":%q}`, srv.URL+"/users/alice", r.Header.Get("Accept"), r.Header.Get("X-Signed"))
	})
	for p, h := range routes {
		mux.HandleFunc(p, h)
	}
	srv = httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestGet(t *testing.T) {
	srv := actorServer(t, nil)
	c := newClient(t, fetch.Options{})
	doc, err := c.Get(context.Background(), srv.URL+"/users/alice#main-key")
	require.NoError(t, err)
	assert.Equal(t, srv.URL+"/users/alice", doc.URL)
	assert.Equal(t, doc.URL, doc.ID)
	assert.Contains(t, string(doc.Body), `"accept":"application/activity+json, application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\""`)
}

type headerSigner string

func (s headerSigner) SignRequest(r *http.Request, _ []byte) error {
	r.Header.Set("X-Signed", string(s))
	return nil
}

func TestSignedGet(t *testing.T) {
	srv := actorServer(t, nil)
	ctx := context.Background()
	iri := srv.URL + "/users/alice"

	perInstance := newClient(t, fetch.Options{Signer: headerSigner("instance")})
	doc, err := perInstance.Get(ctx, iri)
	require.NoError(t, err)
	assert.Contains(t, string(doc.Body), `"sig":"instance"`)

	doc, err = perInstance.GetWith(ctx, iri, fetch.GetOptions{Signer: headerSigner("request")})
	require.NoError(t, err)
	assert.Contains(t, string(doc.Body), `"sig":"request"`)

	doc, err = perInstance.GetWith(ctx, iri, fetch.GetOptions{Unsigned: true})
	require.NoError(t, err)
	assert.Contains(t, string(doc.Body), `"sig":""`)

	plain := newClient(t, fetch.Options{})
	doc, err = plain.GetWith(ctx, iri, fetch.GetOptions{Signer: headerSigner("request")})
	require.NoError(t, err)
	assert.Contains(t, string(doc.Body), `"sig":"request"`)
}

func TestGetErrors(t *testing.T) {
	var srvURL string
	serve := func(ct, body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", ct)
			fmt.Fprint(w, strings.ReplaceAll(body, "SELF", srvURL+r.URL.Path))
		}
	}
	big := `{"id":"SELF","pad":"` + strings.Repeat("x", 2000) + `"}`
	srv := actorServer(t, map[string]http.HandlerFunc{
		"GET /html":    serve("text/html", `{"id":"SELF"}`),
		"GET /notjson": serve("application/activity+json", `<html>`),
		"GET /array":   serve("application/activity+json", `["SELF"]`),
		"GET /otherid": serve("application/activity+json", `{"id":"https://evil.example/users/alice"}`),
		"GET /noid":    serve("application/activity+json", `{"type":"Note"}`),
		"GET /numid":   serve("application/activity+json", `{"id":5}`),
		"GET /big":     serve("application/activity+json", big),
		"GET /ldjson":  serve(`application/ld+json; profile="https://www.w3.org/ns/activitystreams"`, `{"id":"SELF"}`),
		"GET /json":    serve("application/json; charset=utf-8", `{"id":"SELF"}`),
		"GET /gone":    func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusGone) },
		"GET /loop/a":  redirectTo("/loop/b"),
		"GET /loop/b":  redirectTo("/loop/a"),
		"GET /chain/{n}": func(w http.ResponseWriter, r *http.Request) {
			var n int
			fmt.Sscan(r.PathValue("n"), &n)
			http.Redirect(w, r, fmt.Sprintf("/chain/%d", n+1), http.StatusFound)
		},
		"GET /hop": redirectTo("/users/alice"),
		"GET /bigchunked": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/activity+json")
			for range 3 {
				fmt.Fprint(w, strings.Repeat(" ", 1000))
				w.(http.Flusher).Flush()
			}
		},
	})
	srvURL = srv.URL
	c := newClient(t, fetch.Options{MaxBytes: 1500})

	tests := []struct {
		path string
		want error
	}{
		{"/html", fetch.ErrContentType},
		{"/notjson", fetch.ErrNotJSON},
		{"/array", fetch.ErrNotJSON},
		{"/otherid", fetch.ErrIDMismatch},
		{"/noid", fetch.ErrIDMismatch},
		{"/numid", fetch.ErrIDMismatch},
		{"/big", fetch.ErrTooLarge},
		{"/bigchunked", fetch.ErrTooLarge},
		{"/gone", fetch.ErrStatus},
		{"/loop/a", fetch.ErrRedirectLoop},
		{"/chain/0", fetch.ErrTooManyRedirects},
		{"/ldjson", nil},
		{"/json", nil},
		{"/hop", nil},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			_, err := c.Get(context.Background(), srv.URL+tt.path)
			if tt.want == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tt.want)
			var fe *fetch.Error
			require.ErrorAs(t, err, &fe)
			assert.True(t, strings.HasPrefix(err.Error(), "fetch: "), err.Error())
		})
	}

	t.Run("status code", func(t *testing.T) {
		_, err := c.Get(context.Background(), srv.URL+"/gone")
		var se *fetch.StatusError
		require.ErrorAs(t, err, &se)
		assert.Equal(t, http.StatusGone, se.Code)
	})
}

// TestSkipIDCheck: the option lets a document whose id is elsewhere
// through, says so, and still requires a string id.
func TestSkipIDCheck(t *testing.T) {
	srv := actorServer(t, map[string]http.HandlerFunc{
		"GET /users/alice/main-key": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/activity+json")
			fmt.Fprint(w, `{"id":"https://elsewhere.example/users/alice"}`)
		},
		"GET /noid": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/activity+json")
			fmt.Fprint(w, `{"type":"Note"}`)
		},
	})
	c := newClient(t, fetch.Options{})
	tests := []struct {
		path    string
		skip    bool
		wantID  string
		wantErr error
	}{
		{path: "/users/alice/main-key", wantErr: fetch.ErrIDMismatch},
		{path: "/users/alice/main-key", skip: true, wantID: "https://elsewhere.example/users/alice"},
		{path: "/users/alice", skip: true, wantID: srv.URL + "/users/alice"},
		{path: "/users/alice", wantID: srv.URL + "/users/alice"},
		{path: "/noid", skip: true, wantErr: fetch.ErrIDMismatch},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s skip=%v", tt.path, tt.skip), func(t *testing.T) {
			doc, err := c.GetWith(context.Background(), srv.URL+tt.path, fetch.GetOptions{SkipIDCheck: tt.skip})
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantID, doc.ID)
			assert.Equal(t, srv.URL+tt.path, doc.URL)
			assert.Equal(t, doc.ID == doc.URL, doc.IDIsURL())
		})
	}
}

func redirectTo(p string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, p, http.StatusMovedPermanently) }
}

func TestSchemes(t *testing.T) {
	loop := newClient(t, fetch.Options{})
	strict, err := fetch.New(fetch.Options{Resolver: stubResolver{}})
	require.NoError(t, err)
	tests := []struct {
		c    *fetch.Client
		url  string
		want error
	}{
		{loop, "ftp://127.0.0.1/x", fetch.ErrScheme},
		{loop, "http://example.com/x", fetch.ErrScheme},
		{strict, "http://127.0.0.1/x", fetch.ErrScheme},
		{loop, "https://user:pw@example.com/x", fetch.ErrURL},
		{loop, "/relative", fetch.ErrURL},
		{loop, "https://%zz", fetch.ErrURL},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			_, err := tt.c.Get(context.Background(), tt.url)
			assert.ErrorIs(t, err, tt.want)
		})
	}
}

func TestInsecureRedirect(t *testing.T) {
	plain := actorServer(t, nil)
	tlsSrv := httptest.NewTLSServer(redirectTo(plain.URL + "/users/alice"))
	t.Cleanup(tlsSrv.Close)
	c := newClient(t, fetch.Options{TLSConfig: &tls.Config{RootCAs: tlsSrv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs}})
	_, err := c.Get(context.Background(), tlsSrv.URL+"/users/alice")
	require.ErrorIs(t, err, fetch.ErrInsecureRedirect)
}

func TestTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })

	t.Run("headers", func(t *testing.T) {
		c := newClient(t, fetch.Options{HeaderTimeout: 20 * time.Millisecond})
		_, err := c.Get(context.Background(), srv.URL+"/slow")
		require.ErrorIs(t, err, fetch.ErrTimeout)
	})
	t.Run("whole request", func(t *testing.T) {
		c := newClient(t, fetch.Options{Timeout: 20 * time.Millisecond})
		_, err := c.Get(context.Background(), srv.URL+"/slow")
		require.ErrorIs(t, err, fetch.ErrTimeout)
	})
	t.Run("caller deadline", func(t *testing.T) {
		c := newClient(t, fetch.Options{})
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		_, err := c.Get(ctx, srv.URL+"/slow")
		require.ErrorIs(t, err, fetch.ErrTimeout)
	})
}

func TestBudget(t *testing.T) {
	srv := actorServer(t, nil)
	c := newClient(t, fetch.Options{})
	ctx := fetch.WithBudget(context.Background(), 2)
	inner := fetch.WithBudget(ctx, 100) // cannot grant itself more
	for range 2 {
		_, err := c.Get(inner, srv.URL+"/users/alice")
		require.NoError(t, err)
	}
	_, err := c.Get(ctx, srv.URL+"/users/alice")
	require.ErrorIs(t, err, fetch.ErrBudget)
	_, err = c.Post(ctx, srv.URL+"/inbox", "application/activity+json", nil, nil)
	require.ErrorIs(t, err, fetch.ErrBudget)
	b, _ := fetch.BudgetFrom(ctx)
	assert.Equal(t, 0, b.Remaining())
}

// TestBudgetRedirects: every hop of a redirect chain spends one unit, so
// a budget of n sends at most n requests however long the chain.
func TestBudgetRedirects(t *testing.T) {
	var hits atomic.Int64
	srv := actorServer(t, map[string]http.HandlerFunc{
		"GET /hop/{n}": func(w http.ResponseWriter, r *http.Request) {
			hits.Add(1)
			var n int
			fmt.Sscan(r.PathValue("n"), &n)
			if n == 0 {
				http.Redirect(w, r, "/users/alice", http.StatusFound)
				return
			}
			http.Redirect(w, r, fmt.Sprintf("/hop/%d", n-1), http.StatusFound)
		},
	})
	tests := []struct {
		name     string
		budget   int
		path     string // two redirects, then the actor: three requests
		wantErr  error
		wantHits int64 // requests to /hop
		wantLeft int
	}{
		{name: "enough for every hop", budget: 3, path: "/hop/1", wantHits: 2, wantLeft: 0},
		{name: "more than enough", budget: 5, path: "/hop/1", wantHits: 2, wantLeft: 2},
		{name: "one short", budget: 2, path: "/hop/1", wantErr: fetch.ErrBudget, wantHits: 2, wantLeft: 0},
		{name: "one unit buys one request", budget: 1, path: "/hop/4", wantErr: fetch.ErrBudget, wantHits: 1, wantLeft: 0},
	}
	c := newClient(t, fetch.Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hits.Store(0)
			ctx := fetch.WithBudget(context.Background(), tt.budget)
			_, err := c.Get(ctx, srv.URL+tt.path)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, tt.wantHits, hits.Load())
			b, _ := fetch.BudgetFrom(ctx)
			assert.Equal(t, tt.wantLeft, b.Remaining())
		})
	}
}

func TestPost(t *testing.T) {
	var got struct {
		ct, sig, body string
	}
	srv := actorServer(t, map[string]http.HandlerFunc{
		"POST /inbox": func(w http.ResponseWriter, r *http.Request) {
			b := new(strings.Builder)
			_, _ = fmt.Fprint(b, r.Body)
			got.ct, got.sig = r.Header.Get("Content-Type"), r.Header.Get("X-Signed")
			buf := make([]byte, 100)
			n, _ := r.Body.Read(buf)
			got.body = string(buf[:n])
			w.WriteHeader(http.StatusAccepted)
		},
		"POST /moved": redirectTo("/inbox"),
	})
	c := newClient(t, fetch.Options{})
	resp, err := c.Post(context.Background(), srv.URL+"/inbox", "application/activity+json", []byte(`{"a":1}`), headerSigner("yes"))
	require.NoError(t, err)
	assert.Equal(t, http.StatusAccepted, resp.StatusCode)
	assert.Equal(t, "application/activity+json", got.ct)
	assert.Equal(t, "yes", got.sig)
	assert.Equal(t, `{"a":1}`, got.body)

	resp, err = c.Post(context.Background(), srv.URL+"/moved", "application/activity+json", nil, nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusMovedPermanently, resp.StatusCode, "a delivery is never redirected")
}

func TestGetJSON(t *testing.T) {
	srv := actorServer(t, map[string]http.HandlerFunc{
		"GET /jrd": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/jrd+json")
			fmt.Fprint(w, `{"subject":"acct:a@b"}`)
		},
		"GET /html": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, `{}`)
		},
		"GET /bad": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"subject":`)
		},
	})
	c := newClient(t, fetch.Options{})
	resp, err := c.GetJSON(context.Background(), srv.URL+"/jrd", "application/jrd+json")
	require.NoError(t, err)
	assert.JSONEq(t, `{"subject":"acct:a@b"}`, string(resp.Body))
	_, err = c.GetJSON(context.Background(), srv.URL+"/html", "application/jrd+json")
	assert.ErrorIs(t, err, fetch.ErrContentType)
	_, err = c.GetJSON(context.Background(), srv.URL+"/bad", "application/jrd+json")
	assert.ErrorIs(t, err, fetch.ErrNotJSON)
}

func TestNewValidates(t *testing.T) {
	_, err := fetch.New(fetch.Options{MaxBytes: -1})
	assert.Error(t, err)
	_, err = fetch.New(fetch.Options{UserAgent: "a\r\nX-Evil: 1"})
	assert.Error(t, err)
}

// TestIDMustBeTheURL: a document's id must be the URL it came from, in
// every part. Each id below differs from the URL in one part only, so that
// dropping any one comparison fails a row; the host rows keep the scheme,
// port and path, since a server that could serve a document whose id is
// on another host could speak for that host's actors.
func TestIDMustBeTheURL(t *testing.T) {
	var id atomic.Value
	srv := actorServer(t, map[string]http.HandlerFunc{
		"GET /doc": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/activity+json")
			fmt.Fprintf(w, `{"id":%q}`, id.Load())
		},
	})
	port := strings.TrimPrefix(srv.URL, "http://127.0.0.1:")
	tests := []struct {
		name, id string
		want     error
	}{
		{"the URL", "http://127.0.0.1:" + port + "/doc", nil},
		{"scheme in upper case", "HTTP://127.0.0.1:" + port + "/doc", nil},
		{"another host", "http://127.0.0.2:" + port + "/doc", fetch.ErrIDMismatch},
		{"another host name", "http://localhost:" + port + "/doc", fetch.ErrIDMismatch},
		{"another port", "http://127.0.0.1:1/doc", fetch.ErrIDMismatch},
		{"no port", "http://127.0.0.1/doc", fetch.ErrIDMismatch},
		{"another scheme", "https://127.0.0.1:" + port + "/doc", fetch.ErrIDMismatch},
		{"another path", "http://127.0.0.1:" + port + "/doc2", fetch.ErrIDMismatch},
		{"a query", "http://127.0.0.1:" + port + "/doc?x=1", fetch.ErrIDMismatch},
		{"a fragment", "http://127.0.0.1:" + port + "/doc#x", fetch.ErrIDMismatch},
	}
	c := newClient(t, fetch.Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id.Store(tt.id)
			doc, err := c.Get(context.Background(), srv.URL+"/doc")
			if tt.want != nil {
				require.ErrorIs(t, err, tt.want)
				return
			}
			require.NoError(t, err)
			assert.True(t, doc.IDIsURL())
		})
	}
}
