package vocab

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"

	ap "github.com/go-ap/activitypub"
)

// Types returns every type of an item: its type, or all of them when the
// input gave an array.
func Types(it Item) []string {
	p, ok := partsOf(it)
	if !ok {
		if it == nil {
			return nil
		}
		return []string{string(it.GetType())}
	}
	if p.st.types != "" && p.typ() == p.st.typ0 {
		var list []string
		if json.Unmarshal([]byte(p.st.types), &list) == nil {
			return list
		}
	}
	if t := p.typ(); t != "" {
		return []string{string(t)}
	}
	return nil
}

// HasType reports whether name is one of the item's types.
func HasType(it Item, name string) bool {
	if it == nil {
		return false
	}
	if string(it.GetType()) == name {
		return true
	}
	return slices.Contains(Types(it), name)
}

// PropsOf returns the values of the property set ps on an item, for reading
// and writing: the typed views of the vocabulary packages embed it. When
// the item has none yet they are created, and properties of the set that
// a registry without the vocabulary had kept in Extra are moved into it.
// PropsOf returns nil when it is not one of this package's object types.
//
// Because it may attach the set, PropsOf (and every view built on it, such
// as mobilizon.EventOf) writes to the item: like any Go value, an item is
// used by one goroutine at a time, or shared read-only once its views have
// been taken.
func PropsOf[S any](it Item, ps *Properties[S]) *S {
	w, ok := it.(wrapper)
	if !ok || ps == nil {
		return nil
	}
	p := w.parts()
	for _, sv := range p.st.sets {
		if sv.set == setImpl(ps) {
			return sv.v.(*S)
		}
	}
	v := p.st.setFor(ps).(*S)
	if len(*p.extra) > 0 {
		for i, f := range ps.fields {
			raw, ok := (*p.extra)[string(f.term.Name)]
			if !ok {
				continue
			}
			if migrate(f, i, raw, p, v) {
				delete(*p.extra, string(f.term.Name))
			}
		}
	}
	return v
}

// migrate decodes one raw Extra value into a set field.
func migrate[S any](f Field[S], i int, raw json.RawMessage, p parts, v *S) bool {
	r := defaultRegistry()
	d := r.decoders.Get().(*decoder)
	defer func() {
		d.reset()
		r.decoders.Put(d)
	}()
	d.src = string(raw)
	if d.sc.scan(d.src, r.lim) != nil {
		return false
	}
	d.nodes = d.sc.nodes
	members := 0
	for i := range d.nodes {
		if d.nodes[i].kind == kindObject {
			members += int(d.nodes[i].count)
		}
	}
	d.keys = make([]keyInfo, 0, members)
	var ki keyInfo
	for k := range p.st.keys {
		if p.st.keys[k].name == string(f.term.Name) {
			ki = p.st.keys[k]
			if err := f.dec(d, 0, &ki, v); err != nil {
				return false
			}
			p.st.keys[k].flags = ki.flags
			return true
		}
	}
	return f.dec(d, 0, &ki, v) == nil
}

// ExtensionProperty is one extension property of an item, as listed by
// ExtensionProperties.
type ExtensionProperty struct {
	Vocabulary string // the vocabulary that defines it
	Name       string // the term
	Value      any    // the Go value of the field
}

// ExtensionProperties lists the extension properties an item carries, in
// a stable order: the shared ones of Common (reported with the vocabulary
// name "common"), then those of each vocabulary's property sets.
func ExtensionProperties(it Item) []ExtensionProperty {
	p, ok := partsOf(it)
	if !ok {
		return nil
	}
	var out []ExtensionProperty
	c := reflect.ValueOf(p.common).Elem()
	for pr := pSensitive; pr < numProps; pr++ {
		f := c.Field(int(pr - pSensitive))
		if f.IsZero() {
			continue
		}
		v := f.Interface()
		if f.Kind() == reflect.Pointer {
			v = f.Elem().Interface()
		}
		out = append(out, ExtensionProperty{Vocabulary: "common", Name: propNames[pr], Value: v})
	}
	for _, sv := range p.st.sets {
		name := ""
		if v := sv.set.vocabulary(); v != nil {
			name = v.Name()
		}
		for i, t := range sv.set.terms() {
			if sv.set.hasField(i, sv.v) {
				out = append(out, ExtensionProperty{Vocabulary: name, Name: string(t.Name), Value: sv.set.fieldValue(i, sv.v)})
			}
		}
	}
	return out
}

// Audience returns the recipients an item addresses in to, cc, bto, bcc
// and audience, each once, with every form of the Public collection
// written as PublicIRI.
func Audience(it Item) []ap.IRI {
	p, ok := partsOf(it)
	if !ok || p.obj == nil {
		return nil
	}
	o := p.obj
	var out []ap.IRI
	for _, col := range []ap.ItemCollection{o.To, o.CC, o.Bto, o.BCC, o.Audience} {
		for _, el := range col {
			if el == nil {
				continue
			}
			iri := el.GetLink()
			if IsPublic(iri) {
				iri = PublicIRI
			}
			if iri != "" && !slices.Contains(out, iri) {
				out = append(out, iri)
			}
		}
	}
	return out
}

