package vocab

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
	"unsafe"

	ap "github.com/go-ap/activitypub"
)

// encoder writes items as JSON. It is pooled by the registry.
type encoder struct {
	r       *Registry
	buf     []byte
	depth   int
	common  bool      // a Common property or shared type was written
	vocabs  []bool    // registered vocabularies whose terms were written
	sets    []bool    // registered property sets whose properties were written
	foreign []setImpl // property sets of written terms the registry does not know
}

const maxEncodeDepth = 10000

func (e *encoder) reset() {
	if cap(e.buf) > 1<<20 {
		e.buf = nil
	}
	e.buf = e.buf[:0]
	e.depth = 0
	e.common = false
	e.vocabs = e.vocabs[:0]
	e.sets = e.sets[:0]
	e.foreign = e.foreign[:0]
}

func (e *encoder) resetUsage() {
	e.common = false
	e.vocabs = e.vocabs[:0]
	for range e.r.vocabs {
		e.vocabs = append(e.vocabs, false)
	}
	e.sets = e.sets[:0]
	for range e.r.sets {
		e.sets = append(e.sets, false)
	}
	e.foreign = e.foreign[:0]
}

func (e *encoder) encodeDocument(it Item) ([]byte, error) {
	if col, ok := it.(ap.ItemCollection); ok {
		out := []byte{'['}
		for i, el := range col {
			if i > 0 {
				out = append(out, ',')
			}
			doc, err := e.document(el)
			if err != nil {
				return nil, err
			}
			out = append(out, doc...)
		}
		return append(out, ']'), nil
	}
	return e.document(it)
}

// document writes one top-level object with its merged @context.
func (e *encoder) document(it Item) ([]byte, error) {
	p, ok := partsOf(it)
	if !ok {
		return nil, fmt.Errorf("%w: a document must be an object, got %T", ErrEncode, it)
	}
	e.resetUsage()
	e.buf = e.buf[:0]
	if err := e.object(p, true); err != nil {
		return nil, err
	}
	ctx, err := e.r.contextFor(e, p.st.ctx)
	if err != nil {
		return nil, err
	}
	body := e.buf
	out := make([]byte, 0, len(ctx)+len(body)+14)
	out = append(out, `{"@context":`...)
	out = append(out, ctx...)
	if len(body) > 2 {
		out = append(out, ',')
	}
	out = append(out, body[1:]...)
	return out, nil
}

// written tracks the members written so far in one object.
type written struct {
	core  [2]uint64
	id    bool
	typ   bool
	sets  [4]uint64 // per set in state.sets order; sets past the fourth are tracked in more
	more  map[int]uint64
	extra int // Extra members written from the key order
}

func (w *written) markCore(p prop)     { w.core[p/64] |= 1 << (p % 64) }
func (w *written) hasCore(p prop) bool { return w.core[p/64]&(1<<(p%64)) != 0 }

func (w *written) markSet(si, fi int) {
	if si < len(w.sets) {
		w.sets[si] |= 1 << fi
		return
	}
	if w.more == nil {
		w.more = map[int]uint64{}
	}
	w.more[si] |= 1 << fi
}

func (w *written) hasSet(si, fi int) bool {
	if si < len(w.sets) {
		return w.sets[si]&(1<<fi) != 0
	}
	return w.more[si]&(1<<fi) != 0
}

// corePropIndex maps an AS2 or Common term to its prop.
var corePropIndex = func() map[string]prop {
	m := make(map[string]prop, numProps)
	for p := pAttachment; p < numProps; p++ {
		m[propNames[p]] = p
	}
	return m
}()

func (e *encoder) key(first *bool, name string) {
	if !*first {
		e.buf = append(e.buf, ',')
	}
	*first = false
	e.str(name)
	e.buf = append(e.buf, ':')
}

