package vocab

import (
	"encoding/json"
	"time"
	"unsafe"

	ap "github.com/go-ap/activitypub"
)

// Item is a decoded ActivityStreams value: an ap.IRI, an ap.ItemCollection,
// or one of the object types of this package (*Object, *Activity, *Actor,
// ...). It is go-ap's Item interface, so go-ap's helpers accept it.
type Item = ap.Item

// Extra holds the properties that no registered vocabulary claims, as raw
// JSON, so that encoding writes them back unchanged.
type Extra map[string]json.RawMessage

// Shape says which go-ap struct holds an ActivityStreams type. Every type a
// vocabulary defines picks the shape whose properties it uses.
type Shape uint8

// The shapes, one per go-ap struct.
const (
	ShapeObject Shape = iota
	ShapeLink
	ShapeActivity
	ShapeIntransitiveActivity
	ShapeQuestion
	ShapeActor
	ShapeCollection
	ShapeOrderedCollection
	ShapeCollectionPage
	ShapeOrderedCollectionPage
	ShapePlace
	ShapeProfile
	ShapeRelationship
	ShapeTombstone
	numShapes
)

var shapeNames = [numShapes]string{"Object", "Link", "Activity", "IntransitiveActivity", "Question", "Actor",
	"Collection", "OrderedCollection", "CollectionPage", "OrderedCollectionPage", "Place", "Profile",
	"Relationship", "Tombstone"}

func (s Shape) String() string {
	if s < numShapes {
		return shapeNames[s]
	}
	return "Shape(?)"
}

// Common holds the widely used extension properties that several platforms
// share (Mastodon, PeerTube, Lemmy, Mobilizon, the security vocabulary).
// Every object type embeds it, so they read as plain fields.
type Common struct {
	Sensitive                 *bool             // as:sensitive: the content needs a warning
	ManuallyApprovesFollowers *bool             // as:manuallyApprovesFollowers
	Discoverable              *bool             // toot:discoverable
	Indexable                 *bool             // toot:indexable
	Featured                  ap.Item           // toot:featured: the pinned collection
	FeaturedTags              ap.Item           // toot:featuredTags
	AlsoKnownAs               ap.ItemCollection // as:alsoKnownAs: aliases for account moves
	MovedTo                   ap.Item           // as:movedTo: the account this one moved to
	CommentsEnabled           *bool             // pt:commentsEnabled
	Value                     string            // schema:value of a PropertyValue
	Owner                     ap.IRI            // sec:owner of a standalone key document
	PublicKeyPem              string            // sec:publicKeyPem of a standalone key document
}

// Object is any object type without a more specific shape: Note, Article,
// Page, Event, Document, Image, Audio, Video, and the unknown types.
type Object struct {
	ap.Object
	Common
	Extra Extra
	st    state
}

// Link is a Link, Mention or Hashtag.
type Link struct {
	ap.Link
	Common
	Extra Extra
	st    state
}

// Activity is a transitive activity (Create, Follow, Like, ...).
type Activity struct {
	ap.Activity
	Common
	Extra Extra
	st    state
}

// IntransitiveActivity is an activity without an object (Arrive, Travel).
type IntransitiveActivity struct {
	ap.IntransitiveActivity
	Common
	Extra Extra
	st    state
}

// Question is a poll. Unlike go-ap's, it keeps the type closed was given
// as: go-ap's Closed is true when the question is closed; ClosedAt is set
// when closed was a timestamp (the usual form), ClosedBy when it was an
// object or link.
type Question struct {
	ap.Question
	ClosedAt time.Time
	ClosedBy ap.Item
	Common
	Extra Extra
	st    state
}

// Actor is a Person, Group, Organization, Application or Service.
type Actor struct {
	ap.Actor
	Common
	Extra Extra
	st    state
}

// Collection is an unordered collection.
type Collection struct {
	ap.Collection
	Common
	Extra Extra
	st    state
}

// OrderedCollection is an ordered collection.
type OrderedCollection struct {
	ap.OrderedCollection
	Common
	Extra Extra
	st    state
}

// CollectionPage is a page of a collection.
type CollectionPage struct {
	ap.CollectionPage
	Common
	Extra Extra
	st    state
}

// OrderedCollectionPage is a page of an ordered collection.
type OrderedCollectionPage struct {
	ap.OrderedCollectionPage
	Common
	Extra Extra
	st    state
}

// Place is a location. Unlike go-ap's, it writes latitude, longitude and
// the other coordinates even when they are zero, if the input had them or
// SetCoordinates was called.
type Place struct {
	ap.Place
	Common
	Extra Extra
	st    state
}

// Profile describes another object.
type Profile struct {
	ap.Profile
	Common
	Extra Extra
	st    state
}

// Relationship describes a relationship between two objects.
type Relationship struct {
	ap.Relationship
	Common
	Extra Extra
	st    state
}

// Tombstone stands for a deleted object.
type Tombstone struct {
	ap.Tombstone
	Common
	Extra Extra
	st    state
}

