// Package lemmy is the vocabulary of Lemmy, the federated link aggregator:
// communities are Group actors, posts are Page objects, comments are Note
// objects, private messages are ChatMessage (or Note), and votes are Like
// and Dislike.
//
// The terms follow Lemmy's @context (https://join-lemmy.org/context.json)
// and its ActivityPub API outline. Lemmy sends most payloads without any
// @context; the registry reads them as ActivityStreams all the same.
//
//	reg, _ := vocab.NewRegistry(lemmy.Vocabulary)
//	item, _ := reg.Decode(body)
//	if c, ok := lemmy.CommunityOf(item); ok && c.PostingRestrictedToMods != nil && *c.PostingRestrictedToMods {
//		// only moderators post here
//	}
package lemmy

import (
	"time"

	ap "github.com/go-ap/activitypub"

	"github.com/fedi-go/fedi/vocab"
)

// Language is one of Lemmy's content languages.
type Language struct {
	Identifier string `json:"identifier"`     // a BCP 47 tag, such as "fr"
	Name       string `json:"name,omitempty"` // its name in that language, such as "Français"
}

// CommunityFields are the properties of a community (a Group).
type CommunityFields struct {
	Moderators              ap.Item // the moderators collection (older Lemmy; newer ones use attributedTo)
	PostingRestrictedToMods *bool
}

// PostFields are the properties of a post (a Page).
type PostFields struct {
	Stickied *bool // pinned in its community (older Lemmy; newer ones use the featured collection)
}

// CommentFields are the properties of a comment (a Note).
type CommentFields struct {
	Distinguished *bool // highlighted by a moderator
}

// PersonFields are the properties of a Lemmy user.
type PersonFields struct {
	MatrixUserID string
}

// LanguageFields hold the language property of communities, posts and
// comments: one language for content, a list for a community.
type LanguageFields struct {
	Language []Language
}

// ModerationFields are the properties of moderation activities (Block,
// Delete, Remove).
type ModerationFields struct {
	RemoveData *bool     // also remove the target's content
	Expires    time.Time // when a ban ends
}

var communityFields = vocab.NewProperties(
	vocab.ItemField(vocab.Term{Name: "moderators", ID: "lemmy:moderators", Type: "@id"},
		func(f *CommunityFields) *ap.Item { return &f.Moderators }),
	vocab.BoolField(vocab.Term{Name: "postingRestrictedToMods", ID: "lemmy:postingRestrictedToMods"},
		func(f *CommunityFields) **bool { return &f.PostingRestrictedToMods }),
)

var postFields = vocab.NewProperties(
	vocab.BoolField(vocab.Term{Name: "stickied", ID: "lemmy:stickied", Type: "xsd:boolean"},
		func(f *PostFields) **bool { return &f.Stickied }),
)

var commentFields = vocab.NewProperties(
	vocab.BoolField(vocab.Term{Name: "distinguished", ID: "lemmy:distinguished"},
		func(f *CommentFields) **bool { return &f.Distinguished }),
)

var personFields = vocab.NewProperties(
	vocab.StringField(vocab.Term{Name: "matrixUserId", ID: "lemmy:matrixUserId", Type: "xsd:string"},
		func(f *PersonFields) *string { return &f.MatrixUserID }),
)

var languageFields = vocab.NewProperties(
	vocab.JSONListField(vocab.Term{Name: "language", ID: "schema:inLanguage"},
		func(f *LanguageFields) *[]Language { return &f.Language }),
)

var moderationFields = vocab.NewProperties(
	vocab.BoolField(vocab.Term{Name: "removeData", ID: "lemmy:removeData"},
		func(f *ModerationFields) **bool { return &f.RemoveData }),
	vocab.TimeField(vocab.Term{Name: "expires", ID: "as:endTime"},
		func(f *ModerationFields) *time.Time { return &f.Expires }),
)