func (e *encoder) object(p parts, top bool) error {
	e.depth++
	defer func() { e.depth-- }()
	if e.depth > maxEncodeDepth {
		return fmt.Errorf("%w: nesting deeper than %d levels (a cycle?)", ErrEncode, maxEncodeDepth)
	}
	st := p.st
	e.buf = append(e.buf, '{')
	first := true
	var w written
	for i := range st.keys {
		if err := e.member(p, &st.keys[i], top, &first, &w); err != nil {
			return err
		}
	}
	// What the input did not have, or what was built in Go.
	built := st.keys == nil
	if !w.id && p.id() != "" {
		e.key(&first, "id")
		e.str(string(p.id()))
	}
	if !w.typ && p.typ() != "" {
		e.key(&first, "type")
		e.typeName(p.typ())
	}
	for _, pr := range shapeProps[p.shape] {
		if w.hasCore(pr) || !hasCoreValue(p, pr, built) {
			continue
		}
		if err := e.coreProp(p, pr, nil, built, &first, &w); err != nil {
			return err
		}
	}
	for si, sv := range st.sets {
		for fi := 0; fi < sv.set.numFields(); fi++ {
			if w.hasSet(si, fi) || !sv.set.hasField(fi, sv.v) {
				continue
			}
			e.key(&first, string(sv.set.terms()[fi].Name))
			e.markSet(sv.set)
			if err := sv.set.encodeField(fi, e, nil, sv.v); err != nil {
				return err
			}
			w.markSet(si, fi)
		}
	}
	if extra := *p.extra; len(extra) > w.extra {
		var names []string
		for name := range extra {
			if e.extraWritten(p, name, &w) {
				continue
			}
			names = append(names, name)
		}
		slices.Sort(names)
		for _, name := range names {
			e.key(&first, name)
			e.markTerm(name)
			if err := e.raw(extra[name]); err != nil {
				return fmt.Errorf("%w (member %q)", err, name)
			}
		}
	}
	e.buf = append(e.buf, '}')
	return nil
}

// extraWritten reports whether an Extra member must not be written in the
// final pass: it was written already, or a typed field took its place.
func (e *encoder) extraWritten(p parts, name string, w *written) bool {
	switch name {
	case "@context", "id", "type":
		return true
	}
	for _, k := range p.st.keys {
		if k.name == name {
			return true
		}
	}
	if pr, ok := corePropIndex[name]; ok && w.hasCore(pr) {
		return true
	}
	for si, sv := range p.st.sets {
		if fi, ok := sv.set.fieldIndex(name); ok && w.hasSet(si, fi) {
			return true
		}
	}
	return false
}

// member writes one member in the position it had in the input.
func (e *encoder) member(p parts, ki *keyInfo, top bool, first *bool, w *written) error {
	st := p.st
	switch ki.name {
	case "@context":
		if !top && st.ctx != "" {
			e.key(first, "@context")
			e.buf = append(e.buf, st.ctx...)
		}
		return nil
	case "id":
		w.id = true
		if id := p.id(); id != "" {
			e.key(first, "id")
			e.str(string(id))
		} else if ki.flags&kfNull != 0 {
			e.key(first, "id")
			e.buf = append(e.buf, "null"...)
		}
		return nil
	case "type":
		w.typ = true
		t := p.typ()
		switch {
		case st.types != "" && t == st.typ0:
			e.key(first, "type")
			e.buf = append(e.buf, st.types...)
			e.markType(t)
		case t != "":
			e.key(first, "type")
			e.typeName(t)
		case ki.raw == `""`:
			e.key(first, "type")
			e.buf = append(e.buf, `""`...)
		case ki.flags&kfNull != 0:
			e.key(first, "type")
			e.buf = append(e.buf, "null"...)
		}
		return nil
	}
	if pr := ki.pr; pr != pNone {
		// The final pass must not write this property again, whatever
		// happens here.
		defer w.markCore(pr)
		if ki.flags&kfRaw == 0 {
			return e.coreProp(p, pr, ki, false, first, w)
		}
		// The input's value did not fit the typed field and was kept in
		// Extra: it is written back while the field is unchanged;
		// otherwise the field wins, and a cleared field writes nothing.
		if rawUnchanged(p, pr) {
			if raw, ok := (*p.extra)[ki.name]; ok {
				e.key(first, ki.name)
				w.extra++
				if err := e.raw(raw); err != nil {
					return fmt.Errorf("%w (member %q)", err, ki.name)
				}
			}
			return nil
		}
		if (*p.extra)[ki.name] != nil {
			w.extra++ // replaced by the typed value
		}
		return e.coreProp(p, pr, nil, false, first, w)
	}
	for si, sv := range st.sets {
		fi, ok := sv.set.fieldIndex(ki.name)
		if !ok {
			continue
		}
		if sv.set.hasField(fi, sv.v) {
			e.key(first, ki.name)
			e.markSet(sv.set)
			w.markSet(si, fi)
			return sv.set.encodeField(fi, e, ki, sv.v)
		}
		if ki.flags&kfNull != 0 || ki.raw == `""` {
			e.key(first, ki.name)
			e.buf = append(e.buf, ki.raw...)
			w.markSet(si, fi)
			return nil
		}
	}
	if raw, ok := (*p.extra)[ki.name]; ok {
		e.key(first, ki.name)
		w.extra++
		e.markTerm(ki.name)
		if err := e.raw(raw); err != nil {
			return fmt.Errorf("%w (member %q)", err, ki.name)
		}
	}
	return nil
}

