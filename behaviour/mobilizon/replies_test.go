package mobilizon_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/behaviour/mobilizon"
	"github.com/fedi-go/fedi/internal/fedtest"
	"github.com/fedi-go/fedi/internal/mobilizontest"
	vmz "github.com/fedi-go/fedi/vocab/mobilizon"
)

// reply is a Create{Note} (the shape Mobilizon's comments take) by who,
// replying to parent.
func reply(id, who, parent string) []byte {
	return fedtest.JSON(`{"@context":"https://www.w3.org/ns/activitystreams","id":%q,"type":"Create","actor":%q,
		"to":["https://www.w3.org/ns/activitystreams#Public"],"cc":[%q],
		"object":{"id":%q,"type":"Note","attributedTo":%q,"content":"<p>Can I bring my dog?</p>","inReplyTo":%q,
		"to":["https://www.w3.org/ns/activitystreams#Public"],"cc":[%q],"mediaType":"text/html"}}`,
		id+"/activity", who, who+"/followers", id, who, parent, who+"/followers")
}

// TestReplies: a reply to an event whose replies are closed is refused
// with the organizer's Reject and not kept; other replies are core's.
func TestReplies(t *testing.T) {
	closed := func(ev vmz.Event) { ev.SetRepliesModeration(vmz.RepliesClosed) }
	commentsOff := func(ev vmz.Event) { off := false; ev.CommentsEnabled = &off }
	open := func(ev vmz.Event) { ev.SetRepliesModeration(vmz.RepliesAllowAll) }
	cases := []struct {
		name    string
		setting func(vmz.Event)
		refused bool
	}{
		{name: "repliesModerationOption closed", setting: closed, refused: true},
		{name: "commentsEnabled false, PeerTube's fallback", setting: commentsOff, refused: true},
		{name: "allow_all", setting: open},
		{name: "no setting", setting: func(vmz.Event) {}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			ev := w.event(t, vmz.JoinFree, 0, tc.setting)
			note := w.Bob + "/notes/1"
			status, msg := w.Post(t, w.Bob, w.Shared(), reply(note, w.Bob, ev))
			mobilizontest.Status(t, http.StatusAccepted, status, msg)
			replies := w.Srv.Scheme.Collection(ev, actor.Replies)
			_, listed := w.Member(t, replies, note)
			rejects := w.Received(t, "Reject")
			if !tc.refused {
				assert.True(t, listed, "the reply joins the event's replies")
				assert.NotNil(t, w.Item(t, note), "and is kept")
				assert.Empty(t, rejects)
				return
			}
			assert.False(t, listed)
			assert.Nil(t, w.Item(t, note), "a refused reply is not kept")
			_, noted := w.Member(t, w.Srv.Scheme.Collection(ev, mobilizon.RefusedReplies), note)
			assert.True(t, noted, "the refusal is noted on the event")
			require.Len(t, rejects, 1)
			assert.Equal(t, w.alice.IRI, rejects[0]["actor"], "the organizer rejects")
			assert.Equal(t, []any{w.Bob}, rejects[0]["to"])
			obj, _ := rejects[0]["object"].(map[string]any)
			require.NotNil(t, obj)
			assert.Equal(t, note+"/activity", obj["id"], "the Reject names the Create")

			// The same reply again, to alice's inbox too: refused once.
			status, msg = w.Post(t, w.Bob, w.Inbox(w.alice.IRI), reply(note, w.Bob, ev))
			mobilizontest.Status(t, http.StatusAccepted, status, msg)
			assert.Len(t, w.Received(t, "Reject"), 1)
		})
	}
}
