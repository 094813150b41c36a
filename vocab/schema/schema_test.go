package schema_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fedi-go/fedi/vocab"
	"github.com/fedi-go/fedi/vocab/schema"
)

var reg = vocab.MustRegistry(schema.Vocabulary)

func TestAddress(t *testing.T) {
	it, err := reg.Decode([]byte(`{"type":"Place","id":"https://m/a/1","name":"10 Rue Jangot",
		"address":{"type":"PostalAddress","streetAddress":"10 Rue Jangot","postalCode":"69007","addressLocality":"Lyon"}}`))
	require.NoError(t, err)
	p, ok := schema.PlaceOf(it)
	require.True(t, ok)
	addr, ok := p.PostalAddress()
	require.True(t, ok)
	assert.Equal(t, "69007", addr.PostalCode)
	addr.PostalCode = "69008"
	out, err := reg.Encode(it)
	require.NoError(t, err)
	assert.Contains(t, string(out), `"postalCode":"69008"`)

	// schema.org allows a plain-text address; it is kept as it is.
	it, err = reg.Decode([]byte(`{"type":"Place","name":"Gancio","address":"C/ Falsa 123"}`))
	require.NoError(t, err)
	p, _ = schema.PlaceOf(it)
	_, ok = p.PostalAddress()
	assert.False(t, ok)
	out, err = reg.Encode(it)
	require.NoError(t, err)
	assert.Contains(t, string(out), `"address":"C/ Falsa 123"`)

	_, ok = schema.PlaceOf(vocab.NewObject("Note", ""))
	assert.False(t, ok)
	_, ok = schema.PostalAddressOf(vocab.NewObject("Note", ""))
	assert.False(t, ok)
}

func ExampleNewPlace() {
	reg := vocab.MustRegistry(schema.Vocabulary)
	place := schema.NewPlace("https://events.example/places/1", "Town hall",
		schema.NewPostalAddress("1 Main Street", "12345", "Springfield", "", "US"))
	place.SetCoordinates(0, -12.5)
	out, err := reg.Encode(place)
	if err != nil {
		panic(err)
	}
	fmt.Println(string(out))
	// Output: {"@context":["https://www.w3.org/ns/activitystreams","https://w3id.org/security/v1",{"schema":"http://schema.org#","PostalAddress":"schema:PostalAddress","streetAddress":"schema:streetAddress","postalCode":"schema:postalCode","addressLocality":"schema:addressLocality","addressRegion":"schema:addressRegion","addressCountry":"schema:addressCountry","address":{"@id":"schema:address","@type":"schema:PostalAddress"}}],"id":"https://events.example/places/1","type":"Place","name":"Town hall","latitude":0,"longitude":-12.5,"address":{"type":"PostalAddress","streetAddress":"1 Main Street","postalCode":"12345","addressLocality":"Springfield","addressCountry":"US"}}
}
