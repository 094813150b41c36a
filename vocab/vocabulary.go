package vocab

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	ap "github.com/go-ap/activitypub"
	"github.com/go-ap/jsonld"
)

// Term is one JSON-LD term definition of a vocabulary's context: a prefix
// ("mz" → "https://joinmobilizon.org/ns#"), a class, a type or a property.
type Term struct {
	Name      jsonld.Term // the compact term, e.g. "joinMode"
	ID        jsonld.IRI  // its IRI, compact ("mz:joinMode") or absolute
	Type      jsonld.IRI  // optional @type coercion, e.g. "@id" or "mz:joinModeType"
	Container jsonld.Term // optional @container, e.g. "@list"
}

// expanded reports whether the definition needs the object form.
func (t Term) expanded() bool { return t.Type != "" || t.Container != "" }

// TypeDef is an object type that a vocabulary adds, such as Mobilizon's
// Member or Communecter's Project.
type TypeDef struct {
	Name  string     // the compact type name, e.g. "Project"
	ID    jsonld.IRI // its IRI, compact or absolute
	Shape Shape      // the go-ap struct that holds it
}

// VocabularyDef describes a vocabulary for NewVocabulary.
type VocabularyDef struct {
	// Name identifies the vocabulary in errors and listings, e.g. "mobilizon".
	Name string
	// Terms are the context definitions that are neither types nor
	// properties: prefixes and classes.
	Terms []Term
	// Types are the object types the vocabulary adds.
	Types []TypeDef
	// Properties are the property sets that hold the vocabulary's
	// extension properties on decoded items.
	Properties []PropertySet
	// Includes are vocabularies this one needs, such as a shared schema.org
	// set; a registry registers them too.
	Includes []*Vocabulary
}

// Vocabulary is an immutable set of types, properties and context terms.
// Build it once, usually as a package-level variable, and pass it to
// NewRegistry.
type Vocabulary struct {
	name     string
	terms    []Term
	types    []TypeDef
	sets     []setImpl
	includes []*Vocabulary
}

// NewVocabulary checks def and builds a Vocabulary. A property set belongs
// to exactly one vocabulary; other vocabularies reach it through Includes.
func NewVocabulary(def VocabularyDef) (*Vocabulary, error) {
	if def.Name == "" {
		return nil, errors.New("vocab: a vocabulary needs a name")
	}
	v := &Vocabulary{name: def.Name, terms: append([]Term(nil), def.Terms...),
		types: append([]TypeDef(nil), def.Types...), includes: append([]*Vocabulary(nil), def.Includes...)}
	seen := map[jsonld.Term]Term{}
	check := func(t Term) error {
		if t.Name == "" || t.ID == "" {
			return fmt.Errorf("vocab: vocabulary %s: a term needs a name and an IRI", def.Name)
		}
		if strings.HasPrefix(string(t.Name), "@") {
			return fmt.Errorf("vocab: vocabulary %s: %q is a JSON-LD keyword", def.Name, t.Name)
		}
		if old, ok := seen[t.Name]; ok && old != t {
			return fmt.Errorf("vocab: vocabulary %s defines %q twice, differently", def.Name, t.Name)
		}
		seen[t.Name] = t
		return nil
	}
	for _, t := range v.terms {
		if err := check(t); err != nil {
			return nil, err
		}
	}
	for _, t := range v.types {
		if t.Shape >= numShapes {
			return nil, fmt.Errorf("vocab: vocabulary %s: type %s has an unknown shape", def.Name, t.Name)
		}
		if err := check(Term{Name: jsonld.Term(t.Name), ID: t.ID}); err != nil {
			return nil, err
		}
	}
	for _, ps := range def.Properties {
		if ps == nil {
			return nil, fmt.Errorf("vocab: vocabulary %s: nil property set", def.Name)
		}
		s := ps.impl()
		if o := s.vocabulary(); o != nil && o != v {
			return nil, fmt.Errorf("vocab: vocabulary %s: a property set already belongs to %s; include that vocabulary instead", def.Name, o.name)
		}
		for _, t := range s.terms() {
			if err := check(t); err != nil {
				return nil, err
			}
		}
		v.sets = append(v.sets, s)
	}
	for _, inc := range v.includes {
		if inc == nil {
			return nil, fmt.Errorf("vocab: vocabulary %s: nil include", def.Name)
		}
	}
	for _, s := range v.sets {
		s.adopt(v)
	}
	return v, nil
}

