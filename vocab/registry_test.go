package vocab_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	ap "github.com/go-ap/activitypub"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fedi-go/fedi/vocab"
	"github.com/fedi-go/fedi/vocab/communecter"
	"github.com/fedi-go/fedi/vocab/lemmy"
	"github.com/fedi-go/fedi/vocab/mobilizon"
	"github.com/fedi-go/fedi/vocab/schema"
)

type colorFields struct{ Color string }
type otherColorFields struct{ Colour string }

func TestRegistryConflicts(t *testing.T) {
	colors := vocab.MustVocabulary(vocab.VocabularyDef{
		Name:  "colors",
		Terms: []vocab.Term{{Name: "c", ID: "https://colors.example/ns#"}},
		Types: []vocab.TypeDef{{Name: "Swatch", ID: "c:Swatch", Shape: vocab.ShapeObject}},
		Properties: []vocab.PropertySet{vocab.NewProperties(
			vocab.StringField(vocab.Term{Name: "color", ID: "c:color"}, func(f *colorFields) *string { return &f.Color }))},
	})
	for _, tc := range []struct {
		name   string
		def    vocab.VocabularyDef
		term   string
		detail string
	}{
		{"property claimed twice", vocab.VocabularyDef{Name: "paint", Properties: []vocab.PropertySet{vocab.NewProperties(
			vocab.StringField(vocab.Term{Name: "color", ID: "c:color"}, func(f *otherColorFields) *string { return &f.Colour }))}},
			"color", "both claim the property"},
		{"type with another IRI", vocab.VocabularyDef{Name: "paint", Types: []vocab.TypeDef{{Name: "Swatch", ID: "p:Swatch"}}},
			"Swatch", "c:Swatch"},
		{"type with another shape", vocab.VocabularyDef{Name: "paint", Types: []vocab.TypeDef{{Name: "Swatch", ID: "c:Swatch", Shape: vocab.ShapeActor}}},
			"Swatch", "Actor"},
		{"prefix with another IRI", vocab.VocabularyDef{Name: "paint", Terms: []vocab.Term{{Name: "c", ID: "https://paint.example/ns#"}}},
			"c", "https://colors.example/ns#"},
		{"core type", vocab.VocabularyDef{Name: "paint", Types: []vocab.TypeDef{{Name: "Note", ID: "p:Note"}}},
			"Note", "as:Note"},
		{"core property", vocab.VocabularyDef{Name: "paint", Properties: []vocab.PropertySet{vocab.NewProperties(
			vocab.StringField(vocab.Term{Name: "content", ID: "p:content"}, func(f *otherColorFields) *string { return &f.Colour }))}},
			"content", "ActivityStreams"},
		{"common property", vocab.VocabularyDef{Name: "paint", Properties: []vocab.PropertySet{vocab.NewProperties(
			vocab.StringField(vocab.Term{Name: "sensitive", ID: "p:sensitive"}, func(f *otherColorFields) *string { return &f.Colour }))}},
			"sensitive", "core vocabulary"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			other, err := vocab.NewVocabulary(tc.def)
			require.NoError(t, err)
			_, err = vocab.NewRegistry(colors, other)
			require.Error(t, err)
			assert.ErrorIs(t, err, vocab.ErrConflict)
			var ce *vocab.ConflictError
			require.True(t, errors.As(err, &ce))
			assert.Equal(t, tc.term, ce.Term)
			assert.Contains(t, err.Error(), tc.detail)
		})
	}
	// Identical definitions merge: the same types and prefixes twice, and a
	// vocabulary included by several others.
	same := vocab.MustVocabulary(vocab.VocabularyDef{Name: "colors2",
		Terms: []vocab.Term{{Name: "c", ID: "https://colors.example/ns#"}},
		Types: []vocab.TypeDef{{Name: "Swatch", ID: "c:Swatch"}, {Name: "Organization", ID: "as:Organization", Shape: vocab.ShapeActor}}})
	_, err := vocab.NewRegistry(colors, same, colors)
	assert.NoError(t, err)
	reg, err := vocab.NewRegistry(mobilizon.Vocabulary, communecter.Vocabulary, lemmy.Vocabulary, schema.Vocabulary)
	require.NoError(t, err)
	var names []string
	for _, v := range reg.Vocabularies() {
		names = append(names, v.Name())
	}
	assert.Equal(t, []string{"schema.org", "mobilizon", "communecter", "lemmy"}, names)
	shape, ok := reg.ShapeOf("Member")
	assert.True(t, ok)
	assert.Equal(t, vocab.ShapeActivity, shape)
}