// markTerm records that an Extra member was written whose name a
// registered vocabulary defines (a value of an unexpected JSON type), so
// that the @context still defines it.
func (e *encoder) markTerm(name string) {
	if ref, ok := e.r.terms[name]; ok && ref.set >= 0 {
		e.markSet(e.r.sets[ref.set])
	}
}

// markSet records that a property of set s was written, so that the
// @context defines it.
func (e *encoder) markSet(s setImpl) {
	if i, ok := e.r.setIndex[s]; ok {
		if !e.sets[i] {
			e.sets[i] = true
			v := s.vocabulary()
			for vi, rv := range e.r.vocabs {
				if rv == v {
					e.vocabs[vi] = true
				}
			}
		}
		return
	}
	if !slices.Contains(e.foreign, s) {
		e.foreign = append(e.foreign, s)
	}
}

func (e *encoder) markType(t ap.ActivityVocabularyType) {
	if ref, ok := e.r.types[string(t)]; ok {
		if ref.vocab >= 0 {
			e.vocabs[ref.vocab] = true
		} else if t == "Hashtag" || t == "PropertyValue" {
			e.common = true
		}
	}
}

func (e *encoder) typeName(t ap.ActivityVocabularyType) {
	e.markType(t)
	e.str(string(t))
}

// coreProp writes a core property if the item has a value for it (or had
// null). ki is nil in the final pass, for members the input did not have;
// built says the item was made in Go rather than decoded.
func (e *encoder) coreProp(p parts, pr prop, ki *keyInfo, built bool, first *bool, w *written) error {
	if pr.isCommon() {
		return e.commonProp(p, pr, ki, first, w)
	}
	name := propNames[pr]
	o := p.obj
	item := func(v ap.Item) error {
		// An empty IRI (what a Go caller leaves in a field it did not
		// fill) is no value: writing "" would give a document the
		// decoder refuses.
		if iri, ok := v.(ap.IRI); v == nil || ok && iri == "" {
			return e.null(name, ki, first, w, pr)
		}
		e.key(first, name)
		w.markCore(pr)
		return e.item(v, ki)
	}
	items := func(v ap.ItemCollection) error {
		if v == nil {
			return e.null(name, ki, first, w, pr)
		}
		e.key(first, name)
		w.markCore(pr)
		return e.items(v, ki)
	}
	tm := func(v time.Time) error {
		if ki != nil && ki.raw != "" && rawTimeEqual(ki.raw, v) {
			e.key(first, name)
			w.markCore(pr)
			e.buf = append(e.buf, ki.raw...)
			return nil
		}
		if v.IsZero() {
			return e.null(name, ki, first, w, pr)
		}
		e.key(first, name)
		w.markCore(pr)
		e.buf = appendTime(append(e.buf, '"'), v)
		e.buf = append(e.buf, '"')
		return nil
	}
	str := func(v string) error {
		if v == "" && (ki == nil || ki.raw != `""`) {
			return e.null(name, ki, first, w, pr)
		}
		e.key(first, name)
		w.markCore(pr)
		e.str(v)
		return nil
	}
	num := func(v float64, present bool) error {
		if ki != nil && ki.raw != "" && rawNumberEqual(ki.raw, v) {
			e.key(first, name)
			w.markCore(pr)
			e.buf = append(e.buf, ki.raw...)
			return nil
		}
		if v == 0 && !present {
			return e.null(name, ki, first, w, pr)
		}
		e.key(first, name)
		w.markCore(pr)
		return e.float(v, nil)
	}
	count := func(v uint, always bool) error {
		return num(float64(v), always || ki != nil && ki.flags&kfNull == 0)
	}
	switch pr {
	case pName, pNameMap:
		if p.link != nil {
			return e.nlv(p.link.Name, pr == pNameMap, name, ki, first, w, pr)
		}
		return e.nlv(o.Name, pr == pNameMap, name, ki, first, w, pr)
	case pPreview:
		if p.link != nil {
			return item(p.link.Preview)
		}
		return item(o.Preview)
	case pMediaType:
		if p.link != nil {
			return str(string(p.link.MediaType))
		}
		return str(string(o.MediaType))
	}
	if l := p.link; l != nil {
		switch pr {
		case pHref:
			return str(string(l.Href))
		case pHreflang:
			return str(string(l.HrefLang))
		case pRel:
			return str(string(l.Rel))
		case pHeight:
			return count(l.Height, false)
		case pWidth:
			return count(l.Width, false)
		}
		return nil
	}
	switch pr {
	case pAttachment:
		return item(o.Attachment)
	case pAttributedTo:
		return item(o.AttributedTo)
	case pAudience:
		return items(o.Audience)
	case pContent, pContentMap:
		return e.nlv(o.Content, pr == pContentMap, name, ki, first, w, pr)
	case pContext:
		return item(o.Context)
	case pEndTime:
		return tm(o.EndTime)
	case pGenerator:
		return item(o.Generator)
	case pIcon:
		return item(o.Icon)
	case pImage:
		return item(o.Image)
	case pInReplyTo:
		return item(o.InReplyTo)
	case pLocation:
		return item(o.Location)
	case pPublished:
		return tm(o.Published)
	case pReplies:
		return item(o.Replies)
	case pStartTime:
		return tm(o.StartTime)
	case pSummary, pSummaryMap:
		return e.nlv(o.Summary, pr == pSummaryMap, name, ki, first, w, pr)
	case pTag:
		return items(o.Tag)
	case pUpdated:
		return tm(o.Updated)
	case pURL:
		return item(o.URL)
	case pTo:
		return items(o.To)
	case pBto:
		return items(o.Bto)
	case pCC:
		return items(o.CC)
	case pBCC:
		return items(o.BCC)
	case pDuration:
		if ki != nil && ki.raw != "" && rawDurationEqual(ki.raw, o.Duration) {
			e.key(first, name)
			w.markCore(pr)
			e.buf = append(e.buf, ki.raw...)
			return nil
		}
		if o.Duration == 0 {
			return e.null(name, ki, first, w, pr)
		}
		e.key(first, name)
		w.markCore(pr)
		e.buf = appendDuration(e.buf, o.Duration)
		return nil
	case pLikes:
		return item(o.Likes)
	case pShares:
		return item(o.Shares)
	case pSource:
		return e.source(p, ki, first, w)
	}
	if ia := p.ia; ia != nil {
		switch pr {
		case pActor:
			return item(p.getActor())
		case pTarget:
			return item(ia.Target)
		case pResult:
			return item(ia.Result)
		case pOrigin:
			return item(ia.Origin)
		case pInstrument:
			return item(ia.Instrument)
		}
	}
	if pr == pObject && p.object != nil {
		return item(*p.object)
	}
	if q := p.q; q != nil {
		switch pr {
		case pOneOf:
			return item(q.OneOf)
		case pAnyOf:
			return item(q.AnyOf)
		case pClosed:
			switch {
			case !q.ClosedAt.IsZero() || ki != nil && ki.raw != "" && ki.raw[0] == '"' && rawTimeEqual(ki.raw, q.ClosedAt):
				return tm(q.ClosedAt)
			case q.ClosedBy != nil:
				return item(q.ClosedBy)
			case q.Closed || ki != nil && ki.flags&kfNull == 0:
				e.key(first, name)
				w.markCore(pr)
				e.boolean(q.Closed)
				return nil
			}
			return e.null(name, ki, first, w, pr)
		}
	}
	if a := p.actor; a != nil {
		switch pr {
		case pInbox:
			return item(a.Inbox)
		case pOutbox:
			return item(a.Outbox)
		case pFollowing:
			return item(a.Following)
		case pFollowers:
			return item(a.Followers)
		case pLiked:
			return item(a.Liked)
		case pPreferredUsername, pPreferredUsernameMap:
			return e.nlv(a.PreferredUsername, pr == pPreferredUsernameMap, name, ki, first, w, pr)
		case pEndpoints:
			return e.endpoints(p, ki, first, w)
		case pStreams:
			return items(a.Streams)
		case pPublicKey:
			return e.publicKey(p, ki, first, w)
		}
	}
	if c := p.coll; c != nil {
		ordered := p.shape == ShapeOrderedCollection || p.shape == ShapeOrderedCollectionPage
		switch pr {
		case pCurrent:
			return item(c.Current)
		case pFirst:
			return item(c.First)
		case pLast:
			return item(c.Last)
		case pTotalItems:
			return count(c.TotalItems, built)
		case pItems:
			if !ordered {
				return items(c.Items)
			}
		case pOrderedItems:
			if ordered {
				return items(c.Items)
			}
		}
	}
	if pg := p.page; pg != nil {
		switch pr {
		case pPartOf:
			return item(pg.PartOf)
		case pNext:
			return item(pg.Next)
		case pPrev:
			return item(pg.Prev)
		case pStartIndex:
			if p.ocp != nil {
				return count(p.ocp.StartIndex, false)
			}
		}
	}
	if pl := p.place; pl != nil {
		// A member of the input is written even when zero (unless it was
		// null); latitude and longitude go together.
		inInput := ki != nil && ki.flags&kfNull == 0
		latLong := inInput
		if ki == nil {
			latLong = p.st.flags&stLatLong != 0 || built && (pl.Latitude != 0 || pl.Longitude != 0)
		}
		switch pr {
		case pAccuracy:
			return num(pl.Accuracy, inInput)
		case pAltitude:
			return num(pl.Altitude, inInput)
		case pLatitude:
			return num(pl.Latitude, latLong)
		case pLongitude:
			return num(pl.Longitude, latLong)
		case pRadius:
			return num(float64(pl.Radius), inInput)
		case pUnits:
			return str(pl.Units)
		}
	}
	if r := p.rel; r != nil {
		switch pr {
		case pSubject:
			return item(r.Subject)
		case pRelationship:
			return item(r.Relationship)
		}
	}
	if pr == pDescribes && p.prof != nil {
		return item(p.prof.Describes)
	}
	if t := p.tomb; t != nil {
		switch pr {
		case pFormerType:
			return str(string(t.FormerType))
		case pDeleted:
			return tm(t.Deleted)
		}
	}
	return nil
}