// SetCoordinates sets latitude and longitude and makes sure both are
// written, even when zero.
func (p *Place) SetCoordinates(latitude, longitude float64) {
	p.Latitude, p.Longitude = latitude, longitude
	p.st.flags |= stLatLong
}

// state is what an item remembers about the document it came from, so
// that encoding can reproduce the input's form.
type state struct {
	keys  []keyInfo                 // the members in input order; nil when built in Go
	ctx   string                    // raw @context of this node, "" when absent
	types string                    // raw "type" when it was an array
	typ0  ap.ActivityVocabularyType // the type chosen from that array
	sets  []setValue                // extension property sets
	notes []Problem                 // problems found while decoding
	snap  *snapshot                 // typed values that also kept raw JSON in Extra
	flags stateFlags
}

type stateFlags uint8

const (
	stTop      stateFlags = 1 << iota // decoded as a document's top level
	stLatLong                         // write latitude and longitude even when zero
	stExpanded                        // decoded from expanded JSON-LD
)

// snapshot keeps the best-effort typed value of a structured property whose
// raw JSON did not fit go-ap's field and was kept in Extra. Encoding writes
// the raw JSON back as long as the typed value still equals this.
type snapshot struct {
	publicKey    ap.PublicKey
	endpoints    ap.Endpoints
	source       ap.Source
	hasPublicKey bool
	hasEndpoints bool
	hasSource    bool
}

type setValue struct {
	set setImpl
	v   any
}

// keyInfo records how one member looked in the input.
type keyInfo struct {
	name  string
	raw   string // the raw JSON value
	flags keyFlags
	pr    prop // the core property, or pNone
}

type keyFlags uint8

const (
	kfScalar keyFlags = 1 << iota // a multi-valued property given as one value
	kfNull                        // the value was null
	kfMap                         // a language map given under the plain key ("name": {...})
	kfPlain                       // a plain string given under the map key ("nameMap": "...")
	kfRaw                         // the value did not fit the typed field and is kept in Extra
)

// parts gives the decoder and encoder direct access to the go-ap fields of
// a wrapper. go-ap's structs share their leading fields (go-ap converts
// between them the same way); TestLayout checks every conversion made here.
type parts struct {
	shape  Shape
	obj    *ap.Object
	link   *ap.Link
	ia     *ap.IntransitiveActivity // Target, Result, Origin, Instrument; never Actor (see actor)
	object *ap.Item                 // Activity.Object or Relationship.Object
	// The actor field has a different interface type in go-ap's Activity
	// (Item) and IntransitiveActivity (CanReceiveActivities), so it is
	// reached through its own pointer of the right type, never ia.
	actItem *ap.Item
	actCRA  *ap.CanReceiveActivities
	q       *Question
	actor   *ap.Actor
	coll    *ap.Collection // Items is OrderedItems for the ordered shapes
	page    *ap.CollectionPage
	ocp     *ap.OrderedCollectionPage
	place   *ap.Place
	rel     *ap.Relationship
	prof    *ap.Profile
	tomb    *ap.Tombstone
	common  *Common
	extra   *Extra
	st      *state
	// langKeys marks the natural-language members (name, nameMap, ...)
	// of the object being decoded; see langKeyBit.
	langKeys uint16
}

// wrapper is implemented by every object type of this package.
type wrapper interface {
	Item
	parts() parts
}

func (o *Object) parts() parts {
	if o == nil {
		return parts{}
	}
	return parts{shape: ShapeObject, obj: &o.Object, common: &o.Common, extra: &o.Extra, st: &o.st}
}

func (l *Link) parts() parts {
	if l == nil {
		return parts{}
	}
	return parts{shape: ShapeLink, link: &l.Link, common: &l.Common, extra: &l.Extra, st: &l.st}
}

func (a *Activity) parts() parts {
	if a == nil {
		return parts{}
	}
	return parts{shape: ShapeActivity, obj: (*ap.Object)(unsafe.Pointer(&a.Activity)),
		ia: (*ap.IntransitiveActivity)(unsafe.Pointer(&a.Activity)), object: &a.Activity.Object,
		actItem: &a.Activity.Actor, common: &a.Common, extra: &a.Extra, st: &a.st}
}

func (a *IntransitiveActivity) parts() parts {
	if a == nil {
		return parts{}
	}
	return parts{shape: ShapeIntransitiveActivity, obj: (*ap.Object)(unsafe.Pointer(&a.IntransitiveActivity)),
		ia: &a.IntransitiveActivity, actCRA: &a.IntransitiveActivity.Actor, common: &a.Common, extra: &a.Extra, st: &a.st}
}

func (q *Question) parts() parts {
	if q == nil {
		return parts{}
	}
	return parts{shape: ShapeQuestion, obj: (*ap.Object)(unsafe.Pointer(&q.Question)),
		ia: (*ap.IntransitiveActivity)(unsafe.Pointer(&q.Question)), actCRA: &q.Question.Actor, q: q,
		common: &q.Common, extra: &q.Extra, st: &q.st}
}

func (a *Actor) parts() parts {
	if a == nil {
		return parts{}
	}
	return parts{shape: ShapeActor, obj: (*ap.Object)(unsafe.Pointer(&a.Actor)), actor: &a.Actor,
		common: &a.Common, extra: &a.Extra, st: &a.st}
}

