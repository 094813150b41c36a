package federationmd_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	ap "github.com/go-ap/activitypub"

	"github.com/fedi-go/fedi/federationmd"
	"github.com/fedi-go/fedi/inbox"
	"github.com/fedi-go/fedi/vocab"
)

// The mux says what the inbox does; the application says why, and what
// it sends.
func ExampleWrite() {
	reg := vocab.MustRegistry()
	mux := inbox.NewMux(reg)
	inbox.On(mux, "Follow", "adds the actor to the followers and answers with Accept",
		func(context.Context, *inbox.Activity, ap.IRI) error { return nil })
	var b bytes.Buffer
	_ = federationmd.Write(&b, federationmd.Document{
		Name:       "Example",
		Philosophy: "Example is a small social network.",
		Registry:   reg,
		Mux:        mux,
		Sent:       []federationmd.Sent{{Activity: "Create", Object: "Note", Doc: "when a user posts"}},
	})
	for _, line := range strings.Split(b.String(), "\n") {
		if strings.HasPrefix(line, "#") || strings.HasPrefix(line, "- `") || strings.HasPrefix(line, "| `") {
			fmt.Println(line)
		}
	}
	// Output:
	// # Federation of Example
	// ## Federation philosophy
	// ## Supported activities
	// | `Create` | `Note` | yes |  |
	// | `Follow` | any |  | yes |
	// ## Activities sent
	// - `Create/Note`: when a user posts
	// ## Inbox behaviour
	// - `Follow`: adds the actor to the followers and answers with Accept
	// ## Extension properties
	// ### Shared extensions
	// - `sensitive`: `"as:sensitive"`
	// - `manuallyApprovesFollowers`: `"as:manuallyApprovesFollowers"`
	// - `discoverable`: `"toot:discoverable"`
	// - `indexable`: `"toot:indexable"`
	// - `featured`: `{"@id":"toot:featured","@type":"@id"}`
	// - `featuredTags`: `{"@id":"toot:featuredTags","@type":"@id"}`
	// - `alsoKnownAs`: `{"@id":"as:alsoKnownAs","@type":"@id"}`
	// - `movedTo`: `{"@id":"as:movedTo","@type":"@id"}`
	// - `commentsEnabled`: `"pt:commentsEnabled"`
	// - `value`: `"schema:value"`
	// ### The context
}
