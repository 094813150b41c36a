package webfinger_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fedi-go/fedi/fetch"
	"github.com/fedi-go/fedi/webfinger"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -update to create it")
	assert.Equal(t, string(want), string(got))
}

func TestParseResource(t *testing.T) {
	tests := []struct {
		in         string
		user, host string
		iri        string
		ok         bool
	}{
		{in: "acct:alice@example.com", user: "alice", host: "example.com", ok: true},
		{in: "acct:alice@127.0.0.1:8790", user: "alice", host: "127.0.0.1:8790", ok: true},
		{in: "ACCT:Alice@Example.COM", user: "Alice", host: "example.com", ok: true},
		{in: "acct:a.b-c_d@[::1]:80", user: "a.b-c_d", host: "[::1]:80", ok: true},
		{in: "https://example.com/users/alice", iri: "https://example.com/users/alice", ok: true},
		{in: "http://127.0.0.1:8790/users/alice", iri: "http://127.0.0.1:8790/users/alice", ok: true},
		{in: "alice@example.com"},
		{in: "acct:alice"},
		{in: "acct:@example.com"},
		{in: "acct:alice@"},
		{in: "acct:al ice@example.com"},
		{in: "acct:alice@exa mple.com"},
		{in: "acct:alice@example.com/path"},
		{in: "acct:alice@example.com:port"},
		{in: "acct:alice@example.com:"},
		{in: "acct:a/b@example.com"},
		{in: "mailto:alice@example.com"},
		{in: "https:///nohost"},
		{in: "https://user:pw@example.com/"},
		{in: `https://example.com/"quote`},
		{in: ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			r, err := webfinger.ParseResource(tt.in)
			if !tt.ok {
				require.ErrorIs(t, err, webfinger.ErrBadResource)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.user, r.User)
			assert.Equal(t, tt.host, r.Host)
			assert.Equal(t, tt.iri, r.IRI)
		})
	}
}

func TestParseHandle(t *testing.T) {
	for _, in := range []string{"@alice@example.com", "alice@example.com", "acct:alice@example.com", " alice@Example.com "} {
		u, h, err := webfinger.ParseHandle(in)
		require.NoError(t, err, in)
		assert.Equal(t, "alice", u)
		assert.Equal(t, "example.com", h)
	}
	for _, in := range []string{"alice", "@alice", "https://example.com/users/alice", "@@example.com"} {
		_, _, err := webfinger.ParseHandle(in)
		assert.ErrorIs(t, err, webfinger.ErrBadResource, in)
	}
}

func lookup(host string) webfinger.LookupFunc {
	return func(_ context.Context, r webfinger.Resource) (*webfinger.Account, error) {
		user := r.User
		if !r.IsAcct() {
			user = strings.TrimPrefix(r.IRI, "https://"+host+"/users/")
		}
		switch user {
		case "alice":
			return &webfinger.Account{Username: "alice", ActorIRI: "https://" + host + "/users/alice", ProfileURL: "https://" + host + "/@alice"}, nil
		case "broken":
			return nil, errors.New("database down")
		}
		return nil, webfinger.ErrNotFound
	}
}

