package vocab

// The core vocabulary: every ActivityStreams 2.0 type and property, plus the
// few extensions that the whole fediverse shares (see Common).

// AS2 and the context documents every encoded document names.
const (
	ActivityStreamsContext = "https://www.w3.org/ns/activitystreams"
	SecurityContext        = "https://w3id.org/security/v1"
)

type coreType struct {
	name  string
	shape Shape
}

// coreTypes lists the AS2 types and the shared extension types. Hashtag
// (as:Hashtag), PropertyValue (schema:PropertyValue) and the security key
// types are de-facto core: Mastodon and everyone after it send them.
var coreTypes = []coreType{
	{"Object", ShapeObject}, {"Link", ShapeLink}, {"Activity", ShapeActivity},
	{"IntransitiveActivity", ShapeIntransitiveActivity}, {"Collection", ShapeCollection},
	{"OrderedCollection", ShapeOrderedCollection}, {"CollectionPage", ShapeCollectionPage},
	{"OrderedCollectionPage", ShapeOrderedCollectionPage},
	// Activities
	{"Accept", ShapeActivity}, {"Add", ShapeActivity}, {"Announce", ShapeActivity},
	{"Arrive", ShapeIntransitiveActivity}, {"Block", ShapeActivity}, {"Create", ShapeActivity},
	{"Delete", ShapeActivity}, {"Dislike", ShapeActivity}, {"Flag", ShapeActivity},
	{"Follow", ShapeActivity}, {"Ignore", ShapeActivity}, {"Invite", ShapeActivity},
	{"Join", ShapeActivity}, {"Leave", ShapeActivity}, {"Like", ShapeActivity},
	{"Listen", ShapeActivity}, {"Move", ShapeActivity}, {"Offer", ShapeActivity},
	{"Question", ShapeQuestion}, {"Reject", ShapeActivity}, {"Read", ShapeActivity},
	{"Remove", ShapeActivity}, {"TentativeReject", ShapeActivity}, {"TentativeAccept", ShapeActivity},
	{"Travel", ShapeIntransitiveActivity}, {"Undo", ShapeActivity}, {"Update", ShapeActivity},
	{"View", ShapeActivity},
	// Actors
	{"Application", ShapeActor}, {"Group", ShapeActor}, {"Organization", ShapeActor},
	{"Person", ShapeActor}, {"Service", ShapeActor},
	// Objects
	{"Article", ShapeObject}, {"Audio", ShapeObject}, {"Document", ShapeObject},
	{"Event", ShapeObject}, {"Image", ShapeObject}, {"Note", ShapeObject}, {"Page", ShapeObject},
	{"Place", ShapePlace}, {"Profile", ShapeProfile}, {"Relationship", ShapeRelationship},
	{"Tombstone", ShapeTombstone}, {"Video", ShapeObject}, {"Mention", ShapeLink},
	// Shared extensions
	{"Hashtag", ShapeLink}, {"PropertyValue", ShapeObject},
	{"Key", ShapeObject}, {"CryptographicKey", ShapeObject},
}

// prop identifies a core property: an AS2 term, or a member of Common.
type prop uint8

const (
	pNone prop = iota
	// Object
	pAttachment
	pAttributedTo
	pAudience
	pContent
	pContentMap
	pContext
	pName
	pNameMap
	pEndTime
	pGenerator
	pIcon
	pImage
	pInReplyTo
	pLocation
	pPreview
	pPublished
	pReplies
	pStartTime
	pSummary
	pSummaryMap
	pTag
	pUpdated
	pURL
	pTo
	pBto
	pCC
	pBCC
	pMediaType
	pDuration
	pLikes
	pShares
	pSource
	// Activity
	pActor
	pObject
	pTarget
	pResult
	pOrigin
	pInstrument
	// Question
	pOneOf
	pAnyOf
	pClosed
	// Actor
	pInbox
	pOutbox
	pFollowing
	pFollowers
	pLiked
	pPreferredUsername
	pPreferredUsernameMap
	pEndpoints
	pStreams
	pPublicKey
	// Collections
	pCurrent
	pFirst
	pLast
	pTotalItems
	pItems
	pOrderedItems
	pPartOf
	pNext
	pPrev
	pStartIndex
	// Place
	pAccuracy
	pAltitude
	pLatitude
	pLongitude
	pRadius
	pUnits
	// Link
	pHref
	pHreflang
	pRel
	pHeight
	pWidth
	// Relationship, Profile, Tombstone
	pSubject
	pRelationship
	pDescribes
	pFormerType
	pDeleted
	// Common
	pSensitive
	pManuallyApprovesFollowers
	pDiscoverable
	pIndexable
	pFeatured
	pFeaturedTags
	pAlsoKnownAs
	pMovedTo
	pCommentsEnabled
	pValue
	pOwner
	pPublicKeyPem
	numProps
)

