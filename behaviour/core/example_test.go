package core_test

import (
	"context"
	"fmt"

	"github.com/fedi-go/fedi/behaviour/core"
	"github.com/fedi-go/fedi/inbox"
	"github.com/fedi-go/fedi/vocab"
)

// The default behaviour registers in one call; each handler can then be
// replaced.
func ExampleRegister() {
	mux := inbox.NewMux(vocab.MustRegistry())
	core.Register(mux, core.Options{})
	inbox.Replace(mux, "Like", inbox.Rule[vocab.Item]{
		Doc:   "ignores likes",
		Apply: func(ctx context.Context, a *inbox.Activity, _ vocab.Item) error { return nil },
	})
	for _, r := range mux.Routes() {
		if r.Pattern == "Follow" || r.Pattern == "Like" {
			fmt.Println(r.Pattern+":", r.Doc)
		}
	}
	// Output:
	// Follow: adds the actor to the followers and answers with Accept, or keeps it pending when the followed actor approves followers by hand
	// Like: ignores likes
}