// OwnerOf returns who an item belongs to, for ownership checks: the actor
// of an activity, the attributedTo of an object (its first entry when it
// lists several), the owner of a key document, an actor itself.
func OwnerOf(it Item) ap.IRI {
	p, ok := partsOf(it)
	if !ok || p.link != nil {
		return ""
	}
	first := func(v Item) ap.IRI {
		if col, ok := v.(ap.ItemCollection); ok {
			if len(col) == 0 {
				return ""
			}
			v = col[0]
		}
		return IRIOf(v)
	}
	switch {
	case p.actor != nil:
		return p.obj.ID
	case p.actItem != nil || p.actCRA != nil:
		if a := first(p.getActor()); a != "" {
			return a
		}
	case p.common.Owner != "":
		return p.common.Owner
	}
	return first(p.obj.AttributedTo)
}

// IsPublicItem reports whether an item is addressed to the Public
// collection, in any of its forms.
func IsPublicItem(it Item) bool {
	return slices.Contains(Audience(it), PublicIRI)
}

// marshal and unmarshal implement the json.Marshaler and json.Unmarshaler
// of the object types with the core registry, so that encoding/json never
// falls back to go-ap's lossy methods. MarshalJSON has a value receiver,
// so that it also applies to a struct field of an object type; it encodes
// a copy of the value, which is shallow and only read.
func marshal(it Item) ([]byte, error) { return defaultRegistry().Encode(it) }

func unmarshal[T any, PT interface {
	*T
	wrapper
}](dst PT, data []byte) error {
	it, err := defaultRegistry().Decode(data)
	if err != nil {
		return err
	}
	src, ok := it.(PT)
	if !ok {
		return fmt.Errorf("vocab: the document decodes to %T, not %T", it, dst)
	}
	*dst = *src
	return nil
}

// MarshalJSON encodes the object as a standalone document.
func (o Object) MarshalJSON() ([]byte, error) { return marshal(&o) }

// UnmarshalJSON decodes a document with the core vocabulary.
func (o *Object) UnmarshalJSON(data []byte) error { return unmarshal(o, data) }

// MarshalJSON encodes the link as a standalone document.
func (l Link) MarshalJSON() ([]byte, error) { return marshal(&l) }

// UnmarshalJSON decodes a document with the core vocabulary.
func (l *Link) UnmarshalJSON(data []byte) error { return unmarshal(l, data) }

// MarshalJSON encodes the activity as a standalone document.
func (a Activity) MarshalJSON() ([]byte, error) { return marshal(&a) }

// UnmarshalJSON decodes a document with the core vocabulary.
func (a *Activity) UnmarshalJSON(data []byte) error { return unmarshal(a, data) }

// MarshalJSON encodes the activity as a standalone document.
func (a IntransitiveActivity) MarshalJSON() ([]byte, error) { return marshal(&a) }

// UnmarshalJSON decodes a document with the core vocabulary.
func (a *IntransitiveActivity) UnmarshalJSON(data []byte) error { return unmarshal(a, data) }

// MarshalJSON encodes the question as a standalone document.
func (q Question) MarshalJSON() ([]byte, error) { return marshal(&q) }

// UnmarshalJSON decodes a document with the core vocabulary.
func (q *Question) UnmarshalJSON(data []byte) error { return unmarshal(q, data) }

// MarshalJSON encodes the actor as a standalone document.
func (a Actor) MarshalJSON() ([]byte, error) { return marshal(&a) }

// UnmarshalJSON decodes a document with the core vocabulary.
func (a *Actor) UnmarshalJSON(data []byte) error { return unmarshal(a, data) }

// MarshalJSON encodes the collection as a standalone document.
func (c Collection) MarshalJSON() ([]byte, error) { return marshal(&c) }

// UnmarshalJSON decodes a document with the core vocabulary.
func (c *Collection) UnmarshalJSON(data []byte) error { return unmarshal(c, data) }

// MarshalJSON encodes the collection as a standalone document.
func (c OrderedCollection) MarshalJSON() ([]byte, error) { return marshal(&c) }

// UnmarshalJSON decodes a document with the core vocabulary.
func (c *OrderedCollection) UnmarshalJSON(data []byte) error { return unmarshal(c, data) }

// MarshalJSON encodes the page as a standalone document.
func (c CollectionPage) MarshalJSON() ([]byte, error) { return marshal(&c) }

// UnmarshalJSON decodes a document with the core vocabulary.
func (c *CollectionPage) UnmarshalJSON(data []byte) error { return unmarshal(c, data) }

