package vocab_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	ap "github.com/go-ap/activitypub"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fedi-go/fedi/internal/jsoneq"
	"github.com/fedi-go/fedi/vocab"
)

func decode(t *testing.T, reg *vocab.Registry, doc string) vocab.Item {
	t.Helper()
	it, err := reg.Decode([]byte(doc))
	require.NoError(t, err)
	return it
}

// roundTrip decodes, encodes and checks what the README promises: the
// document comes back as it was apart from its top-level @context, with
// null members still null and single values still single (jsoneq.Strict,
// not the looser jsoneq.Equal, which would not see them change).
func roundTrip(t *testing.T, reg *vocab.Registry, doc string) (vocab.Item, string) {
	t.Helper()
	it := decode(t, reg, doc)
	out, err := reg.Encode(it)
	require.NoError(t, err)
	ok, diff := jsoneq.Strict([]byte(doc), out)
	require.True(t, ok, "%s\n%s", diff, out)
	return it, string(out)
}

func TestDecodeErrors(t *testing.T) {
	reg := vocab.MustRegistry()
	for _, tc := range []struct {
		name, doc  string
		err        error
		path       string
		line, col  int
		detailPart string
	}{
		{"syntax", "{\n  \"type\": \"Note\",\n  \"id\": }", vocab.ErrSyntax, "", 3, 9, "where a value was expected"},
		{"utf8", "{\"name\": \"\xc3\x28\"}", vocab.ErrInvalidUTF8, "", 1, 11, "invalid UTF-8"},
		{"top number", `42`, vocab.ErrNotObject, "$", 1, 1, "a number"},
		{"top string", `"Now"`, vocab.ErrNotObject, "$", 1, 1, "a string"},
		{"top array of strings", `["a"]`, vocab.ErrNotObject, "$[0]", 1, 2, "must hold objects"},
		{"hostile id", `{"type":"Note","id":"https://x.example/\",\"actor\":\"https://evil\""}`, vocab.ErrInvalidIRI, "$.id", 1, 21, `contains '"'`},
		{"id number", `{"type":"Note","id":4}`, vocab.ErrPropertyType, "$.id", 1, 21, "an id must be a string"},
		{"id array", `{"type":"Note","id":["https://a","https://b"]}`, vocab.ErrPropertyType, "$.id", 1, 21, "got an array"},
		{"type number", `{"type":16}`, vocab.ErrPropertyType, "$.type", 1, 9, "a type must be"},
		{"type array of numbers", `{"type":["Note",1]}`, vocab.ErrPropertyType, "$.type[1]", 1, 17, "a type must be a string"},
		{"actor number", `{"type":"Offer","actor":90}`, vocab.ErrPropertyType, "$.actor", 1, 25, "expected an IRI or an object"},
		{"object bool", `{"type":"Like","object":true}`, vocab.ErrPropertyType, "$.object", 1, 25, "got a boolean"},
		{"content number", `{"type":"Note","content":42}`, vocab.ErrPropertyType, "$.content", 1, 26, "expected a string"},
		{"name number", `{"type":"Note","name":1}`, vocab.ErrPropertyType, "$.name", 1, 23, "expected a string"},
		{"context number", `{"@context":3}`, vocab.ErrContext, "$.@context", 1, 13, "must be an IRI, an object or an array"},
		{"context bad IRI", `{"@context":["https://www.w3.org/ns/activitystreams","a b"]}`, vocab.ErrContext, "$.@context", 1, 54, "context IRI"},
		{"nested invalid IRI", `{"type":"Create","object":{"type":"Note","tag":[{"type":"Mention","href":"https://x.example/<x>"}]}}`,
			vocab.ErrInvalidIRI, "$.object.tag[0].href", 1, 74, `contains '<'`},
		{"published number", `{"type":"Note","published":1700000000}`, vocab.ErrPropertyType, "$.published", 1, 28, "timestamp"},
		{"duplicate core", `{"type":"Note","content":"a","content":"b"}`, vocab.ErrSyntax, "$.content", 1, 40, `duplicate member "content"`},
		{"duplicate id", `{"id":"https://a","type":"Note","id":"https://b"}`, vocab.ErrSyntax, "$.id", 1, 38, `duplicate member "id"`},
		{"duplicate unknown", `{"type":"Note","x":1,"x":2}`, vocab.ErrSyntax, "$.x", 1, 26, `duplicate member "x"`},
		{"too deep", strings.Repeat(`{"object":`, 70) + `"https://a"` + strings.Repeat("}", 70), vocab.ErrTooDeep, "", 1, 641, "64 levels"},
		{"other context", `{"@context":"http://schema.org","@type":"Person","name":"x"}`, vocab.ErrContext, "$.@context", 0, 0, "not available offline"},
		{"typeless array elements in to", `{"type":"Note","to":[1]}`, vocab.ErrPropertyType, "$.to[0]", 1, 22, "expected an IRI or an object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := reg.Decode([]byte(tc.doc))
			require.Error(t, err)
			assert.True(t, errors.Is(err, tc.err), "%v is not %v", err, tc.err)
			var de *vocab.DecodeError
			require.True(t, errors.As(err, &de), "%T", err)
			assert.Equal(t, tc.path, de.Path)
			assert.Equal(t, tc.line, de.Line, "line")
			assert.Equal(t, tc.col, de.Column, "column")
			assert.Contains(t, de.Detail, tc.detailPart)
			assert.Contains(t, err.Error(), tc.err.Error())
		})
	}
}

