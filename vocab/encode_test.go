package vocab_test

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	ap "github.com/go-ap/activitypub"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fedi-go/fedi/vocab"
	"github.com/fedi-go/fedi/vocab/mobilizon"
)

// members decodes an encoded document into a map, without its @context.
func members(t *testing.T, out []byte) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(out, &m), "%s", out)
	delete(m, "@context")
	return m
}

func encode(t *testing.T, reg *vocab.Registry, it vocab.Item) []byte {
	t.Helper()
	out, err := reg.Encode(it)
	require.NoError(t, err)
	require.True(t, json.Valid(out), "%s", out)
	return out
}

func TestEncodeKeepsInputForm(t *testing.T) {
	reg := vocab.MustRegistry()
	doc := `{"@context":["https://www.w3.org/ns/activitystreams"],"type":"Note","id":"https://a/n",` +
		`"to":"https://www.w3.org/ns/activitystreams#Public","cc":["https://a/followers"],"inReplyTo":null,` +
		`"published":"2024-07-02T11:47:35+0000","summary":null,"x":{"y":[1,2.50,"z"]},` +
		`"tag":[{"type":"Hashtag","name":"#a","href":"https://a/tags/a"}],"attachment":[]}`
	it := decode(t, reg, doc)
	out := string(encode(t, reg, it))
	// Member order, scalar versus array, nulls, the timestamp's text and
	// raw unknown values come back exactly.
	want := `"type":"Note","id":"https://a/n","to":"https://www.w3.org/ns/activitystreams#Public",` +
		`"cc":["https://a/followers"],"inReplyTo":null,"published":"2024-07-02T11:47:35+0000","summary":null,` +
		`"x":{"y":[1,2.50,"z"]},"tag":[{"type":"Hashtag","name":"#a","href":"https://a/tags/a"}],"attachment":[]}`
	assert.True(t, strings.HasSuffix(out, want), out)
}

func TestEncodeAfterChanges(t *testing.T) {
	reg := vocab.MustRegistry()
	it := decode(t, reg, `{"type":"Note","id":"https://a/n","to":"https://a/u","published":"2024-07-02T11:47:35+0000","content":"old"}`)
	n := it.(*vocab.Object)
	n.To = append(n.To, vocab.PublicIRI)                                                    // one element became two
	n.Published = n.Published.Add(time.Hour)                                                // the input's text no longer applies
	n.Content = vocab.Text("new")                                                           // replaced
	n.Summary = vocab.Text("added")                                                         // not in the input
	n.Content = append(n.Content, ap.LangRefValue{Ref: "fr", Value: ap.Content("nouveau")}) // a map member appears
	n.Extra = vocab.Extra{"later": json.RawMessage(`true`)}
	m := members(t, encode(t, reg, n))
	assert.Equal(t, []any{"https://a/u", string(vocab.PublicIRI)}, m["to"])
	assert.Equal(t, "2024-07-02T12:47:35Z", m["published"])
	assert.Equal(t, "new", m["content"])
	assert.Equal(t, map[string]any{"fr": "nouveau"}, m["contentMap"])
	assert.Equal(t, "added", m["summary"])
	assert.Equal(t, true, m["later"])

	// Removing values removes members.
	n.To, n.Content, n.Summary = nil, nil, nil
	m = members(t, encode(t, reg, n))
	assert.NotContains(t, m, "to")
	assert.NotContains(t, m, "content")
	assert.NotContains(t, m, "contentMap")
}

func TestHostileIDCannotInjectKeys(t *testing.T) {
	reg := vocab.MustRegistry()
	n := vocab.NewObject("Note", `https://x.example/","actor":"https://evil.example/`)
	n.Name = vocab.Text("line\nbreak \"quoted\" \u2028 \x01 \\")
	n.Extra = vocab.Extra{`we"ird`: json.RawMessage(`"ok"`)}
	out := encode(t, reg, n)
	m := members(t, out)
	assert.Equal(t, `https://x.example/","actor":"https://evil.example/`, m["id"])
	assert.NotContains(t, m, "actor")
	assert.Equal(t, "line\nbreak \"quoted\" \u2028 \x01 \\", m["name"])
	assert.Equal(t, "ok", m[`we"ird`])
	assert.Contains(t, string(out), `\u2028`)
	// And the registry refuses such an id on the way in.
	_, err := reg.Decode(out)
	assert.ErrorIs(t, err, vocab.ErrInvalidIRI)
}