func TestHandler(t *testing.T) {
	h, err := webfinger.NewHandler(webfinger.HandlerOptions{Lookup: lookup("example.com"), Hosts: []string{"example.com"}})
	require.NoError(t, err)
	mux := http.NewServeMux()
	h.Register(mux)
	tests := []struct {
		name, target string
		code         int
		golden       string
	}{
		{"acct", "/.well-known/webfinger?resource=acct:alice@example.com", 200, "acct.jrd"},
		{"actor IRI", "/.well-known/webfinger?resource=https://example.com/users/alice", 200, "iri.jrd"},
		{"rel filter", "/.well-known/webfinger?resource=acct:alice@example.com&rel=self", 200, "rel.jrd"},
		{"host-meta", "/.well-known/host-meta", 200, "host-meta.xrd"},
		{"missing resource", "/.well-known/webfinger", 400, ""},
		{"malformed resource", "/.well-known/webfinger?resource=alice@example.com", 400, ""},
		{"unknown user", "/.well-known/webfinger?resource=acct:bob@example.com", 404, ""},
		{"other host", "/.well-known/webfinger?resource=acct:alice@other.example", 404, ""},
		{"lookup failure", "/.well-known/webfinger?resource=acct:broken@example.com", 500, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			r := httptest.NewRequest(http.MethodGet, tt.target, nil)
			r.Host = "example.com"
			mux.ServeHTTP(w, r)
			assert.Equal(t, tt.code, w.Code, w.Body.String())
			assert.Equal(t, "*", w.Header().Get("Access-Control-Allow-Origin"))
			if tt.golden != "" {
				if strings.HasSuffix(tt.golden, ".jrd") {
					assert.Equal(t, "application/jrd+json", w.Header().Get("Content-Type"))
				}
				golden(t, tt.golden, w.Body.Bytes())
			}
		})
	}
	t.Run("the caller's Hosts are left alone", func(t *testing.T) {
		hosts := []string{"Example.COM", "Other.Example"}
		h, err := webfinger.NewHandler(webfinger.HandlerOptions{Lookup: lookup("example.com"), Hosts: hosts})
		require.NoError(t, err)
		assert.Equal(t, []string{"Example.COM", "Other.Example"}, hosts)
		w := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodGet, "/.well-known/webfinger?resource=acct:alice@example.com", nil)
		h.ServeHTTP(w, r)
		assert.Equal(t, 200, w.Code, "hosts match case-insensitively")
	})
	t.Run("request host when no Hosts", func(t *testing.T) {
		h, err := webfinger.NewHandler(webfinger.HandlerOptions{Lookup: lookup("127.0.0.1:8080")})
		require.NoError(t, err)
		w := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodGet, "/.well-known/webfinger?resource=acct:alice@127.0.0.1:8080", nil)
		r.Host = "127.0.0.1:8080"
		h.ServeHTTP(w, r)
		assert.Equal(t, 200, w.Code)
		w = httptest.NewRecorder()
		r = httptest.NewRequest(http.MethodGet, "/.well-known/webfinger?resource=acct:alice@127.0.0.1", nil)
		r.Host = "127.0.0.1:8080"
		h.ServeHTTP(w, r)
		assert.Equal(t, 404, w.Code, "the port is part of the host")
	})
	t.Run("POST", func(t *testing.T) {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/.well-known/webfinger?resource=acct:alice@example.com", nil))
		assert.Equal(t, http.StatusMethodNotAllowed, w.Code)
	})
	_, err = webfinger.NewHandler(webfinger.HandlerOptions{})
	assert.Error(t, err)
}

func TestClient(t *testing.T) {
	var srv *httptest.Server
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/webfinger", func(w http.ResponseWriter, r *http.Request) {
		host := strings.TrimPrefix(srv.URL, "http://")
		res := r.URL.Query().Get("resource")
		w.Header().Set("Content-Type", "application/jrd+json")
		switch res {
		case "acct:alice@" + host:
			fmt.Fprintf(w, `{"subject":%q,"links":[{"rel":"http://webfinger.net/rel/profile-page","href":"x"},{"rel":"self","type":"application/activity+json","href":"%s/users/alice"}]}`, res, srv.URL)
		case "acct:ld@" + host:
			fmt.Fprintf(w, `{"subject":%q,"links":[{"rel":"self","type":"application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"","href":"%s/users/ld"}]}`, res, srv.URL)
		case "acct:noself@" + host:
			fmt.Fprintf(w, `{"subject":%q,"links":[{"rel":"self","type":"text/html","href":"x"}]}`, res)
		case "acct:relative@" + host:
			fmt.Fprintf(w, `{"subject":%q,"links":[{"rel":"self","type":"application/activity+json","href":"/users/x"}]}`, res)
		case "acct:bad@" + host:
			fmt.Fprint(w, `{"subject":5}`)
		default:
			http.NotFound(w, r)
		}
	})
	srv = httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	f, err := fetch.New(fetch.Options{AllowLoopback: true})
	require.NoError(t, err)
	c, err := webfinger.NewClient(f)
	require.NoError(t, err)
	ctx := context.Background()
	for _, handle := range []string{"alice@" + host, "@alice@" + host, "acct:alice@" + host} {
		iri, err := c.Resolve(ctx, handle)
		require.NoError(t, err, handle)
		assert.Equal(t, srv.URL+"/users/alice", iri)
	}
	iri, err := c.Resolve(ctx, "ld@"+host)
	require.NoError(t, err)
	assert.Equal(t, srv.URL+"/users/ld", iri)

	_, err = c.Resolve(ctx, "noself@"+host)
	assert.ErrorIs(t, err, webfinger.ErrNoActor)
	_, err = c.Resolve(ctx, "relative@"+host)
	assert.ErrorIs(t, err, webfinger.ErrBadJRD)
	_, err = c.Resolve(ctx, "bad@"+host)
	assert.ErrorIs(t, err, webfinger.ErrBadJRD)
	_, err = c.Resolve(ctx, "nobody@"+host)
	assert.ErrorIs(t, err, fetch.ErrStatus)
	_, err = c.Resolve(ctx, "not a handle")
	assert.ErrorIs(t, err, webfinger.ErrBadResource)

	// Without AllowLoopback the client speaks https and the guard refuses
	// loopback.
	strict, err := fetch.New(fetch.Options{})
	require.NoError(t, err)
	sc, _ := webfinger.NewClient(strict)
	_, err = sc.Resolve(ctx, "alice@"+host)
	assert.ErrorIs(t, err, fetch.ErrRefused)
}

