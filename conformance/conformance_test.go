package conformance_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/conformance"
	"github.com/fedi-go/fedi/internal/fedtest"
)

// TestKit runs the kit against a fedi server with the default behaviour,
// as a running server and as a handler.
func TestKit(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv := fedtest.New(t, fedtest.Config{})
	go func() { _ = srv.Run(ctx) }()
	alice := srv.User(t, "alice")
	bob, err := srv.LocalActors.Create(ctx, actor.Actor{Name: "bob", ManuallyApprovesFollowers: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Run("URL", func(t *testing.T) {
		conformance.Run(t, conformance.Target{URL: srv.URL, Actor: alice.IRI,
			Vocabularies: []string{"mobilizon", "lemmy", "communecter"}})
	})
	t.Run("Handler", func(t *testing.T) {
		conformance.Run(t, conformance.Target{Handler: srv.HTTP.Config.Handler, Actor: bob.IRI, ManualApproval: true})
	})
	_ = http.StatusOK
}
