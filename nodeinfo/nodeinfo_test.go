package nodeinfo_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fedi-go/fedi/nodeinfo"
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

func TestHandler(t *testing.T) {
	fail := false
	h, err := nodeinfo.NewHandler(nodeinfo.Options{
		Software:          nodeinfo.Software{Name: "fedi-example", Version: "0.1.0", Repository: "https://github.com/fedi-go/fedi"},
		OpenRegistrations: true,
		Usage: func(context.Context) (nodeinfo.Usage, error) {
			if fail {
				return nodeinfo.Usage{}, errors.New("database down")
			}
			return nodeinfo.Usage{Users: nodeinfo.Users{Total: 3, ActiveHalfyear: 2, ActiveMonth: 1}, LocalPosts: 42}, nil
		},
		Metadata: map[string]any{"nodeName": "Example"},
	})
	require.NoError(t, err)
	mux := http.NewServeMux()
	h.Register(mux)

	get := func(path string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodGet, path, nil)
		r.Host = "example.com"
		mux.ServeHTTP(w, r)
		return w
	}
	w := get("/.well-known/nodeinfo")
	require.Equal(t, 200, w.Code)
	golden(t, "well-known.json", w.Body.Bytes())

	w = get("/nodeinfo/2.1")
	require.Equal(t, 200, w.Code)
	assert.Equal(t, nodeinfo.ContentType, w.Header().Get("Content-Type"))
	golden(t, "nodeinfo-2.1.json", w.Body.Bytes())

	fail = true
	assert.Equal(t, 500, get("/nodeinfo/2.1").Code)
}

func TestNewHandlerValidates(t *testing.T) {
	for _, s := range []nodeinfo.Software{{Name: "Fedi", Version: "1"}, {Name: "", Version: "1"}, {Name: "fedi"}} {
		_, err := nodeinfo.NewHandler(nodeinfo.Options{Software: s})
		assert.Error(t, err, s)
	}
}

func Example() {
	h, _ := nodeinfo.NewHandler(nodeinfo.Options{
		Software: nodeinfo.Software{Name: "myapp", Version: "1.0.0"},
		BaseURL:  "https://example.com",
	})
	w := httptest.NewRecorder()
	h.WellKnown().ServeHTTP(w, httptest.NewRequest("GET", "/.well-known/nodeinfo", nil))
	fmt.Print(w.Body.String())
	// Output:
	// {
	//   "links": [
	//     {
	//       "href": "https://example.com/nodeinfo/2.1",
	//       "rel": "http://nodeinfo.diaspora.software/ns/schema/2.1"
	//     }
	//   ]
	// }
}
