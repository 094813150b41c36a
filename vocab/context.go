package vocab

import (
	"strings"
	"sync/atomic"

	"github.com/go-ap/jsonld"
)

// The merged @context of an encoded document is
//
//	[AS2, security/v1, <IRIs kept from the input>, {<definitions>}]
//
// where the definitions are those of the Common terms and of every
// vocabulary the document uses, followed by the input's own definitions of
// the terms we do not define (so that its unknown properties keep their
// meaning). Results are cached per combination, for inputs of a modest
// size.

const maxCachedContexts = 1024

type contextKey struct {
	common bool
	used   string // one byte per registered vocabulary, then per property set: '1' used
	orig   string // the input's @context, when it carries something
}

// maxCachedOrig bounds the input contexts the cache keeps as keys, so
// that hostile documents cannot pin memory through it.
const maxCachedOrig = 8 << 10

func (r *Registry) contextFor(e *encoder, orig string) ([]byte, error) {
	if orig != "" && !carriesSomething(orig) {
		orig = ""
	}
	var mask [128]byte
	vm := mask[:0]
	for _, used := range e.vocabs {
		vm = append(vm, '0'+b2i(used))
	}
	for _, used := range e.sets {
		vm = append(vm, '0'+b2i(used))
	}
	cacheable := len(e.foreign) == 0 && len(orig) <= maxCachedOrig
	if cacheable {
		key := contextKey{common: e.common, used: string(vm), orig: orig}
		if v, ok := r.contexts.Load(key); ok {
			return v.([]byte), nil
		}
	}
	ctx := r.buildContext(e, orig)
	if cacheable && atomic.LoadInt64(&r.ctxCount) < maxCachedContexts {
		key := contextKey{common: e.common, used: string(vm), orig: strings.Clone(orig)}
		if _, loaded := r.contexts.LoadOrStore(key, ctx); !loaded {
			atomic.AddInt64(&r.ctxCount, 1)
		}
	}
	return ctx, nil
}

// carriesSomething reports whether an input @context has anything beyond
// the AS2 and security IRIs.
func carriesSomething(orig string) bool {
	switch orig {
	case `"https://www.w3.org/ns/activitystreams"`, `"http://www.w3.org/ns/activitystreams"`,
		`["https://www.w3.org/ns/activitystreams","https://w3id.org/security/v1"]`,
		`["https://www.w3.org/ns/activitystreams"]`, "null":
		return false
	}
	return true
}

func isStandardContext(iri string) bool {
	switch iri {
	case ActivityStreamsContext, "http://www.w3.org/ns/activitystreams", SecurityContext,
		"https://www.w3.org/ns/activitystreams#", "http://www.w3.org/ns/activitystreams#":
		return true
	}
	return false
}

func (r *Registry) buildContext(e *encoder, orig string) []byte {
	w := &encoder{r: r}
	w.buf = append(w.buf, '[')
	w.str(ActivityStreamsContext)
	w.buf = append(w.buf, ',')
	w.str(SecurityContext)

	// What the input's context brings that we do not define. A name we
	// do define is replaced by our definition, so that the input's other
	// definitions that use it (a prefix, say) keep their meaning.
	var carriedIRIs []string
	var carriedDefs []string // name, raw definition, name, raw definition...
	var ours []Term
	if orig != "" {
		var sc scanner
		if sc.scan(orig, limits{depth: DefaultMaxDepth, values: DefaultMaxValues, objects: DefaultMaxObjects}) == nil {
			d := &decoder{src: orig, nodes: sc.nodes}
			visit := func(n int32) {
				switch d.nodes[n].kind {
				case kindString:
					if iri := d.str(n); !isStandardContext(iri) {
						carriedIRIs = append(carriedIRIs, iri)
					}
				case kindObject:
					for c := d.nodes[n].child; c != 0; c = d.nodes[c].next {
						name := d.key(c)
						if as2Terms[name] {
							continue
						}
						if t, ok := r.defs[jsonld.Term(name)]; ok {
							ours = append(ours, t.term)
							continue
						}
						if _, ok := r.terms[name]; ok {
							continue // a core property: the AS2 context defines it
						}
						// A later definition of the same name wins, as in
						// JSON-LD.
						for i := 0; i < len(carriedDefs); i += 2 {
							if carriedDefs[i] == name {
								carriedDefs = append(carriedDefs[:i], carriedDefs[i+2:]...)
								break
							}
						}
						carriedDefs = append(carriedDefs, name, d.rawText(c))
					}
				}
			}
			if d.nodes[0].kind == kindArray {
				for c := d.nodes[0].child; c != 0; c = d.nodes[c].next {
					visit(c)
				}
			} else {
				visit(0)
			}
		}
	}
	for _, iri := range carriedIRIs {
		w.buf = append(w.buf, ',')
		w.str(iri)
	}

	defs := make([]Term, 0, 32)
	seen := map[jsonld.Term]bool{}
	add := func(ts []Term) {
		for _, t := range ts {
			if !seen[t.Name] {
				seen[t.Name] = true
				defs = append(defs, t)
			}
		}
	}
	if e.common {
		add(commonTerms)
	}
	// A vocabulary in use brings its prefixes, classes and types, and the
	// definitions of the property sets the document uses.
	for i, used := range e.vocabs {
		if used {
			add(r.vocabs[i].contextTerms())
		}
	}
	for i, used := range e.sets {
		if used {
			add(r.sets[i].terms())
		}
	}
	for _, s := range e.foreign {
		if v := s.vocabulary(); v != nil {
			add(v.contextTerms())
		}
		add(s.terms())
	}
	add(ours)
	if len(defs) > 0 || len(carriedDefs) > 0 {
		w.buf = append(w.buf, ",{"...)
		first := true
		for _, t := range defs {
			if strings.Contains(string(t.Name), ":") {
				// A compact IRI used as a key, such as "ical:status",
				// needs only its prefix.
				continue
			}
			w.key(&first, string(t.Name))
			writeTermDef(w, t)
		}
		for i := 0; i < len(carriedDefs); i += 2 {
			if seen[jsonld.Term(carriedDefs[i])] {
				continue
			}
			w.key(&first, carriedDefs[i])
			w.buf = append(w.buf, carriedDefs[i+1]...)
		}
		w.buf = append(w.buf, '}')
	}
	w.buf = append(w.buf, ']')
	return w.buf
}

func b2i(b bool) byte {
	if b {
		return 1
	}
	return 0
}

func writeTermDef(w *encoder, t Term) {
	if !t.expanded() {
		w.str(string(t.ID))
		return
	}
	w.buf = append(w.buf, '{')
	f := true
	w.key(&f, "@id")
	w.str(string(t.ID))
	if t.Type != "" {
		w.key(&f, "@type")
		w.str(string(t.Type))
	}
	if t.Container != "" {
		w.key(&f, "@container")
		w.str(string(t.Container))
	}
	w.buf = append(w.buf, '}')
}

// defines reports whether the registry's vocabularies or the Common terms
// define name.
func (r *Registry) defines(name string) bool {
	_, ok := r.defs[jsonld.Term(name)]
	if ok {
		return true
	}
	_, ok = r.terms[name]
	return ok
}

// Context returns the @context that documents using every registered
// vocabulary carry: the AS2 and security contexts and all the term
// definitions. Use it to publish or to document what fedi sends.
func (r *Registry) Context() []byte {
	e := &encoder{r: r, common: true}
	for range r.vocabs {
		e.vocabs = append(e.vocabs, true)
	}
	for range r.sets {
		e.sets = append(e.sets, true)
	}
	return r.buildContext(e, "")
}