func TestPlaceKeepsZeroAndNegativeCoordinates(t *testing.T) {
	reg := vocab.MustRegistry()
	_, out := roundTrip(t, reg, `{"type":"Place","latitude":0,"longitude":-0.5,"altitude":-12.25,"accuracy":0,"radius":0}`)
	assert.Contains(t, out, `"latitude":0,"longitude":-0.5,"altitude":-12.25,"accuracy":0,"radius":0`)

	p := vocab.NewPlace("https://a/p/1", "Null Island")
	p.SetCoordinates(0, 0)
	m := members(t, encode(t, reg, p))
	assert.Equal(t, 0.0, m["latitude"])
	assert.Equal(t, 0.0, m["longitude"])

	q := vocab.NewPlace("https://a/p/2", "South")
	q.Latitude, q.Longitude = -33.87, 0
	m = members(t, encode(t, reg, q))
	assert.Equal(t, -33.87, m["latitude"])
	assert.Equal(t, 0.0, m["longitude"])
	assert.NotContains(t, m, "altitude")
}

func TestQuestionClosedKeepsItsType(t *testing.T) {
	reg := vocab.MustRegistry()
	for _, tc := range []struct{ doc, want string }{
		{`{"type":"Question","closed":"2023-01-01T00:00:00.000Z"}`, `"closed":"2023-01-01T00:00:00.000Z"`},
		{`{"type":"Question","closed":true}`, `"closed":true`},
		{`{"type":"Question","closed":false}`, `"closed":false`},
		{`{"type":"Question","closed":"https://a/n"}`, `"closed":"https://a/n"`},
		{`{"type":"Question","closed":{"type":"Note","id":"https://a/n"}}`, `"closed":{"type":"Note","id":"https://a/n"}`},
	} {
		it, out := roundTrip(t, reg, tc.doc)
		assert.Contains(t, out, tc.want)
		assert.True(t, it.(*vocab.Question).Closed || strings.Contains(tc.doc, "false"))
	}
	q := &vocab.Question{}
	q.Type = "Question"
	q.ClosedAt = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	assert.Contains(t, string(encode(t, reg, q)), `"closed":"2024-01-02T03:04:05Z"`)
	q.ClosedAt = time.Time{}
	q.Closed = true
	assert.Contains(t, string(encode(t, reg, q)), `"closed":true`)
}

func TestArraysStayArrays(t *testing.T) {
	reg := vocab.MustRegistry()
	_, out := roundTrip(t, reg, `{"type":"Note","to":["https://a/u"],"attachment":[{"type":"Image","url":"https://a/i"}],"url":["https://a/n"],"inReplyTo":["https://a/1"]}`)
	assert.Contains(t, out, `"to":["https://a/u"]`)
	assert.Contains(t, out, `"attachment":[{"type":"Image","url":"https://a/i"}]`)
	assert.Contains(t, out, `"url":["https://a/n"]`)
	assert.Contains(t, out, `"inReplyTo":["https://a/1"]`)

	// Built in Go, a collection field is an array even with one element.
	n := vocab.NewObject("Note", "https://a/n")
	n.To = ap.ItemCollection{vocab.PublicIRI}
	n.Attachment = ap.ItemCollection{vocab.NewLink("Link", "https://a/x", "")}
	m := members(t, encode(t, reg, n))
	assert.Equal(t, []any{string(vocab.PublicIRI)}, m["to"])
	assert.IsType(t, []any{}, m["attachment"])
}