// TestInvalidIRIsInItemValues: a string where an IRI or an object may
// stand must be an IRI, whether it is the value, an element of an array,
// or a member of an embedded object; otherwise Decode fails with a
// *DecodeError at its path.
func TestInvalidIRIsInItemValues(t *testing.T) {
	reg := allVocabularies(t)
	props := []struct{ typ, prop string }{
		{"Create", "actor"}, {"Create", "object"}, {"Offer", "target"}, {"Move", "origin"},
		{"Create", "result"}, {"Create", "instrument"},
		{"Note", "to"}, {"Note", "cc"}, {"Note", "bto"}, {"Note", "bcc"}, {"Note", "audience"},
		{"Note", "inReplyTo"}, {"Note", "attributedTo"}, {"Note", "generator"}, {"Note", "context"},
		{"Note", "url"}, {"Note", "tag"}, {"Note", "attachment"}, {"Note", "icon"}, {"Note", "image"},
		{"Note", "location"}, {"Note", "preview"}, {"Note", "replies"}, {"Note", "likes"}, {"Note", "shares"},
		{"Collection", "first"}, {"Collection", "last"}, {"Collection", "current"}, {"Collection", "items"},
		{"OrderedCollection", "orderedItems"}, {"CollectionPage", "next"}, {"CollectionPage", "prev"}, {"CollectionPage", "partOf"},
		{"Question", "oneOf"}, {"Question", "anyOf"},
		{"Person", "followers"}, {"Person", "following"}, {"Person", "inbox"}, {"Person", "outbox"}, {"Person", "liked"}, {"Person", "streams"},
		{"Person", "featured"}, {"Person", "movedTo"}, {"Person", "alsoKnownAs"},
		{"Relationship", "subject"}, {"Relationship", "relationship"}, {"Profile", "describes"},
	}
	bad := []struct{ iri, why string }{
		{`https://x.example/<x>`, `contains '<'`},
		{`https://x.example/","actor":"https://evil.example/u`, `contains '"'`},
		{`https://x.example/a b`, "control character or space"},
	}
	for _, p := range props {
		for _, b := range bad {
			iri, _ := json.Marshal(b.iri)
			for _, form := range []struct {
				name, doc, path string
			}{
				{"value", fmt.Sprintf(`{"type":%q,%q:%s}`, p.typ, p.prop, iri), "$." + p.prop},
				{"array", fmt.Sprintf(`{"type":%q,%q:["https://a.example/ok",%s]}`, p.typ, p.prop, iri), "$." + p.prop + "[1]"},
				{"embedded", fmt.Sprintf(`{"type":"Announce","object":{"type":%q,%q:%s}}`, p.typ, p.prop, iri), "$.object." + p.prop},
			} {
				t.Run(p.typ+"."+p.prop+"/"+form.name+"/"+b.why, func(t *testing.T) {
					_, err := reg.Decode([]byte(form.doc))
					require.ErrorIs(t, err, vocab.ErrInvalidIRI, form.doc)
					var de *vocab.DecodeError
					require.ErrorAs(t, err, &de)
					assert.Equal(t, form.path, de.Path)
					assert.Contains(t, de.Detail, b.why)
				})
			}
		}
		t.Run(p.typ+"."+p.prop+"/valid", func(t *testing.T) {
			roundTrip(t, reg, fmt.Sprintf(`{"type":%q,%q:"https://a.example/ok"}`, p.typ, p.prop))
			roundTrip(t, reg, fmt.Sprintf(`{"type":%q,%q:["https://a.example/1","https://a.example/2"]}`, p.typ, p.prop))
		})
	}
}