// MustVocabulary is NewVocabulary for package-level variables: it panics
// when def is wrong, which is a programming error.
func MustVocabulary(def VocabularyDef) *Vocabulary {
	v, err := NewVocabulary(def)
	if err != nil {
		panic(err)
	}
	return v
}

// Name returns the vocabulary's name.
func (v *Vocabulary) Name() string { return v.name }

// Types returns the object types the vocabulary adds.
func (v *Vocabulary) Types() []TypeDef { return append([]TypeDef(nil), v.types...) }

// Terms returns every context definition of the vocabulary: its terms,
// types and properties.
func (v *Vocabulary) Terms() []Term {
	out := append([]Term(nil), v.terms...)
	for _, t := range v.types {
		out = append(out, Term{Name: jsonld.Term(t.Name), ID: t.ID})
	}
	for _, s := range v.sets {
		out = append(out, s.terms()...)
	}
	return out
}

// Properties returns the context definitions of the vocabulary's
// extension properties alone, in the order its property sets list them.
func (v *Vocabulary) Properties() []Term {
	var out []Term
	for _, s := range v.sets {
		out = append(out, s.terms()...)
	}
	return out
}

// contextTerms returns the definitions a document that uses the vocabulary
// needs whatever properties it uses: prefixes, classes and types.
func (v *Vocabulary) contextTerms() []Term {
	out := append([]Term(nil), v.terms...)
	for _, t := range v.types {
		out = append(out, Term{Name: jsonld.Term(t.Name), ID: t.ID})
	}
	return out
}

// PropertySet is a group of extension properties held in one Go struct. It
// is implemented by *Properties.
type PropertySet interface {
	// Terms returns the context definitions of the set's properties.
	Terms() []Term
	impl() setImpl
}

// setImpl is the type-erased side of Properties used by the decoder and
// the encoder.
type setImpl interface {
	newValue() any
	terms() []Term
	fieldIndex(name string) (int, bool)
	numFields() int
	decodeField(i int, d *decoder, n int32, ki *keyInfo, v any) error
	encodeField(i int, e *encoder, ki *keyInfo, v any) error
	hasField(i int, v any) bool
	fieldValue(i int, v any) any
	vocabulary() *Vocabulary
	adopt(v *Vocabulary)
}

// Properties is a property set whose values live in a struct S. Each
// decoded item that carries one of its properties holds one *S; typed views
// embed that *S, so reading and writing its fields reads and writes the
// item.
type Properties[S any] struct {
	fields []Field[S]
	index  map[string]int
	owner  *Vocabulary
}

// NewProperties builds a property set from its fields. It panics on a
// duplicate term, which is a programming error.
func NewProperties[S any](fields ...Field[S]) *Properties[S] {
	p := &Properties[S]{fields: fields, index: make(map[string]int, len(fields))}
	for i, f := range fields {
		name := string(f.term.Name)
		if _, dup := p.index[name]; dup || name == "" {
			panic(fmt.Sprintf("vocab: property set defines %q twice or without a name", name))
		}
		p.index[name] = i
	}
	return p
}

// Terms returns the context definitions of the set's properties.
func (p *Properties[S]) Terms() []Term { return p.terms() }

func (p *Properties[S]) impl() setImpl { return p }

func (p *Properties[S]) newValue() any { return new(S) }

func (p *Properties[S]) terms() []Term {
	out := make([]Term, len(p.fields))
	for i, f := range p.fields {
		out[i] = f.term
	}
	return out
}

func (p *Properties[S]) fieldIndex(name string) (int, bool) {
	i, ok := p.index[name]
	return i, ok
}

func (p *Properties[S]) numFields() int { return len(p.fields) }

func (p *Properties[S]) decodeField(i int, d *decoder, n int32, ki *keyInfo, v any) error {
	return p.fields[i].dec(d, n, ki, v.(*S))
}

func (p *Properties[S]) encodeField(i int, e *encoder, ki *keyInfo, v any) error {
	return p.fields[i].enc(e, ki, v.(*S))
}

