package vocab_test

import (
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"

	ap "github.com/go-ap/activitypub"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fedi-go/fedi/internal/jsoneq"
	"github.com/fedi-go/fedi/vocab"
	"github.com/fedi-go/fedi/vocab/mobilizon"
	"github.com/fedi-go/fedi/vocab/schema"
)

// The regressions below were found in review, each with the input that
// showed it.

func noDuplicates(t *testing.T, out []byte) {
	t.Helper()
	if d := jsoneq.Duplicate(out); d != "" {
		t.Errorf("duplicate member %s in %s", d, out)
	}
}

func TestRawValuesAreWrittenOnce(t *testing.T) {
	reg := allVocabularies(t)
	for _, doc := range []string{
		`{"type":"Place","latitude":"abc","longitude":5}`,
		`{"type":"Place","altitude":null,"latitude":null,"longitude":5}`,
		`{"type":"Link","href":"https://a","rel":["me","alternate"],"height":-1}`,
		`{"type":"Tombstone","formerType":["Note","Article"]}`,
		`{"type":"Note","sensitive":"true","source":"plain text"}`,
		`{"type":"Person","endpoints":"https://k.example/#endpoints"}`,
		`{"type":"Person","endpoints":{"sharedInbox":"https://p.example/inbox","oauthRegistrationEndpoint":"https://p.example/reg"}}`,
		`{"type":"Event","maximumAttendeeCapacity":1.5}`,
	} {
		t.Run(doc, func(t *testing.T) { roundTrip(t, reg, doc) })
	}
}

func TestEditsOfRawValues(t *testing.T) {
	reg := allVocabularies(t)
	const actor = `{"type":"Person","id":"https://a/u","publicKey":{"id":"https://a/u#k","type":"CryptographicKey","owner":"https://a/u","publicKeyPem":"OLD"}}`

	// An edit replaces the raw value, once.
	a := decode(t, reg, actor).(*vocab.Actor)
	a.PublicKey.PublicKeyPem = "NEW"
	out := encode(t, reg, a)
	noDuplicates(t, out)
	assert.Contains(t, string(out), `"publicKeyPem":"NEW"`)
	assert.NotContains(t, string(out), "OLD")

	// Clearing it removes it.
	a = decode(t, reg, actor).(*vocab.Actor)
	a.PublicKey = ap.PublicKey{}
	out = encode(t, reg, a)
	assert.NotContains(t, string(out), "publicKey")

	// Unchanged, it comes back exactly.
	a = decode(t, reg, actor).(*vocab.Actor)
	assert.Contains(t, string(encode(t, reg, a)), `"type":"CryptographicKey"`)

	n := decode(t, reg, `{"type":"Note","source":"plain text","sensitive":"yes"}`).(*vocab.Object)
	n.Source.Content = vocab.Text("edited")
	yes := true
	n.Sensitive = &yes
	out = encode(t, reg, n)
	noDuplicates(t, out)
	assert.Contains(t, string(out), `"source":{"content":"edited"}`)
	assert.Contains(t, string(out), `"sensitive":true`)

	p := decode(t, reg, `{"type":"Person","endpoints":"https://k.example/#endpoints"}`).(*vocab.Actor)
	p.Endpoints = &ap.Endpoints{SharedInbox: ap.IRI("https://k.example/inbox")}
	out = encode(t, reg, p)
	noDuplicates(t, out)
	assert.Contains(t, string(out), `"endpoints":{"sharedInbox":"https://k.example/inbox"}`)

	o := decode(t, reg, `{"type":"Note","nameMap":"hello"}`).(*vocab.Object)
	o.Name = append(o.Name, ap.LangRefValue{Ref: "fr", Value: ap.Content("bonjour")})
	m := members(t, encode(t, reg, o))
	assert.Equal(t, map[string]any{"fr": "bonjour"}, m["nameMap"])
	assert.Equal(t, "hello", m["name"])
}

func TestViewsMigrateNestedObjects(t *testing.T) {
	core := vocab.MustRegistry()
	it := decode(t, core, `{"type":"Place","address":{"type":"PostalAddress","id":"https://m/a/1","streetAddress":"1 rue",
		"postalCode":"75001","addressLocality":"Paris","addressRegion":"IDF","addressCountry":"FR","name":"home","url":"https://m/a",
		"tag":[{"type":"Hashtag","name":"#a","href":"https://m/t/a"}]}}`)
	p, ok := schema.PlaceOf(it)
	require.True(t, ok)
	addr, ok := p.PostalAddress()
	require.True(t, ok)
	assert.Equal(t, "Paris", addr.AddressLocality)
}