func TestDecodeLimits(t *testing.T) {
	big := `{"type":"Note","content":"` + strings.Repeat("a", 2000) + `"}`
	reg, err := vocab.New(vocab.Options{MaxBytes: 1000, MaxDepth: 3})
	require.NoError(t, err)
	_, err = reg.Decode([]byte(big))
	assert.ErrorIs(t, err, vocab.ErrTooLarge)
	assert.Contains(t, err.Error(), "the limit is 1000")
	_, err = reg.DecodeReader(strings.NewReader(big))
	assert.ErrorIs(t, err, vocab.ErrTooLarge)

	_, err = reg.Decode([]byte(`{"type":"Create","object":{"type":"Note","tag":[{"type":"Mention"}]}}`))
	assert.ErrorIs(t, err, vocab.ErrTooDeep)
	_, err = reg.Decode([]byte(`{"type":"Create","object":{"type":"Note","tag":[]}}`))
	assert.NoError(t, err)

	exp, err := vocab.New(vocab.Options{MaxExpandedBytes: 100})
	require.NoError(t, err)
	_, err = exp.Decode([]byte(`{"@id":"https://a.example/n","@type":"https://www.w3.org/ns/activitystreams#Note","https://www.w3.org/ns/activitystreams#name":"x"}`))
	assert.ErrorIs(t, err, vocab.ErrTooLarge)
	assert.ErrorContains(t, err, "expanded JSON-LD")

	_, err = vocab.New(vocab.Options{MaxBytes: -1})
	assert.Error(t, err)
	_, err = vocab.DefaultRegistryForTest().Decode([]byte(`{"type":"Note","content":"` + strings.Repeat("a", vocab.DefaultMaxBytes) + `"}`))
	assert.ErrorIs(t, err, vocab.ErrTooLarge)
}

func TestDecodeShapes(t *testing.T) {
	reg := allVocabularies(t)
	for doc, want := range map[string]any{
		`{"type":"Note"}`:                          &vocab.Object{},
		`{"type":"Event"}`:                         &vocab.Object{},
		`{"type":"Mention","href":"https://a"}`:    &vocab.Link{},
		`{"type":"Hashtag","href":"https://a"}`:    &vocab.Link{},
		`{"type":"Follow"}`:                        &vocab.Activity{},
		`{"type":"Arrive"}`:                        &vocab.IntransitiveActivity{},
		`{"type":"Question"}`:                      &vocab.Question{},
		`{"type":"Person"}`:                        &vocab.Actor{},
		`{"type":"Group"}`:                         &vocab.Actor{},
		`{"type":"Collection"}`:                    &vocab.Collection{},
		`{"type":"OrderedCollection"}`:             &vocab.OrderedCollection{},
		`{"type":"CollectionPage"}`:                &vocab.CollectionPage{},
		`{"type":"OrderedCollectionPage"}`:         &vocab.OrderedCollectionPage{},
		`{"type":"Place"}`:                         &vocab.Place{},
		`{"type":"Profile"}`:                       &vocab.Profile{},
		`{"type":"Relationship"}`:                  &vocab.Relationship{},
		`{"type":"Tombstone"}`:                     &vocab.Tombstone{},
		`{"type":"Member"}`:                        &vocab.Activity{}, // mobilizon
		`{"type":"Lock"}`:                          &vocab.Activity{}, // lemmy
		`{"type":"Project"}`:                       &vocab.Object{},   // communecter
		`{"type":["Object","Person"]}`:             &vocab.Object{},   // the first known type wins
		`{"type":["Emoji","Person"]}`:              &vocab.Actor{},
		`{"type":"Resolve","actor":"https://a"}`:   &vocab.Activity{}, // unknown, but has an actor
		`{"type":"Bot","inbox":"https://a/inbox"}`: &vocab.Actor{},    // unknown, but has an inbox
		`{"type":"Emoji"}`:                         &vocab.Object{},
		`{"object":{"type":"Note"}}`:               &vocab.Activity{}, // a fragment without type
	} {
		it := decode(t, reg, doc)
		assert.IsType(t, want, it, doc)
	}
}

