// Package schema holds the schema.org terms that several fediverse
// platforms share: the PostalAddress type and the address property that
// Mobilizon, Communecter and others put on a Place.
//
// The Mobilizon and Communecter vocabularies include it, so registering
// either registers it too; it can also be registered on its own.
package schema

import (
	ap "github.com/go-ap/activitypub"

	"github.com/fedi-go/fedi/vocab"
)

// PostalAddressFields are the properties of a schema.org PostalAddress.
type PostalAddressFields struct {
	StreetAddress   string
	PostalCode      string
	AddressLocality string
	AddressRegion   string
	AddressCountry  string
}

// AddressFields hold the schema.org address property, which points from a
// Place (or an actor) to its PostalAddress.
type AddressFields struct {
	// Address is usually an embedded *vocab.Object of type PostalAddress;
	// read it with PostalAddressOf.
	Address ap.Item
}

var postalAddressFields = vocab.NewProperties(
	vocab.StringField(vocab.Term{Name: "streetAddress", ID: "schema:streetAddress"},
		func(f *PostalAddressFields) *string { return &f.StreetAddress }),
	vocab.StringField(vocab.Term{Name: "postalCode", ID: "schema:postalCode"},
		func(f *PostalAddressFields) *string { return &f.PostalCode }),
	vocab.StringField(vocab.Term{Name: "addressLocality", ID: "schema:addressLocality"},
		func(f *PostalAddressFields) *string { return &f.AddressLocality }),
	vocab.StringField(vocab.Term{Name: "addressRegion", ID: "schema:addressRegion"},
		func(f *PostalAddressFields) *string { return &f.AddressRegion }),
	vocab.StringField(vocab.Term{Name: "addressCountry", ID: "schema:addressCountry"},
		func(f *PostalAddressFields) *string { return &f.AddressCountry }),
)

var addressFields = vocab.NewProperties(
	vocab.ItemField(vocab.Term{Name: "address", ID: "schema:address", Type: "schema:PostalAddress"},
		func(f *AddressFields) *ap.Item { return &f.Address }),
)

// Vocabulary is the schema.org vocabulary.
var Vocabulary = vocab.MustVocabulary(vocab.VocabularyDef{
	Name:       "schema.org",
	Terms:      []vocab.Term{{Name: "schema", ID: "http://schema.org#"}},
	Types:      []vocab.TypeDef{{Name: "PostalAddress", ID: "schema:PostalAddress", Shape: vocab.ShapeObject}},
	Properties: []vocab.PropertySet{postalAddressFields, addressFields},
})

// PostalAddress is a typed view of a PostalAddress object. Reading and
// writing its fields reads and writes the object.
type PostalAddress struct {
	*vocab.Object
	*PostalAddressFields
}

// PostalAddressOf returns the PostalAddress view of an item.
func PostalAddressOf(it vocab.Item) (PostalAddress, bool) {
	o, ok := it.(*vocab.Object)
	if !ok || !vocab.HasType(o, "PostalAddress") {
		return PostalAddress{}, false
	}
	return PostalAddress{Object: o, PostalAddressFields: vocab.PropsOf(o, postalAddressFields)}, true
}

// NewPostalAddress returns a PostalAddress.
func NewPostalAddress(street, postalCode, locality, region, country string) PostalAddress {
	o := vocab.NewObject("PostalAddress", "")
	a := PostalAddress{Object: o, PostalAddressFields: vocab.PropsOf(o, postalAddressFields)}
	a.StreetAddress, a.PostalCode, a.AddressLocality, a.AddressRegion, a.AddressCountry = street, postalCode, locality, region, country
	return a
}

// Place is a typed view of a Place with a schema.org address.
type Place struct {
	*vocab.Place
	*AddressFields
}

// PlaceOf returns the Place view of an item.
func PlaceOf(it vocab.Item) (Place, bool) {
	p, ok := it.(*vocab.Place)
	if !ok {
		return Place{}, false
	}
	return Place{Place: p, AddressFields: vocab.PropsOf(p, addressFields)}, true
}

// NewPlace returns a Place with an address.
func NewPlace(id ap.IRI, name string, address PostalAddress) Place {
	p := Place{Place: vocab.NewPlace(id, name)}
	p.AddressFields = vocab.PropsOf(p.Place, addressFields)
	if address.Object != nil {
		p.Address = address.Object
	}
	return p
}

// PostalAddress returns the place's address.
func (p Place) PostalAddress() (PostalAddress, bool) {
	if p.AddressFields == nil {
		return PostalAddress{}, false
	}
	return PostalAddressOf(p.Address)
}

// AddressOf returns the address fields of any item, such as an actor.
func AddressOf(it vocab.Item) *AddressFields { return vocab.PropsOf(it, addressFields) }