// Vocabulary is the Lemmy vocabulary.
var Vocabulary = vocab.MustVocabulary(vocab.VocabularyDef{
	Name: "lemmy",
	Terms: []vocab.Term{
		{Name: "lemmy", ID: "https://join-lemmy.org/ns#"},
		{Name: "litepub", ID: "http://litepub.social/ns#"},
		{Name: "schema", ID: "http://schema.org#"},
	},
	Types: []vocab.TypeDef{
		{Name: "ChatMessage", ID: "litepub:ChatMessage", Shape: vocab.ShapeObject},
		{Name: "Lock", ID: "lemmy:Lock", Shape: vocab.ShapeActivity},
		{Name: "CommunityPostTag", ID: "lemmy:CommunityPostTag", Shape: vocab.ShapeObject},
	},
	Properties: []vocab.PropertySet{communityFields, postFields, commentFields, personFields,
		languageFields, moderationFields},
})

// Community is a typed view of a community (a Group actor).
type Community struct {
	*vocab.Actor
	*CommunityFields
	*LanguageFields
}

// CommunityOf returns the Community view of a Group.
func CommunityOf(it vocab.Item) (Community, bool) {
	a, ok := it.(*vocab.Actor)
	if !ok || !vocab.HasType(a, "Group") {
		return Community{}, false
	}
	return Community{Actor: a, CommunityFields: vocab.PropsOf(a, communityFields),
		LanguageFields: vocab.PropsOf(a, languageFields)}, true
}

// Person is a typed view of a Lemmy user.
type Person struct {
	*vocab.Actor
	*PersonFields
}

// PersonOf returns the Person view of a Person actor.
func PersonOf(it vocab.Item) (Person, bool) {
	a, ok := it.(*vocab.Actor)
	if !ok || !vocab.HasType(a, "Person") {
		return Person{}, false
	}
	return Person{Actor: a, PersonFields: vocab.PropsOf(a, personFields)}, true
}

// Post is a typed view of a post (a Page).
type Post struct {
	*vocab.Object
	*PostFields
	*LanguageFields
}

// PostOf returns the Post view of a Page.
func PostOf(it vocab.Item) (Post, bool) {
	o, ok := it.(*vocab.Object)
	if !ok || !vocab.HasType(o, "Page") {
		return Post{}, false
	}
	return Post{Object: o, PostFields: vocab.PropsOf(o, postFields), LanguageFields: vocab.PropsOf(o, languageFields)}, true
}

// NewPost returns a post by author in community, addressed to the
// community and the public as Lemmy expects.
func NewPost(id, author, community ap.IRI, title, content string) Post {
	o := vocab.NewObject("Page", id)
	o.AttributedTo = author
	o.Name = vocab.Text(title)
	if content != "" {
		o.Content = vocab.Text(content)
		o.MediaType = "text/html"
	}
	o.To = ap.ItemCollection{community, vocab.PublicIRI}
	o.Audience = ap.ItemCollection{community}
	return Post{Object: o, PostFields: vocab.PropsOf(o, postFields), LanguageFields: vocab.PropsOf(o, languageFields)}
}

// Comment is a typed view of a comment (a Note).
type Comment struct {
	*vocab.Object
	*CommentFields
	*LanguageFields
}

// CommentOf returns the Comment view of a Note.
func CommentOf(it vocab.Item) (Comment, bool) {
	o, ok := it.(*vocab.Object)
	if !ok || !vocab.HasType(o, "Note") {
		return Comment{}, false
	}
	return Comment{Object: o, CommentFields: vocab.PropsOf(o, commentFields), LanguageFields: vocab.PropsOf(o, languageFields)}, true
}

// NewComment returns a comment by author in community, replying to the
// post, or to the parent comment when parent is not empty.
func NewComment(id, author, community, post, parent ap.IRI, content string) Comment {
	o := vocab.NewObject("Note", id)
	o.AttributedTo = author
	o.Content = vocab.Text(content)
	o.MediaType = "text/html"
	o.InReplyTo = post
	if parent != "" {
		o.InReplyTo = parent
	}
	o.To = ap.ItemCollection{vocab.PublicIRI}
	o.CC = ap.ItemCollection{community}
	o.Audience = ap.ItemCollection{community}
	return Comment{Object: o, CommentFields: vocab.PropsOf(o, commentFields), LanguageFields: vocab.PropsOf(o, languageFields)}
}