// TestRoundTrip serves the Handler and resolves through the Client.
func TestRoundTrip(t *testing.T) {
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	h, err := webfinger.NewHandler(webfinger.HandlerOptions{Lookup: func(_ context.Context, r webfinger.Resource) (*webfinger.Account, error) {
		if r.User != "alice" {
			return nil, webfinger.ErrNotFound
		}
		return &webfinger.Account{Username: "alice", ActorIRI: srv.URL + "/users/alice"}, nil
	}})
	require.NoError(t, err)
	h.Register(mux)
	f, _ := fetch.New(fetch.Options{AllowLoopback: true})
	c, _ := webfinger.NewClient(f)
	iri, err := c.Resolve(context.Background(), "@alice@"+host)
	require.NoError(t, err)
	assert.Equal(t, srv.URL+"/users/alice", iri)
}

func FuzzWebfingerResource(f *testing.F) {
	for _, s := range []string{"acct:alice@example.com", "acct:a@127.0.0.1:8790", "https://example.com/users/a",
		"acct:@", "acct:a@[::1]:1", "acct:a@b@c", "http://[::1", "acct:a@xn--bcher-kva.example"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := webfinger.ParseResource(s)
		if err != nil {
			if !errors.Is(err, webfinger.ErrBadResource) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		// A parsed resource prints as one that parses to the same thing.
		r2, err := webfinger.ParseResource(r.String())
		if err != nil || r2 != r {
			t.Fatalf("%q → %+v → %q → %+v, %v", s, r, r.String(), r2, err)
		}
		if r.IsAcct() && (r.User == "" || r.Host == "" || strings.ContainsAny(r.User+r.Host, " /?#@")) {
			t.Fatalf("%q parsed to %+v", s, r)
		}
	})
}

// The client asks the handle's host for its WebFinger answer and returns
// the actor's IRI. The host here is a local server, reached over plain
// http because the fetch.Client allows loopback; against the fediverse,
// use fetch.Options{} and a handle such as "@alice@example.com".
func ExampleClient_Resolve() {
	h, _ := webfinger.NewHandler(webfinger.HandlerOptions{
		Lookup: func(ctx context.Context, r webfinger.Resource) (*webfinger.Account, error) {
			if r.User != "alice" {
				return nil, webfinger.ErrNotFound
			}
			return &webfinger.Account{Username: "alice", ActorIRI: "https://example.com/users/alice"}, nil
		},
	})
	mux := http.NewServeMux()
	h.Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	host := srv.Listener.Addr().String() // 127.0.0.1:port

	f, _ := fetch.New(fetch.Options{AllowLoopback: true})
	defer f.Close()
	c, _ := webfinger.NewClient(f)
	iri, err := c.Resolve(context.Background(), "@alice@"+host)
	if err != nil {
		// errors.Is(err, fetch.ErrDNS), webfinger.ErrNoActor, ...
		fmt.Println(err)
		return
	}
	fmt.Println(iri)

	_, err = c.Resolve(context.Background(), "@bob@"+host)
	var status *fetch.StatusError
	if errors.As(err, &status) {
		fmt.Println("bob:", status.Code)
	}
	// Output:
	// https://example.com/users/alice
	// bob: 404
}

func ExampleHandler() {
	h, _ := webfinger.NewHandler(webfinger.HandlerOptions{
		Hosts: []string{"example.com"},
		Lookup: func(ctx context.Context, r webfinger.Resource) (*webfinger.Account, error) {
			if r.User != "alice" {
				return nil, webfinger.ErrNotFound
			}
			return &webfinger.Account{Username: "alice", ActorIRI: "https://example.com/users/alice"}, nil
		},
	})
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/.well-known/webfinger?resource=acct:alice@example.com", nil))
	fmt.Println(w.Body.String())
	// Output:
	// {"subject":"acct:alice@example.com","aliases":["https://example.com/users/alice"],"links":[{"rel":"self","type":"application/activity+json","href":"https://example.com/users/alice"}]}
}
