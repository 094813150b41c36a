package vocab

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	ap "github.com/go-ap/activitypub"
)

// decoder walks the scanned tree of one document and builds items. It is
// pooled by the registry; the items it returns reference only src (an
// immutable copy of the input) and memory allocated for them.
type decoder struct {
	r     *Registry
	sc    scanner
	src   string
	nodes []node
	rawb  []byte    // a second copy of the input, for json.RawMessage and ap.Content values
	keys  []keyInfo // arena for the keyInfo of every object of the document
	path  []pathElem
	top   []Problem // document-level problems
}

type pathElem struct {
	key string
	idx int // -1 for a key
}

// errExpanded tells Decode to take the JSON-LD path.
var errExpanded = errors.New("expanded JSON-LD")

const maxPooledNodes = 1 << 16

func (d *decoder) reset() {
	d.src, d.sc.s = "", ""
	d.rawb, d.keys, d.top = nil, nil, nil
	d.path = d.path[:0]
	if cap(d.sc.nodes) > maxPooledNodes {
		d.sc.nodes = nil
	}
	d.nodes = nil
}

func (d *decoder) decodeDocument(data []byte, expandable bool) (Item, error) {
	d.src = string(data)
	if serr := d.sc.scan(d.src, d.r.lim); serr != nil {
		line, col := lineCol(d.src, serr.offset)
		return nil, &DecodeError{Err: serr.err, Offset: serr.offset, Line: line, Column: col, Detail: serr.msg}
	}
	d.nodes = d.sc.nodes
	members := 0
	for i := range d.nodes {
		if d.nodes[i].kind == kindObject {
			members += int(d.nodes[i].count)
		}
	}
	if err := d.checkDuplicates(); err != nil {
		return nil, err
	}
	d.keys = make([]keyInfo, 0, members)
	root := &d.nodes[0]
	switch root.kind {
	case kindObject:
		if expandable && d.expanded(0) {
			return nil, errExpanded
		}
		return d.object(0, true)
	case kindArray:
		items := make(ap.ItemCollection, 0, root.count)
		i := 0
		for c := root.child; c != 0; c = d.nodes[c].next {
			d.path = append(d.path, pathElem{idx: i})
			if d.nodes[c].kind != kindObject {
				return nil, d.fail(ErrNotObject, c, "a top-level array must hold objects, found "+d.nodes[c].kind.article())
			}
			if expandable && d.expanded(c) {
				return nil, errExpanded
			}
			it, err := d.object(c, true)
			if err != nil {
				return nil, err
			}
			items = append(items, it)
			d.path = d.path[:len(d.path)-1]
			i++
		}
		return items, nil
	}
	return nil, d.fail(ErrNotObject, 0, "the document is "+root.kind.article())
}

// expanded reports whether an object needs a JSON-LD processor: it uses
// the keywords @id or @type, or every member is a keyword or a full IRI
// (with at least one @graph or IRI). A compact document that merely
// carries some full-IRI members does not: those stay in Extra.
func (d *decoder) expanded(idx int32) bool {
	found, compact := false, false
	for c := d.nodes[idx].child; c != 0; c = d.nodes[c].next {
		k := d.key(c)
		switch {
		case k == "@id" || k == "@type":
			// The keyword form of id and type: JSON-LD, whatever the
			// other members look like.
			return true
		case k == "@graph" || strings.HasPrefix(k, "http://") || strings.HasPrefix(k, "https://"):
			found = true
		case strings.HasPrefix(k, "@"):
		default:
			compact = true
		}
	}
	return found && !compact
}

// str returns the text of a string node.
func (d *decoder) str(n int32) string {
	nd := &d.nodes[n]
	if nd.esc {
		return unescape(d.src[nd.start:nd.end])
	}
	return d.src[nd.start:nd.end]
}

// key returns the member name of a node.
func (d *decoder) key(n int32) string {
	nd := &d.nodes[n]
	if nd.kesc {
		return unescape(d.src[nd.kstart:nd.kend])
	}
	return d.src[nd.kstart:nd.kend]
}

// rawText returns the JSON text of a value.
func (d *decoder) rawText(n int32) string {
	nd := &d.nodes[n]
	if nd.kind == kindString {
		return d.src[nd.start-1 : nd.end+1]
	}
	return d.src[nd.start:nd.end]
}

func (d *decoder) rawBytes() []byte {
	if d.rawb == nil {
		d.rawb = []byte(d.src)
	}
	return d.rawb
}

// rawMessage returns the JSON text of a value as a json.RawMessage that
// the caller may keep.
func (d *decoder) rawMessage(n int32) json.RawMessage {
	nd := &d.nodes[n]
	s, e := nd.start, nd.end
	if nd.kind == kindString {
		s, e = s-1, e+1
	}
	b := d.rawBytes()
	return json.RawMessage(b[s:e:e])
}

// content returns a string node as ap.Content.
func (d *decoder) content(n int32) ap.Content {
	nd := &d.nodes[n]
	if nd.esc {
		return ap.Content(unescape(d.src[nd.start:nd.end]))
	}
	b := d.rawBytes()
	return ap.Content(b[nd.start:nd.end:nd.end])
}

func (d *decoder) pathString() string {
	var b strings.Builder
	b.WriteByte('$')
	for _, p := range d.path {
		if p.idx >= 0 {
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(p.idx))
			b.WriteByte(']')
			continue
		}
		if isIdentifier(p.key) {
			b.WriteByte('.')
			b.WriteString(p.key)
		} else {
			b.WriteString("[")
			b.WriteString(strconv.Quote(p.key))
			b.WriteString("]")
		}
	}
	return b.String()
}

