package lemmy_test

import (
	"fmt"
	"testing"

	ap "github.com/go-ap/activitypub"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fedi-go/fedi/internal/jsoneq"
	"github.com/fedi-go/fedi/internal/testpayload"
	"github.com/fedi-go/fedi/vocab"
	"github.com/fedi-go/fedi/vocab/lemmy"
)

var reg = vocab.MustRegistry(lemmy.Vocabulary)

func TestCommunity(t *testing.T) {
	it := testpayload.Decode(t, reg, "lemmy__lemmy-assets__objects_group.json")
	c, ok := lemmy.CommunityOf(it)
	require.True(t, ok)
	require.NotNil(t, c.PostingRestrictedToMods)
	assert.False(t, *c.PostingRestrictedToMods)
	assert.Equal(t, []lemmy.Language{{"fr", "Français"}, {"de", "Deutsch"}}, c.Language)
	require.NotNil(t, c.Sensitive)
	assert.False(t, *c.Sensitive)
	assert.Equal(t, ap.IRI("https://enterprise.lemmy.ml/c/tenforward//featured"), c.Featured)
	assert.Equal(t, ap.IRI("https://enterprise.lemmy.ml/c/tenforward/moderators"), c.AttributedTo)
	assert.Equal(t, ap.IRI("https://enterprise.lemmy.ml/inbox"), c.Endpoints.SharedInbox)
	assert.Equal(t, "tenforward", vocab.TextOf(c.PreferredUsername))

	// Older Lemmy sends the moderators as their own property.
	it, err := reg.Decode([]byte(`{"type":"Group","id":"https://l.example/c/x","moderators":"https://l.example/c/x/moderators"}`))
	require.NoError(t, err)
	c, _ = lemmy.CommunityOf(it)
	assert.Equal(t, ap.IRI("https://l.example/c/x/moderators"), c.Moderators)
}

func TestPostAndComment(t *testing.T) {
	it := testpayload.Decode(t, reg, "lemmy__lemmy-assets__objects_page.json")
	p, ok := lemmy.PostOf(it)
	require.True(t, ok)
	assert.Equal(t, "Post title", vocab.TextOf(p.Name))
	assert.Equal(t, []lemmy.Language{{"fr", "Français"}}, p.Language)
	assert.Equal(t, []ap.IRI{"https://enterprise.lemmy.ml/c/tenforward", vocab.PublicIRI}, vocab.Audience(p))

	it = testpayload.Decode(t, reg, "lemmy__lemmy-assets__activities_community_announce_create_page.json")
	var stickied *bool
	vocab.Walk(it, func(_ string, it vocab.Item) bool {
		if p, ok := lemmy.PostOf(it); ok {
			stickied = p.Stickied
		}
		return true
	})
	require.NotNil(t, stickied)

	it = testpayload.Decode(t, reg, "lemmy__lemmy-assets__objects_comment.json")
	c, ok := lemmy.CommentOf(it)
	require.True(t, ok)
	require.NotNil(t, c.Distinguished)
	assert.False(t, *c.Distinguished)
	post, parent := c.ReplyChain()
	assert.Equal(t, ap.IRI(""), post)
	assert.Equal(t, ap.IRI("https://enterprise.lemmy.ml/post/55143"), parent)

	// The two-element chain of older versions: [post, parent comment].
	it, err := reg.Decode([]byte(`{"type":"Note","id":"https://l.example/comment/9",
		"inReplyTo":["https://l.example/post/1","https://l.example/comment/8"],"content":"reply"}`))
	require.NoError(t, err)
	c, _ = lemmy.CommentOf(it)
	post, parent = c.ReplyChain()
	assert.Equal(t, ap.IRI("https://l.example/post/1"), post)
	assert.Equal(t, ap.IRI("https://l.example/comment/8"), parent)
}

func TestPrivateMessages(t *testing.T) {
	it := testpayload.Decode(t, reg, "lemmy__lemmy-assets__activities_create_or_update_create_private_message_0.19.json")
	o, ok := lemmy.PrivateMessageOf(it.(*vocab.Activity).Object)
	require.True(t, ok)
	assert.Equal(t, "<p>hi!</p>\n", vocab.TextOf(o.Content))

	note, err := reg.Decode([]byte(`{"type":"Note","to":["https://l.example/u/a"],"content":"psst"}`))
	require.NoError(t, err)
	_, ok = lemmy.PrivateMessageOf(note)
	assert.True(t, ok)
	public, err := reg.Decode([]byte(`{"type":"Note","to":["https://www.w3.org/ns/activitystreams#Public"]}`))
	require.NoError(t, err)
	_, ok = lemmy.PrivateMessageOf(public)
	assert.False(t, ok)
}