func TestVocabularyDefinitionErrors(t *testing.T) {
	props := vocab.NewProperties(vocab.StringField(vocab.Term{Name: "color", ID: "c:color"}, func(f *colorFields) *string { return &f.Color }))
	_, err := vocab.NewVocabulary(vocab.VocabularyDef{Name: "a", Properties: []vocab.PropertySet{props}})
	require.NoError(t, err)
	for name, def := range map[string]vocab.VocabularyDef{
		"no name":          {},
		"keyword":          {Name: "x", Terms: []vocab.Term{{Name: "@id", ID: "x:y"}}},
		"empty term":       {Name: "x", Terms: []vocab.Term{{Name: "t"}}},
		"twice":            {Name: "x", Terms: []vocab.Term{{Name: "t", ID: "x:a"}, {Name: "t", ID: "x:b"}}},
		"bad shape":        {Name: "x", Types: []vocab.TypeDef{{Name: "T", ID: "x:T", Shape: vocab.Shape(200)}}},
		"set owned":        {Name: "b", Properties: []vocab.PropertySet{props}},
		"nil set":          {Name: "x", Properties: []vocab.PropertySet{nil}},
		"nil include":      {Name: "x", Includes: []*vocab.Vocabulary{nil}},
		"type as property": {Name: "x", Types: []vocab.TypeDef{{Name: "color", ID: "x:other"}}, Properties: []vocab.PropertySet{vocab.NewProperties(vocab.StringField(vocab.Term{Name: "color", ID: "c:color"}, func(f *colorFields) *string { return &f.Color }))}},
	} {
		_, err := vocab.NewVocabulary(def)
		assert.Error(t, err, name)
	}
	assert.Panics(t, func() {
		vocab.NewProperties(
			vocab.StringField(vocab.Term{Name: "color", ID: "c:color"}, func(f *colorFields) *string { return &f.Color }),
			vocab.StringField(vocab.Term{Name: "color", ID: "c:color"}, func(f *colorFields) *string { return &f.Color }))
	})
	_, err = vocab.NewRegistry(nil)
	assert.Error(t, err)
}

// TestRegistryConcurrentUse runs decoders and encoders in parallel; run
// with -race.
func TestRegistryConcurrentUse(t *testing.T) {
	reg := allVocabularies(t)
	docs := [][]byte{readPayload(t, benchPayloads[0].file), readPayload(t, benchPayloads[1].file),
		[]byte(`{"type":"Join","actor":"https://a/u","object":"https://b/e","participationMessage":"hi"}`)}
	want := make([]string, len(docs))
	for i, d := range docs {
		it, err := reg.Decode(d)
		require.NoError(t, err)
		out, err := reg.Encode(it)
		require.NoError(t, err)
		want[i] = string(out)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				d := docs[(g+i)%len(docs)]
				it, err := reg.Decode(d)
				if err != nil {
					errs <- err
					return
				}
				if j, ok := mobilizon.JoinOf(it); ok {
					j.ParticipationMessage = "hi" // views write to their own item only
				}
				out, err := reg.Encode(it)
				if err != nil {
					errs <- err
					return
				}
				if string(out) != want[(g+i)%len(docs)] {
					errs <- fmt.Errorf("goroutine %d: output differs", g)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestRegistryContext(t *testing.T) {
	reg := allVocabularies(t)
	ctx := string(reg.Context())
	for _, want := range []string{`"https://www.w3.org/ns/activitystreams"`, `"https://w3id.org/security/v1"`,
		`"joinMode":{"@id":"mz:joinMode","@type":"mz:joinModeType"}`, `"moderators":{"@id":"lemmy:moderators","@type":"@id"}`,
		`"Project":"communecter:Project"`, `"PostalAddress":"schema:PostalAddress"`, `"ical":"http://www.w3.org/2002/12/cal/ical#"`} {
		assert.Contains(t, ctx, want)
	}
	assert.NotContains(t, ctx, `"ical:status"`)
	_ = ap.IRI("")
}