func (p *Properties[S]) hasField(i int, v any) bool { return p.fields[i].has(v.(*S)) }

func (p *Properties[S]) fieldValue(i int, v any) any { return p.fields[i].get(v.(*S)) }

func (p *Properties[S]) vocabulary() *Vocabulary { return p.owner }

func (p *Properties[S]) adopt(v *Vocabulary) { p.owner = v }

// Field is one property of a Properties set. Build it with one of the
// …Field functions, which say how the JSON value maps to a Go field.
type Field[S any] struct {
	term Term
	dec  func(d *decoder, n int32, ki *keyInfo, s *S) error
	enc  func(e *encoder, ki *keyInfo, s *S) error
	has  func(s *S) bool
	get  func(s *S) any
}

// errKind reports an extension value of an unexpected JSON type; the
// decoder then keeps it in Extra and notes a problem.
var errKind = errors.New("unexpected JSON type")

// StringField maps a JSON string to a string-typed field.
func StringField[S any, T ~string](t Term, field func(*S) *T) Field[S] {
	return Field[S]{term: t,
		dec: func(d *decoder, n int32, ki *keyInfo, s *S) error {
			switch d.nodes[n].kind {
			case kindString:
				*field(s) = T(d.str(n))
				return nil
			case kindNull:
				ki.flags |= kfNull
				return nil
			}
			return errKind
		},
		enc: func(e *encoder, ki *keyInfo, s *S) error { e.str(string(*field(s))); return nil },
		has: func(s *S) bool { return *field(s) != "" },
		get: func(s *S) any { return *field(s) },
	}
}

// BoolField maps a JSON boolean to a *bool field; nil means absent.
func BoolField[S any](t Term, field func(*S) **bool) Field[S] {
	return Field[S]{term: t,
		dec: func(d *decoder, n int32, ki *keyInfo, s *S) error {
			switch d.nodes[n].kind {
			case kindTrue, kindFalse:
				b := d.nodes[n].kind == kindTrue
				*field(s) = &b
				return nil
			case kindNull:
				ki.flags |= kfNull
				return nil
			}
			return errKind
		},
		enc: func(e *encoder, ki *keyInfo, s *S) error { e.boolean(**field(s)); return nil },
		has: func(s *S) bool { return *field(s) != nil },
		get: func(s *S) any { return **field(s) },
	}
}

// IntField maps a JSON integer to an *int field; nil means absent.
func IntField[S any](t Term, field func(*S) **int) Field[S] {
	return Field[S]{term: t,
		dec: func(d *decoder, n int32, ki *keyInfo, s *S) error {
			switch d.nodes[n].kind {
			case kindNumber:
				v, err := strconv.Atoi(d.src[d.nodes[n].start:d.nodes[n].end])
				if err != nil {
					return errKind
				}
				*field(s) = &v
				return nil
			case kindNull:
				ki.flags |= kfNull
				return nil
			}
			return errKind
		},
		enc: func(e *encoder, ki *keyInfo, s *S) error {
			e.buf = strconv.AppendInt(e.buf, int64(**field(s)), 10)
			return nil
		},
		has: func(s *S) bool { return *field(s) != nil },
		get: func(s *S) any { return **field(s) },
	}
}

// FloatField maps a JSON number to a *float64 field; nil means absent.
func FloatField[S any](t Term, field func(*S) **float64) Field[S] {
	return Field[S]{term: t,
		dec: func(d *decoder, n int32, ki *keyInfo, s *S) error {
			switch d.nodes[n].kind {
			case kindNumber:
				v, err := strconv.ParseFloat(d.src[d.nodes[n].start:d.nodes[n].end], 64)
				if err != nil {
					return errKind
				}
				*field(s) = &v
				return nil
			case kindNull:
				ki.flags |= kfNull
				return nil
			}
			return errKind
		},
		enc: func(e *encoder, ki *keyInfo, s *S) error { return e.float(**field(s), ki) },
		has: func(s *S) bool { return *field(s) != nil },
		get: func(s *S) any { return **field(s) },
	}
}