func (c *Collection) parts() parts {
	if c == nil {
		return parts{}
	}
	return parts{shape: ShapeCollection, obj: (*ap.Object)(unsafe.Pointer(&c.Collection)), coll: &c.Collection,
		common: &c.Common, extra: &c.Extra, st: &c.st}
}

func (c *OrderedCollection) parts() parts {
	if c == nil {
		return parts{}
	}
	return parts{shape: ShapeOrderedCollection, obj: (*ap.Object)(unsafe.Pointer(&c.OrderedCollection)),
		coll:   (*ap.Collection)(unsafe.Pointer(&c.OrderedCollection)),
		common: &c.Common, extra: &c.Extra, st: &c.st}
}

func (c *CollectionPage) parts() parts {
	if c == nil {
		return parts{}
	}
	return parts{shape: ShapeCollectionPage, obj: (*ap.Object)(unsafe.Pointer(&c.CollectionPage)),
		coll: (*ap.Collection)(unsafe.Pointer(&c.CollectionPage)), page: &c.CollectionPage,
		common: &c.Common, extra: &c.Extra, st: &c.st}
}

func (c *OrderedCollectionPage) parts() parts {
	if c == nil {
		return parts{}
	}
	return parts{shape: ShapeOrderedCollectionPage, obj: (*ap.Object)(unsafe.Pointer(&c.OrderedCollectionPage)),
		coll: (*ap.Collection)(unsafe.Pointer(&c.OrderedCollectionPage)),
		page: (*ap.CollectionPage)(unsafe.Pointer(&c.OrderedCollectionPage)), ocp: &c.OrderedCollectionPage,
		common: &c.Common, extra: &c.Extra, st: &c.st}
}

func (p *Place) parts() parts {
	if p == nil {
		return parts{}
	}
	return parts{shape: ShapePlace, obj: (*ap.Object)(unsafe.Pointer(&p.Place)), place: &p.Place,
		common: &p.Common, extra: &p.Extra, st: &p.st}
}

func (p *Profile) parts() parts {
	if p == nil {
		return parts{}
	}
	return parts{shape: ShapeProfile, obj: (*ap.Object)(unsafe.Pointer(&p.Profile)), prof: &p.Profile,
		common: &p.Common, extra: &p.Extra, st: &p.st}
}

func (r *Relationship) parts() parts {
	if r == nil {
		return parts{}
	}
	return parts{shape: ShapeRelationship, obj: (*ap.Object)(unsafe.Pointer(&r.Relationship)), rel: &r.Relationship,
		object: &r.Relationship.Object, common: &r.Common, extra: &r.Extra, st: &r.st}
}

func (t *Tombstone) parts() parts {
	if t == nil {
		return parts{}
	}
	return parts{shape: ShapeTombstone, obj: (*ap.Object)(unsafe.Pointer(&t.Tombstone)), tomb: &t.Tombstone,
		common: &t.Common, extra: &t.Extra, st: &t.st}
}

// newShape allocates the wrapper for a shape.
func newShape(s Shape) wrapper {
	switch s {
	case ShapeLink:
		return &Link{}
	case ShapeActivity:
		return &Activity{}
	case ShapeIntransitiveActivity:
		return &IntransitiveActivity{}
	case ShapeQuestion:
		return &Question{}
	case ShapeActor:
		return &Actor{}
	case ShapeCollection:
		return &Collection{}
	case ShapeOrderedCollection:
		return &OrderedCollection{}
	case ShapeCollectionPage:
		return &CollectionPage{}
	case ShapeOrderedCollectionPage:
		return &OrderedCollectionPage{}
	case ShapePlace:
		return &Place{}
	case ShapeProfile:
		return &Profile{}
	case ShapeRelationship:
		return &Relationship{}
	case ShapeTombstone:
		return &Tombstone{}
	}
	return &Object{}
}

// setType sets the type of a wrapper.
func (p parts) setType(t ap.ActivityVocabularyType) {
	if p.link != nil {
		p.link.Type = t
	} else {
		p.obj.Type = t
	}
}

func (p parts) typ() ap.ActivityVocabularyType {
	if p.link != nil {
		return p.link.Type
	}
	return p.obj.Type
}

func (p parts) id() ap.ID {
	if p.link != nil {
		return p.link.ID
	}
	return p.obj.ID
}

func (p parts) setID(id ap.ID) {
	if p.link != nil {
		p.link.ID = id
	} else {
		p.obj.ID = id
	}
}

// getActor returns the actor of an activity shape, or nil.
func (p parts) getActor() ap.Item {
	switch {
	case p.actItem != nil:
		return *p.actItem
	case p.actCRA != nil:
		return *p.actCRA
	}
	return nil
}

// setActor sets the actor of an activity shape; it reports false for the
// other shapes.
func (p parts) setActor(v ap.Item) bool {
	switch {
	case p.actItem != nil:
		*p.actItem = v
	case p.actCRA != nil:
		*p.actCRA = v
	default:
		return false
	}
	return true
}
