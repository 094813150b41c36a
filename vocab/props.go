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

// hasCoreValue reports cheaply whether an item may have something to write
// for pr; coreProp then decides. It is false only when the field is empty.
func hasCoreValue(p parts, pr prop, built bool) bool {
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
	case pTotalItems:
		return built || p.coll.TotalItems != 0
	case pLatitude, pLongitude:
		return p.st.flags&stLatLong != 0 || p.place.Latitude != 0 || p.place.Longitude != 0
	}
	// The shape-specific properties are few; let coreProp look.
	return true
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