func isIdentifier(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '@' || c == ':' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return s != ""
}

// fail builds a positioned error for node n at the current path.
func (d *decoder) fail(err error, n int32, detail string) error {
	off := int(d.nodes[n].start)
	if d.nodes[n].kind == kindString {
		off--
	}
	line, col := lineCol(d.src, off)
	return &DecodeError{Err: err, Path: d.pathString(), Offset: off, Line: line, Column: col, Detail: detail}
}

// note records a problem at the current path.
func (d *decoder) note(st *state, sev Severity, msg string) {
	st.notes = append(st.notes, Problem{Path: d.pathString(), Message: msg, Severity: sev})
}

func (d *decoder) push(key string) { d.path = append(d.path, pathElem{key: key, idx: -1}) }
func (d *decoder) pushIdx(i int)   { d.path = append(d.path, pathElem{idx: i}) }
func (d *decoder) pop()            { d.path = d.path[:len(d.path)-1] }

func truncate(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}

// object decodes the object node idx into the wrapper its type calls for.
func (d *decoder) object(idx int32, top bool) (wrapper, error) {
	var typeNode int32
	var hasActor, hasObject, hasInbox bool
	for c := d.nodes[idx].child; c != 0; c = d.nodes[c].next {
		switch d.key(c) {
		case "type":
			typeNode = c
		case "actor":
			hasActor = true
		case "object":
			hasObject = true
		case "inbox":
			hasInbox = true
		}
	}
	shape := ShapeObject
	var primary string
	if typeNode != 0 {
		d.push("type")
		var err error
		shape, primary, err = d.typeOf(typeNode)
		d.pop()
		if err != nil {
			return nil, err
		}
	}
	if primary == "" || d.r.types[primary].id == "" {
		switch {
		case hasActor || hasObject:
			shape = ShapeActivity
		case hasInbox:
			shape = ShapeActor
		}
	}
	w := newShape(shape)
	p := w.parts()
	st := p.st
	if top {
		st.flags |= stTop
	}
	count := int(d.nodes[idx].count)
	st.keys = d.keys[len(d.keys) : len(d.keys) : len(d.keys)+count]
	d.keys = d.keys[:len(d.keys)+count]
	for c := d.nodes[idx].child; c != 0; c = d.nodes[c].next {
		if bit := langKeyBit(d.key(c)); bit != 0 {
			p.langKeys |= bit
		}
	}
	for c := d.nodes[idx].child; c != 0; c = d.nodes[c].next {
		name := d.key(c)
		// The keyInfo lives in the arena from the start, so that handing
		// its address to the property decoders does not move it to the heap.
		st.keys = append(st.keys, keyInfo{name: name, raw: d.rawText(c)})
		d.push(name)
		if err := d.member(p, c, &st.keys[len(st.keys)-1], primary); err != nil {
			return nil, err
		}
		d.pop()
	}
	if top {
		st.notes = append(st.notes, d.top...)
		d.top = nil
	}
	return w, nil
}

// typeOf reads the type member: the shape to use and the primary type.
func (d *decoder) typeOf(n int32) (Shape, string, error) {
	nd := &d.nodes[n]
	switch nd.kind {
	case kindString:
		name := d.str(n)
		if t, ok := d.r.types[name]; ok {
			return t.shape, name, nil
		}
		return ShapeObject, name, nil
	case kindArray:
		first, known := "", ""
		shape := ShapeObject
		i := 0
		for c := nd.child; c != 0; c = d.nodes[c].next {
			if d.nodes[c].kind != kindString {
				d.pushIdx(i)
				return 0, "", d.fail(ErrPropertyType, c, "a type must be a string, got "+d.nodes[c].kind.article())
			}
			name := d.str(c)
			if t, ok := d.r.types[name]; ok && known == "" {
				known, shape = name, t.shape
			}
			if first == "" {
				first = name
			}
			i++
		}
		if known != "" {
			return shape, known, nil
		}
		return ShapeObject, first, nil
	case kindNull:
		return ShapeObject, "", nil
	}
	return 0, "", d.fail(ErrPropertyType, n, "a type must be a string or an array of strings, got "+nd.kind.article())
}

func (d *decoder) member(p parts, c int32, ki *keyInfo, primary string) error {
	nd := &d.nodes[c]
	switch ki.name {
	case "@context":
		return d.context(p, c, ki)
	case "id":
		switch nd.kind {
		case kindString:
			s := d.str(c)
			if why := checkIRI(s); why != "" {
				return d.fail(ErrInvalidIRI, c, fmt.Sprintf("%q %s", truncate(s), why))
			}
			p.setID(ap.ID(s))
			return nil
		case kindNull:
			ki.flags |= kfNull
			return nil
		}
		return d.fail(ErrPropertyType, c, "an id must be a string, got "+nd.kind.article())
	case "type":
		p.setType(ap.ActivityVocabularyType(primary))
		if nd.kind == kindArray {
			p.st.types = ki.raw
			p.st.typ0 = ap.ActivityVocabularyType(primary)
		}
		return nil
	}
	ref, ok := d.r.terms[ki.name]
	ki.pr = ref.core
	if ok && ref.core != pNone {
		handled, err := d.core(p, ref.core, c, ki)
		if err != nil || handled {
			return err
		}
	} else if ok {
		set := d.r.sets[ref.set]
		v := p.st.setFor(set)
		err := set.decodeField(int(ref.field), d, c, ki, v)
		if err == nil {
			return nil
		}
		if !errors.Is(err, errKind) {
			return err
		}
		d.note(p.st, SeverityWarning, fmt.Sprintf("%s of vocabulary %s has an unexpected JSON %s; kept as is",
			ki.name, set.vocabulary().Name(), nd.kind))
	}
	return d.extra(p, c, ki)
}