// null writes "name": null when the input had null there.
func (e *encoder) null(name string, ki *keyInfo, first *bool, w *written, pr prop) error {
	if ki != nil && ki.flags&kfNull != 0 {
		e.key(first, name)
		w.markCore(pr)
		e.buf = append(e.buf, "null"...)
	}
	return nil
}

func (e *encoder) commonProp(p parts, pr prop, ki *keyInfo, first *bool, w *written) error {
	c := p.common
	name := propNames[pr]
	boolean := func(v *bool) error {
		if v == nil {
			return e.null(name, ki, first, w, pr)
		}
		e.key(first, name)
		w.markCore(pr)
		e.common = true
		e.boolean(*v)
		return nil
	}
	item := func(v ap.Item) error {
		// An empty IRI (what a Go caller leaves in a field it did not
		// fill) is no value: writing "" would give a document the
		// decoder refuses.
		if iri, ok := v.(ap.IRI); v == nil || ok && iri == "" {
			return e.null(name, ki, first, w, pr)
		}
		e.key(first, name)
		w.markCore(pr)
		e.common = true
		return e.item(v, ki)
	}
	str := func(v string) error {
		if v == "" && (ki == nil || ki.raw != `""`) {
			return e.null(name, ki, first, w, pr)
		}
		e.key(first, name)
		w.markCore(pr)
		e.common = true
		e.str(v)
		return nil
	}
	switch pr {
	case pSensitive:
		return boolean(c.Sensitive)
	case pManuallyApprovesFollowers:
		return boolean(c.ManuallyApprovesFollowers)
	case pDiscoverable:
		return boolean(c.Discoverable)
	case pIndexable:
		return boolean(c.Indexable)
	case pCommentsEnabled:
		return boolean(c.CommentsEnabled)
	case pFeatured:
		return item(c.Featured)
	case pFeaturedTags:
		return item(c.FeaturedTags)
	case pMovedTo:
		return item(c.MovedTo)
	case pAlsoKnownAs:
		if c.AlsoKnownAs == nil {
			return e.null(name, ki, first, w, pr)
		}
		e.key(first, name)
		w.markCore(pr)
		e.common = true
		return e.items(c.AlsoKnownAs, ki)
	case pValue:
		return str(c.Value)
	case pOwner:
		return str(string(c.Owner))
	case pPublicKeyPem:
		return str(c.PublicKeyPem)
	}
	return nil
}