// TimeField maps a timestamp string to a time.Time field; the zero time
// means absent. The input's exact text is written back while the value is
// unchanged.
func TimeField[S any](t Term, field func(*S) *time.Time) Field[S] {
	return Field[S]{term: t,
		dec: func(d *decoder, n int32, ki *keyInfo, s *S) error {
			switch d.nodes[n].kind {
			case kindString:
				v, _, ok := parseTime(d.str(n))
				if !ok || v.IsZero() {
					return errKind
				}
				*field(s) = v
				return nil
			case kindNull:
				ki.flags |= kfNull
				return nil
			}
			return errKind
		},
		enc: func(e *encoder, ki *keyInfo, s *S) error { e.timeVal(*field(s), ki); return nil },
		has: func(s *S) bool { return !field(s).IsZero() },
		get: func(s *S) any { return *field(s) },
	}
}

// IRIField maps a JSON string holding an IRI to an ap.IRI field.
func IRIField[S any](t Term, field func(*S) *ap.IRI) Field[S] {
	return Field[S]{term: t,
		dec: func(d *decoder, n int32, ki *keyInfo, s *S) error {
			switch d.nodes[n].kind {
			case kindString:
				v := d.str(n)
				if checkIRI(v) != "" {
					return errKind
				}
				*field(s) = ap.IRI(v)
				return nil
			case kindNull:
				ki.flags |= kfNull
				return nil
			}
			return errKind
		},
		enc: func(e *encoder, ki *keyInfo, s *S) error { e.str(string(*field(s))); return nil },
		has: func(s *S) bool { return *field(s) != "" },
		get: func(s *S) any { return *field(s) },
	}
}

// ItemField maps an IRI, an embedded object or an array of them to an
// ap.Item field; nested objects are decoded with the registry. A string
// that is not an IRI stays in Extra.
func ItemField[S any](t Term, field func(*S) *ap.Item) Field[S] {
	return Field[S]{term: t,
		dec: func(d *decoder, n int32, ki *keyInfo, s *S) error {
			switch d.nodes[n].kind {
			case kindString:
				if checkIRI(d.str(n)) != "" {
					return errKind
				}
				*field(s) = ap.IRI(d.str(n))
				return nil
			case kindObject, kindArray, kindNull:
				it, err := d.itemVal(n, ki)
				if err != nil {
					return err
				}
				*field(s) = it
				return nil
			}
			return errKind
		},
		enc: func(e *encoder, ki *keyInfo, s *S) error { return e.item(*field(s), ki) },
		has: func(s *S) bool { return *field(s) != nil },
		get: func(s *S) any { return *field(s) },
	}
}

// ItemsField maps one or many IRIs or objects to an ap.ItemCollection.
func ItemsField[S any](t Term, field func(*S) *ap.ItemCollection) Field[S] {
	return Field[S]{term: t,
		dec: func(d *decoder, n int32, ki *keyInfo, s *S) error {
			switch d.nodes[n].kind {
			case kindString, kindObject, kindArray, kindNull:
				c, err := d.itemsVal(n, ki)
				if err != nil {
					return err
				}
				*field(s) = c
				return nil
			}
			return errKind
		},
		enc: func(e *encoder, ki *keyInfo, s *S) error { return e.items(*field(s), ki) },
		has: func(s *S) bool { return *field(s) != nil },
		get: func(s *S) any { return *field(s) },
	}
}

// RawField keeps the JSON value as it is.
func RawField[S any](t Term, field func(*S) *json.RawMessage) Field[S] {
	return Field[S]{term: t,
		dec: func(d *decoder, n int32, ki *keyInfo, s *S) error {
			*field(s) = d.rawMessage(n)
			return nil
		},
		enc: func(e *encoder, ki *keyInfo, s *S) error { return e.raw(*field(s)) },
		has: func(s *S) bool { return len(*field(s)) > 0 },
		get: func(s *S) any { return *field(s) },
	}
}

