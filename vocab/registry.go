package vocab

import (
	"errors"
	"fmt"
	"io"
	"math"
	"sync"

	"github.com/go-ap/jsonld"
)

// Default limits of a Registry.
const (
	DefaultMaxDepth         = 64
	DefaultMaxBytes         = 1 << 20
	DefaultMaxExpandedBytes = 256 << 10
	DefaultMaxObjects       = 10_000
	DefaultMaxValues        = 100_000
)

// Options configures a Registry. The zero value is a registry of the core
// vocabulary with the default limits.
type Options struct {
	// Vocabularies are the extension vocabularies to register, in addition
	// to the core ActivityStreams vocabulary, which is always present.
	Vocabularies []*Vocabulary
	// MaxDepth bounds the nesting of arrays and objects; 0 means
	// DefaultMaxDepth.
	MaxDepth int
	// MaxBytes bounds the size of a document; 0 means DefaultMaxBytes.
	MaxBytes int
	// MaxExpandedBytes bounds the size of a document in expanded JSON-LD
	// form, which a general JSON-LD processor compacts at a much higher
	// cost per byte; 0 means DefaultMaxExpandedBytes.
	MaxExpandedBytes int
	// MaxObjects bounds the number of JSON objects in a document; each
	// becomes a Go value of about a kilobyte, so this, not MaxBytes, bounds
	// the memory a decoded document keeps. 0 means DefaultMaxObjects.
	MaxObjects int
	// MaxValues bounds the number of JSON values of any kind; 0 means
	// DefaultMaxValues.
	MaxValues int
}

// Registry decodes and encodes ActivityStreams documents with a fixed set
// of vocabularies. It is immutable once built and safe for concurrent use.
type Registry struct {
	vocabs      []*Vocabulary
	terms       map[string]termRef
	types       map[string]typeRef
	defs        map[jsonld.Term]termOwner
	sets        []setImpl
	setIndex    map[setImpl]int
	maxDepth    int
	maxBytes    int
	maxExpanded int
	lim         limits

	decoders sync.Pool // *decoder
	encoders sync.Pool // *encoder
	contexts sync.Map  // contextKey → []byte
	ctxCount int64     // entries in contexts, to bound the cache

	ctxOnce   sync.Once // the full context, parsed for the JSON-LD fallback
	ctxParsed any
	ctxErr    error
}

type termRef struct {
	core  prop  // pNone when the term is not core
	set   int16 // index into Registry.sets, or -1
	field int16
}

type typeRef struct {
	shape Shape
	id    jsonld.IRI
	vocab int // index into Registry.vocabs, or -1 for the core vocabulary
}

type termOwner struct {
	term  Term
	owner string
}

const coreName = "activitystreams"

// NewRegistry builds a registry of the core vocabulary plus vocabs, with the
// default limits.
func NewRegistry(vocabs ...*Vocabulary) (*Registry, error) {
	return New(Options{Vocabularies: vocabs})
}

// MustRegistry is NewRegistry for package-level variables and examples; it
// panics when the vocabularies conflict.
func MustRegistry(vocabs ...*Vocabulary) *Registry {
	r, err := NewRegistry(vocabs...)
	if err != nil {
		panic(err)
	}
	return r
}

// New builds a registry. It fails with a *ConflictError when two
// vocabularies define the same term, type or property differently.
func New(opts Options) (*Registry, error) {
	if opts.MaxDepth < 0 || opts.MaxBytes < 0 || opts.MaxExpandedBytes < 0 || opts.MaxObjects < 0 || opts.MaxValues < 0 {
		return nil, errors.New("vocab: negative limit")
	}
	if opts.MaxBytes > math.MaxInt32 {
		return nil, fmt.Errorf("vocab: MaxBytes %d is above the 2 GiB the decoder addresses", opts.MaxBytes)
	}
	r := &Registry{
		terms:       make(map[string]termRef, 128),
		types:       make(map[string]typeRef, 64),
		defs:        make(map[jsonld.Term]termOwner, 64),
		setIndex:    map[setImpl]int{},
		maxDepth:    opts.MaxDepth,
		maxBytes:    opts.MaxBytes,
		maxExpanded: opts.MaxExpandedBytes,
	}
	if r.maxDepth == 0 {
		r.maxDepth = DefaultMaxDepth
	}
	if r.maxBytes == 0 {
		r.maxBytes = DefaultMaxBytes
	}
	if r.maxExpanded == 0 {
		r.maxExpanded = DefaultMaxExpandedBytes
	}
	r.lim = limits{depth: r.maxDepth, values: opts.MaxValues, objects: opts.MaxObjects}
	if r.lim.values == 0 {
		r.lim.values = DefaultMaxValues
	}
	if r.lim.objects == 0 {
		r.lim.objects = DefaultMaxObjects
	}
	for p := pAttachment; p < numProps; p++ {
		r.terms[propNames[p]] = termRef{core: p, set: -1}
	}
	for _, t := range coreTypes {
		r.types[t.name] = typeRef{shape: t.shape, id: coreTypeID(t.name), vocab: -1}
	}
	for _, t := range commonTerms {
		r.defs[t.Name] = termOwner{t, coreName}
	}

	// Flatten the vocabularies, includes first, each once.
	seen := map[*Vocabulary]bool{}
	var add func(v *Vocabulary) error
	add = func(v *Vocabulary) error {
		if v == nil {
			return errors.New("vocab: nil vocabulary")
		}
		if seen[v] {
			return nil
		}
		seen[v] = true
		for _, inc := range v.includes {
			if err := add(inc); err != nil {
				return err
			}
		}
		r.vocabs = append(r.vocabs, v)
		return nil
	}
	for _, v := range opts.Vocabularies {
		if err := add(v); err != nil {
			return nil, err
		}
	}
	for vi, v := range r.vocabs {
		if err := r.register(vi, v); err != nil {
			return nil, err
		}
	}
	r.decoders.New = func() any { return &decoder{r: r} }
	r.encoders.New = func() any { return &encoder{r: r} }
	return r, nil
}