func TestDecodeResourceLimits(t *testing.T) {
	reg := allVocabularies(t)
	_, err := reg.Decode([]byte(`{"type":"Note","tag":[` + strings.Repeat("{},", 20000) + `{}]}`))
	assert.ErrorIs(t, err, vocab.ErrTooLarge)
	assert.ErrorContains(t, err, "objects")
	_, err = reg.Decode([]byte(`{"type":"Note","x":[` + strings.Repeat("0,", 200000) + `0]}`))
	assert.ErrorIs(t, err, vocab.ErrTooLarge)
	assert.ErrorContains(t, err, "values")

	// What remains alive after decoding stays within a small multiple of
	// the input.
	doc := []byte(`{"type":"OrderedCollection","orderedItems":[` + strings.Repeat(`{"type":"Note"},`, 9000) + `{}]}`)
	var m1, m2 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m1)
	it, err := reg.Decode(doc)
	require.NoError(t, err)
	runtime.GC()
	runtime.ReadMemStats(&m2)
	runtime.KeepAlive(it)
	kept := float64(m2.HeapAlloc) - float64(m1.HeapAlloc)
	assert.Less(t, kept/float64(len(doc)), 100.0, "%d input bytes keep %.0f bytes alive", len(doc), kept)
}

func TestContextCacheDoesNotKeepLargeContexts(t *testing.T) {
	reg := allVocabularies(t)
	var m1, m2 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m1)
	pad := strings.Repeat("a", 1<<19)
	for i := 0; i < 10; i++ {
		doc := fmt.Sprintf(`{"@context":["https://www.w3.org/ns/activitystreams",{"t%d":"https://x/%s"}],"type":"Note","t%d":1}`, i, pad, i)
		it, err := reg.Decode([]byte(doc))
		require.NoError(t, err)
		_ = encode(t, reg, it)
	}
	runtime.GC()
	runtime.ReadMemStats(&m2)
	assert.Less(t, int64(m2.HeapAlloc)-int64(m1.HeapAlloc), int64(2<<20))
	runtime.KeepAlive(reg)
}

func TestFullIRIKeysInCompactDocuments(t *testing.T) {
	reg := allVocabularies(t)
	roundTrip(t, reg, `{"type":"Delete","id":"https://a/d/1","actor":"https://a/u","object":"https://a/n/1","https://example.org/ns#x":1}`)
	roundTrip(t, reg, `{"@context":["https://w3id.org/identity/v1","https://www.w3.org/ns/activitystreams"],"type":"Note","id":"https://a/1","https://example.org/ns#x":1}`)
}

func TestCarriedDefinitionsKeepTheirPrefixes(t *testing.T) {
	reg := allVocabularies(t)
	for _, in := range []string{
		`{"@context":["https://www.w3.org/ns/activitystreams",{"toot":"http://joinmastodon.org/ns#","Emoji":"toot:Emoji"}],"type":"Like","id":"https://mk/l/1","actor":"https://mk/u/1","object":"https://b/n/1","tag":[{"type":"Emoji","name":":blob:","icon":{"type":"Image","url":"https://mk/e.png"}}]}`,
		`{"@context":["https://www.w3.org/ns/activitystreams",{"pt":"https://joinpeertube.org/ns#","playlists":{"@id":"pt:playlists","@type":"@id"}}],"type":"Person","id":"https://pt/a/1","playlists":"https://pt/a/1/playlists"}`,
	} {
		it := decode(t, reg, in)
		out := encode(t, reg, it)
		ok, d := expandedEqual([]byte(in), out)
		assert.True(t, ok, "%s\n%s", d, out)
	}
	out := encode(t, reg, decode(t, reg, `{"@context":["https://www.w3.org/ns/activitystreams",{"foo":"http://a/foo"},{"foo":"http://b/foo"}],"type":"Note","foo":1}`))
	noDuplicates(t, out)
	assert.Contains(t, string(out), `"foo":"http://b/foo"`)
	// A value of the wrong JSON type for an extension property keeps its
	// definition in the merged context.
	out = encode(t, reg, decode(t, reg, `{"type":"Event","maximumAttendeeCapacity":1.5}`))
	assert.Contains(t, string(out), `"maximumAttendeeCapacity":"schema:maximumAttendeeCapacity"`)
}

func TestDuplicateMembersInNestedValues(t *testing.T) {
	reg := allVocabularies(t)
	for _, doc := range []string{
		`{"type":"Note","contentMap":{"en":"safe","en":"<script>evil</script>"}}`,
		`{"type":"Note","source":{"content":"a","content":"b"}}`,
		`{"type":"Person","publicKey":{"id":"https://a#k","publicKeyPem":"A","publicKeyPem":"B"}}`,
		`{"type":"Person","endpoints":{"sharedInbox":"https://a/i","sharedInbox":"https://b/i"}}`,
		`{"type":"Page","language":{"identifier":"fr","identifier":"en"}}`,
	} {
		_, err := reg.Decode([]byte(doc))
		assert.ErrorIs(t, err, vocab.ErrSyntax, doc)
		assert.ErrorContains(t, err, "duplicate member", doc)
	}
}