// MarshalJSON encodes the page as a standalone document.
func (c OrderedCollectionPage) MarshalJSON() ([]byte, error) { return marshal(&c) }

// UnmarshalJSON decodes a document with the core vocabulary.
func (c *OrderedCollectionPage) UnmarshalJSON(data []byte) error { return unmarshal(c, data) }

// MarshalJSON encodes the place as a standalone document.
func (p Place) MarshalJSON() ([]byte, error) { return marshal(&p) }

// UnmarshalJSON decodes a document with the core vocabulary.
func (p *Place) UnmarshalJSON(data []byte) error { return unmarshal(p, data) }

// MarshalJSON encodes the profile as a standalone document.
func (p Profile) MarshalJSON() ([]byte, error) { return marshal(&p) }

// UnmarshalJSON decodes a document with the core vocabulary.
func (p *Profile) UnmarshalJSON(data []byte) error { return unmarshal(p, data) }

// MarshalJSON encodes the relationship as a standalone document.
func (r Relationship) MarshalJSON() ([]byte, error) { return marshal(&r) }

// UnmarshalJSON decodes a document with the core vocabulary.
func (r *Relationship) UnmarshalJSON(data []byte) error { return unmarshal(r, data) }

// MarshalJSON encodes the tombstone as a standalone document.
func (t Tombstone) MarshalJSON() ([]byte, error) { return marshal(&t) }

// UnmarshalJSON decodes a document with the core vocabulary.
func (t *Tombstone) UnmarshalJSON(data []byte) error { return unmarshal(t, data) }

// Walk calls fn for an item and for every object embedded in it, depth
// first, with the JSON path that leads to each ("$", "$.object",
// "$.object.tag[0]"). Returning false from fn skips the children of that
// item.
func Walk(it Item, fn func(path string, it Item) bool) {
	if col, ok := it.(ap.ItemCollection); ok {
		for i, el := range col {
			walk(el, "$["+strconv.Itoa(i)+"]", fn)
		}
		return
	}
	walk(it, "$", fn)
}

func walk(it Item, path string, fn func(string, Item) bool) {
	p, ok := partsOf(it)
	if !ok || !fn(path, it) {
		return
	}
	forEachChild(p, func(sub string, child Item) {
		walk(child, path+sub, fn)
	})
}

// Base returns the properties every object type shares (id, type,
// attributedTo, to, cc, content, published, ...) of an item of this
// package, for reading and writing: go-ap's Object fields, which every
// wrapper begins with. It returns nil for an IRI, a Link or a collection
// of items.
func Base(it Item) *ap.Object {
	w, ok := it.(wrapper)
	if !ok {
		return nil
	}
	return w.parts().obj
}

// ActorOf returns the actor of an activity (transitive, intransitive or
// a Question), or nil for an item that has none.
func ActorOf(it Item) Item {
	w, ok := it.(wrapper)
	if !ok {
		return nil
	}
	return w.parts().getActor()
}

// ObjectOf returns the object of a transitive activity (or of a
// Relationship), or nil for an item that has none.
func ObjectOf(it Item) Item {
	w, ok := it.(wrapper)
	if !ok {
		return nil
	}
	if p := w.parts(); p.object != nil {
		return *p.object
	}
	return nil
}

// TargetOf returns the target of an activity, or nil.
func TargetOf(it Item) Item {
	w, ok := it.(wrapper)
	if !ok {
		return nil
	}
	if p := w.parts(); p.ia != nil {
		return p.ia.Target
	}
	return nil
}

// AttributedTo returns the IRIs an item is attributed to, in order.
func AttributedTo(it Item) []ap.IRI {
	o := Base(it)
	if o == nil || o.AttributedTo == nil {
		return nil
	}
	var out []ap.IRI
	add := func(v Item) {
		if iri := IRIOf(v); iri != "" {
			out = append(out, iri)
		}
	}
	if col, ok := o.AttributedTo.(ap.ItemCollection); ok {
		for _, el := range col {
			add(el)
		}
	} else {
		add(o.AttributedTo)
	}
	return out
}

// IRIs returns the IRIs of a value that may be an IRI, an object, a link
// or a list of them, in order, leaving out what has no id.
func IRIs(it Item) []string {
	var out []string
	for _, el := range Items(it) {
		if iri := IRIOf(el); iri != "" {
			out = append(out, string(iri))
		}
	}
	return out
}

// Items returns the elements of a value that may be one item or a list
// of them, leaving out nil elements.
func Items(it Item) []Item {
	if it == nil {
		return nil
	}
	if col, ok := it.(ap.ItemCollection); ok {
		out := make([]Item, 0, len(col))
		for _, el := range col {
			if el != nil {
				out = append(out, el)
			}
		}
		return out
	}
	return []Item{it}
}