func TestUnknownTypeKeepsType(t *testing.T) {
	reg := vocab.MustRegistry()
	it, out := roundTrip(t, reg, `{"type":"Project","id":"https://c.example/p/1","shortDescription":"x"}`)
	assert.Equal(t, ap.ActivityVocabularyType("Project"), it.GetType())
	assert.Equal(t, []string{"Project"}, vocab.Types(it))
	assert.Contains(t, out, `"shortDescription":"x"`)
	o := it.(*vocab.Object)
	assert.JSONEq(t, `"x"`, string(o.Extra["shortDescription"]))

	it, out = roundTrip(t, reg, `{"type":["Document","toot:Emoji","Note"],"id":"https://a"}`)
	assert.Equal(t, ap.ActivityVocabularyType("Document"), it.GetType())
	assert.Equal(t, []string{"Document", "toot:Emoji", "Note"}, vocab.Types(it))
	assert.True(t, vocab.HasType(it, "Note"))
	assert.Contains(t, out, `"type":["Document","toot:Emoji","Note"]`)
}

func TestRealWorldShapes(t *testing.T) {
	reg := allVocabularies(t)
	for name, doc := range map[string]string{
		"no context":          `{"type":"Like","actor":"https://a.example/u","object":"https://b.example/p/1"}`,
		"http context":        `{"@context":"http://www.w3.org/ns/activitystreams","type":"Note","content":"hi"}`,
		"custom-only context": `{"@context":{"x":"https://x.example/ns#"},"type":"Note","x":1}`,
		"identity first":      `{"@context":["https://w3id.org/identity/v1","https://www.w3.org/ns/activitystreams",{"Emoji":"toot:Emoji"}],"type":"Person","id":"https://f.example/u"}`,
		"type array":          `{"type":["Object","Note"],"id":"https://a"}`,
		"single values":       `{"type":"Note","to":"https://www.w3.org/ns/activitystreams#Public","cc":"https://a/followers","tag":{"type":"Hashtag","href":"https://a/t","name":"#t"},"attachment":{"type":"Document","url":"https://a/i.png"}}`,
		"arrays everywhere":   `{"type":["Note"],"to":["as:Public"],"attributedTo":["https://a/u"],"inReplyTo":["https://a/1","https://a/2"],"url":[{"type":"Link","href":"https://a/1"},"https://a/2"]}`,
		"IRI or object":       `{"type":"Announce","actor":{"type":"Person","id":"https://a/u","inbox":"https://a/u/inbox"},"object":{"type":"Create","actor":"https://b/u","object":{"type":"Note","id":"https://b/n"}}}`,
		"public forms":        `{"type":"Note","to":["as:Public","Public","https://www.w3.org/ns/activitystreams#Public"]}`,
		"nulls":               `{"type":"Note","id":null,"name":null,"summary":null,"inReplyTo":null,"published":null,"to":null,"tag":[null],"sensitive":null,"atomUri":null,"url":null}`,
		"null ids":            `{"type":"Create","id":null,"actor":{"type":"Person","id":null,"inbox":null,"publicKey":{"id":null,"owner":null}},"object":{"id":null}}`,
		"null id alone":       `{"id":null}`,
		"timestamps":          `{"type":"Note","published":"2023-07-02T10:15:00+0000","updated":"2019-06-02T16:43:50.799554Z","startTime":"2022-12-11T19:00:00+00:00","endTime":"2021-01-01T00:00:00.123456789Z"}`,
		"ld signature":        `{"type":"Create","actor":"https://a/u","signature":{"type":"RsaSignature2017","creator":"https://a/u#main-key","created":"2018-02-12T14:08:20Z","signatureValue":"rnNf=="}}`,
		"proof":               `{"type":"Create","actor":"https://a/u","proof":{"type":"DataIntegrityProof","cryptosuite":"eddsa-jcs-2022","verificationMethod":"https://a/u#ed","proofPurpose":"assertionMethod","proofValue":"z3x"}}`,
		"content maps":        `{"type":"Note","content":"<p>hi</p>","contentMap":{"en":"<p>hi</p>","fr":"<p>salut</p>"},"nameMap":{"en":"A","de-CH-1901":"B"},"summaryMap":{"es":"S"}}`,
		"escapes":             `{"type":"Note","content":"<a href=\"x\">\u00e9\u2028\ud83d\ude00</a>\n","name":"tab\there"}`,
		"numbers":             `{"type":"Place","latitude":4.8425657e1,"longitude":-3.537739788359949,"altitude":0,"accuracy":94.5,"radius":5,"units":"km"}`,
		"endpoints string":    `{"type":"Person","id":"https://p.example/u","endpoints":"https://p.example/#endpoints"}`,
		"public key array":    `{"type":"Person","id":"https://f.example/u","publicKey":[{"id":"https://f.example/u#k1","type":"CryptographicKey","owner":"https://f.example/u","publicKeyPem":"PEM1"},{"id":"https://f.example/u#k2","publicKeyPem":"PEM2"}]}`,
		"source string":       `{"type":"Note","source":"@alice hello"}`,
		"duration number":     `{"type":"Audio","duration":213}`,
		"latitude string":     `{"type":"Place","latitude":"37.7833","longitude":122.4167}`,
		"closed time":         `{"type":"Question","closed":"2023-01-01T00:00:00.000Z","oneOf":[{"type":"Note","name":"a","replies":{"type":"Collection","totalItems":3}}]}`,
		"closed bool":         `{"type":"Question","closed":false,"anyOf":[]}`,
		"closed object":       `{"type":"Question","closed":{"type":"Note","id":"https://a/n"}}`,
		"rel array":           `{"type":"Link","href":"https://a","rel":["alternate","me"]}`,
		"lemmy language":      `{"type":"Page","language":{"identifier":"fr","name":"Français"},"stickied":true}`,
		"lemmy languages":     `{"type":"Group","language":[{"identifier":"fr","name":"Français"},{"identifier":"de","name":"Deutsch"}]}`,
		"wrong ext kind":      `{"type":"Event","joinMode":42,"participationMessage":["x"]}`,
		"nested context":      `{"type":"Announce","object":{"@context":"https://www.w3.org/ns/activitystreams","type":"Note","id":"https://a/n"}}`,
		"unicode IRIs":        `{"type":"Note","id":"https://例え.jp/ノート/1","attributedTo":"https://例え.jp/ユーザー"}`,
		"empty containers":    `{"type":"Note","to":[],"cc":[],"tag":[],"attachment":[],"contentMap":{}}`,
	} {
		t.Run(name, func(t *testing.T) { roundTrip(t, reg, doc) })
	}
}

