package vocab

import ap "github.com/go-ap/activitypub"

// shapeProps lists, per shape, the core properties its go-ap struct has
// fields for, in the order the encoder writes them when the input did not
// give an order.
var shapeProps = func() [numShapes][]prop {
	object := []prop{pName, pNameMap, pSummary, pSummaryMap, pContent, pContentMap, pMediaType,
		pAttributedTo, pContext, pInReplyTo, pPublished, pUpdated, pStartTime, pEndTime, pDuration,
		pTo, pBto, pCC, pBCC, pAudience, pURL, pAttachment, pTag, pLocation, pIcon, pImage, pGenerator,
		pPreview, pReplies, pLikes, pShares, pSource}
	common := []prop{pSensitive, pManuallyApprovesFollowers, pDiscoverable, pIndexable, pFeatured,
		pFeaturedTags, pAlsoKnownAs, pMovedTo, pCommentsEnabled, pValue, pOwner, pPublicKeyPem}
	activity := []prop{pActor, pObject, pTarget, pResult, pOrigin, pInstrument}
	intransitive := []prop{pActor, pTarget, pResult, pOrigin, pInstrument}
	collection := []prop{pTotalItems, pCurrent, pFirst, pLast}
	page := []prop{pPartOf, pNext, pPrev}
	join := func(lists ...[]prop) []prop {
		var out []prop
		for _, l := range lists {
			out = append(out, l...)
		}
		return out
	}
	var m [numShapes][]prop
	m[ShapeObject] = join(object, common)
	m[ShapeLink] = join([]prop{pHref, pName, pNameMap, pHreflang, pMediaType, pRel, pHeight, pWidth, pPreview}, common)
	m[ShapeActivity] = join(activity, object, common)
	m[ShapeIntransitiveActivity] = join(intransitive, object, common)
	m[ShapeQuestion] = join(intransitive, []prop{pOneOf, pAnyOf, pClosed}, object, common)
	m[ShapeActor] = join([]prop{pPreferredUsername, pPreferredUsernameMap}, object,
		[]prop{pInbox, pOutbox, pFollowing, pFollowers, pLiked, pStreams, pEndpoints, pPublicKey}, common)
	m[ShapeCollection] = join(object, collection, []prop{pItems}, common)
	m[ShapeOrderedCollection] = join(object, collection, []prop{pOrderedItems}, common)
	m[ShapeCollectionPage] = join(object, collection, page, []prop{pItems}, common)
	m[ShapeOrderedCollectionPage] = join(object, collection, page, []prop{pStartIndex, pOrderedItems}, common)
	m[ShapePlace] = join(object, []prop{pLatitude, pLongitude, pAltitude, pAccuracy, pRadius, pUnits}, common)
	m[ShapeProfile] = join(object, []prop{pDescribes}, common)
	m[ShapeRelationship] = join([]prop{pSubject, pRelationship, pObject}, object, common)
	m[ShapeTombstone] = join([]prop{pFormerType, pDeleted}, object, common)
	return m
}()

// hasCoreValue reports whether the final pass of the encoder has
// something to write for pr, which the input did not have: the field holds
// a value, or a default applies to an item built in Go (totalItems of a
// collection, latitude with longitude).
func hasCoreValue(p parts, pr prop, built bool) bool {
	switch pr {
	case pTotalItems:
		if built {
			return true
		}
	case pLatitude, pLongitude:
		// Built in Go, a Place writes both coordinates when either is set;
		// a decoded one adds none that the input did not have.
		if p.place != nil && (built || p.st.flags&stLatLong != 0) {
			return p.st.flags&stLatLong != 0 || p.place.Latitude != 0 || p.place.Longitude != 0
		}
	case pClosed:
		if q := p.q; q != nil {
			return q.Closed || !q.ClosedAt.IsZero() || q.ClosedBy != nil
		}
	}
	return fieldSet(p, pr)
}

