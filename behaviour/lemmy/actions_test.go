package lemmy_test

import (
	"context"
	"testing"

	ap "github.com/go-ap/activitypub"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fedi-go/fedi"
	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/behaviour/lemmy"
	"github.com/fedi-go/fedi/internal/fedtest"
	"github.com/fedi-go/fedi/outbox"
	"github.com/fedi-go/fedi/serve"
	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/vocab"
	lemmyvocab "github.com/fedi-go/fedi/vocab/lemmy"
)

// TestLocalUsers: our own users act in our own community through
// Actions: the community has each activity's effects within the Send,
// checked as a received one (a refused one fails the Send and changes
// nothing), and announces it to its followers, here lemmy_alpha's server.
func TestLocalUsers(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	s := w.srv.Scheme
	w.accept(t, w.alpha, payload(t, w.ours, "lemmy-assets__activities_following_follow.json", nil))

	post, err := w.act.Post(ctx, w.carol.IRI, w.main, "Hello", "<p>first post</p>")
	require.NoError(t, err)
	assert.True(t, w.in(t, s.Collection(w.main, lemmy.Posts), post))
	comment, err := w.act.Comment(ctx, w.dave.IRI, post, "<p>a comment</p>")
	require.NoError(t, err)
	assert.True(t, w.in(t, s.Collection(w.main, lemmy.Comments), comment))
	reply, err := w.act.Comment(ctx, w.carol.IRI, comment, "<p>a reply</p>")
	require.NoError(t, err)
	assert.True(t, w.in(t, s.Collection(w.main, lemmy.Comments), reply))

	// An edit, through the outbox, is announced too.
	o, err := w.srv.Store.Objects.Get(ctx, post)
	require.NoError(t, err)
	edited, err := w.srv.Registry.Decode(o.Data)
	require.NoError(t, err)
	vocab.Base(edited).Name = vocab.Text("Hello, edited")
	_, err = w.srv.Send(ctx, vocab.NewActivity("Update", "", ap.IRI(w.carol.IRI), edited))
	require.NoError(t, err)

	_, err = w.act.Vote(ctx, w.dave.IRI, post, true)
	require.NoError(t, err)
	_, err = w.act.Vote(ctx, w.dave.IRI, post, false)
	require.NoError(t, err)
	assert.Equal(t, [2]int{0, 1}, w.votes(t, post), "the downvote replaced the upvote")
	_, err = w.act.Unvote(ctx, w.dave.IRI, post)
	require.NoError(t, err)
	assert.Equal(t, [2]int{0, 0}, w.votes(t, post))

	before := w.count.State()
	_, err = w.act.Remove(ctx, w.carol.IRI, comment, "spam")
	require.ErrorIs(t, err, lemmy.ErrNotModerator)
	_, err = w.act.Lock(ctx, w.dave.IRI, post, "")
	require.ErrorIs(t, err, lemmy.ErrNotModerator)
	assert.Equal(t, before, w.count.State(), "a refused Send changes nothing")

	_, err = w.act.Lock(ctx, w.alice.IRI, post, "enough")
	require.NoError(t, err)
	before = w.count.State()
	_, err = w.act.Comment(ctx, w.dave.IRI, post, "<p>more</p>")
	require.ErrorIs(t, err, lemmy.ErrLocked)
	assert.Equal(t, before, w.count.State())
	_, err = w.act.Comment(ctx, w.alice.IRI, post, "<p>locked, says the moderator</p>")
	require.NoError(t, err)
	_, err = w.act.Unlock(ctx, w.alice.IRI, post)
	require.NoError(t, err)
	_, err = w.act.Comment(ctx, w.dave.IRI, post, "<p>more</p>")
	require.NoError(t, err)

	// The creator's deletion hides; the outbox's own Delete, which would
	// tombstone, is refused.
	_, err = w.srv.Send(ctx, vocab.NewActivity("Delete", "", ap.IRI(w.carol.IRI), ap.IRI(post)))
	require.ErrorIs(t, err, lemmy.ErrUseDelete)
	_, err = w.act.Delete(ctx, w.dave.IRI, post)
	require.ErrorIs(t, err, lemmy.ErrNotCreator)
	_, err = w.act.Delete(ctx, w.carol.IRI, post)
	require.NoError(t, err)
	assert.True(t, w.hidden(t, post))
	o, err = w.srv.Store.Objects.Get(ctx, post)
	require.NoError(t, err)
	assert.True(t, o.Deleted.IsZero(), "hidden, not tombstoned")
	_, err = w.act.Restore(ctx, w.carol.IRI, post)
	require.NoError(t, err)
	assert.False(t, w.hidden(t, post))

	_, err = w.act.Remove(ctx, w.alice.IRI, comment, "spam")
	require.NoError(t, err)
	assert.True(t, w.hidden(t, comment))
	_, err = w.act.Reinstate(ctx, w.alice.IRI, comment)
	require.NoError(t, err)
	assert.False(t, w.hidden(t, comment))

	// Every one of those was announced to lemmy_alpha's server, and no
	// local delivery failed.
	w.srv.Drain(t)
	announces := 0
	for _, b := range w.rem.Received["/inbox"] {
		it, err := w.srv.Registry.Decode(b)
		require.NoError(t, err)
		if vocab.HasType(it, "Announce") {
			announces++
		}
	}
	assert.Equal(t, len(w.announced(t)), announces)
	assert.Equal(t, 15, announces)
	assert.Empty(t, w.failed.events(), "no delivery failed")
}