// ReplyChain returns what a comment replies to. Older Lemmy versions send
// inReplyTo as the two-element chain [post, parent comment]; newer ones
// send only the direct parent, which is then returned as parent with post
// empty, because a single IRI does not say whether it is a post or a
// comment.
func (c Comment) ReplyChain() (post, parent ap.IRI) {
	switch v := c.InReplyTo.(type) {
	case ap.ItemCollection:
		switch len(v) {
		case 0:
		case 1:
			return "", vocab.IRIOf(v[0])
		default:
			return vocab.IRIOf(v[0]), vocab.IRIOf(v[len(v)-1])
		}
	case nil:
	default:
		return "", vocab.IRIOf(v)
	}
	return "", ""
}

// PrivateMessageOf returns a private message: a ChatMessage, or a Note
// addressed to a single actor and not to the public.
func PrivateMessageOf(it vocab.Item) (*vocab.Object, bool) {
	o, ok := it.(*vocab.Object)
	if !ok {
		return nil, false
	}
	if vocab.HasType(o, "ChatMessage") {
		return o, true
	}
	aud := vocab.Audience(o)
	return o, vocab.HasType(o, "Note") && len(aud) == 1 && aud[0] != vocab.PublicIRI
}

// NewChatMessage returns a private message from author to one recipient.
func NewChatMessage(id, author, recipient ap.IRI, content string) *vocab.Object {
	o := vocab.NewObject("ChatMessage", id)
	o.AttributedTo = author
	o.To = ap.ItemCollection{recipient}
	o.Content = vocab.Text(content)
	o.MediaType = "text/html"
	return o
}

// NewLike returns an upvote of a post or comment in community.
func NewLike(actor, object, community ap.IRI) *vocab.Activity {
	a := vocab.NewActivity("Like", "", actor, object)
	a.Audience = ap.ItemCollection{community}
	return a
}

// NewDislike returns a downvote of a post or comment in community.
func NewDislike(actor, object, community ap.IRI) *vocab.Activity {
	a := vocab.NewActivity("Dislike", "", actor, object)
	a.Audience = ap.ItemCollection{community}
	return a
}

// NewUndo returns the Undo of one of actor's activities (a vote, a
// deletion, a removal, a follow, a lock). Lemmy embeds the undone activity.
func NewUndo(actor ap.IRI, activity *vocab.Activity) *vocab.Activity {
	a := vocab.NewActivity("Undo", "", actor, activity)
	a.To, a.CC, a.Audience = activity.To, activity.CC, activity.Audience
	return a
}

// NewRemove returns a moderator's removal of object from a community
// collection (target), such as a moderator from the moderators collection
// or a post from the featured collection.
func NewRemove(actor, object, target, community ap.IRI) *vocab.Activity {
	a := vocab.NewActivity("Remove", "", actor, object)
	a.Target = target
	a.To = ap.ItemCollection{vocab.PublicIRI}
	a.CC = ap.ItemCollection{community}
	a.Audience = ap.ItemCollection{community}
	return a
}

// NewModRemoval returns a moderator's removal of a post or comment, which
// Lemmy sends as a Delete with the reason in summary.
func NewModRemoval(actor, object, community ap.IRI, reason string) *vocab.Activity {
	a := vocab.NewActivity("Delete", "", actor, object)
	a.To = ap.ItemCollection{vocab.PublicIRI}
	a.CC = ap.ItemCollection{community}
	a.Audience = ap.ItemCollection{community}
	if reason != "" {
		a.Summary = vocab.Text(reason)
	}
	return a
}

// NewLock returns a moderator's lock of a post (no new comments), with an
// optional reason.
func NewLock(actor, post, community ap.IRI, reason string) *vocab.Activity {
	a := vocab.NewActivity("Lock", "", actor, post)
	a.To = ap.ItemCollection{vocab.PublicIRI}
	a.CC = ap.ItemCollection{community}
	a.Audience = ap.ItemCollection{community}
	if reason != "" {
		a.Summary = vocab.Text(reason)
	}
	return a
}

// NewAnnounce returns the Announce with which a community forwards an
// activity to its followers.
func NewAnnounce(community, followers ap.IRI, activity *vocab.Activity) *vocab.Activity {
	a := vocab.NewActivity("Announce", "", community, activity)
	a.To = ap.ItemCollection{vocab.PublicIRI}
	a.CC = ap.ItemCollection{followers}
	return a
}

// Moderation returns the moderation fields of a Block, Delete or Remove.
func Moderation(a *vocab.Activity) *ModerationFields { return vocab.PropsOf(a, moderationFields) }
