// Package vocab decodes and encodes ActivityStreams 2.0 documents into
// typed Go values without losing a property, with pluggable vocabularies.
//
// A Registry holds the core vocabulary (every AS2 type and property, plus
// Tombstone, Mention, Hashtag, PropertyValue, the security key terms and the
// extensions of Common) and the extension vocabularies you register:
//
//	reg, err := vocab.NewRegistry(mobilizon.Vocabulary, lemmy.Vocabulary, communecter.Vocabulary)
//	item, err := reg.Decode(body)
//	switch v := item.(type) {
//	case *vocab.Activity: // Create, Follow, Join, Like, ... (go-ap's ap.Activity inside)
//		fmt.Println(v.Type, v.Actor, v.Object)
//	case *vocab.Actor: // Person, Group, ...
//		fmt.Println(v.Inbox, v.PublicKey.PublicKeyPem)
//	}
//	if ev, ok := mobilizon.EventOf(item); ok && ev.JoinMode == mobilizon.JoinRestricted { ... }
//	out, err := reg.Encode(item)
//
// # Types
//
// Decode returns one of this package's object types, chosen by the
// document's type: Object, Link, Activity, IntransitiveActivity, Question,
// Actor, Collection, OrderedCollection, CollectionPage,
// OrderedCollectionPage, Place, Profile, Relationship or Tombstone. Each
// embeds the go-ap struct of the same name, so its fields and go-ap's
// helpers work as usual, plus Common (the shared extension fields) and
// Extra (every property that no vocabulary claims, as raw JSON). Values of
// object-valued properties are ap.IRI, ap.ItemCollection or, for embedded
// objects, this package's types again.
//
// An unknown type decodes to an Object that keeps its type (an Activity
// when it has an actor or an object, an Actor when it has an inbox).
//
// # Losslessness
//
// Encode writes a decoded item back JSON-equal to its input, with one
// merged @context. An item remembers how its document looked — member
// order, a single value or a one-element array, null, the exact text of
// timestamps and numbers — and Encode writes that form back as long as the
// value is unchanged. Properties set in Go are written in the canonical
// form: collections as arrays, times in RFC 3339 UTC.
//
// # Vocabularies
//
// A Vocabulary defines types (TypeDef, with the Shape that holds them),
// context terms (Term) and property sets (Properties over a struct S of
// your own, with StringField, BoolField, IntField, TimeField, ItemField,
// JSONField and the other field kinds). A decoded item holds one *S per
// set it uses; PropsOf returns it, and typed views such as
// mobilizon.Event embed it, so that their fields read and write the item.
// NewRegistry fails with a *ConflictError when two vocabularies define the
// same term, type or property differently.
//
// # Concurrency
//
// A Registry is immutable and safe for concurrent use. A decoded item is a
// plain Go value: use it from one goroutine at a time, or share it
// read-only. Typed views attach their property set on first use, so take
// them before sharing an item.
//
// # Errors
//
// Decode returns a *DecodeError that names the JSON path, line and column
// and wraps one sentinel: ErrSyntax, ErrInvalidUTF8, ErrTooDeep,
// ErrTooLarge, ErrNotObject, ErrInvalidIRI, ErrPropertyType or ErrContext.
// Deviations that peers commonly make are repaired and listed by Problems;
// Validate turns the broken ActivityStreams rules among them into a
// *ValidationError.
package vocab