// TestDuplicateMembersInObjectsOfEverySize: duplicates are refused in
// objects of any size; small objects and large ones are checked in
// different ways, so both sides of the boundary are tried, with the two
// members far apart, adjacent, first and last, at the top level and
// nested in an object no vocabulary claims.
func TestDuplicateMembersInObjectsOfEverySize(t *testing.T) {
	reg := allVocabularies(t)
	// object builds an object of n members: "type" first (at the top
	// level), then "m1", "m2", ...; the members at indexes dup[0] and
	// dup[1] (from 0) share a name when dup is not nil.
	object := func(n int, top bool, dup []int) string {
		names := make([]string, n)
		for i := range names {
			names[i] = fmt.Sprintf("m%d", i)
		}
		if top {
			names[0] = "type"
		}
		if dup != nil {
			names[dup[1]] = names[dup[0]]
		}
		var b strings.Builder
		b.WriteByte('{')
		for i, name := range names {
			if i > 0 {
				b.WriteByte(',')
			}
			v := `"v"`
			if name == "type" {
				v = `"Note"`
			}
			fmt.Fprintf(&b, "%q:%s", name, v)
		}
		b.WriteByte('}')
		return b.String()
	}
	for _, n := range []int{2, 3, 15, 16, 17, 18, 33, 200} {
		positions := map[string][]int{
			"first and last": {0, n - 1},
			"adjacent last":  {n - 2, n - 1},
			"adjacent first": {0, 1},
			"middle":         {n / 3, 2 * n / 3},
		}
		for where, dup := range positions {
			if dup[0] == dup[1] {
				continue
			}
			// At the top level "type" comes first and stays unique.
			if top := []int{max(dup[0], 1), dup[1]}; top[0] != top[1] {
				t.Run(fmt.Sprintf("%d members/%s/top level", n, where), func(t *testing.T) {
					doc := object(n, true, top)
					_, err := reg.Decode([]byte(doc))
					require.ErrorIs(t, err, vocab.ErrSyntax, doc)
					var de *vocab.DecodeError
					require.ErrorAs(t, err, &de)
					assert.Equal(t, fmt.Sprintf("$.m%d", top[0]), de.Path)
					assert.Contains(t, de.Detail, fmt.Sprintf("duplicate member %q", fmt.Sprintf("m%d", top[0])))
				})
			}
			t.Run(fmt.Sprintf("%d members/%s/nested", n, where), func(t *testing.T) {
				doc := `{"type":"Note","x":[` + object(n, false, dup) + `]}`
				_, err := reg.Decode([]byte(doc))
				require.ErrorIs(t, err, vocab.ErrSyntax, doc)
				var de *vocab.DecodeError
				require.ErrorAs(t, err, &de)
				assert.Equal(t, fmt.Sprintf("$.x[0].m%d", dup[0]), de.Path)
			})
		}
		t.Run(fmt.Sprintf("%d members/no duplicate", n), func(t *testing.T) {
			roundTrip(t, reg, object(n, true, nil))
			roundTrip(t, reg, `{"type":"Note","x":[`+object(n, false, nil)+`]}`)
		})
	}
}

func TestJSONFieldsAreLossless(t *testing.T) {
	reg := allVocabularies(t)
	for _, doc := range []string{
		`{"type":"Page","language":{"identifier":"fr","name":""}}`,
		`{"type":"Page","language":{"Identifier":"fr"}}`,
		`{"type":"Page","language":{"identifier":"fr","name":"Français","extra":1}}`,
	} {
		roundTrip(t, reg, doc)
	}
}

func TestEscapedKeys(t *testing.T) {
	reg := allVocabularies(t)
	it, _ := roundTrip(t, reg, `{"\u0074ype":"Person","id":"https://a/u","inbox":"https://a/i","\u006eame":{"en":"x"}}`)
	assert.IsType(t, &vocab.Actor{}, it)
	assert.Equal(t, ap.ActivityVocabularyType("Person"), it.GetType())
}

func TestTypedNil(t *testing.T) {
	reg := vocab.MustRegistry()
	var o *vocab.Object
	a := vocab.NewActivity("Create", "https://a/1", ap.IRI("https://a/u"), o)
	out := encode(t, reg, a)
	assert.Contains(t, string(out), `"object":null`)
	assert.NoError(t, vocab.Validate(a))
	_, err := reg.Encode(o)
	assert.ErrorIs(t, err, vocab.ErrEncode)
	var ga *ap.Object
	_, err = reg.Encode(ga)
	assert.ErrorIs(t, err, vocab.ErrEncode)
}

func TestMarshalValues(t *testing.T) {
	reg := vocab.MustRegistry()
	n := decode(t, reg, `{"type":"Note","id":"https://a/n","name":"x","y":1}`).(*vocab.Object)
	b, err := json.Marshal(struct {
		Note vocab.Object `json:"note"`
	}{*n})
	require.NoError(t, err)
	assert.Contains(t, string(b), `"y":1`)
}

// TestViewsAndSharedItems documents the concurrency contract: typed views
// may attach property sets, so an item is shared between goroutines only
// after its views have been taken once (or with the caller's own locking).
func TestViewsAndSharedItems(t *testing.T) {
	core := vocab.MustRegistry()
	it := decode(t, core, `{"type":"Event","id":"https://m/e/1","joinMode":"restricted"}`)
	_, _ = mobilizon.EventOf(it) // attaches the set before sharing
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ev, _ := mobilizon.EventOf(it)
			_ = ev.JoinMode
			_, _ = core.Encode(it)
		}()
	}
	wg.Wait()
}