// nlv writes one of the two members that share a list of language-tagged
// values: the plain member holds the untagged value, the Map member the
// tagged ones.
func (e *encoder) nlv(v ap.NaturalLanguageValues, mapKey bool, name string, ki *keyInfo, first *bool, w *written, pr prop) error {
	var plain, tagged int
	for _, lv := range v {
		if lv.Ref == "" || lv.Ref == ap.NilLangRef {
			plain++
		} else {
			tagged++
		}
	}
	if mapKey && ki != nil && ki.flags&kfPlain != 0 && plain > 0 && tagged == 0 {
		// "nameMap": "text" in the input.
		e.key(first, name)
		w.markCore(pr)
		w.markCore(pr - 1)
		for _, lv := range v {
			if lv.Ref == "" || lv.Ref == ap.NilLangRef {
				e.strBytes(lv.Value)
				break
			}
		}
		return nil
	}
	if !mapKey && ki != nil && ki.flags&kfMap != 0 && plain == 0 && tagged > 0 {
		// "name": {"en": "text"} in the input.
		e.key(first, name)
		w.markCore(pr)
		w.markCore(pr + 1)
		e.langMap(v)
		return nil
	}
	if ki != nil && (mapKey && tagged == 0 || !mapKey && plain == 0) && (ki.raw == "{}" || ki.raw == "[]") {
		// An empty map or array in the input.
		e.key(first, name)
		w.markCore(pr)
		e.buf = append(e.buf, ki.raw...)
		return nil
	}
	if mapKey {
		if tagged == 0 {
			return e.null(name, ki, first, w, pr)
		}
		e.key(first, name)
		w.markCore(pr)
		e.langMap(v)
		return nil
	}
	if plain == 0 {
		return e.null(name, ki, first, w, pr)
	}
	e.key(first, name)
	w.markCore(pr)
	if plain > 1 {
		e.buf = append(e.buf, '[')
	}
	i := 0
	for _, lv := range v {
		if lv.Ref == "" || lv.Ref == ap.NilLangRef {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			e.strBytes(lv.Value)
			i++
		}
	}
	if plain > 1 {
		e.buf = append(e.buf, ']')
	}
	return nil
}

