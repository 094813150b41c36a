package vocab_test

import (
	"errors"
	"fmt"

	ap "github.com/go-ap/activitypub"

	"github.com/fedi-go/fedi/vocab"
	"github.com/fedi-go/fedi/vocab/lemmy"
	"github.com/fedi-go/fedi/vocab/mobilizon"
)

// Decoding keeps every property: those of the registered vocabularies as
// typed fields, the others as raw JSON that encoding writes back.
func ExampleRegistry_Decode() {
	reg := vocab.MustRegistry(mobilizon.Vocabulary)
	it, err := reg.Decode([]byte(`{
	  "@context": "https://www.w3.org/ns/activitystreams",
	  "id": "https://mobilizon.example/events/1",
	  "type": "Event",
	  "name": "Picnic",
	  "joinMode": "restricted",
	  "x-app": {"kept": true}
	}`))
	if err != nil {
		panic(err)
	}
	ev, _ := mobilizon.EventOf(it)
	fmt.Println(vocab.TextOf(ev.Name), ev.JoinMode)
	fmt.Println(string(it.(*vocab.Object).Extra["x-app"]))
	// Output:
	// Picnic restricted
	// {"kept": true}
}

// Bad input is a *DecodeError that says what and where.
func ExampleDecodeError() {
	reg := vocab.MustRegistry()
	_, err := reg.Decode([]byte(`{"type": "Note", "id": "not an IRI"}`))
	var de *vocab.DecodeError
	if errors.As(err, &de) {
		fmt.Println(errors.Is(err, vocab.ErrInvalidIRI), de.Path)
	}
	// Output:
	// true $.id
}

// Encoding writes one merged @context with the terms of every
// vocabulary the document uses.
func ExampleRegistry_Encode() {
	reg := vocab.MustRegistry(lemmy.Vocabulary)
	note := vocab.NewObject("Note", "https://example.com/notes/1")
	note.Content = vocab.Text("hello")
	create := vocab.NewActivity("Create", "https://example.com/activities/1", ap.IRI("https://example.com/users/alice"), note)
	create.To = ap.ItemCollection{vocab.PublicIRI}
	out, err := reg.Encode(create)
	if err != nil {
		panic(err)
	}
	back, _ := reg.Decode(out)
	fmt.Println(vocab.Types(back), vocab.IsPublicItem(back), vocab.IRIOf(vocab.ObjectOf(back)))
	// Output:
	// [Create] true https://example.com/notes/1
}

// A vocabulary of one's own: its types, its terms, and the typed
// properties it adds to existing types.
func ExampleNewVocabulary() {
	reg, err := vocab.NewRegistry(mobilizon.Vocabulary, lemmy.Vocabulary)
	if err != nil {
		panic(err) // two vocabularies defined a term differently
	}
	for _, v := range reg.Vocabularies() {
		fmt.Println(v.Name())
	}
	_, ok := reg.ShapeOf("ChatMessage")
	fmt.Println("ChatMessage known:", ok)
	// Output:
	// schema.org
	// mobilizon
	// lemmy
	// ChatMessage known: true
}

// Validate reports what a decoded document breaks of ActivityStreams.
func ExampleValidate() {
	reg := vocab.MustRegistry()
	it, _ := reg.Decode([]byte(`{"type": "Collection", "id": "https://example.com/c", "first": {"type": "Note"}}`))
	err := vocab.Validate(it)
	fmt.Println(errors.Is(err, vocab.ErrInvalid))
	// Output:
	// true
}
