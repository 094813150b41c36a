package core_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	ap "github.com/go-ap/activitypub"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/behaviour/core"
	"github.com/fedi-go/fedi/internal/fedtest"
	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/vocab"
)

// world is a fedi server with the default behaviour and two local
// actors (alice, who approves followers by hand: ann), and a remote
// server with bob.
type world struct {
	t     *testing.T
	srv   *fedtest.Server
	rem   *fedtest.Remote
	alice *actor.Actor
	ann   *actor.Actor
	bob   string
	note  string // a public note of alice's
}

func newWorld(t *testing.T) *world {
	w := &world{t: t, srv: fedtest.New(t, fedtest.Config{})}
	w.alice = w.srv.User(t, "alice")
	ann, err := w.srv.LocalActors.Create(context.Background(), actor.Actor{Name: "ann", ManuallyApprovesFollowers: true})
	require.NoError(t, err)
	w.ann = ann
	w.rem = fedtest.NewRemote(t)
	w.bob = w.rem.Actor(t, "bob", 0)
	note := vocab.NewObject("Note", "")
	note.Content = vocab.Text("alice's note")
	create := vocab.NewActivity("Create", "", ap.IRI(w.alice.IRI), note)
	create.To = ap.ItemCollection{vocab.PublicIRI}
	_, err = w.srv.Send(context.Background(), create)
	require.NoError(t, err)
	w.note = string(note.ID)
	return w
}

// deliver posts an activity of bob's (the format's %[1]s is bob, %[2]s
// alice, %[3]s alice's note, %[4]s ann) and expects status.
func (w *world) deliver(status int, format string) {
	w.t.Helper()
	body := fmt.Sprintf(format, w.bob, w.alice.IRI, w.note, w.ann.IRI)
	got, msg := fedtest.Do(w.t, w.rem.Signed(w.t, w.bob, w.srv.URL+"/inbox", []byte(body)))
	require.Equal(w.t, status, got, msg)
}

func (w *world) member(coll, member string) (storage.Member, bool) {
	m, err := w.srv.Store.Collections.Contains(context.Background(), coll, member)
	if errors.Is(err, storage.ErrNotFound) {
		return m, false
	}
	require.NoError(w.t, err)
	return m, true
}

func (w *world) col(owner, name string) string { return w.srv.Scheme.Collection(owner, name) }