func (d *decoder) extra(p parts, c int32, ki *keyInfo) error {
	if *p.extra == nil {
		*p.extra = make(Extra, 4)
	}
	(*p.extra)[ki.name] = d.rawMessage(c)
	ki.flags &^= kfScalar | kfNull | kfMap | kfPlain
	ki.flags |= kfRaw // encoding writes the raw value while the typed field is unchanged
	return nil
}

// setFor returns the value of set on the item, creating it.
func (st *state) setFor(set setImpl) any {
	for _, sv := range st.sets {
		if sv.set == set {
			return sv.v
		}
	}
	v := set.newValue()
	st.sets = append(st.sets, setValue{set: set, v: v})
	return v
}

func (d *decoder) context(p parts, c int32, ki *keyInfo) error {
	nd := &d.nodes[c]
	checkEntry := func(e int32) error {
		switch d.nodes[e].kind {
		case kindString:
			if why := checkIRI(d.str(e)); why != "" {
				return d.fail(ErrContext, e, fmt.Sprintf("context IRI %q %s", truncate(d.str(e)), why))
			}
		case kindObject, kindNull:
		default:
			return d.fail(ErrContext, e, "a context entry must be an IRI or an object, got "+d.nodes[e].kind.article())
		}
		return nil
	}
	switch nd.kind {
	case kindArray:
		for e := nd.child; e != 0; e = d.nodes[e].next {
			if err := checkEntry(e); err != nil {
				return err
			}
		}
	case kindString, kindObject, kindNull:
		if err := checkEntry(c); err != nil {
			return err
		}
	default:
		return d.fail(ErrContext, c, "@context must be an IRI, an object or an array, got "+nd.kind.article())
	}
	p.st.ctx = ki.raw
	return nil
}

// itemVal decodes an IRI, an embedded object or an array of them.
func (d *decoder) itemVal(n int32, ki *keyInfo) (ap.Item, error) {
	nd := &d.nodes[n]
	switch nd.kind {
	case kindString:
		return d.iri(n)
	case kindObject:
		return d.object(n, false)
	case kindArray:
		return d.array(n)
	case kindNull:
		if ki != nil {
			ki.flags |= kfNull
		}
		return nil, nil
	}
	return nil, d.fail(ErrPropertyType, n, "expected an IRI or an object, got "+nd.kind.article())
}

// itemsVal decodes a multi-valued property into a collection, noting when
// the input gave a single value.
func (d *decoder) itemsVal(n int32, ki *keyInfo) (ap.ItemCollection, error) {
	nd := &d.nodes[n]
	switch nd.kind {
	case kindArray:
		return d.array(n)
	case kindString, kindObject:
		it, err := d.itemVal(n, ki)
		if err != nil {
			return nil, err
		}
		ki.flags |= kfScalar
		return ap.ItemCollection{it}, nil
	case kindNull:
		ki.flags |= kfNull
		return nil, nil
	}
	return nil, d.fail(ErrPropertyType, n, "expected IRIs or objects, got "+nd.kind.article())
}

func (d *decoder) array(n int32) (ap.ItemCollection, error) {
	nd := &d.nodes[n]
	col := make(ap.ItemCollection, 0, nd.count)
	i := 0
	for e := nd.child; e != 0; e = d.nodes[e].next {
		d.pushIdx(i)
		var it ap.Item
		var err error
		switch d.nodes[e].kind {
		case kindString:
			it, err = d.iri(e)
		case kindObject:
			it, err = d.object(e, false)
		case kindNull:
		default:
			err = d.fail(ErrPropertyType, e, "expected an IRI or an object, got "+d.nodes[e].kind.article())
		}
		if err != nil {
			return nil, err
		}
		d.pop()
		col = append(col, it)
		i++
	}
	return col, nil
}

func (d *decoder) iri(n int32) (ap.Item, error) {
	s := d.str(n)
	if why := checkIRI(s); why != "" {
		return nil, d.fail(ErrInvalidIRI, n, fmt.Sprintf("%q %s", truncate(s), why))
	}
	return ap.IRI(s), nil
}

func (d *decoder) iriField(n int32, ki *keyInfo, dst *ap.IRI) error {
	switch d.nodes[n].kind {
	case kindString:
		s := d.str(n)
		if why := checkIRI(s); why != "" {
			return d.fail(ErrInvalidIRI, n, fmt.Sprintf("%q %s", truncate(s), why))
		}
		*dst = ap.IRI(s)
		return nil
	case kindNull:
		ki.flags |= kfNull
		return nil
	}
	return d.fail(ErrPropertyType, n, "expected an IRI, got "+d.nodes[n].kind.article())
}

