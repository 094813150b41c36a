package vocab

import (
	"reflect"
	"testing"

	ap "github.com/go-ap/activitypub"
)

// TestLayout checks every pointer conversion parts() makes between go-ap's
// structs: the fields reached through the converted pointer must have the
// same offset and the same type (interface types included: a value stored
// through an interface type other than the field's would carry the wrong
// itab) in every struct converted. A go-ap upgrade that changes a layout
// fails here instead of corrupting memory.
func TestLayout(t *testing.T) {
	same := func(t *testing.T, base, other reflect.Type, fields ...string) {
		t.Helper()
		for _, name := range fields {
			bf, ok1 := base.FieldByName(name)
			of, ok2 := other.FieldByName(name)
			if !ok1 || !ok2 {
				t.Errorf("%s.%s or %s.%s is missing", base.Name(), name, other.Name(), name)
				continue
			}
			if bf.Offset != of.Offset || bf.Type != of.Type {
				t.Errorf("%s.%s (offset %d, %s) ≠ %s.%s (offset %d, %s)", base.Name(), name, bf.Offset, bf.Type,
					other.Name(), name, of.Offset, of.Type)
			}
		}
	}
	object := reflect.TypeFor[ap.Object]()
	var objectFields []string
	for i := 0; i < object.NumField(); i++ {
		objectFields = append(objectFields, object.Field(i).Name)
	}
	for _, typ := range []reflect.Type{reflect.TypeFor[ap.Activity](), reflect.TypeFor[ap.IntransitiveActivity](),
		reflect.TypeFor[ap.Question](), reflect.TypeFor[ap.Actor](), reflect.TypeFor[ap.Collection](),
		reflect.TypeFor[ap.OrderedCollection](), reflect.TypeFor[ap.CollectionPage](),
		reflect.TypeFor[ap.OrderedCollectionPage](), reflect.TypeFor[ap.Place](), reflect.TypeFor[ap.Profile](),
		reflect.TypeFor[ap.Relationship](), reflect.TypeFor[ap.Tombstone]()} {
		t.Run("Object/"+typ.Name(), func(t *testing.T) { same(t, object, typ, objectFields...) })
	}
	// IntransitiveActivity's fields reached through parts.ia, except Actor,
	// whose type differs in Activity and has its own pointer.
	ia := reflect.TypeFor[ap.IntransitiveActivity]()
	for _, typ := range []reflect.Type{reflect.TypeFor[ap.Activity](), reflect.TypeFor[ap.Question]()} {
		t.Run("IntransitiveActivity/"+typ.Name(), func(t *testing.T) {
			same(t, ia, typ, "Target", "Result", "Origin", "Instrument")
		})
	}
	coll := reflect.TypeFor[ap.Collection]()
	for _, typ := range []reflect.Type{reflect.TypeFor[ap.CollectionPage]()} {
		t.Run("Collection/"+typ.Name(), func(t *testing.T) {
			same(t, coll, typ, "Current", "First", "Last", "TotalItems", "Items")
		})
	}
	for _, typ := range []reflect.Type{reflect.TypeFor[ap.OrderedCollection](), reflect.TypeFor[ap.OrderedCollectionPage]()} {
		t.Run("Collection/"+typ.Name(), func(t *testing.T) {
			same(t, coll, typ, "Current", "First", "Last", "TotalItems")
			items, _ := coll.FieldByName("Items")
			ordered, _ := typ.FieldByName("OrderedItems")
			if items.Offset != ordered.Offset || items.Type != ordered.Type {
				t.Errorf("Collection.Items ≠ %s.OrderedItems", typ.Name())
			}
		})
	}
	t.Run("CollectionPage/OrderedCollectionPage", func(t *testing.T) {
		same(t, reflect.TypeFor[ap.CollectionPage](), reflect.TypeFor[ap.OrderedCollectionPage](), "PartOf", "Next", "Prev")
	})
}

// TestActorField checks that an activity's actor keeps its concrete type
// through decoding, for both of go-ap's actor field types.
func TestActorField(t *testing.T) {
	reg := defaultRegistry()
	for _, doc := range []string{
		`{"type":"Follow","actor":"https://a.example/u","object":"https://b.example/u"}`,
		`{"type":"Arrive","actor":"https://a.example/u","location":"https://b.example/p"}`,
		`{"type":"Question","actor":"https://a.example/u","oneOf":[]}`,
	} {
		it, err := reg.Decode([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		p, _ := partsOf(it)
		if _, ok := p.getActor().(ap.IRI); !ok {
			t.Errorf("%s: actor is %T, not an ap.IRI", doc, p.getActor())
		}
	}
	a := NewActivity("Like", "", ap.IRI("https://a.example/u"), ap.IRI("https://b.example/n"))
	if _, ok := a.Actor.(ap.IRI); !ok {
		t.Errorf("NewActivity: actor is %T", a.Actor)
	}
}
