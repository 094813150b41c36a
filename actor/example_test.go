package actor_test

import (
	"context"
	"fmt"

	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/storage/memory"
	"github.com/fedi-go/fedi/vocab"
)

// A store-backed directory creates actors with their keys, and builds
// the documents peers fetch.
func ExampleStore_Create() {
	ctx := context.Background()
	scheme, _ := actor.NewScheme("https://example.com")
	st := memory.New()
	actors := actor.NewStore(st, scheme, vocab.MustRegistry())
	alice, err := actors.Create(ctx, actor.Actor{Name: "alice", Type: "Person", ManuallyApprovesFollowers: true})
	if err != nil {
		panic(err)
	}
	doc, _ := actor.Document(ctx, scheme, st.Keys, alice)
	a := doc.(*vocab.Actor)
	fmt.Println(a.ID)
	fmt.Println(a.Inbox, a.Endpoints.SharedInbox)
	fmt.Println(a.PublicKey.ID, *a.ManuallyApprovesFollowers)
	// Output:
	// https://example.com/users/alice
	// https://example.com/users/alice/inbox https://example.com/inbox
	// https://example.com/users/alice#main-key true
}

// An application keeps its own URLs: a scheme is a handful of functions.
func ExampleScheme() {
	scheme, _ := actor.Scheme{
		Origin: "https://example.com",
		Actor:  func(name string) string { return "https://example.com/@" + name },
	}.Complete()
	alice := scheme.Actor("alice")
	fmt.Println(alice, scheme.Collection(alice, actor.Followers))
	fmt.Println(scheme.IsLocal(alice), scheme.IsLocal("https://other.example/@bob"))
	// Output:
	// https://example.com/@alice https://example.com/@alice/followers
	// true false
}