// nlv decodes name, content, summary, preferredUsername and their Map
// forms into one list of language-tagged values; the untagged value has
// the ap.NilLangRef tag. It returns false when the value must stay in Extra.
func (d *decoder) nlv(p parts, n int32, ki *keyInfo, dst *ap.NaturalLanguageValues, mapKey bool) (bool, error) {
	nd := &d.nodes[n]
	// A value in the other member's form ("name": {...}, "nameMap": "...")
	// joins the list only when its sibling member is absent; otherwise
	// the two could not be told apart again, so it stays as it is.
	wrongForm := mapKey && nd.kind == kindString || !mapKey && nd.kind == kindObject
	if wrongForm && (len(*dst) > 0 || p.langKeys&siblingBit(ki.name) != 0) {
		d.note(p.st, SeverityError, ki.name+" has the form of its sibling member; kept as is")
		return false, nil
	}
	switch nd.kind {
	case kindString:
		if mapKey {
			ki.flags |= kfPlain
			d.note(p.st, SeverityError, ki.name+" must be a map of language tags to strings, got a string")
		}
		*dst = append(*dst, ap.LangRefValue{Ref: ap.NilLangRef, Value: d.content(n)})
		return true, nil
	case kindArray:
		if mapKey {
			break
		}
		for e := nd.child; e != 0; e = d.nodes[e].next {
			if d.nodes[e].kind != kindString {
				return false, d.fail(ErrPropertyType, e, ki.name+" must hold strings, got "+d.nodes[e].kind.article())
			}
		}
		for e := nd.child; e != 0; e = d.nodes[e].next {
			*dst = append(*dst, ap.LangRefValue{Ref: ap.NilLangRef, Value: d.content(e)})
		}
		return true, nil
	case kindObject:
		for e := nd.child; e != 0; e = d.nodes[e].next {
			lang := d.key(e)
			if lang == "" || lang == string(ap.NilLangRef) || strings.HasPrefix(lang, "@") || d.nodes[e].kind != kindString {
				// Not a plain language map: keep it as it is.
				if d.nodes[e].kind != kindString && d.nodes[e].kind != kindNull {
					d.push(lang)
					err := d.fail(ErrPropertyType, e, ki.name+" must map language tags to strings, got "+d.nodes[e].kind.article())
					d.pop()
					return false, err
				}
				d.note(p.st, SeverityWarning, ki.name+" is not a plain language map; kept as is")
				return false, nil
			}
		}
		if !mapKey {
			ki.flags |= kfMap
			d.note(p.st, SeverityError, ki.name+" must be a string; a language map belongs in "+ki.name+"Map")
		}
		for e := nd.child; e != 0; e = d.nodes[e].next {
			lang := d.key(e)
			if !validLanguageTag(lang) {
				d.push(lang)
				d.note(p.st, SeverityError, fmt.Sprintf("%q is not a well-formed BCP 47 language tag", lang))
				d.pop()
			}
			*dst = append(*dst, ap.LangRefValue{Ref: ap.LangRef(lang), Value: d.content(e)})
		}
		return true, nil
	case kindNull:
		ki.flags |= kfNull
		return true, nil
	}
	return false, d.fail(ErrPropertyType, n, "expected a string, got "+nd.kind.article())
}

// duplicateKey returns the first member name that appears twice in the
// object node n, and the node of its second occurrence. Small objects are
// compared pairwise; larger ones through a map, to stay linear.
func (d *decoder) duplicateKey(n int32) (string, int32) {
	nd := &d.nodes[n]
	if nd.count <= 16 {
		for a := nd.child; a != 0; a = d.nodes[a].next {
			ka := d.key(a)
			for b := d.nodes[a].next; b != 0; b = d.nodes[b].next {
				if d.key(b) == ka {
					return ka, b
				}
			}
		}
		return "", 0
	}
	seen := make(map[string]struct{}, nd.count)
	for c := nd.child; c != 0; c = d.nodes[c].next {
		k := d.key(c)
		if _, dup := seen[k]; dup {
			return k, c
		}
		seen[k] = struct{}{}
	}
	return "", 0
}

// checkDuplicates rejects a document in which any object, at any depth
// and whether or not a vocabulary claims it, has a member twice: readers
// that keep the first or the last of them would see different documents.
func (d *decoder) checkDuplicates() error {
	for i := range d.nodes {
		if d.nodes[i].kind != kindObject || d.nodes[i].count < 2 {
			continue
		}
		if dup, at := d.duplicateKey(int32(i)); at != 0 {
			d.path = d.pathTo(at, d.path[:0])
			return d.fail(ErrSyntax, at, fmt.Sprintf("duplicate member %q", dup))
		}
	}
	return nil
}

// pathTo returns the JSON path of node target. Nodes are in preorder, so
// the child of a node that leads to target is its last child whose index
// is not after target.
func (d *decoder) pathTo(target int32, path []pathElem) []pathElem {
	for n := int32(0); n != target; {
		next, i, at := int32(0), 0, 0
		for c := d.nodes[n].child; c != 0 && c <= target; c = d.nodes[c].next {
			next, at = c, i
			i++
		}
		if next == 0 {
			break
		}
		if d.nodes[n].kind == kindObject {
			path = append(path, pathElem{key: d.key(next), idx: -1})
		} else {
			path = append(path, pathElem{idx: at})
		}
		n = next
	}
	return path
}

// langKeyBit numbers the natural-language members; their Map forms take
// the bit above.
func langKeyBit(name string) uint16 {
	switch name {
	case "name":
		return 1 << 0
	case "nameMap":
		return 1 << 1
	case "content":
		return 1 << 2
	case "contentMap":
		return 1 << 3
	case "summary":
		return 1 << 4
	case "summaryMap":
		return 1 << 5
	case "preferredUsername":
		return 1 << 6
	case "preferredUsernameMap":
		return 1 << 7
	}
	return 0
}

// siblingBit returns the bit of the other member of a plain/Map pair.
func siblingBit(name string) uint16 {
	b := langKeyBit(name)
	if b&0b01010101 != 0 {
		return b << 1
	}
	return b >> 1
}