func TestTypedValues(t *testing.T) {
	reg := allVocabularies(t)
	it := decode(t, reg, `{"type":"Create","id":"https://a.example/c/1","actor":"https://a.example/u",
		"published":"2023-07-02T10:15:00+0000","to":"as:Public",
		"object":{"type":"Note","id":"https://a.example/n/1","content":"<p>hi</p>","contentMap":{"en":"<p>hi</p>"},
		"sensitive":true,"tag":[{"type":"Mention","href":"https://b.example/u","name":"@u@b.example"}]}}`)
	a, ok := it.(*vocab.Activity)
	require.True(t, ok)
	assert.Equal(t, ap.IRI("https://a.example/u"), a.Actor)
	assert.True(t, a.Published.Equal(time.Date(2023, 7, 2, 10, 15, 0, 0, time.UTC)))
	assert.Equal(t, []ap.IRI{vocab.PublicIRI}, vocab.Audience(a))
	assert.True(t, vocab.IsPublicItem(a))
	n, ok := a.Object.(*vocab.Object)
	require.True(t, ok)
	assert.Equal(t, "<p>hi</p>", vocab.TextOf(n.Content))
	assert.Len(t, n.Content, 2)
	require.NotNil(t, n.Sensitive)
	assert.True(t, *n.Sensitive)
	m, ok := n.Tag[0].(*vocab.Link)
	require.True(t, ok)
	assert.Equal(t, ap.IRI("https://b.example/u"), m.Href)
	assert.Equal(t, "@u@b.example", vocab.TextOf(m.Name))
}

func TestExpandedJSONLD(t *testing.T) {
	reg := vocab.MustRegistry()
	it := decode(t, reg, `{"@id":"https://example.com/hong-gildong","@type":["https://www.w3.org/ns/activitystreams#Person"],
		"https://www.w3.org/ns/activitystreams#name":[{"@value":"Hong Gildong"}],
		"http://www.w3.org/ns/ldp#inbox":[{"@id":"https://example.com/hong-gildong/inbox"}]}`)
	a, ok := it.(*vocab.Actor)
	require.True(t, ok, "%T", it)
	assert.Equal(t, "Hong Gildong", vocab.TextOf(a.Name))
	assert.Equal(t, ap.IRI("https://example.com/hong-gildong/inbox"), a.Inbox)
	var warned bool
	for _, p := range vocab.Problems(it) {
		warned = warned || strings.Contains(p.Message, "expanded JSON-LD")
	}
	assert.True(t, warned)
}