// rawUnchanged reports whether the typed field of a property whose input
// value was kept raw in Extra still holds what decoding put there: the
// best-effort snapshot for publicKey, endpoints and source, nothing for
// the others.
func rawUnchanged(p parts, pr prop) bool {
	snap := p.st.snap
	switch pr {
	case pPublicKey:
		if p.actor != nil {
			if snap != nil && snap.hasPublicKey {
				return p.actor.PublicKey == snap.publicKey
			}
			return p.actor.PublicKey == (ap.PublicKey{})
		}
	case pEndpoints:
		if p.actor != nil {
			if snap != nil && snap.hasEndpoints {
				return p.actor.Endpoints != nil && endpointsEqual(*p.actor.Endpoints, snap.endpoints)
			}
			return p.actor.Endpoints == nil
		}
	case pSource:
		if p.obj != nil && snap != nil && snap.hasSource {
			return sourceEqual(p.obj.Source, snap.source)
		}
	case pClosed:
		if q := p.q; q != nil {
			return !q.Closed && q.ClosedAt.IsZero() && q.ClosedBy == nil
		}
	}
	return !fieldSet(p, pr)
}

// fieldSet reports whether the typed field of pr holds a value. It is
// false for a property the shape has no field for.
func fieldSet(p parts, pr prop) bool {
	if pr.isCommon() {
		c := p.common
		switch pr {
		case pSensitive:
			return c.Sensitive != nil
		case pManuallyApprovesFollowers:
			return c.ManuallyApprovesFollowers != nil
		case pDiscoverable:
			return c.Discoverable != nil
		case pIndexable:
			return c.Indexable != nil
		case pFeatured:
			return c.Featured != nil
		case pFeaturedTags:
			return c.FeaturedTags != nil
		case pAlsoKnownAs:
			return c.AlsoKnownAs != nil
		case pMovedTo:
			return c.MovedTo != nil
		case pCommentsEnabled:
			return c.CommentsEnabled != nil
		case pValue:
			return c.Value != ""
		case pOwner:
			return c.Owner != ""
		case pPublicKeyPem:
			return c.PublicKeyPem != ""
		}
		return false
	}
	if l := p.link; l != nil {
		switch pr {
		case pName:
			return hasPlain(l.Name)
		case pNameMap:
			return hasTagged(l.Name)
		case pPreview:
			return l.Preview != nil
		case pMediaType:
			return l.MediaType != ""
		case pHref:
			return l.Href != ""
		case pHreflang:
			return l.HrefLang != ""
		case pRel:
			return l.Rel != ""
		case pHeight:
			return l.Height != 0
		case pWidth:
			return l.Width != 0
		}
		return false
	}
	o := p.obj
	switch pr {
	case pName:
		return hasPlain(o.Name)
	case pNameMap:
		return hasTagged(o.Name)
	case pContent:
		return hasPlain(o.Content)
	case pContentMap:
		return hasTagged(o.Content)
	case pSummary:
		return hasPlain(o.Summary)
	case pSummaryMap:
		return hasTagged(o.Summary)
	case pAttachment:
		return o.Attachment != nil
	case pAttributedTo:
		return o.AttributedTo != nil
	case pAudience:
		return o.Audience != nil
	case pContext:
		return o.Context != nil
	case pMediaType:
		return o.MediaType != ""
	case pEndTime:
		return !o.EndTime.IsZero()
	case pGenerator:
		return o.Generator != nil
	case pIcon:
		return o.Icon != nil
	case pImage:
		return o.Image != nil
	case pInReplyTo:
		return o.InReplyTo != nil
	case pLocation:
		return o.Location != nil
	case pPreview:
		return o.Preview != nil
	case pPublished:
		return !o.Published.IsZero()
	case pReplies:
		return o.Replies != nil
	case pStartTime:
		return !o.StartTime.IsZero()
	case pTag:
		return o.Tag != nil
	case pUpdated:
		return !o.Updated.IsZero()
	case pURL:
		return o.URL != nil
	case pTo:
		return o.To != nil
	case pBto:
		return o.Bto != nil
	case pCC:
		return o.CC != nil
	case pBCC:
		return o.BCC != nil
	case pDuration:
		return o.Duration != 0
	case pLikes:
		return o.Likes != nil
	case pShares:
		return o.Shares != nil
	case pSource:
		return len(o.Source.Content) > 0 || o.Source.MediaType != ""
	}
	if pr == pActor {
		return p.getActor() != nil
	}
	if ia := p.ia; ia != nil {
		switch pr {
		case pTarget:
			return ia.Target != nil
		case pResult:
			return ia.Result != nil
		case pOrigin:
			return ia.Origin != nil
		case pInstrument:
			return ia.Instrument != nil
		}
	}
	if pr == pObject && p.object != nil {
		return *p.object != nil
	}
	if q := p.q; q != nil {
		switch pr {
		case pOneOf:
			return q.OneOf != nil
		case pAnyOf:
			return q.AnyOf != nil
		case pClosed:
			return q.Closed || !q.ClosedAt.IsZero() || q.ClosedBy != nil
		}
	}
	if a := p.actor; a != nil {
		switch pr {
		case pInbox:
			return a.Inbox != nil
		case pOutbox:
			return a.Outbox != nil
		case pFollowing:
			return a.Following != nil
		case pFollowers:
			return a.Followers != nil
		case pLiked:
			return a.Liked != nil
		case pPreferredUsername:
			return hasPlain(a.PreferredUsername)
		case pPreferredUsernameMap:
			return hasTagged(a.PreferredUsername)
		case pEndpoints:
			return a.Endpoints != nil
		case pStreams:
			return a.Streams != nil
		case pPublicKey:
			return a.PublicKey != (ap.PublicKey{})
		}
	}
	if c := p.coll; c != nil {
		ordered := p.shape == ShapeOrderedCollection || p.shape == ShapeOrderedCollectionPage
		switch pr {
		case pCurrent:
			return c.Current != nil
		case pFirst:
			return c.First != nil
		case pLast:
			return c.Last != nil
		case pTotalItems:
			return c.TotalItems != 0
		case pItems:
			return !ordered && c.Items != nil
		case pOrderedItems:
			return ordered && c.Items != nil
		}
	}
	if pg := p.page; pg != nil {
		switch pr {
		case pPartOf:
			return pg.PartOf != nil
		case pNext:
			return pg.Next != nil
		case pPrev:
			return pg.Prev != nil
		case pStartIndex:
			return p.ocp != nil && p.ocp.StartIndex != 0
		}
	}
	if pl := p.place; pl != nil {
		switch pr {
		case pAccuracy:
			return pl.Accuracy != 0
		case pAltitude:
			return pl.Altitude != 0
		case pLatitude:
			return pl.Latitude != 0
		case pLongitude:
			return pl.Longitude != 0
		case pRadius:
			return pl.Radius != 0
		case pUnits:
			return pl.Units != ""
		}
	}
	if r := p.rel; r != nil {
		switch pr {
		case pSubject:
			return r.Subject != nil
		case pRelationship:
			return r.Relationship != nil
		}
	}
	if pr == pDescribes && p.prof != nil {
		return p.prof.Describes != nil
	}
	if t := p.tomb; t != nil {
		switch pr {
		case pFormerType:
			return t.FormerType != ""
		case pDeleted:
			return !t.Deleted.IsZero()
		}
	}
	return false
}

func hasPlain(v ap.NaturalLanguageValues) bool {
	for _, lv := range v {
		if lv.Ref == "" || lv.Ref == ap.NilLangRef {
			return true
		}
	}
	return false
}

func hasTagged(v ap.NaturalLanguageValues) bool {
	for _, lv := range v {
		if lv.Ref != "" && lv.Ref != ap.NilLangRef {
			return true
		}
	}
	return false
}
