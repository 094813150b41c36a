package fetch_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/fedi-go/fedi/fetch"
)

func Example() {
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/activity+json")
		fmt.Fprintf(w, `{"id":%q,"type":"Person"}`, srv.URL+r.URL.Path)
	}))
	defer srv.Close()

	// AllowLoopback only because this example's server is on 127.0.0.1.
	c, err := fetch.New(fetch.Options{AllowLoopback: true})
	if err != nil {
		panic(err)
	}
	ctx := fetch.WithBudget(context.Background(), 10)
	doc, err := c.Get(ctx, srv.URL+"/users/alice#main-key")
	if err != nil {
		panic(err)
	}
	fmt.Println(doc.ID == srv.URL+"/users/alice")

	// Without AllowLoopback, the same fetch is refused before any packet
	// is sent.
	strict, _ := fetch.New(fetch.Options{})
	_, err = strict.Get(ctx, "https://127.0.0.1/users/alice")
	fmt.Println(errors.Is(err, fetch.ErrRefused))
	// Output:
	// true
	// true
}