func (e *encoder) langMap(v ap.NaturalLanguageValues) {
	e.buf = append(e.buf, '{')
	i := 0
	for _, lv := range v {
		if lv.Ref == "" || lv.Ref == ap.NilLangRef {
			continue
		}
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		e.str(string(lv.Ref))
		e.buf = append(e.buf, ':')
		e.strBytes(lv.Value)
		i++
	}
	e.buf = append(e.buf, '}')
}

func (e *encoder) publicKey(p parts, ki *keyInfo, first *bool, w *written) error {
	pk := p.actor.PublicKey
	if pk == (ap.PublicKey{}) {
		return e.null("publicKey", ki, first, w, pPublicKey)
	}
	e.key(first, "publicKey")
	w.markCore(pPublicKey)
	e.buf = append(e.buf, '{')
	f := true
	if pk.ID != "" {
		e.key(&f, "id")
		e.str(string(pk.ID))
	}
	if pk.Owner != "" {
		e.key(&f, "owner")
		e.str(string(pk.Owner))
	}
	if pk.PublicKeyPem != "" {
		e.key(&f, "publicKeyPem")
		e.str(pk.PublicKeyPem)
	}
	e.buf = append(e.buf, '}')
	return nil
}

func (e *encoder) endpoints(p parts, ki *keyInfo, first *bool, w *written) error {
	ep := p.actor.Endpoints
	if ep == nil {
		return e.null("endpoints", ki, first, w, pEndpoints)
	}
	e.key(first, "endpoints")
	w.markCore(pEndpoints)
	e.buf = append(e.buf, '{')
	f := true
	for i, v := range []ap.Item{ep.SharedInbox, ep.UploadMedia, ep.OauthAuthorizationEndpoint,
		ep.OauthTokenEndpoint, ep.ProvideClientKey, ep.SignClientKey} {
		if v == nil {
			continue
		}
		e.key(&f, endpointNames[i])
		if err := e.item(v, nil); err != nil {
			return err
		}
	}
	e.buf = append(e.buf, '}')
	return nil
}