func coreTypeID(name string) jsonld.IRI {
	switch name {
	case "PropertyValue":
		return "schema:PropertyValue"
	case "Key", "CryptographicKey":
		return "sec:Key"
	}
	return jsonld.IRI("as:" + name)
}

func (r *Registry) register(vi int, v *Vocabulary) error {
	define := func(t Term) error {
		if as2Terms[string(t.Name)] {
			return &ConflictError{Term: string(t.Name), First: coreName, Second: v.name,
				Detail: "the ActivityStreams context already defines it"}
		}
		if old, ok := r.defs[t.Name]; ok {
			if old.term != t {
				return &ConflictError{Term: string(t.Name), First: old.owner, Second: v.name,
					Detail: fmt.Sprintf("%s ≠ %s", describeTerm(old.term), describeTerm(t))}
			}
			return nil
		}
		r.defs[t.Name] = termOwner{t, v.name}
		return nil
	}
	for _, t := range v.terms {
		if err := define(t); err != nil {
			return err
		}
	}
	for _, td := range v.types {
		if old, ok := r.types[td.Name]; ok {
			if old.id != td.ID || old.shape != td.Shape {
				owner := coreName
				if old.vocab >= 0 {
					owner = r.vocabs[old.vocab].name
				}
				return &ConflictError{Term: td.Name, First: owner, Second: v.name,
					Detail: fmt.Sprintf("type %s (%s) ≠ %s (%s)", old.id, old.shape, td.ID, td.Shape)}
			}
			continue
		}
		if err := define(Term{Name: jsonld.Term(td.Name), ID: td.ID}); err != nil {
			return err
		}
		r.types[td.Name] = typeRef{shape: td.Shape, id: td.ID, vocab: vi}
	}
	for _, s := range v.sets {
		if _, dup := r.setIndex[s]; dup {
			continue
		}
		si := len(r.sets)
		r.sets = append(r.sets, s)
		r.setIndex[s] = si
		for fi, t := range s.terms() {
			name := string(t.Name)
			if old, ok := r.terms[name]; ok {
				owner, detail := coreName, "the core vocabulary (ActivityStreams and its shared extensions) defines the property"
				if old.set >= 0 {
					owner, detail = r.sets[old.set].vocabulary().name, "both claim the property"
				}
				return &ConflictError{Term: name, First: owner, Second: v.name, Detail: detail}
			}
			if err := define(t); err != nil {
				return err
			}
			r.terms[name] = termRef{set: int16(si), field: int16(fi)}
		}
	}
	return nil
}

func describeTerm(t Term) string {
	s := string(t.ID)
	if t.Type != "" {
		s += " @type " + string(t.Type)
	}
	if t.Container != "" {
		s += " @container " + string(t.Container)
	}
	return s
}

// Vocabularies returns the registered extension vocabularies, includes
// first, in registration order.
func (r *Registry) Vocabularies() []*Vocabulary { return append([]*Vocabulary(nil), r.vocabs...) }

// ShapeOf returns the shape a type decodes to, and whether the registry
// knows the type.
func (r *Registry) ShapeOf(typeName string) (Shape, bool) {
	t, ok := r.types[typeName]
	return t.shape, ok
}

// Decode reads one ActivityStreams document. It returns one of this
// package's object types (or an ap.ItemCollection for a top-level array),
// or a *DecodeError that says what is wrong and where. Decode never panics
// and never keeps a reference to data.
func (r *Registry) Decode(data []byte) (Item, error) {
	if len(data) > r.maxBytes {
		return nil, &DecodeError{Err: ErrTooLarge, Path: "$",
			Detail: fmt.Sprintf("%d bytes, the limit is %d", len(data), r.maxBytes)}
	}
	d := r.decoders.Get().(*decoder)
	it, err := d.decodeDocument(data, true)
	d.reset()
	r.decoders.Put(d)
	if errors.Is(err, errExpanded) {
		if len(data) > r.maxExpanded {
			return nil, &DecodeError{Err: ErrTooLarge, Path: "$", Detail: fmt.Sprintf(
				"%d bytes of expanded JSON-LD, the limit for that form is %d", len(data), r.maxExpanded)}
		}
		return r.decodeExpanded(data)
	}
	return it, err
}

// DecodeReader reads a document from rd, up to the registry's size limit,
// and decodes it.
func (r *Registry) DecodeReader(rd io.Reader) (Item, error) {
	data, err := io.ReadAll(io.LimitReader(rd, int64(r.maxBytes)+1))
	if err != nil {
		return nil, fmt.Errorf("vocab: reading the document: %w", err)
	}
	return r.Decode(data)
}

// Encode writes it as a JSON document with one @context that merges the
// ActivityStreams and security contexts with the term definitions of every
// vocabulary the item uses. Items that came from Decode are written in the
// input's form: member order, single values versus arrays, timestamps,
// numbers and unknown properties are kept.
func (r *Registry) Encode(it Item) ([]byte, error) {
	e := r.encoders.Get().(*encoder)
	out, err := e.encodeDocument(it)
	e.reset()
	r.encoders.Put(e)
	return out, err
}

// defaultRegistry is the core-only registry used by MarshalJSON and
// UnmarshalJSON of the object types and by views that meet a term the
// decoding registry did not know.
var defaultRegistry = sync.OnceValue(func() *Registry {
	r, err := New(Options{})
	if err != nil {
		panic(err)
	}
	return r
})
