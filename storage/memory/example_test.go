package memory_test

import (
	"context"
	"fmt"

	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/storage/memory"
)

// A store in process memory, for tests and examples: every concern is
// there, nothing survives the process.
func ExampleNew() {
	ctx := context.Background()
	st := memory.New()
	_ = st.Objects.Put(ctx, storage.Object{IRI: "https://example.com/notes/1", Type: "Note",
		Owner: "https://example.com/users/alice", Data: []byte(`{"type":"Note"}`)})
	owner, _ := st.Objects.Owner(ctx, "https://example.com/notes/1")
	fmt.Println(owner)
	// Output:
	// https://example.com/users/alice
}