func TestEncodeBuiltItems(t *testing.T) {
	reg := allVocabularies(t)
	note := vocab.NewObject("Note", "https://a.example/notes/1")
	note.AttributedTo = ap.IRI("https://a.example/users/alice")
	note.Content = vocab.Text("<p>Hello</p>")
	note.Published = time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	note.To = ap.ItemCollection{vocab.PublicIRI}
	sensitive := false
	note.Sensitive = &sensitive
	create := vocab.NewActivity("Create", "https://a.example/notes/1/activity", ap.IRI("https://a.example/users/alice"), note)
	create.To = note.To
	out := encode(t, reg, create)
	assert.JSONEq(t, `{"@context":["https://www.w3.org/ns/activitystreams","https://w3id.org/security/v1",
		{"toot":"http://joinmastodon.org/ns#","schema":"http://schema.org#","pt":"https://joinpeertube.org/ns#",
		"sensitive":"as:sensitive","manuallyApprovesFollowers":"as:manuallyApprovesFollowers",
		"discoverable":"toot:discoverable","indexable":"toot:indexable",
		"featured":{"@id":"toot:featured","@type":"@id"},"featuredTags":{"@id":"toot:featuredTags","@type":"@id"},
		"alsoKnownAs":{"@id":"as:alsoKnownAs","@type":"@id"},"movedTo":{"@id":"as:movedTo","@type":"@id"},
		"commentsEnabled":"pt:commentsEnabled","Hashtag":"as:Hashtag","PropertyValue":"schema:PropertyValue","value":"schema:value"}],
		"id":"https://a.example/notes/1/activity","type":"Create","actor":"https://a.example/users/alice",
		"object":{"id":"https://a.example/notes/1","type":"Note","content":"<p>Hello</p>",
			"attributedTo":"https://a.example/users/alice","published":"2024-05-06T07:08:09Z",
			"to":["https://www.w3.org/ns/activitystreams#Public"],"sensitive":false},
		"to":["https://www.w3.org/ns/activitystreams#Public"]}`, string(out))

	col := vocab.NewOrderedCollection("https://a.example/users/alice/outbox")
	assert.Contains(t, string(encode(t, reg, col)), `"totalItems":0`)
	ts := vocab.NewTombstone("https://a.example/notes/1", "Note", time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
	assert.Contains(t, string(encode(t, reg, ts)), `"formerType":"Note","deleted":"2024-01-01T00:00:00Z"`)
}

func TestEncodeGoAPTypes(t *testing.T) {
	reg := vocab.MustRegistry()
	o := &ap.Object{ID: "https://a/n", Type: ap.NoteType, Name: ap.DefaultNaturalLanguageValue("x")}
	act := &ap.Activity{ID: "https://a/c", Type: ap.CreateType, Actor: ap.IRI("https://a/u"), Object: o}
	m := members(t, encode(t, reg, act))
	assert.Equal(t, "https://a/u", m["actor"])
	assert.Equal(t, map[string]any{"id": "https://a/n", "type": "Note", "name": "x"}, m["object"])
	_, err := reg.Encode(ap.IRI("https://a/n"))
	assert.ErrorIs(t, err, vocab.ErrEncode)
}

func TestEncodeErrors(t *testing.T) {
	reg := vocab.MustRegistry()
	n := vocab.NewObject("Note", "https://a/n")
	n.Extra = vocab.Extra{"broken": json.RawMessage(`{"a":`)}
	_, err := reg.Encode(n)
	assert.ErrorIs(t, err, vocab.ErrEncode)
	assert.ErrorContains(t, err, `"broken"`)

	p := vocab.NewPlace("https://a/p", "")
	p.Latitude = math.NaN()
	_, err = reg.Encode(p)
	assert.ErrorIs(t, err, vocab.ErrEncode)

	// A cycle is refused rather than overflowing the stack.
	a := vocab.NewActivity("Announce", "https://a/1", nil, nil)
	a.Object = a
	_, err = reg.Encode(a)
	assert.ErrorIs(t, err, vocab.ErrEncode)
}

func TestPropsOfMovesTermsFromExtra(t *testing.T) {
	// A registry without the Mobilizon vocabulary keeps joinMode in Extra;
	// the typed view still finds it, and encoding writes it once.
	core := vocab.MustRegistry()
	it := decode(t, core, `{"type":"Event","id":"https://m/e/1","joinMode":"restricted","participantCount":3,"x":1}`)
	assert.Contains(t, it.(*vocab.Object).Extra, "joinMode")
	ev, ok := mobilizon.EventOf(it)
	require.True(t, ok)
	assert.Equal(t, mobilizon.JoinRestricted, ev.JoinMode)
	require.NotNil(t, ev.ParticipantCount)
	assert.Equal(t, 3, *ev.ParticipantCount)
	assert.NotContains(t, ev.Extra, "joinMode")
	ev.JoinMode = mobilizon.JoinFree
	out := string(encode(t, core, it))
	assert.Equal(t, 1, strings.Count(out, `"joinMode"`)-strings.Count(out, `"joinMode":{"@id"`))
	assert.Contains(t, out, `"joinMode":"free"`)
	assert.Contains(t, out, `"joinMode":{"@id":"mz:joinMode","@type":"mz:joinModeType"}`)
}

func TestEncodeIsStable(t *testing.T) {
	// Encoding what Encode wrote gives the same bytes again.
	reg := allVocabularies(t)
	for _, p := range benchPayloads {
		it, err := reg.Decode(readPayload(t, p.file))
		require.NoError(t, err)
		first := encode(t, reg, it)
		again, err := reg.Decode(first)
		require.NoError(t, err)
		assert.Equal(t, string(first), string(encode(t, reg, again)))
	}
}

// TestEncodeEmptyIRI: an empty IRI left in a field built in Go is not
// written, so that what is encoded decodes again.
func TestEncodeEmptyIRI(t *testing.T) {
	reg := vocab.MustRegistry()
	o := vocab.NewObject("Note", "https://example.com/notes/1")
	o.AttributedTo, o.InReplyTo, o.Context = ap.IRI(""), ap.IRI(""), ap.IRI("")
	b, err := reg.Encode(o)
	require.NoError(t, err)
	assert.NotContains(t, string(b), `""`)
	_, err = reg.Decode(b)
	assert.NoError(t, err)
}
