package vocab

import (
	"time"

	ap "github.com/go-ap/activitypub"
)

// Constructors for items built in Go. Items decoded from JSON are created
// by the Registry; these give the same types for items an app sends.

// NewObject returns an object of the given type, such as "Note".
func NewObject(typ string, id ap.IRI) *Object {
	o := &Object{}
	o.Type, o.ID = ap.ActivityVocabularyType(typ), id
	return o
}

// NewActivity returns an activity of the given type, such as "Follow".
func NewActivity(typ string, id ap.IRI, actor, object Item) *Activity {
	a := &Activity{}
	a.Type, a.ID, a.Actor, a.Object = ap.ActivityVocabularyType(typ), id, actor, object
	return a
}

// NewActor returns an actor of the given type, such as "Person".
func NewActor(typ string, id ap.IRI) *Actor {
	a := &Actor{}
	a.Type, a.ID = ap.ActivityVocabularyType(typ), id
	return a
}

// NewPlace returns a Place.
func NewPlace(id ap.IRI, name string) *Place {
	p := &Place{}
	p.Type, p.ID = ap.PlaceType, id
	if name != "" {
		p.Name = Text(name)
	}
	return p
}

// NewLink returns a link of the given type, such as "Mention" or "Hashtag".
func NewLink(typ string, href ap.IRI, name string) *Link {
	l := &Link{}
	l.Type, l.Href = ap.ActivityVocabularyType(typ), href
	if name != "" {
		l.Name = Text(name)
	}
	return l
}

// NewTombstone returns the Tombstone that stands for a deleted object.
func NewTombstone(id ap.IRI, formerType string, deleted time.Time) *Tombstone {
	t := &Tombstone{}
	t.Type, t.ID, t.FormerType, t.Deleted = ap.TombstoneType, id, ap.ActivityVocabularyType(formerType), deleted
	return t
}

// NewOrderedCollection returns an ordered collection of items.
func NewOrderedCollection(id ap.IRI, items ...Item) *OrderedCollection {
	c := &OrderedCollection{}
	c.Type, c.ID = ap.OrderedCollectionType, id
	c.OrderedItems = append(ap.ItemCollection{}, items...)
	c.TotalItems = uint(len(items))
	return c
}

// Text returns a natural-language value without a language tag, for Name,
// Content and Summary.
func Text(s string) ap.NaturalLanguageValues {
	return ap.NaturalLanguageValues{{Ref: ap.NilLangRef, Value: ap.Content(s)}}
}

// TextOf returns the untagged value of a natural-language property, or the
// first tagged one when there is no untagged value.
func TextOf(v ap.NaturalLanguageValues) string {
	for _, lv := range v {
		if lv.Ref == "" || lv.Ref == ap.NilLangRef {
			return string(lv.Value)
		}
	}
	if len(v) > 0 {
		return string(v[0].Value)
	}
	return ""
}

// IRIOf returns the IRI of an item: the IRI itself, or the id of an
// embedded object.
func IRIOf(it Item) ap.IRI {
	if it == nil {
		return ""
	}
	return it.GetLink()
}