func (d *decoder) timeField(p parts, n int32, ki *keyInfo, dst *time.Time) error {
	switch d.nodes[n].kind {
	case kindString:
		s := d.str(n)
		t, zoned, ok := parseTime(s)
		if !ok {
			d.note(p.st, SeverityError, fmt.Sprintf("%q is not a timestamp; kept as is", truncate(s)))
			return nil
		}
		if !zoned {
			d.note(p.st, SeverityWarning, fmt.Sprintf("timestamp %q has no UTC offset; read as UTC", s))
		}
		*dst = t
		return nil
	case kindNull:
		ki.flags |= kfNull
		return nil
	}
	return d.fail(ErrPropertyType, n, "expected a timestamp string, got "+d.nodes[n].kind.article())
}

func (d *decoder) stringField(n int32, ki *keyInfo) (string, error) {
	switch d.nodes[n].kind {
	case kindString:
		return d.str(n), nil
	case kindNull:
		ki.flags |= kfNull
		return "", nil
	}
	return "", d.fail(ErrPropertyType, n, "expected a string, got "+d.nodes[n].kind.article())
}

// number reads a number, or a string holding one. ok is false when the
// value must stay in Extra.
func (d *decoder) number(p parts, n int32, ki *keyInfo) (v float64, ok bool, err error) {
	nd := &d.nodes[n]
	switch nd.kind {
	case kindNumber:
		v, perr := strconv.ParseFloat(d.src[nd.start:nd.end], 64)
		if perr != nil {
			d.note(p.st, SeverityError, ki.name+" is out of range; kept as is")
			return 0, false, nil
		}
		return v, true, nil
	case kindString:
		v, perr := strconv.ParseFloat(strings.TrimSpace(d.str(n)), 64)
		if perr != nil {
			d.note(p.st, SeverityError, ki.name+" must be a number; kept as is")
			return 0, false, nil
		}
		d.note(p.st, SeverityWarning, ki.name+" is a number given as a string")
		return v, true, nil
	case kindNull:
		ki.flags |= kfNull
		return 0, true, nil
	}
	return 0, false, d.fail(ErrPropertyType, n, "expected a number, got "+nd.kind.article())
}

// count reads a non-negative integer such as totalItems or width.
func (d *decoder) count(p parts, n int32, ki *keyInfo, dst *uint) (bool, error) {
	v, ok, err := d.number(p, n, ki)
	if err != nil || !ok {
		return false, err
	}
	if v < 0 || v != float64(uint(v)) {
		d.note(p.st, SeverityError, ki.name+" must be a non-negative integer; kept as is")
		return false, nil
	}
	*dst = uint(v)
	return true, nil
}

func (d *decoder) boolField(n int32, ki *keyInfo) (*bool, bool) {
	switch d.nodes[n].kind {
	case kindTrue, kindFalse:
		b := d.nodes[n].kind == kindTrue
		return &b, true
	case kindNull:
		ki.flags |= kfNull
		return nil, true
	}
	return nil, false
}

