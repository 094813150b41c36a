package inbox_test

import (
	"context"
	"fmt"
	"net/http"

	ap "github.com/go-ap/activitypub"

	"github.com/fedi-go/fedi/inbox"
	"github.com/fedi-go/fedi/vocab"
	"github.com/fedi-go/fedi/vocab/mobilizon"
)

// Handlers register by activity type, and optionally object type, with
// the object typed as they need it; each says what it does in one line,
// for FEDERATION.md.
func ExampleOn() {
	mux := inbox.NewMux(vocab.MustRegistry(mobilizon.Vocabulary))
	inbox.On(mux, "Join Event", "adds the actor to the event's participants",
		func(ctx context.Context, a *inbox.Activity, ev *vocab.Object) error {
			if ev.AttributedTo == nil {
				return inbox.Reject(http.StatusUnprocessableEntity, "the event has no organizer")
			}
			return nil // effects through a.Store, answers through a.Send
		})
	inbox.On(mux, "Follow", "adds the actor to the followers",
		func(ctx context.Context, a *inbox.Activity, followed ap.IRI) error { return nil })
	for _, r := range mux.Routes() {
		fmt.Printf("%-10s %-8s %s\n", r.Pattern, r.ObjectKind, r.Doc)
	}
	// Output:
	// Follow     IRI      adds the actor to the followers
	// Join Event *vocab.Object adds the actor to the event's participants
}

// A Rule keeps the checks apart from the effects: Check runs before any
// effect, outside the transaction, and may fetch; Apply only writes.
func ExampleHandle() {
	mux := inbox.NewMux(vocab.MustRegistry())
	inbox.Handle(mux, "Delete Note", inbox.Rule[ap.IRI]{
		Doc: "tombstones the note, which only its author may delete",
		Check: func(ctx context.Context, a *inbox.Activity, note ap.IRI) error {
			owner, err := a.Store.Objects.Owner(ctx, string(note))
			if err == nil && owner != a.Actor {
				return inbox.Forbid("only the author deletes a note")
			}
			return nil
		},
		Apply: func(ctx context.Context, a *inbox.Activity, note ap.IRI) error {
			return nil
		},
	})
	fmt.Println(mux.Handles("Delete Note"), mux.Handles("Delete"))
	// Output:
	// true false
}