var propNames = [numProps]string{
	pAttachment: "attachment", pAttributedTo: "attributedTo", pAudience: "audience",
	pContent: "content", pContentMap: "contentMap", pContext: "context", pName: "name", pNameMap: "nameMap",
	pEndTime: "endTime", pGenerator: "generator", pIcon: "icon", pImage: "image", pInReplyTo: "inReplyTo",
	pLocation: "location", pPreview: "preview", pPublished: "published", pReplies: "replies",
	pStartTime: "startTime", pSummary: "summary", pSummaryMap: "summaryMap", pTag: "tag",
	pUpdated: "updated", pURL: "url", pTo: "to", pBto: "bto", pCC: "cc", pBCC: "bcc",
	pMediaType: "mediaType", pDuration: "duration", pLikes: "likes", pShares: "shares", pSource: "source",
	pActor: "actor", pObject: "object", pTarget: "target", pResult: "result", pOrigin: "origin",
	pInstrument: "instrument", pOneOf: "oneOf", pAnyOf: "anyOf", pClosed: "closed",
	pInbox: "inbox", pOutbox: "outbox", pFollowing: "following", pFollowers: "followers", pLiked: "liked",
	pPreferredUsername: "preferredUsername", pPreferredUsernameMap: "preferredUsernameMap",
	pEndpoints: "endpoints", pStreams: "streams", pPublicKey: "publicKey",
	pCurrent: "current", pFirst: "first", pLast: "last", pTotalItems: "totalItems", pItems: "items",
	pOrderedItems: "orderedItems", pPartOf: "partOf", pNext: "next", pPrev: "prev", pStartIndex: "startIndex",
	pAccuracy: "accuracy", pAltitude: "altitude", pLatitude: "latitude", pLongitude: "longitude",
	pRadius: "radius", pUnits: "units",
	pHref: "href", pHreflang: "hreflang", pRel: "rel", pHeight: "height", pWidth: "width",
	pSubject: "subject", pRelationship: "relationship", pDescribes: "describes",
	pFormerType: "formerType", pDeleted: "deleted",
	pSensitive: "sensitive", pManuallyApprovesFollowers: "manuallyApprovesFollowers",
	pDiscoverable: "discoverable", pIndexable: "indexable", pFeatured: "featured",
	pFeaturedTags: "featuredTags", pAlsoKnownAs: "alsoKnownAs", pMovedTo: "movedTo",
	pCommentsEnabled: "commentsEnabled", pValue: "value", pOwner: "owner", pPublicKeyPem: "publicKeyPem",
}

func (p prop) String() string { return propNames[p] }

// isCommon reports whether p is a member of Common rather than an AS2 term.
func (p prop) isCommon() bool { return p >= pSensitive }

// commonTerms are the context definitions of the Common properties and the
// shared extension types. The AS2 and security contexts define the rest.
var commonTerms = []Term{
	{Name: "toot", ID: "http://joinmastodon.org/ns#"},
	{Name: "schema", ID: "http://schema.org#"},
	{Name: "pt", ID: "https://joinpeertube.org/ns#"},
	{Name: "sensitive", ID: "as:sensitive"},
	{Name: "manuallyApprovesFollowers", ID: "as:manuallyApprovesFollowers"},
	{Name: "discoverable", ID: "toot:discoverable"},
	{Name: "indexable", ID: "toot:indexable"},
	{Name: "featured", ID: "toot:featured", Type: "@id"},
	{Name: "featuredTags", ID: "toot:featuredTags", Type: "@id"},
	{Name: "alsoKnownAs", ID: "as:alsoKnownAs", Type: "@id"},
	{Name: "movedTo", ID: "as:movedTo", Type: "@id"},
	{Name: "commentsEnabled", ID: "pt:commentsEnabled"},
	{Name: "Hashtag", ID: "as:Hashtag"},
	{Name: "PropertyValue", ID: "schema:PropertyValue"},
	{Name: "value", ID: "schema:value"},
}

// commonPrefixes says which of commonTerms a Common property needs besides
// its own definition.
var commonPrefix = map[string]string{
	"discoverable": "toot", "indexable": "toot", "featured": "toot", "featuredTags": "toot",
	"commentsEnabled": "pt", "PropertyValue": "schema", "value": "schema",
}

// as2Terms is every term the AS2 context defines, so that encoding never
// copies an input's redefinition of one of them.
var as2Terms = func() map[string]bool {
	m := map[string]bool{}
	for _, t := range coreTypes {
		m[t.name] = true
	}
	for p := pAttachment; p < pSensitive; p++ {
		m[propNames[p]] = true
	}
	for _, t := range []string{"id", "type", "as", "xsd", "ldp", "@vocab", "IsFollowing", "IsFollowedBy",
		"IsContact", "IsMember", "uploadMedia", "proxyUrl", "oauthClientAuthorize", "provideClientKey",
		"authorizeClientKey", "oauthAuthorizationEndpoint", "oauthTokenEndpoint", "sharedInbox", "signClientKey"} {
		m[t] = true
	}
	return m
}()