// core decodes a core property. It returns false when the item's shape has
// no field for it, or the value does not fit the field: it then stays in
// Extra.
func (d *decoder) core(p parts, pr prop, n int32, ki *keyInfo) (bool, error) {
	o := p.obj
	var err error
	item := func(dst *ap.Item) (bool, error) {
		v, err := d.itemVal(n, ki)
		*dst = v
		return true, err
	}
	items := func(dst *ap.ItemCollection) (bool, error) {
		v, err := d.itemsVal(n, ki)
		*dst = v
		return true, err
	}
	switch pr {
	case pName, pNameMap:
		if p.link != nil {
			return d.nlv(p, n, ki, &p.link.Name, pr == pNameMap)
		}
		return d.nlv(p, n, ki, &o.Name, pr == pNameMap)
	case pPreview:
		if p.link != nil {
			return item(&p.link.Preview)
		}
		return item(&o.Preview)
	case pMediaType:
		var s string
		s, err = d.stringField(n, ki)
		if p.link != nil {
			p.link.MediaType = ap.MimeType(s)
		} else {
			o.MediaType = ap.MimeType(s)
		}
		return true, err
	}
	if pr.isCommon() {
		return d.common(p, pr, n, ki)
	}
	if p.link != nil {
		l := p.link
		switch pr {
		case pHref:
			return true, d.iriField(n, ki, &l.Href)
		case pHreflang:
			var s string
			s, err = d.stringField(n, ki)
			l.HrefLang = ap.LangRef(s)
			return true, err
		case pRel:
			if d.nodes[n].kind == kindArray {
				return false, nil
			}
			return true, d.iriField(n, ki, &l.Rel)
		case pHeight:
			return d.count(p, n, ki, &l.Height)
		case pWidth:
			return d.count(p, n, ki, &l.Width)
		}
		return false, nil
	}
	switch pr {
	case pAttachment:
		return item(&o.Attachment)
	case pAttributedTo:
		return item(&o.AttributedTo)
	case pAudience:
		return items(&o.Audience)
	case pContent, pContentMap:
		return d.nlv(p, n, ki, &o.Content, pr == pContentMap)
	case pContext:
		return item(&o.Context)
	case pEndTime:
		return true, d.timeField(p, n, ki, &o.EndTime)
	case pGenerator:
		return item(&o.Generator)
	case pIcon:
		return item(&o.Icon)
	case pImage:
		return item(&o.Image)
	case pInReplyTo:
		return item(&o.InReplyTo)
	case pLocation:
		return item(&o.Location)
	case pPublished:
		return true, d.timeField(p, n, ki, &o.Published)
	case pReplies:
		return item(&o.Replies)
	case pStartTime:
		return true, d.timeField(p, n, ki, &o.StartTime)
	case pSummary, pSummaryMap:
		return d.nlv(p, n, ki, &o.Summary, pr == pSummaryMap)
	case pTag:
		return items(&o.Tag)
	case pUpdated:
		return true, d.timeField(p, n, ki, &o.Updated)
	case pURL:
		return item(&o.URL)
	case pTo:
		return items(&o.To)
	case pBto:
		return items(&o.Bto)
	case pCC:
		return items(&o.CC)
	case pBCC:
		return items(&o.BCC)
	case pDuration:
		return d.duration(p, n, ki, &o.Duration)
	case pLikes:
		return item(&o.Likes)
	case pShares:
		return item(&o.Shares)
	case pSource:
		return d.source(p, n, ki)
	}
	if p.ia != nil {
		switch pr {
		case pActor:
			var v ap.Item
			ok, err := item(&v)
			p.setActor(v)
			return ok, err
		case pTarget:
			return item(&p.ia.Target)
		case pResult:
			return item(&p.ia.Result)
		case pOrigin:
			return item(&p.ia.Origin)
		case pInstrument:
			return item(&p.ia.Instrument)
		}
	}
	if pr == pObject && p.object != nil {
		return item(p.object)
	}
	if q := p.q; q != nil {
		switch pr {
		case pOneOf:
			return item(&q.OneOf)
		case pAnyOf:
			return item(&q.AnyOf)
		case pClosed:
			return d.closed(p, n, ki)
		}
	}
	if a := p.actor; a != nil {
		switch pr {
		case pInbox:
			return item(&a.Inbox)
		case pOutbox:
			return item(&a.Outbox)
		case pFollowing:
			return item(&a.Following)
		case pFollowers:
			return item(&a.Followers)
		case pLiked:
			return item(&a.Liked)
		case pPreferredUsername, pPreferredUsernameMap:
			return d.nlv(p, n, ki, &a.PreferredUsername, pr == pPreferredUsernameMap)
		case pEndpoints:
			return d.endpoints(p, n, ki)
		case pStreams:
			return items(&a.Streams)
		case pPublicKey:
			return d.publicKey(p, n, ki)
		}
	}
	if c := p.coll; c != nil {
		ordered := p.shape == ShapeOrderedCollection || p.shape == ShapeOrderedCollectionPage
		switch pr {
		case pCurrent:
			return item(&c.Current)
		case pFirst:
			return item(&c.First)
		case pLast:
			return item(&c.Last)
		case pTotalItems:
			return d.count(p, n, ki, &c.TotalItems)
		case pItems:
			if ordered {
				d.note(p.st, SeverityError, "an ordered collection lists its members in orderedItems, not items")
				return false, nil
			}
			return items(&c.Items)
		case pOrderedItems:
			if !ordered {
				d.note(p.st, SeverityError, "an unordered collection lists its members in items, not orderedItems")
				return false, nil
			}
			return items(&c.Items)
		}
	}
	if pg := p.page; pg != nil {
		switch pr {
		case pPartOf:
			return item(&pg.PartOf)
		case pNext:
			return item(&pg.Next)
		case pPrev:
			return item(&pg.Prev)
		case pStartIndex:
			if p.ocp != nil {
				return d.count(p, n, ki, &p.ocp.StartIndex)
			}
		}
	}
	if pl := p.place; pl != nil {
		var dst *float64
		switch pr {
		case pAccuracy:
			dst = &pl.Accuracy
		case pAltitude:
			dst = &pl.Altitude
		case pLatitude:
			dst = &pl.Latitude
		case pLongitude:
			dst = &pl.Longitude
		case pRadius:
			v, ok, err := d.number(p, n, ki)
			if err != nil || !ok {
				return false, err
			}
			if v != float64(int64(v)) {
				return false, nil
			}
			pl.Radius = int64(v)
			return true, nil
		case pUnits:
			pl.Units, err = d.stringField(n, ki)
			return true, err
		}
		if dst != nil {
			v, ok, err := d.number(p, n, ki)
			if ok {
				*dst = v
			}
			return ok, err
		}
	}
	if r := p.rel; r != nil {
		switch pr {
		case pSubject:
			return item(&r.Subject)
		case pRelationship:
			return item(&r.Relationship)
		}
	}
	if pr == pDescribes && p.prof != nil {
		return item(&p.prof.Describes)
	}
	if t := p.tomb; t != nil {
		switch pr {
		case pFormerType:
			if d.nodes[n].kind == kindArray {
				return false, nil
			}
			var s string
			s, err = d.stringField(n, ki)
			t.FormerType = ap.ActivityVocabularyType(s)
			return true, err
		case pDeleted:
			return true, d.timeField(p, n, ki, &t.Deleted)
		}
	}
	return false, nil
}