func TestValidate(t *testing.T) {
	reg := allVocabularies(t)
	for doc, want := range map[string]string{
		`{"@context":"https://www.w3.org/ns/activitystreams","type":"Note","id":"https://a/n"}`:          "",
		`{"type":"Note","id":"https://a/n"}`:                                                             "",
		`[{"type":"Note"}]`:                                                                              "$: the document is an array",
		`{"type":"Note","url":"images/sally.jpg"}`:                                                       `$.url: "images/sally.jpg" is not an absolute IRI`,
		`{"type":"Note","contentMap":{"de-419-DE":"x"}}`:                                                 `"de-419-DE" is not a well-formed BCP 47 language tag`,
		`{"type":"Note","name":{"en":"x"}}`:                                                              "$.name: name must be a string",
		`{"type":"Note","nameMap":"x"}`:                                                                  "$.nameMap: nameMap must be a map",
		`{"type":"OrderedCollection","items":[]}`:                                                        "orderedItems, not items",
		`{"type":"Collection","orderedItems":[]}`:                                                        "items, not orderedItems",
		`{"type":"Collection","first":{"type":"Create"}}`:                                                "$.first: first must be a collection page",
		`{"type":"Create","object":{"type":"Note","to":["/relative"]}}`:                                  `$.object.to[0]: "/relative" is not an absolute IRI`,
		`{"type":"Note","published":"next tuesday"}`:                                                     `"next tuesday" is not a timestamp`,
		`{"type":"Collection","first":{"type":"CollectionPage","items":[]},"last":"https://a/c?page=9"}`: "",
		`{"type":"Note","to":["as:Public"],"id":"_:b0"}`:                                                 "",
	} {
		err := vocab.Validate(decode(t, reg, doc))
		if want == "" {
			assert.NoError(t, err, doc)
			continue
		}
		if assert.Error(t, err, doc) {
			assert.ErrorIs(t, err, vocab.ErrInvalid)
			assert.Contains(t, err.Error(), want, doc)
		}
	}
	// Warnings are listed by Problems but do not fail Validate.
	it := decode(t, reg, `{"type":"Note","published":"2019-09-19T00:32:36"}`)
	assert.NoError(t, vocab.Validate(it))
	var msgs []string
	for _, p := range vocab.Problems(it) {
		assert.Equal(t, vocab.SeverityWarning, p.Severity)
		msgs = append(msgs, p.String())
	}
	assert.Contains(t, strings.Join(msgs, "\n"), "no @context")
	assert.Contains(t, strings.Join(msgs, "\n"), "has no UTC offset")
}

func TestDecodeReaderAndJSONInterfaces(t *testing.T) {
	reg := vocab.MustRegistry()
	it, err := reg.DecodeReader(strings.NewReader(`{"type":"Note","id":"https://a/n","content":"x","y":1}`))
	require.NoError(t, err)
	n := it.(*vocab.Object)

	// encoding/json uses the lossless codec, not go-ap's.
	b, err := json.Marshal(n)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"y":1`)
	var back vocab.Object
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, "x", vocab.TextOf(back.Content))
	assert.JSONEq(t, `1`, string(back.Extra["y"]))

	var wrong vocab.Activity
	err = json.Unmarshal(b, &wrong)
	assert.ErrorContains(t, err, "decodes to *vocab.Object, not *vocab.Activity")
}

func TestOwnerOf(t *testing.T) {
	reg := vocab.MustRegistry()
	for doc, want := range map[string]string{
		`{"type":"Create","actor":"https://a/u","object":{"type":"Note","attributedTo":"https://b/u"}}`: "https://a/u",
		`{"type":"Note","attributedTo":["https://a/u","https://b/u"]}`:                                  "https://a/u",
		`{"type":"Note","attributedTo":{"type":"Person","id":"https://a/u"}}`:                           "https://a/u",
		`{"type":"Person","id":"https://a/u","attributedTo":"https://x/y"}`:                             "https://a/u",
		`{"type":"CryptographicKey","id":"https://a/u#k","owner":"https://a/u"}`:                        "https://a/u",
		`{"type":"Arrive","actor":"https://a/u"}`:                                                       "https://a/u",
		`{"type":"Note"}`:                         "",
		`{"type":"Mention","href":"https://a/u"}`: "",
	} {
		assert.Equal(t, ap.IRI(want), vocab.OwnerOf(decode(t, reg, doc)), doc)
	}
	assert.Equal(t, ap.IRI(""), vocab.OwnerOf(ap.IRI("https://a/u")))
}