// TestActivitiesMatchLemmy builds each activity and compares it with the one
// Lemmy sends, ids aside.
func TestActivitiesMatchLemmy(t *testing.T) {
	for _, tc := range []struct {
		file  string
		build func() *vocab.Activity
	}{
		{"lemmy__lemmy-assets__activities_voting_like_note.json", func() *vocab.Activity {
			return lemmy.NewLike("http://ds9.lemmy.ml/u/lemmy_alpha", "http://ds9.lemmy.ml/comment/1", "https://enterprise.lemmy.ml/c/tenforward")
		}},
		{"lemmy__lemmy-assets__activities_voting_dislike_page.json", func() *vocab.Activity {
			return lemmy.NewDislike("http://enterprise.lemmy.ml/u/lemmy_beta", "http://ds9.lemmy.ml/post/1", "https://enterprise.lemmy.ml/c/tenforward")
		}},
		{"lemmy__lemmy-assets__activities_voting_undo_like_note.json", func() *vocab.Activity {
			like := lemmy.NewLike("http://ds9.lemmy.ml/u/lemmy_alpha", "http://ds9.lemmy.ml/comment/1", "https://enterprise.lemmy.ml/c/tenforward")
			like.ID = "http://ds9.lemmy.ml/activities/like/efcf7ae2-dfcc-4ff4-9ce4-6adf251ff004"
			return lemmy.NewUndo("http://ds9.lemmy.ml/u/lemmy_alpha", like)
		}},
		{"lemmy__lemmy-assets__activities_community_remove_mod.json", func() *vocab.Activity {
			a := lemmy.NewRemove("http://enterprise.lemmy.ml/u/lemmy_beta", "http://ds9.lemmy.ml/u/lemmy_alpha",
				"http://enterprise.lemmy.ml/c/main/moderators", "http://enterprise.lemmy.ml/c/main")
			a.Audience = ap.ItemCollection{ap.IRI("http://enterprise.lemmy.ml/u/main")}
			return a
		}},
		{"lemmy__lemmy-assets__activities_community_lock_page.json", func() *vocab.Activity {
			a := lemmy.NewLock("http://lemmy-alpha:8541/u/lemmy_alpha", "http://lemmy-alpha:8541/post/2",
				"http://lemmy-alpha:8541/c/main", "A reason for the lock")
			return a
		}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			want := testpayload.Decode(t, reg, tc.file).(*vocab.Activity)
			got := tc.build()
			got.ID = want.ID
			out, err := reg.Encode(got)
			require.NoError(t, err)
			wantOut, err := reg.Encode(want)
			require.NoError(t, err)
			ok, diff := jsoneq.Equal(wantOut, out)
			assert.True(t, ok, "%s\n%s", diff, out)
		})
	}
}

func TestModeration(t *testing.T) {
	it := testpayload.Decode(t, reg, "lemmy__lemmy-assets__activities_block_block_user.json")
	m := lemmy.Moderation(it.(*vocab.Activity))
	require.NotNil(t, m.RemoveData)
	assert.True(t, *m.RemoveData)
	d := lemmy.NewModRemoval("https://l/u/mod", "https://l/post/1", "https://l/c/main", "spam")
	assert.Equal(t, "spam", vocab.TextOf(d.Summary))
	assert.Equal(t, "Delete", string(d.Type))
}

func ExampleCommunityOf() {
	reg := vocab.MustRegistry(lemmy.Vocabulary)
	item, err := reg.Decode([]byte(`{"id":"https://lemmy.example/c/golang","type":"Group",
		"preferredUsername":"golang","postingRestrictedToMods":true,"sensitive":false,
		"language":[{"identifier":"en","name":"English"}],"inbox":"https://lemmy.example/c/golang/inbox"}`))
	if err != nil {
		panic(err)
	}
	c, ok := lemmy.CommunityOf(item)
	fmt.Println(ok, vocab.TextOf(c.PreferredUsername), *c.PostingRestrictedToMods, c.Language[0].Identifier, c.Inbox)
	// Output: true golang true en https://lemmy.example/c/golang/inbox
}

func ExampleNewLike() {
	reg := vocab.MustRegistry(lemmy.Vocabulary)
	like := lemmy.NewLike("https://a.example/u/alice", "https://lemmy.example/post/1", "https://lemmy.example/c/golang")
	like.ID = "https://a.example/activities/like/1"
	undo := lemmy.NewUndo("https://a.example/u/alice", like)
	undo.ID = "https://a.example/activities/undo/1"
	out, err := reg.Encode(undo)
	if err != nil {
		panic(err)
	}
	fmt.Println(string(out))
	// Output: {"@context":["https://www.w3.org/ns/activitystreams","https://w3id.org/security/v1"],"id":"https://a.example/activities/undo/1","type":"Undo","actor":"https://a.example/u/alice","object":{"id":"https://a.example/activities/like/1","type":"Like","actor":"https://a.example/u/alice","object":"https://lemmy.example/post/1","audience":["https://lemmy.example/c/golang"]},"audience":["https://lemmy.example/c/golang"]}
}