func (d *decoder) common(p parts, pr prop, n int32, ki *keyInfo) (bool, error) {
	c := p.common
	var ok bool
	switch pr {
	case pSensitive:
		c.Sensitive, ok = d.boolField(n, ki)
	case pManuallyApprovesFollowers:
		c.ManuallyApprovesFollowers, ok = d.boolField(n, ki)
	case pDiscoverable:
		c.Discoverable, ok = d.boolField(n, ki)
	case pIndexable:
		c.Indexable, ok = d.boolField(n, ki)
	case pCommentsEnabled:
		c.CommentsEnabled, ok = d.boolField(n, ki)
	case pFeatured, pFeaturedTags, pMovedTo, pAlsoKnownAs:
		switch d.nodes[n].kind {
		case kindString, kindObject, kindArray, kindNull:
		default:
			return false, nil
		}
		var err error
		switch pr {
		case pFeatured:
			c.Featured, err = d.itemVal(n, ki)
		case pFeaturedTags:
			c.FeaturedTags, err = d.itemVal(n, ki)
		case pMovedTo:
			c.MovedTo, err = d.itemVal(n, ki)
		case pAlsoKnownAs:
			c.AlsoKnownAs, err = d.itemsVal(n, ki)
		}
		return true, err
	case pValue:
		switch d.nodes[n].kind {
		case kindString:
			c.Value = d.str(n)
			return true, nil
		case kindNull:
			ki.flags |= kfNull
			return true, nil
		}
		return false, nil
	case pOwner:
		return true, d.iriField(n, ki, &c.Owner)
	case pPublicKeyPem:
		s, err := d.stringField(n, ki)
		c.PublicKeyPem = s
		return true, err
	}
	if !ok {
		d.note(p.st, SeverityWarning, ki.name+" must be a boolean; kept as is")
	}
	return ok, nil
}

func (d *decoder) closed(p parts, n int32, ki *keyInfo) (bool, error) {
	q := p.q
	switch d.nodes[n].kind {
	case kindTrue, kindFalse:
		q.Closed = d.nodes[n].kind == kindTrue
		return true, nil
	case kindString:
		s := d.str(n)
		if t, _, ok := parseTime(s); ok {
			q.ClosedAt, q.Closed = t, true
			return true, nil
		}
		it, err := d.iri(n)
		q.ClosedBy, q.Closed = it, true
		return true, err
	case kindObject:
		it, err := d.object(n, false)
		q.ClosedBy, q.Closed = it, true
		return true, err
	case kindNull:
		ki.flags |= kfNull
		return true, nil
	}
	return false, d.fail(ErrPropertyType, n, "closed must be a timestamp, a boolean, an IRI or an object, got "+d.nodes[n].kind.article())
}

func (d *decoder) duration(p parts, n int32, ki *keyInfo, dst *time.Duration) (bool, error) {
	switch d.nodes[n].kind {
	case kindString:
		v, ok := parseDuration(d.str(n))
		if !ok {
			d.note(p.st, SeverityError, fmt.Sprintf("%q is not an xsd:duration; kept as is", truncate(d.str(n))))
			return false, nil
		}
		*dst = v
		return true, nil
	case kindNumber:
		d.note(p.st, SeverityWarning, "duration is a number, read as seconds; xsd:duration is a string such as \"PT3M33S\"")
		v, ok, _ := d.number(p, n, ki)
		if !ok {
			return false, nil
		}
		*dst = time.Duration(v * float64(time.Second))
		return true, nil
	case kindNull:
		ki.flags |= kfNull
		return true, nil
	}
	return false, d.fail(ErrPropertyType, n, "expected an xsd:duration string, got "+d.nodes[n].kind.article())
}

// stringMembers reports whether the object node n is one that its typed
// form alone rebuilds exactly: at least one member, each a non-empty
// string named in allowed. An empty object or an empty string reads the
// same as an absent member in go-ap's structs, so such an object is kept
// raw beside its typed form instead.
func (d *decoder) stringMembers(n int32, allowed ...string) bool {
	if d.nodes[n].child == 0 {
		return false
	}
	for c := d.nodes[n].child; c != 0; c = d.nodes[c].next {
		if d.nodes[c].kind != kindString || d.str(c) == "" || !slices.Contains(allowed, d.key(c)) {
			return false
		}
	}
	return true
}

func (d *decoder) member1(n int32, name string) int32 {
	for c := d.nodes[n].child; c != 0; c = d.nodes[c].next {
		if d.key(c) == name {
			return c
		}
	}
	return 0
}

func (st *state) snapshot() *snapshot {
	if st.snap == nil {
		st.snap = &snapshot{}
	}
	return st.snap
}

// publicKey decodes the actor's key into go-ap's field. A key that does not
// fit the field exactly (an array of keys, extra members) is also kept as
// it is in Extra; the field then holds the first key.
func (d *decoder) publicKey(p parts, n int32, ki *keyInfo) (bool, error) {
	pk := &p.actor.PublicKey
	fill := func(obj int32) error {
		for c := d.nodes[obj].child; c != 0; c = d.nodes[c].next {
			if d.nodes[c].kind != kindString {
				continue
			}
			switch d.key(c) {
			case "id":
				s := d.str(c)
				if why := checkIRI(s); why != "" {
					d.push("id")
					err := d.fail(ErrInvalidIRI, c, fmt.Sprintf("%q %s", truncate(s), why))
					d.pop()
					return err
				}
				pk.ID = ap.ID(s)
			case "owner":
				s := d.str(c)
				if why := checkIRI(s); why != "" {
					d.push("owner")
					err := d.fail(ErrInvalidIRI, c, fmt.Sprintf("%q %s", truncate(s), why))
					d.pop()
					return err
				}
				pk.Owner = ap.IRI(s)
			case "publicKeyPem":
				pk.PublicKeyPem = d.str(c)
			}
		}
		return nil
	}
	switch d.nodes[n].kind {
	case kindObject:
		if err := fill(n); err != nil {
			return true, err
		}
		if d.stringMembers(n, "id", "owner", "publicKeyPem") {
			return true, nil
		}
	case kindArray:
		if first := d.nodes[n].child; first != 0 && d.nodes[first].kind == kindObject {
			d.pushIdx(0)
			err := fill(first)
			d.pop()
			if err != nil {
				return true, err
			}
		}
	case kindNull:
		ki.flags |= kfNull
		return true, nil
	case kindString:
		// A reference to the key document.
		pk.ID = ap.ID(d.str(n))
		if why := checkIRI(string(pk.ID)); why != "" {
			return true, d.fail(ErrInvalidIRI, n, fmt.Sprintf("%q %s", truncate(string(pk.ID)), why))
		}
	default:
		return false, d.fail(ErrPropertyType, n, "publicKey must be an object, got "+d.nodes[n].kind.article())
	}
	snap := p.st.snapshot()
	snap.publicKey, snap.hasPublicKey = *pk, true
	return false, nil
}

