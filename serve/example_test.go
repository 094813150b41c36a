package serve_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"

	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/serve"
	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/storage/memory"
	"github.com/fedi-go/fedi/vocab"
)

// A Handler serves the actors' documents, their objects and their
// collections on the application's own routes.
func ExampleNew() {
	ctx := context.Background()
	reg := vocab.MustRegistry()
	st := memory.New()
	scheme, _ := actor.NewScheme("https://example.com")
	actors := actor.NewStore(st, scheme, reg)
	alice, err := actors.Create(ctx, actor.Actor{Name: "alice"})
	if err != nil {
		log.Fatal(err)
	}
	_ = st.Collections.Add(ctx, scheme.Collection(alice.IRI, actor.Followers), storage.Member{IRI: "https://remote.example/users/bob"})

	h, err := serve.New(serve.Options{Registry: reg, Store: st, Actors: actors, Scheme: scheme,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /users/", h)

	get := func(url string) map[string]any {
		r := httptest.NewRequest(http.MethodGet, url, nil)
		r.Header.Set("Accept", "application/activity+json")
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		var doc map[string]any
		_ = json.Unmarshal(w.Body.Bytes(), &doc)
		fmt.Println(w.Code, w.Header().Get("Content-Type"))
		return doc
	}
	doc := get("https://example.com/users/alice")
	fmt.Println(doc["type"], doc["preferredUsername"], doc["inbox"])
	fmt.Println("key owner:", doc["publicKey"].(map[string]any)["owner"])

	col := get("https://example.com/users/alice/followers")
	fmt.Println(col["type"], col["totalItems"], col["first"])
	page := get(col["first"].(string))
	fmt.Println(page["type"], page["orderedItems"])
	// Output:
	// 200 application/activity+json
	// Person alice https://example.com/users/alice/inbox
	// key owner: https://example.com/users/alice
	// 200 application/activity+json
	// OrderedCollection 1 https://example.com/users/alice/followers?page=true
	// 200 application/activity+json
	// OrderedCollectionPage [https://remote.example/users/bob]
}

// Browsers get the application's HTML on the same URLs; without an HTML
// handler, a client that accepts only HTML gets 406.
func ExampleOptions_html() {
	ctx := context.Background()
	reg := vocab.MustRegistry()
	st := memory.New()
	scheme, _ := actor.NewScheme("https://example.com")
	actors := actor.NewStore(st, scheme, reg)
	if _, err := actors.Create(ctx, actor.Actor{Name: "alice"}); err != nil {
		log.Fatal(err)
	}
	profilePage := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, "<h1>alice</h1>")
	})
	for _, html := range []http.Handler{profilePage, nil} {
		h, _ := serve.New(serve.Options{Registry: reg, Store: st, Actors: actors, Scheme: scheme, HTML: html,
			Logger: slog.New(slog.DiscardHandler)})
		for _, accept := range []string{"text/html", `application/ld+json; profile="https://www.w3.org/ns/activitystreams"`} {
			r := httptest.NewRequest(http.MethodGet, "https://example.com/users/alice", nil)
			r.Header.Set("Accept", accept)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			fmt.Println(w.Code, w.Header().Get("Content-Type"))
		}
	}
	// Output:
	// 200 text/html; charset=utf-8
	// 200 application/ld+json; profile="https://www.w3.org/ns/activitystreams"
	// 406 text/plain; charset=utf-8
	// 200 application/ld+json; profile="https://www.w3.org/ns/activitystreams"
}
