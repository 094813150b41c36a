package fedi_test

import (
	"fmt"
	"os"

	"github.com/fedi-go/fedi/vocab"
	"github.com/fedi-go/fedi/vocab/communecter"
	"github.com/fedi-go/fedi/vocab/lemmy"
	"github.com/fedi-go/fedi/vocab/mobilizon"
)

// A Mobilizon participation request, as it reaches an inbox.
const join = `{
  "@context": ["https://www.w3.org/ns/activitystreams", {"mz": "https://joinmobilizon.org/ns#",
    "participationMessage": {"@id": "mz:participationMessage", "@type": "sc:Text"}}],
  "id": "https://mobilizon.example/@alice/join/event/1",
  "type": "Join",
  "actor": "https://mobilizon.example/@alice",
  "object": "https://events.example/events/42",
  "participationMessage": "I want to join!",
  "x-unknown": {"kept": true}
}`

func Example() {
	reg, err := vocab.NewRegistry(mobilizon.Vocabulary, lemmy.Vocabulary, communecter.Vocabulary)
	if err != nil {
		panic(err)
	}
	item, err := reg.Decode([]byte(join))
	if err != nil {
		panic(err)
	}
	j, ok := mobilizon.JoinOf(item)
	fmt.Println(ok, j.Actor, "joins", j.Object)
	fmt.Println("message:", j.ParticipationMessage)

	out, err := reg.Encode(item)
	if err != nil {
		panic(err)
	}
	fmt.Println(string(out))
	// Output:
	// true https://mobilizon.example/@alice joins https://events.example/events/42
	// message: I want to join!
	// {"@context":["https://www.w3.org/ns/activitystreams","https://w3id.org/security/v1",{"mz":"https://joinmobilizon.org/ns#","schema":"http://schema.org#","ical":"http://www.w3.org/2002/12/cal/ical#","rdfs":"http://www.w3.org/2000/01/rdf-schema#","joinModeType":{"@id":"mz:joinModeType","@type":"rdfs:Class"},"repliesModerationOptionType":{"@id":"mz:repliesModerationOptionType","@type":"rdfs:Class"},"Member":"mz:Member","participationMessage":{"@id":"mz:participationMessage","@type":"schema:Text"}}],"id":"https://mobilizon.example/@alice/join/event/1","type":"Join","actor":"https://mobilizon.example/@alice","object":"https://events.example/events/42","participationMessage":"I want to join!","x-unknown":{"kept": true}}
}

// exampleDir returns a fresh directory for an example's files.
func exampleDir() string {
	dir, err := os.MkdirTemp("", "fedi-example-")
	if err != nil {
		panic(err)
	}
	return dir
}
