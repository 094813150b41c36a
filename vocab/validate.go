package vocab

import (
	"strconv"
	"strings"

	ap "github.com/go-ap/activitypub"
)

// Problems returns every problem found in a decoded item and the items
// embedded in it: what the decoder repaired or kept as is (see Severity),
// and the ActivityStreams rules the document breaks.
func Problems(it Item) []Problem {
	var out []Problem
	if col, ok := it.(ap.ItemCollection); ok {
		out = append(out, Problem{Path: "$", Severity: SeverityError,
			Message: "the document is an array; an ActivityStreams document is one object"})
		for i, el := range col {
			walkProblems(el, "$["+strconv.Itoa(i)+"]", true, &out)
		}
		return out
	}
	walkProblems(it, "$", true, &out)
	return out
}

// Validate reports the ActivityStreams rules a decoded item breaks, as a
// *ValidationError wrapping ErrInvalid, or nil. Warnings do not count.
func Validate(it Item) error {
	var errs []Problem
	for _, p := range Problems(it) {
		if p.Severity == SeverityError {
			errs = append(errs, p)
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return &ValidationError{Problems: errs}
}

// linkProps are the properties whose IRI values must be absolute.
var linkProps = []prop{pAttributedTo, pIcon, pImage, pInReplyTo, pURL, pTo, pBto, pCC, pBCC, pAudience, pActor, pObject,
	pTarget, pInbox, pOutbox, pFollowing, pFollowers, pLiked, pHref, pPartOf, pNext, pPrev, pFirst, pLast, pCurrent}

func walkProblems(it Item, path string, top bool, out *[]Problem) {
	p, ok := partsOf(it)
	if !ok {
		return
	}
	st := p.st
	add := func(sub string, sev Severity, msg string) {
		*out = append(*out, Problem{Path: path + sub, Severity: sev, Message: msg})
	}
	for _, n := range st.notes {
		// Notes carry the path inside their document; nested items decoded
		// in the same document already have the full path.
		*out = append(*out, n)
	}
	if top && st.keys != nil {
		switch {
		case st.ctx == "":
			add("", SeverityWarning, "no @context; read as ActivityStreams")
		case !strings.Contains(st.ctx, "www.w3.org/ns/activitystreams"):
			add(".@context", SeverityWarning, "the @context does not name the ActivityStreams context")
		}
	}
	if p.typ() == "" && st.keys != nil {
		add("", SeverityWarning, "no type")
	}
	if id := p.id(); id != "" && !IsAbsoluteIRI(string(id)) && !strings.HasPrefix(string(id), "_:") {
		add(".id", SeverityError, "id "+strconv.Quote(string(id))+" is not an absolute IRI")
	}
	for _, pr := range linkProps {
		v := coreValue(p, pr)
		checkLinks(v, path+"."+propNames[pr], out)
	}
	if c := p.coll; c != nil {
		for _, pr := range []prop{pFirst, pLast, pCurrent} {
			v := coreValue(p, pr)
			if v == nil || v.IsLink() {
				continue
			}
			if _, isIRI := v.(ap.IRI); isIRI {
				continue
			}
			switch v.(type) {
			case *CollectionPage, *OrderedCollectionPage, *ap.CollectionPage, *ap.OrderedCollectionPage:
			default:
				add("."+propNames[pr], SeverityError, propNames[pr]+" must be a collection page or its IRI, got "+string(v.GetType()))
			}
		}
	}
	// Recurse into embedded objects.
	forEachChild(p, func(sub string, child Item) {
		walkProblems(child, path+sub, false, out)
	})
}

func checkLinks(v Item, path string, out *[]Problem) {
	switch x := v.(type) {
	case ap.IRI:
		if !IsAbsoluteIRI(string(x)) && !IsPublic(x) {
			*out = append(*out, Problem{Path: path, Severity: SeverityError,
				Message: strconv.Quote(string(x)) + " is not an absolute IRI"})
		}
	case ap.ItemCollection:
		for i, el := range x {
			checkLinks(el, path+"["+strconv.Itoa(i)+"]", out)
		}
	}
}

// coreValue returns the value of an item-valued core property.
func coreValue(p parts, pr prop) Item {
	if p.link != nil {
		if pr == pHref && p.link.Href != "" {
			return p.link.Href
		}
		return nil
	}
	o := p.obj
	switch pr {
	case pAttributedTo:
		return o.AttributedTo
	case pIcon:
		return o.Icon
	case pImage:
		return o.Image
	case pInReplyTo:
		return o.InReplyTo
	case pURL:
		return o.URL
	case pTo:
		return o.To
	case pBto:
		return o.Bto
	case pCC:
		return o.CC
	case pBCC:
		return o.BCC
	case pAudience:
		return o.Audience
	}
	if p.ia != nil {
		switch pr {
		case pActor:
			return p.getActor()
		case pTarget:
			return p.ia.Target
		}
	}
	if pr == pObject && p.object != nil {
		return *p.object
	}
	if a := p.actor; a != nil {
		switch pr {
		case pInbox:
			return a.Inbox
		case pOutbox:
			return a.Outbox
		case pFollowing:
			return a.Following
		case pFollowers:
			return a.Followers
		case pLiked:
			return a.Liked
		}
	}
	if c := p.coll; c != nil {
		switch pr {
		case pFirst:
			return c.First
		case pLast:
			return c.Last
		case pCurrent:
			return c.Current
		}
	}
	if pg := p.page; pg != nil {
		switch pr {
		case pPartOf:
			return pg.PartOf
		case pNext:
			return pg.Next
		case pPrev:
			return pg.Prev
		}
	}
	return nil
}

// forEachChild calls fn for every embedded object of an item, with the
// path suffix that leads to it.
func forEachChild(p parts, fn func(sub string, child Item)) {
	visit := func(name string, v Item) {
		switch x := v.(type) {
		case nil, ap.IRI:
		case ap.ItemCollection:
			for i, el := range x {
				if _, ok := partsOf(el); ok {
					fn("."+name+"["+strconv.Itoa(i)+"]", el)
				}
			}
		default:
			if _, ok := partsOf(x); ok {
				fn("."+name, x)
			}
		}
	}
	if p.link != nil {
		visit("preview", p.link.Preview)
	} else {
		o := p.obj
		for _, f := range []struct {
			name string
			v    Item
		}{{"attachment", o.Attachment}, {"attributedTo", o.AttributedTo}, {"audience", o.Audience},
			{"context", o.Context}, {"generator", o.Generator}, {"icon", o.Icon}, {"image", o.Image},
			{"inReplyTo", o.InReplyTo}, {"location", o.Location}, {"preview", o.Preview}, {"replies", o.Replies},
			{"tag", o.Tag}, {"url", o.URL}, {"to", o.To}, {"bto", o.Bto}, {"cc", o.CC}, {"bcc", o.BCC},
			{"likes", o.Likes}, {"shares", o.Shares}} {
			visit(f.name, f.v)
		}
	}
	if p.ia != nil {
		visit("actor", p.getActor())
		visit("target", p.ia.Target)
		visit("result", p.ia.Result)
		visit("origin", p.ia.Origin)
		visit("instrument", p.ia.Instrument)
	}
	if p.object != nil {
		visit("object", *p.object)
	}
	if q := p.q; q != nil {
		visit("oneOf", q.OneOf)
		visit("anyOf", q.AnyOf)
		visit("closed", q.ClosedBy)
	}
	if a := p.actor; a != nil {
		visit("inbox", a.Inbox)
		visit("outbox", a.Outbox)
		visit("following", a.Following)
		visit("followers", a.Followers)
		visit("liked", a.Liked)
		visit("streams", a.Streams)
	}
	if c := p.coll; c != nil {
		visit("current", c.Current)
		visit("first", c.First)
		visit("last", c.Last)
		if p.shape == ShapeOrderedCollection || p.shape == ShapeOrderedCollectionPage {
			visit("orderedItems", c.Items)
		} else {
			visit("items", c.Items)
		}
	}
	if pg := p.page; pg != nil {
		visit("partOf", pg.PartOf)
		visit("next", pg.Next)
		visit("prev", pg.Prev)
	}
	if r := p.rel; r != nil {
		visit("subject", r.Subject)
		visit("relationship", r.Relationship)
	}
	if p.prof != nil {
		visit("describes", p.prof.Describes)
	}
	c := p.common
	visit("featured", c.Featured)
	visit("featuredTags", c.FeaturedTags)
	visit("movedTo", c.MovedTo)
	visit("alsoKnownAs", c.AlsoKnownAs)
	for _, sv := range p.st.sets {
		for i, t := range sv.set.terms() {
			if !sv.set.hasField(i, sv.v) {
				continue
			}
			if v, ok := sv.set.fieldValue(i, sv.v).(Item); ok {
				visit(string(t.Name), v)
			}
		}
	}
}