func endpointsEqual(a, b ap.Endpoints) bool {
	eq := func(x, y ap.Item) bool {
		if x == nil || y == nil {
			return x == nil && y == nil
		}
		xi, xok := x.(ap.IRI)
		yi, yok := y.(ap.IRI)
		return xok && yok && xi == yi
	}
	return eq(a.SharedInbox, b.SharedInbox) && eq(a.UploadMedia, b.UploadMedia) &&
		eq(a.OauthAuthorizationEndpoint, b.OauthAuthorizationEndpoint) &&
		eq(a.OauthTokenEndpoint, b.OauthTokenEndpoint) &&
		eq(a.ProvideClientKey, b.ProvideClientKey) && eq(a.SignClientKey, b.SignClientKey)
}

func (e *encoder) source(p parts, ki *keyInfo, first *bool, w *written) error {
	src := p.obj.Source
	if len(src.Content) == 0 && src.MediaType == "" {
		return e.null("source", ki, first, w, pSource)
	}
	e.key(first, "source")
	w.markCore(pSource)
	e.buf = append(e.buf, '{')
	f := true
	for _, lv := range src.Content {
		if lv.Ref == "" || lv.Ref == ap.NilLangRef {
			e.key(&f, "content")
			e.strBytes(lv.Value)
			break
		}
	}
	if src.MediaType != "" {
		e.key(&f, "mediaType")
		e.str(string(src.MediaType))
	}
	e.buf = append(e.buf, '}')
	return nil
}

func sourceEqual(a, b ap.Source) bool {
	if a.MediaType != b.MediaType || len(a.Content) != len(b.Content) {
		return false
	}
	for i := range a.Content {
		if a.Content[i].Ref != b.Content[i].Ref || string(a.Content[i].Value) != string(b.Content[i].Value) {
			return false
		}
	}
	return true
}

// item writes any item value. ki gives the input's form for collections.
func (e *encoder) item(v ap.Item, ki *keyInfo) error {
	switch x := v.(type) {
	case nil:
		e.buf = append(e.buf, "null"...)
		return nil
	case ap.IRI:
		e.str(string(x))
		return nil
	case ap.ItemCollection:
		return e.items(x, ki)
	case *ap.ItemCollection:
		return e.items(*x, ki)
	case ap.IRIs:
		e.buf = append(e.buf, '[')
		for i, iri := range x {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			e.str(string(iri))
		}
		e.buf = append(e.buf, ']')
		return nil
	}
	p, ok := partsOf(v)
	if !ok {
		if isNilPointer(v) {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		return fmt.Errorf("%w: unsupported item type %T", ErrEncode, v)
	}
	return e.object(p, false)
}

// isNilPointer reports a typed nil, such as a nil *Object in an Item.
func isNilPointer(v any) bool {
	rv := reflect.ValueOf(v)
	return rv.Kind() == reflect.Pointer && rv.IsNil()
}

func (e *encoder) items(v ap.ItemCollection, ki *keyInfo) error {
	if len(v) == 1 && ki != nil && ki.flags&kfScalar != 0 {
		return e.item(v[0], nil)
	}
	e.buf = append(e.buf, '[')
	for i, it := range v {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		if err := e.item(it, nil); err != nil {
			return err
		}
	}
	e.buf = append(e.buf, ']')
	return nil
}

// raw writes a json.RawMessage after checking that it is valid JSON.
func (e *encoder) raw(m json.RawMessage) error {
	if !json.Valid(m) {
		return fmt.Errorf("%w: invalid raw JSON", ErrEncode)
	}
	e.buf = append(e.buf, m...)
	return nil
}

func (e *encoder) boolean(b bool) {
	if b {
		e.buf = append(e.buf, "true"...)
	} else {
		e.buf = append(e.buf, "false"...)
	}
}

// float writes a number the way encoding/json does, or the input's text
// when it still has the same value.
func (e *encoder) float(f float64, ki *keyInfo) error {
	if ki != nil && ki.raw != "" && rawNumberEqual(ki.raw, f) {
		e.buf = append(e.buf, ki.raw...)
		return nil
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return fmt.Errorf("%w: %v is not a JSON number", ErrEncode, f)
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	e.buf = strconv.AppendFloat(e.buf, f, format, -1, 64)
	return nil
}

func (e *encoder) timeVal(t time.Time, ki *keyInfo) {
	if ki != nil && ki.raw != "" && rawTimeEqual(ki.raw, t) {
		e.buf = append(e.buf, ki.raw...)
		return
	}
	e.buf = appendTime(append(e.buf, '"'), t)
	e.buf = append(e.buf, '"')
}

func rawTimeEqual(raw string, t time.Time) bool {
	if len(raw) < 2 || raw[0] != '"' {
		return false
	}
	s := raw[1 : len(raw)-1]
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' {
			s = unescape(s)
			break
		}
	}
	v, _, ok := parseTime(s)
	if !ok {
		return t.IsZero()
	}
	return v.Equal(t)
}