var endpointNames = []string{"sharedInbox", "uploadMedia", "oauthAuthorizationEndpoint", "oauthTokenEndpoint",
	"provideClientKey", "signClientKey"}

// endpoints decodes the actor's endpoints; like publicKey, a value that does
// not fit go-ap's struct also stays in Extra.
func (d *decoder) endpoints(p parts, n int32, ki *keyInfo) (bool, error) {
	switch d.nodes[n].kind {
	case kindObject:
		ep := &ap.Endpoints{}
		for c := d.nodes[n].child; c != 0; c = d.nodes[c].next {
			if d.nodes[c].kind != kindString {
				continue
			}
			s := d.str(c)
			if checkIRI(s) != "" {
				continue
			}
			iri := ap.IRI(s)
			switch d.key(c) {
			case "sharedInbox":
				ep.SharedInbox = iri
			case "uploadMedia":
				ep.UploadMedia = iri
			case "oauthAuthorizationEndpoint":
				ep.OauthAuthorizationEndpoint = iri
			case "oauthTokenEndpoint":
				ep.OauthTokenEndpoint = iri
			case "provideClientKey":
				ep.ProvideClientKey = iri
			case "signClientKey":
				ep.SignClientKey = iri
			}
		}
		p.actor.Endpoints = ep
		for c := d.nodes[n].child; c != 0; c = d.nodes[c].next {
			if d.nodes[c].kind == kindString && checkIRI(d.str(c)) != "" {
				d.push(d.key(c))
				err := d.fail(ErrInvalidIRI, c, fmt.Sprintf("%q %s", truncate(d.str(c)), checkIRI(d.str(c))))
				d.pop()
				return true, err
			}
		}
		if d.stringMembers(n, endpointNames...) {
			return true, nil
		}
		snap := p.st.snapshot()
		snap.endpoints, snap.hasEndpoints = *ep, true
		return false, nil
	case kindNull:
		ki.flags |= kfNull
		return true, nil
	case kindString:
		return false, nil
	}
	return false, d.fail(ErrPropertyType, n, "endpoints must be an object, got "+d.nodes[n].kind.article())
}

// source decodes {content, mediaType}; other forms stay in Extra.
func (d *decoder) source(p parts, n int32, ki *keyInfo) (bool, error) {
	switch d.nodes[n].kind {
	case kindObject:
		src := &p.obj.Source
		for c := d.nodes[n].child; c != 0; c = d.nodes[c].next {
			if d.nodes[c].kind != kindString {
				continue
			}
			switch d.key(c) {
			case "content":
				src.Content = append(src.Content, ap.LangRefValue{Ref: ap.NilLangRef, Value: d.content(c)})
			case "mediaType":
				src.MediaType = ap.MimeType(d.str(c))
			}
		}
		if d.stringMembers(n, "content", "mediaType") && d.member1(n, "content") != 0 {
			return true, nil
		}
		snap := p.st.snapshot()
		snap.source, snap.hasSource = *src, true
		return false, nil
	case kindNull:
		ki.flags |= kfNull
		return true, nil
	}
	return false, nil
}

// parseDuration reads an xsd:duration such as "PT3M33S" or "P1DT2H". Years
// count as 365 days and months as 30, as the value is only a time.Duration.
func parseDuration(s string) (time.Duration, bool) {
	neg := false
	if strings.HasPrefix(s, "-") {
		neg, s = true, s[1:]
	}
	if len(s) < 2 || s[0] != 'P' {
		return 0, false
	}
	s = s[1:]
	var total float64
	inTime := false
	any := false
	for len(s) > 0 {
		if s[0] == 'T' {
			if inTime {
				return 0, false
			}
			inTime = true
			s = s[1:]
			continue
		}
		i := 0
		for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
			i++
		}
		if i == 0 || i == len(s) {
			return 0, false
		}
		v, err := strconv.ParseFloat(s[:i], 64)
		if err != nil {
			return 0, false
		}
		unit := s[i]
		s = s[i+1:]
		var mult float64
		switch {
		case !inTime && unit == 'Y':
			mult = 365 * 24 * 3600
		case !inTime && unit == 'M':
			mult = 30 * 24 * 3600
		case !inTime && unit == 'W':
			mult = 7 * 24 * 3600
		case !inTime && unit == 'D':
			mult = 24 * 3600
		case inTime && unit == 'H':
			mult = 3600
		case inTime && unit == 'M':
			mult = 60
		case inTime && unit == 'S':
			mult = 1
		default:
			return 0, false
		}
		total += v * mult
		any = true
	}
	if !any {
		return 0, false
	}
	if neg {
		total = -total
	}
	return time.Duration(total * float64(time.Second)), true
}
