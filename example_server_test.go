package fedi_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/fedi-go/fedi"
	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/behaviour/core"
	"github.com/fedi-go/fedi/storage/sqlite"
	"github.com/fedi-go/fedi/vocab"
	"github.com/fedi-go/fedi/vocab/mobilizon"
)

// A federating app in about thirty lines: storage, the vocabularies it
// speaks, fedi.New, the default behaviour, a first user, the routes and
// the delivery worker. (Here it serves on a test listener; an app calls
// fedi.Server(addr, mux).ListenAndServe.)
func Example_server() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := exampleDir()
	defer os.RemoveAll(dir)
	db, err := sqlite.Open(ctx, filepath.Join(dir, "fedi.db"), sqlite.Options{})
	if err != nil {
		panic(err)
	}
	defer db.Close()

	mux := http.NewServeMux()
	srv := httptest.NewServer(mux) // the app's own server; its URL is the origin
	defer srv.Close()

	fed, err := fedi.New(fedi.Options{
		Origin:   srv.URL,
		Store:    db.Store(),
		Registry: vocab.MustRegistry(mobilizon.Vocabulary),
	})
	if err != nil {
		panic(err)
	}
	core.Register(fed.Mux, core.Options{Remote: fed.Remote}) // follows, likes, replies, deletes...
	alice, err := fed.LocalActors.Ensure(ctx, actor.Actor{Name: "alice", Type: "Person"})
	if err != nil {
		panic(err)
	}
	fed.Register(mux) // inboxes, actors, objects, collections, WebFinger, NodeInfo
	go fed.Run(ctx)   // the delivery worker

	resp, err := http.Get(srv.URL + "/.well-known/webfinger?resource=acct:alice@" + srv.Listener.Addr().String())
	if err != nil {
		panic(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	fmt.Println("webfinger:", resp.StatusCode)
	fmt.Println("actor:", alice.IRI == srv.URL+"/users/alice")
	// Output:
	// webfinger: 200
	// actor: true
}
