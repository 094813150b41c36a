package outbox_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	ap "github.com/go-ap/activitypub"

	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/fetch"
	"github.com/fedi-go/fedi/outbox"
	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/storage/memory"
	"github.com/fedi-go/fedi/vocab"
)

// Send stores the activity, lists it in the actor's outbox, and enqueues
// its fan-out; a Worker delivers it.
func ExampleOutbox_Send() {
	ctx := context.Background()
	reg := vocab.MustRegistry()
	st := memory.New()
	scheme, _ := actor.NewScheme("https://example.com")
	actors := actor.NewStore(st, scheme, reg)
	alice, err := actors.Create(ctx, actor.Actor{Name: "alice"})
	if err != nil {
		log.Fatal(err)
	}
	out, err := outbox.New(outbox.Options{Registry: reg, Store: st, Actors: actors, Scheme: scheme,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		log.Fatal(err)
	}

	n := vocab.NewObject("Note", "")
	n.Content = vocab.Text("Hello, world")
	create := vocab.NewActivity("Create", "", ap.IRI(alice.IRI), n)
	create.To = ap.ItemCollection{vocab.PublicIRI}
	create.CC = ap.ItemCollection{ap.IRI(scheme.Collection(alice.IRI, actor.Followers))}
	id, err := out.Send(ctx, create)
	if err != nil {
		log.Fatal(err)
	}

	stored, _ := st.Objects.Get(ctx, id)
	note, _ := st.Objects.Get(ctx, string(n.ID))
	listed, _ := st.Collections.Count(ctx, scheme.Collection(alice.IRI, actor.Outbox), storage.Accepted)
	stats, _ := st.Queue.Stats(ctx)
	fmt.Println("stored:", stored.Type, "and its", note.Type, "owned by", note.Owner)
	fmt.Println("attributedTo:", vocab.IRIOf(n.AttributedTo))
	fmt.Println("in the outbox:", listed)
	fmt.Println("fan-outs queued:", stats.Ready)
	// Output:
	// stored: Create and its Note owned by https://example.com/users/alice
	// attributedTo: https://example.com/users/alice
	// in the outbox: 1
	// fan-outs queued: 1
}

// A Worker expands each fan-out into one delivery per inbox and POSTs
// each, signed as the sending actor.
func ExampleNewWorker() {
	ctx := context.Background()
	// Another server, with one actor.
	var peer *httptest.Server
	peer = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			w.Header().Set("Content-Type", "application/activity+json")
			_ = json.NewEncoder(w).Encode(map[string]string{"id": peer.URL + r.URL.Path, "type": "Person", "inbox": peer.URL + r.URL.Path + "/inbox"})
			return
		}
		body, _ := io.ReadAll(r.Body)
		var act struct{ Type string }
		_ = json.Unmarshal(body, &act)
		fmt.Println(r.Method, r.URL.Path, act.Type, "signed:", r.Header.Get("Signature") != "")
		w.WriteHeader(http.StatusAccepted)
	}))
	defer peer.Close()

	reg := vocab.MustRegistry()
	st := memory.New()
	scheme, _ := actor.NewScheme("https://example.com")
	actors := actor.NewStore(st, scheme, reg)
	alice, _ := actors.Create(ctx, actor.Actor{Name: "alice"})
	quiet := slog.New(slog.DiscardHandler)
	out, _ := outbox.New(outbox.Options{Registry: reg, Store: st, Actors: actors, Scheme: scheme, Logger: quiet})
	// Loopback is refused outside tests like this one.
	client, _ := fetch.New(fetch.Options{AllowLoopback: true, Logger: quiet})
	w, err := outbox.NewWorker(out, outbox.WorkerOptions{Client: client, Observe: func(e outbox.Event) {
		fmt.Println("event:", e.Kind, e.Status)
	}})
	if err != nil {
		log.Fatal(err)
	}

	follow := vocab.NewActivity("Follow", "", ap.IRI(alice.IRI), ap.IRI(peer.URL+"/users/bob"))
	if _, err := out.Send(ctx, follow); err != nil {
		log.Fatal(err)
	}
	// A server runs w.Run(ctx) in a goroutine; RunOnce handles what is
	// due now: first the fan-out, then its delivery.
	for {
		n, err := w.RunOnce(ctx, 100)
		if err != nil {
			log.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	// Output:
	// event: expanded 0
	// POST /users/bob/inbox Follow signed: true
	// event: delivered 202
}

// A RetryPolicy of ten attempts, an hour apart at most.
func ExampleRetryPolicy() {
	policy := outbox.RetryPolicy{
		MaxAttempts: 10,
		Backoff: func(attempt int) time.Duration {
			return min(time.Minute<<(attempt-1), time.Hour)
		},
	}
	for attempt := 1; attempt < policy.MaxAttempts; attempt++ {
		fmt.Print(policy.Backoff(attempt), " ")
	}
	// Pass it as WorkerOptions{Retry: policy}.
	fmt.Println()
	// Output:
	// 1m0s 2m0s 4m0s 8m0s 16m0s 32m0s 1h0m0s 1h0m0s 1h0m0s
}

// A ClientHandler takes the POSTs of the application's own clients to
// their actor's outbox; the application says who a request speaks for.
func ExampleNewClientHandler() {
	ctx := context.Background()
	reg := vocab.MustRegistry()
	st := memory.New()
	scheme, _ := actor.NewScheme("https://example.com")
	actors := actor.NewStore(st, scheme, reg)
	if _, err := actors.Create(ctx, actor.Actor{Name: "alice"}); err != nil {
		log.Fatal(err)
	}
	out, _ := outbox.New(outbox.Options{Registry: reg, Store: st, Actors: actors, Scheme: scheme,
		Logger: slog.New(slog.DiscardHandler)})
	h, err := outbox.NewClientHandler(out, outbox.ClientOptions{
		Authenticate: func(r *http.Request) (string, error) {
			// The application checks its session or token here.
			if r.Header.Get("Authorization") != "Bearer alice-token" {
				return "", fmt.Errorf("unknown token")
			}
			return scheme.Actor("alice"), nil
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("POST /users/{name}/outbox", h)

	// A bare Note is wrapped in a Create.
	r := httptest.NewRequest(http.MethodPost, "https://example.com/users/alice/outbox",
		strings.NewReader(`{"type":"Note","content":"Hello","to":["https://www.w3.org/ns/activitystreams#Public"]}`))
	r.Header.Set("Content-Type", "application/activity+json")
	r.Header.Set("Authorization", "Bearer alice-token")
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, r)
	created, _ := st.Objects.Get(ctx, w.Header().Get("Location"))
	fmt.Println(w.Code, created.Type, strings.HasPrefix(created.IRI, "https://example.com/users/alice/"))
	// Output:
	// 201 Create true
}