// TestHandlers: each default handler, with the shapes real servers send
// (Mastodon's Follow and Undo, Fedify's Accept with the embedded Follow,
// Lemmy's Like, Mastodon's Delete of a Tombstone and of an actor).
func TestHandlers(t *testing.T) {
	tests := []struct {
		name string
		run  func(w *world)
	}{
		{"Follow: a follower, answered with Accept", func(w *world) {
			w.deliver(202, `{"@context":"https://www.w3.org/ns/activitystreams","id":"%[1]s#follows/1","type":"Follow","actor":"%[1]s","object":"%[2]s"}`)
			m, ok := w.member(w.col(w.alice.IRI, actor.Followers), w.bob)
			require.True(t, ok)
			assert.Equal(t, storage.Accepted, m.State)
			w.srv.Drain(t)
			require.Len(t, w.rem.Got("/inbox"), 1, "the Accept reached bob's server")
			assert.Contains(t, string(w.rem.Got("/inbox")[0]), `"Accept"`)
		}},
		{"Follow of an actor who approves by hand: pending, then accepted", func(w *world) {
			w.deliver(202, `{"id":"%[1]s#follows/2","type":"Follow","actor":"%[1]s","object":"%[4]s"}`)
			m, ok := w.member(w.col(w.ann.IRI, actor.Followers), w.bob)
			require.True(t, ok)
			assert.Equal(t, storage.Pending, m.State)
			f := w.srv.Federation
			_, err := core.AcceptPending(context.Background(), f.Store, f.Scheme, f.Send, f.Registry, w.ann.IRI, w.bob, true)
			require.NoError(t, err)
			m, _ = w.member(w.col(w.ann.IRI, actor.Followers), w.bob)
			assert.Equal(t, storage.Accepted, m.State)
		}},
		{"Undo of a Follow, embedded as Mastodon sends it", func(w *world) {
			w.deliver(202, `{"id":"%[1]s#follows/3","type":"Follow","actor":"%[1]s","object":"%[2]s"}`)
			w.deliver(202, `{"id":"%[1]s#follows/3/undo","type":"Undo","actor":"%[1]s","object":{"id":"%[1]s#follows/3","type":"Follow","actor":"%[1]s","object":"%[2]s"}}`)
			_, ok := w.member(w.col(w.alice.IRI, actor.Followers), w.bob)
			assert.False(t, ok)
		}},
		{"Like and its Undo by IRI", func(w *world) {
			w.deliver(202, `{"id":"%[1]s/likes/1","type":"Like","actor":"%[1]s","object":"%[3]s"}`)
			m, ok := w.member(w.col(w.note, actor.Likes), w.bob)
			require.True(t, ok)
			assert.Equal(t, w.bob+"/likes/1", m.Activity)
			w.deliver(202, `{"id":"%[1]s/likes/1/undo","type":"Undo","actor":"%[1]s","object":"%[1]s/likes/1"}`)
			_, ok = w.member(w.col(w.note, actor.Likes), w.bob)
			assert.False(t, ok)
		}},
		{"Announce of our note", func(w *world) {
			w.deliver(202, `{"id":"%[1]s/statuses/9/activity","type":"Announce","actor":"%[1]s","object":"%[3]s","to":["https://www.w3.org/ns/activitystreams#Public"]}`)
			_, ok := w.member(w.col(w.note, actor.Shares), w.bob)
			assert.True(t, ok)
		}},
		{"Create of a reply: cached with its owner, in our note's replies", func(w *world) {
			w.deliver(202, `{"id":"%[1]s/statuses/2/activity","type":"Create","actor":"%[1]s","to":["https://www.w3.org/ns/activitystreams#Public"],"object":{"id":"%[1]s/statuses/2","type":"Note","attributedTo":"%[1]s","inReplyTo":"%[3]s","content":"<p>a reply</p>","to":["https://www.w3.org/ns/activitystreams#Public"]}}`)
			o, err := w.srv.Store.Objects.Get(context.Background(), w.bob+"/statuses/2")
			require.NoError(t, err)
			assert.Equal(t, w.bob, o.Owner)
			_, ok := w.member(w.col(w.note, actor.Replies), w.bob+"/statuses/2")
			assert.True(t, ok)
		}},
		{"Update by the owner replaces the cached copy", func(w *world) {
			w.deliver(202, `{"id":"%[1]s/statuses/3/activity","type":"Create","actor":"%[1]s","object":{"id":"%[1]s/statuses/3","type":"Note","attributedTo":"%[1]s","content":"first"}}`)
			w.deliver(202, `{"id":"%[1]s/statuses/3#updates/1","type":"Update","actor":"%[1]s","object":{"id":"%[1]s/statuses/3","type":"Note","attributedTo":"%[1]s","content":"second"}}`)
			o, err := w.srv.Store.Objects.Get(context.Background(), w.bob+"/statuses/3")
			require.NoError(t, err)
			assert.Contains(t, string(o.Data), "second")
		}},
		{"Delete of a Tombstone, as Mastodon sends it", func(w *world) {
			w.deliver(202, `{"id":"%[1]s/statuses/4/activity","type":"Create","actor":"%[1]s","object":{"id":"%[1]s/statuses/4","type":"Note","attributedTo":"%[1]s","content":"soon gone"}}`)
			w.deliver(202, `{"id":"%[1]s/statuses/4#delete","type":"Delete","actor":"%[1]s","object":{"id":"%[1]s/statuses/4","type":"Tombstone"}}`)
			o, err := w.srv.Store.Objects.Get(context.Background(), w.bob+"/statuses/4")
			require.NoError(t, err)
			assert.False(t, o.Deleted.IsZero())
		}},
		{"Delete of an actor: gone, out of our collections", func(w *world) {
			w.deliver(202, `{"id":"%[1]s#follows/5","type":"Follow","actor":"%[1]s","object":"%[2]s"}`)
			w.deliver(202, `{"id":"%[1]s#delete","type":"Delete","actor":"%[1]s","object":"%[1]s","to":["https://www.w3.org/ns/activitystreams#Public"]}`)
			_, ok := w.member(w.col(w.alice.IRI, actor.Followers), w.bob)
			assert.False(t, ok)
			ra, err := w.srv.Store.Actors.Get(context.Background(), w.bob)
			require.NoError(t, err)
			assert.False(t, ra.Gone.IsZero())
		}},
		{"Block: blockedBy, and the follow ends", func(w *world) {
			w.deliver(202, `{"id":"%[1]s#follows/6","type":"Follow","actor":"%[1]s","object":"%[2]s"}`)
			w.deliver(202, `{"id":"%[1]s#blocks/1","type":"Block","actor":"%[1]s","object":"%[2]s"}`)
			_, ok := w.member(w.col(w.alice.IRI, actor.BlockedBy), w.bob)
			assert.True(t, ok)
			_, ok = w.member(w.col(w.alice.IRI, actor.Followers), w.bob)
			assert.False(t, ok)
		}},
		{"Add to the actor's own featured collection; to another's, refused", func(w *world) {
			w.deliver(202, `{"id":"%[1]s#add/1","type":"Add","actor":"%[1]s","object":"%[1]s/statuses/7","target":"%[1]s/collections/featured"}`)
			_, ok := w.member(w.bob+"/collections/featured", w.bob+"/statuses/7")
			assert.True(t, ok)
			w.deliver(403, `{"id":"%[1]s#add/2","type":"Add","actor":"%[1]s","object":"%[1]s/statuses/7","target":"%[2]s/featured"}`)
		}},
		{"Add to the collection of another actor of the same server: refused", func(w *world) {
			eve := w.rem.Actor(t, "eve", 1)
			w.deliver(403, `{"id":"%[1]s#add/3","type":"Add","actor":"%[1]s","object":"%[1]s/statuses/7","target":"`+eve+`/collections/featured"}`)
		}},
		{"Accept of our Follow by someone other than the followed: refused", func(w *world) {
			f := vocab.NewActivity("Follow", "", ap.IRI(w.alice.IRI), ap.IRI(w.bob+"-other"))
			id, err := w.srv.Send(context.Background(), f)
			require.NoError(t, err)
			w.deliver(403, `{"id":"%[1]s/accepts/2","type":"Accept","actor":"%[1]s","object":"`+id+`"}`)
		}},
		{"Flag: a report for the moderators", func(w *world) {
			w.deliver(202, `{"id":"%[1]s/flags/1","type":"Flag","actor":"%[1]s","object":["%[2]s","%[3]s"],"content":"spam"}`)
			_, ok := w.member(core.ReportsIRI(w.srv.Scheme), w.bob+"/flags/1")
			assert.True(t, ok)
		}},
		{"Move to an account that does not name the old one: refused", func(w *world) {
			w.rem.Put(t, w.bob+"-new", fmt.Sprintf(`{"id":%q,"type":"Person","inbox":"%s-new/inbox"}`, w.bob+"-new", w.bob))
			w.deliver(403, `{"id":"%[1]s#moves/1","type":"Move","actor":"%[1]s","object":"%[1]s","target":"%[1]s-new"}`)
		}},
		{"Move to an account that names the old one", func(w *world) {
			w.rem.Put(t, w.bob+"-new", fmt.Sprintf(`{"id":%q,"type":"Person","inbox":"%s-new/inbox","alsoKnownAs":[%q]}`, w.bob+"-new", w.bob, w.bob))
			w.deliver(202, `{"id":"%[1]s#moves/2","type":"Move","actor":"%[1]s","object":"%[1]s","target":"%[1]s-new","to":"%[2]s"}`)
			_, ok := w.member(w.col(w.alice.IRI, actor.Inbox), w.bob+"#moves/2")
			assert.True(t, ok)
		}},
		{"Accept of our Follow, with the Follow embedded as Fedify sends it", func(w *world) {
			f := vocab.NewActivity("Follow", "", ap.IRI(w.alice.IRI), ap.IRI(w.bob))
			id, err := w.srv.Send(context.Background(), f)
			require.NoError(t, err)
			w.deliver(202, `{"id":"%[1]s/accepts/1","type":"Accept","actor":"%[1]s","object":{"id":"`+id+`","type":"Follow","actor":{"id":"%[2]s","type":"Person"},"object":"%[1]s"}}`)
			m, ok := w.member(w.col(w.alice.IRI, actor.Following), w.bob)
			require.True(t, ok)
			assert.Equal(t, storage.Accepted, m.State)
		}},
		{"Reject of our Follow", func(w *world) {
			f := vocab.NewActivity("Follow", "", ap.IRI(w.alice.IRI), ap.IRI(w.bob))
			id, err := w.srv.Send(context.Background(), f)
			require.NoError(t, err)
			w.deliver(202, `{"id":"%[1]s/rejects/1","type":"Reject","actor":"%[1]s","object":"`+id+`"}`)
			_, ok := w.member(w.col(w.alice.IRI, actor.Following), w.bob)
			assert.False(t, ok)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			tt.run(w)
		})
	}

}