// JSONField maps a structured value to a *T field with encoding/json. Use
// it for small records such as Lemmy's language {identifier, name}. The
// value must use T's JSON member names exactly, once each; otherwise it
// stays in Extra. The input's text is written back while the value is
// unchanged.
func JSONField[S, T any](t Term, field func(*S) **T) Field[S] {
	names := jsonNames[T]()
	return Field[S]{term: t,
		dec: func(d *decoder, n int32, ki *keyInfo, s *S) error {
			if d.nodes[n].kind == kindNull {
				ki.flags |= kfNull
				return nil
			}
			v, err := decodeJSON[T](d, n, names)
			if err != nil {
				return err
			}
			*field(s) = &v
			return nil
		},
		enc: func(e *encoder, ki *keyInfo, s *S) error {
			v := *field(s)
			if ki != nil && ki.raw != "" {
				var old T
				if json.Unmarshal([]byte(ki.raw), &old) == nil && reflect.DeepEqual(&old, v) {
					e.buf = append(e.buf, ki.raw...)
					return nil
				}
			}
			b, err := json.Marshal(v)
			if err != nil {
				return fmt.Errorf("%w: %s: %v", ErrEncode, t.Name, err)
			}
			e.buf = append(e.buf, b...)
			return nil
		},
		has: func(s *S) bool { return *field(s) != nil },
		get: func(s *S) any { return *field(s) },
	}
}

// jsonNames returns the JSON member names of a struct type T, or nil when
// T is not a struct.
func jsonNames[T any]() map[string]bool {
	rt := reflect.TypeFor[T]()
	if rt.Kind() != reflect.Struct {
		return nil
	}
	names := map[string]bool{}
	for i := 0; i < rt.NumField(); i++ {
		f := rt.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch name {
		case "-":
			continue
		case "":
			name = f.Name
		}
		names[name] = true
	}
	return names
}

// decodeJSON decodes one object node into T after checking that its
// members are T's exact member names: encoding/json would match them
// ignoring case. (Duplicates were refused with the whole document.)
func decodeJSON[T any](d *decoder, n int32, names map[string]bool) (T, error) {
	var v T
	if names != nil {
		if d.nodes[n].kind != kindObject {
			return v, errKind
		}
		for c := d.nodes[n].child; c != 0; c = d.nodes[c].next {
			if !names[d.key(c)] {
				return v, errKind
			}
		}
	}
	if json.Unmarshal(d.rawMessage(n), &v) != nil {
		return v, errKind
	}
	return v, nil
}

// JSONListField maps one structured value or an array of them to a []T
// field with encoding/json, keeping the input's single-or-array form. Use
// it for records that peers send either way, such as Lemmy's language. As
// with JSONField, members must match T's names exactly, and the input's
// text is written back while the value is unchanged.
func JSONListField[S, T any](t Term, field func(*S) *[]T) Field[S] {
	names := jsonNames[T]()
	return Field[S]{term: t,
		dec: func(d *decoder, n int32, ki *keyInfo, s *S) error {
			switch d.nodes[n].kind {
			case kindNull:
				ki.flags |= kfNull
				return nil
			case kindArray:
				out := make([]T, 0, d.nodes[n].count)
				i := 0
				for c := d.nodes[n].child; c != 0; c = d.nodes[c].next {
					d.pushIdx(i)
					v, err := decodeJSON[T](d, c, names)
					d.pop()
					if err != nil {
						return err
					}
					out = append(out, v)
					i++
				}
				*field(s) = out
				return nil
			case kindObject:
				v, err := decodeJSON[T](d, n, names)
				if err != nil {
					return err
				}
				ki.flags |= kfScalar
				*field(s) = []T{v}
				return nil
			}
			return errKind
		},
		enc: func(e *encoder, ki *keyInfo, s *S) error {
			list := *field(s)
			var v any = list
			if len(list) == 1 && ki != nil && ki.flags&kfScalar != 0 {
				v = list[0]
			}
			if ki != nil && ki.raw != "" {
				var old []T
				if ki.flags&kfScalar != 0 {
					var one T
					if json.Unmarshal([]byte(ki.raw), &one) == nil {
						old = []T{one}
					}
				} else {
					_ = json.Unmarshal([]byte(ki.raw), &old)
				}
				if old != nil && reflect.DeepEqual(old, list) {
					e.buf = append(e.buf, ki.raw...)
					return nil
				}
			}
			b, err := json.Marshal(v)
			if err != nil {
				return fmt.Errorf("%w: %s: %v", ErrEncode, t.Name, err)
			}
			e.buf = append(e.buf, b...)
			return nil
		},
		has: func(s *S) bool { return *field(s) != nil },
		get: func(s *S) any { return *field(s) },
	}
}