func rawNumberEqual(raw string, f float64) bool {
	s := raw
	if len(s) >= 2 && s[0] == '"' {
		s = s[1 : len(s)-1]
	}
	v, err := strconv.ParseFloat(s, 64)
	return err == nil && v == f
}

func rawDurationEqual(raw string, d time.Duration) bool {
	if len(raw) >= 2 && raw[0] == '"' {
		v, ok := parseDuration(raw[1 : len(raw)-1])
		return ok && v == d || !ok && d == 0
	}
	v, err := strconv.ParseFloat(raw, 64)
	return err == nil && time.Duration(v*float64(time.Second)) == d
}

// appendDuration writes d as an xsd:duration.
func appendDuration(b []byte, d time.Duration) []byte {
	b = append(b, '"')
	if d < 0 {
		b = append(b, '-')
		d = -d
	}
	b = append(b, "PT"...)
	h := d / time.Hour
	d -= h * time.Hour
	m := d / time.Minute
	d -= m * time.Minute
	if h > 0 {
		b = strconv.AppendInt(b, int64(h), 10)
		b = append(b, 'H')
	}
	if m > 0 {
		b = strconv.AppendInt(b, int64(m), 10)
		b = append(b, 'M')
	}
	if d > 0 || h == 0 && m == 0 {
		b = strconv.AppendFloat(b, d.Seconds(), 'f', -1, 64)
		b = append(b, 'S')
	}
	return append(b, '"')
}

const hexDigits = "0123456789abcdef"

// str writes s as a JSON string. It escapes what JSON requires, plus U+2028
// and U+2029, and replaces invalid UTF-8 with U+FFFD.
func (e *encoder) str(s string) {
	b := append(e.buf, '"')
	start := 0
	for i := 0; i < len(s); {
		for i < len(s) && plainStringByte[s[i]] {
			i++
		}
		if i == len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	e.buf = append(b, '"')
}

// strBytes writes s as a JSON string without copying it first: the view
// does not outlive the call.
func (e *encoder) strBytes(s []byte) {
	e.str(unsafe.String(unsafe.SliceData(s), len(s)))
}

// partsOf returns the parts of one of this package's object types, or of
// one of go-ap's own structs.
func partsOf(it Item) (parts, bool) {
	if w, ok := it.(wrapper); ok {
		p := w.parts()
		return p, p.st != nil
	}
	if it == nil || isNilPointer(it) {
		return parts{}, false
	}
	var obj Object
	emptyExtra := new(Extra)
	p := parts{common: &obj.Common, extra: emptyExtra, st: &obj.st}
	switch x := it.(type) {
	case *ap.Object:
		p.shape, p.obj = ShapeObject, x
	case *ap.Link:
		p.shape, p.link = ShapeLink, x
	case *ap.Activity:
		w := &Activity{Activity: *x}
		return w.parts(), true
	case *ap.IntransitiveActivity:
		w := &IntransitiveActivity{IntransitiveActivity: *x}
		return w.parts(), true
	case *ap.Question:
		w := &Question{Question: *x}
		return w.parts(), true
	case *ap.Actor:
		w := &Actor{Actor: *x}
		return w.parts(), true
	case *ap.Collection:
		w := &Collection{Collection: *x}
		return w.parts(), true
	case *ap.OrderedCollection:
		w := &OrderedCollection{OrderedCollection: *x}
		return w.parts(), true
	case *ap.CollectionPage:
		w := &CollectionPage{CollectionPage: *x}
		return w.parts(), true
	case *ap.OrderedCollectionPage:
		w := &OrderedCollectionPage{OrderedCollectionPage: *x}
		return w.parts(), true
	case *ap.Place:
		w := &Place{Place: *x}
		return w.parts(), true
	case *ap.Profile:
		w := &Profile{Profile: *x}
		return w.parts(), true
	case *ap.Relationship:
		w := &Relationship{Relationship: *x}
		return w.parts(), true
	case *ap.Tombstone:
		w := &Tombstone{Tombstone: *x}
		return w.parts(), true
	default:
		return parts{}, false
	}
	return p, true
}