// TestLocalMessages: a private message between two of our users reaches
// its recipient; one to several is refused.
func TestLocalMessages(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	msg, err := w.act.Message(ctx, w.carol.IRI, w.dave.IRI, "<p>psst</p>")
	require.NoError(t, err)
	assert.True(t, w.in(t, w.srv.Scheme.Collection(w.dave.IRI, lemmy.Messages), msg))

	two := lemmyvocab.NewChatMessage("", ap.IRI(w.carol.IRI), ap.IRI(w.dave.IRI), "<p>to two</p>")
	two.To = append(two.To, ap.IRI(w.alice.IRI))
	before := w.count.State()
	_, err = w.srv.Send(ctx, vocab.NewActivity("Create", "", ap.IRI(w.carol.IRI), two))
	require.ErrorIs(t, err, lemmy.ErrPrivateMessage)
	assert.Equal(t, before, w.count.State())

	_, err = w.act.Delete(ctx, w.carol.IRI, msg)
	require.NoError(t, err)
	assert.True(t, w.hidden(t, msg))
	_, err = w.act.Restore(ctx, w.carol.IRI, msg)
	require.NoError(t, err)
	assert.False(t, w.hidden(t, msg))

	toEve, err := w.act.Message(ctx, w.carol.IRI, w.eve, "<p>hello eve</p>")
	require.NoError(t, err)
	w.srv.Drain(t)
	assert.Empty(t, w.failed.events(), "no delivery failed")
	require.Len(t, w.rem.Received["/inbox"], 1, "eve's message went to her server")
	assert.Contains(t, string(w.rem.Received["/inbox"][0]), toEve)
}

// lemmyServer is a server with the Lemmy behaviour, serving its
// communities' moderators.
func lemmyServer(t *testing.T) (*fedtest.Server, lemmy.Actions, *failures) {
	failed := &failures{}
	srv := fedtest.New(t, fedtest.Config{
		Options: fedi.Options{Serve: serve.Options{Collections: lemmy.Served}, Worker: outbox.WorkerOptions{Observe: failed.observe}},
		Setup: func(f *fedi.Federation) {
			lemmy.Register(f.Mux, lemmy.Options{Outbox: f.Outbox, Actors: f.Actors, Remote: f.Remote})
		}})
	return srv, lemmy.Actions{Store: srv.Store, Outbox: srv.Outbox, Actors: srv.LocalActors}, failed
}

// TestTwoServers: a community on one server, a user of another following
// it: the user's post, votes from both sides, a moderator's removal, the
// creator's deletion and restoration, each seen alike on both servers.
func TestTwoServers(t *testing.T) {
	ctx := context.Background()
	a, actA, failedA := lemmyServer(t)
	b, actB, failedB := lemmyServer(t)
	anna, mod := a.User(t, "anna"), a.User(t, "mod")
	bob := b.User(t, "bob")
	c, err := actA.CreateCommunity(ctx, mod.IRI, "gophers", "Gophers", "<p>all about Go</p>")
	require.NoError(t, err)

	_, err = b.Send(ctx, vocab.NewActivity("Follow", "", ap.IRI(bob.IRI), ap.IRI(c.IRI)))
	require.NoError(t, err)
	fedtest.DrainAll(t, a, b)
	m, err := b.Store.Collections.Contains(ctx, b.Scheme.Collection(bob.IRI, actor.Following), c.IRI)
	require.NoError(t, err)
	require.Equal(t, storage.Accepted, m.State)

	post, err := actB.Post(ctx, bob.IRI, c.IRI, "From b", "<p>hello gophers</p>")
	require.NoError(t, err)
	fedtest.DrainAll(t, a, b)
	o, err := a.Store.Objects.Get(ctx, post)
	require.NoError(t, err, "the post reached the community")
	assert.Equal(t, bob.IRI, o.Owner)

	_, err = actA.Vote(ctx, anna.IRI, post, true)
	require.NoError(t, err)
	_, err = actB.Vote(ctx, bob.IRI, post, false)
	require.NoError(t, err)
	fedtest.DrainAll(t, a, b)
	for _, srv := range []*fedtest.Server{a, b} {
		up, down, err := lemmy.Votes(ctx, srv.Store, srv.Scheme, post)
		require.NoError(t, err)
		assert.Equal(t, [2]int{1, 1}, [2]int{up, down}, srv.URL)
	}

	hidden := func(srv *fedtest.Server) bool {
		h, err := lemmy.Hidden(ctx, srv.Store, srv.Scheme, post)
		require.NoError(t, err)
		return h
	}
	_, err = actA.Remove(ctx, mod.IRI, post, "off topic")
	require.NoError(t, err)
	fedtest.DrainAll(t, a, b)
	assert.True(t, hidden(a))
	assert.True(t, hidden(b), "the removal, announced, checked against the moderators collection")

	_, err = actA.Reinstate(ctx, mod.IRI, post)
	require.NoError(t, err)
	_, err = actB.Delete(ctx, bob.IRI, post)
	require.NoError(t, err)
	fedtest.DrainAll(t, a, b)
	assert.True(t, hidden(a), "deleted by its creator")
	assert.True(t, hidden(b))
	_, err = actB.Restore(ctx, bob.IRI, post)
	require.NoError(t, err)
	fedtest.DrainAll(t, a, b)
	assert.False(t, hidden(a), "restored")
	assert.False(t, hidden(b))

	assert.Empty(t, failedA.events(), "no delivery failed")
	assert.Empty(t, failedB.events(), "no delivery failed")
}
