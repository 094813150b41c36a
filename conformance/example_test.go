package conformance_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/fedi-go/fedi/conformance"
)

// A downstream project's test: its server as a handler (or a loopback
// URL), one of its actors, and the vocabularies it speaks.
func ExampleRun() {
	// In the project's _test.go:
	_ = func(t *testing.T, myServer http.Handler) {
		conformance.Run(t, conformance.Target{Handler: myServer, Actor: "https://example.test/users/alice",
			Vocabularies: []string{"mobilizon"}})
	}
	// The cases, one subtest each; Target.Skip takes their names.
	for _, name := range conformance.Cases() {
		fmt.Println(name)
	}
	// Output:
	// webfinger
	// actor document
	// unsigned
	// forged signature
	// tampered digest
	// stale date
	// key owner is not the actor
	// RFC 9421 signature
	// update by a non-owner
	// delete by a non-owner
	// oversize
	// deep nesting
	// invalid JSON
	// hostile IRI
	// follow handshake and replay
	// payload replays
}
