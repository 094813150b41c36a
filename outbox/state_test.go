package outbox_test

import (
	"errors"
	"testing"

	ap "github.com/go-ap/activitypub"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/outbox"
	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/vocab"
)

const (
	bob   = "https://remote.example/users/bob"
	carol = "https://remote.example/users/carol"
)

// member returns the entry of iri in a collection, or ok false.
func (e *env) member(collection, iri string) (storage.Member, bool) {
	e.t.Helper()
	m, err := e.mem.Collections.Contains(e.ctx, collection, iri)
	if errors.Is(err, storage.ErrNotFound) {
		return m, false
	}
	require.NoError(e.t, err)
	return m, true
}

func (e *env) send(it vocab.Item) string {
	e.t.Helper()
	id, err := e.out.Send(e.ctx, it)
	require.NoError(e.t, err)
	return id
}

func TestFollowIsPendingUntilAccepted(t *testing.T) {
	e := newEnv(t)
	alice := e.user("alice")
	following := e.scheme.Collection(alice, actor.Following)

	follow := vocab.NewActivity("Follow", "", ap.IRI(alice), ap.IRI(bob))
	id := e.send(follow)
	m, ok := e.member(following, bob)
	require.True(t, ok)
	assert.Equal(t, storage.Pending, m.State)
	assert.Equal(t, id, m.Activity, "the entry names the Follow, for the Accept to find")
	assert.Equal(t, []ap.IRI{bob}, vocab.Audience(follow), "a Follow goes to whom it follows")

	// Bob's server accepts (the inbox does this); a repeated Follow does
	// not make it pending again.
	require.NoError(t, e.mem.Collections.Add(e.ctx, following, storage.Member{IRI: bob, Activity: id}))
	e.send(vocab.NewActivity("Follow", "", ap.IRI(alice), ap.IRI(bob)))
	m, _ = e.member(following, bob)
	assert.Equal(t, storage.Accepted, m.State)

	undo := vocab.NewActivity("Undo", "", ap.IRI(alice), ap.IRI(id))
	e.send(undo)
	_, ok = e.member(following, bob)
	assert.False(t, ok, "Undo of the Follow leaves following")
	assert.Equal(t, []ap.IRI{bob}, vocab.Audience(undo), "the Undo goes where the Follow went")
}

func TestAcceptAndRejectOfAFollow(t *testing.T) {
	tests := []struct {
		name    string
		answer  string
		embed   bool
		pending bool // the follower waits in followers, as a locked account's
		wantIn  bool
	}{
		{"Accept of a stored Follow", "Accept", false, true, true},
		{"Accept of an embedded Follow", "Accept", true, false, true},
		{"Reject of a pending Follow", "Reject", false, true, false},
		{"Reject of an accepted follower", "Reject", true, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			alice := e.user("alice")
			followers := e.scheme.Collection(alice, actor.Followers)
			followID := "https://remote.example/follows/1"
			follow := vocab.NewActivity("Follow", ap.IRI(followID), ap.IRI(bob), ap.IRI(alice))
			data, err := reg.Encode(follow)
			require.NoError(t, err)
			require.NoError(t, e.mem.Objects.Put(e.ctx, storage.Object{IRI: followID, Type: "Follow", Owner: bob, Data: data}))
			state := storage.Accepted
			if tt.pending {
				state = storage.Pending
			}
			require.NoError(t, e.mem.Collections.Add(e.ctx, followers, storage.Member{IRI: bob, State: state, Activity: followID}))

			var object vocab.Item = ap.IRI(followID)
			if tt.embed {
				object = follow
			}
			answer := vocab.NewActivity(tt.answer, "", ap.IRI(alice), object)
			e.send(answer)
			m, ok := e.member(followers, bob)
			assert.Equal(t, tt.wantIn, ok)
			if ok {
				assert.Equal(t, storage.Accepted, m.State)
				assert.Equal(t, followID, m.Activity)
			}
			assert.Equal(t, []ap.IRI{bob}, vocab.Audience(answer), "the answer goes to the follower")
		})
	}
}

func TestAcceptOfSomeoneElsesFollow(t *testing.T) {
	e := newEnv(t)
	alice, dave := e.user("alice"), e.user("dave")
	follow := vocab.NewActivity("Follow", "https://remote.example/follows/2", ap.IRI(bob), ap.IRI(dave))
	_, err := e.out.Send(e.ctx, vocab.NewActivity("Accept", "", ap.IRI(alice), follow))
	require.ErrorIs(t, err, outbox.ErrInvalid)
	_, ok := e.member(e.scheme.Collection(dave, actor.Followers), bob)
	assert.False(t, ok)
	_, ok = e.member(e.scheme.Collection(alice, actor.Followers), bob)
	assert.False(t, ok)
}

func TestLikeAnnounceAndTheirUndo(t *testing.T) {
	e := newEnv(t)
	alice, dave := e.user("alice"), e.user("dave")
	create := note(dave, vocab.PublicIRI)
	e.send(create)
	ours := string(vocab.IRIOf(create.Object))
	remote := "https://remote.example/notes/1"
	liked := e.scheme.Collection(alice, actor.Liked)
	likes := e.scheme.Collection(ours, actor.Likes)
	shares := e.scheme.Collection(ours, actor.Shares)

	likeOurs := e.send(vocab.NewActivity("Like", "", ap.IRI(alice), ap.IRI(ours)))
	likeRemote := e.send(vocab.NewActivity("Like", "", ap.IRI(alice), ap.IRI(remote)))
	announce := e.send(vocab.NewActivity("Announce", "", ap.IRI(alice), ap.IRI(ours)))
	assert.ElementsMatch(t, []string{ours, remote}, e.members(liked, storage.Accepted))
	m, ok := e.member(likes, alice)
	require.True(t, ok, "our note's likes")
	assert.Equal(t, likeOurs, m.Activity)
	m, ok = e.member(shares, alice)
	require.True(t, ok, "our note's shares")
	assert.Equal(t, announce, m.Activity)
	assert.Empty(t, e.members(e.scheme.Collection(remote, actor.Likes), storage.Accepted), "nothing is kept for a remote object")

	e.send(vocab.NewActivity("Undo", "", ap.IRI(alice), ap.IRI(likeRemote)))
	assert.Equal(t, []string{ours}, e.members(liked, storage.Accepted))
	e.send(vocab.NewActivity("Undo", "", ap.IRI(alice), ap.IRI(likeOurs)))
	assert.Empty(t, e.members(liked, storage.Accepted))
	assert.Empty(t, e.members(likes, storage.Accepted))
	e.send(vocab.NewActivity("Undo", "", ap.IRI(alice), ap.IRI(announce)))
	assert.Empty(t, e.members(shares, storage.Accepted))
}

func TestUndoOfAnEarlierLikeKeepsTheLaterOne(t *testing.T) {
	e := newEnv(t)
	alice, dave := e.user("alice"), e.user("dave")
	create := note(dave, vocab.PublicIRI)
	e.send(create)
	ours := string(vocab.IRIOf(create.Object))
	first := e.send(vocab.NewActivity("Like", "", ap.IRI(alice), ap.IRI(ours)))
	second := e.send(vocab.NewActivity("Like", "", ap.IRI(alice), ap.IRI(ours)))
	e.send(vocab.NewActivity("Undo", "", ap.IRI(alice), ap.IRI(first)))
	m, ok := e.member(e.scheme.Collection(ours, actor.Likes), alice)
	require.True(t, ok, "the later Like stands")
	assert.Equal(t, second, m.Activity)
}

func TestBlockAndItsUndo(t *testing.T) {
	e := newEnv(t)
	alice := e.user("alice")
	e.follower(alice, bob)
	e.follower(alice, carol)
	blocked := e.scheme.Collection(alice, actor.Blocked)

	block := vocab.NewActivity("Block", "", ap.IRI(alice), ap.IRI(bob))
	id := e.send(block)
	assert.Equal(t, []string{bob}, e.members(blocked, storage.Accepted))
	assert.Equal(t, []string{carol}, e.members(string(e.followers(alice)), storage.Accepted), "the blocked actor no longer follows")
	assert.Equal(t, []ap.IRI{bob}, vocab.Audience(block))

	e.send(vocab.NewActivity("Undo", "", ap.IRI(alice), ap.IRI(id)))
	assert.Empty(t, e.members(blocked, storage.Accepted))
}

func TestUndoOfSomeoneElsesActivity(t *testing.T) {
	e := newEnv(t)
	alice, dave := e.user("alice"), e.user("dave")
	id := e.send(vocab.NewActivity("Follow", "", ap.IRI(dave), ap.IRI(bob)))
	_, err := e.out.Send(e.ctx, vocab.NewActivity("Undo", "", ap.IRI(alice), ap.IRI(id)))
	require.ErrorIs(t, err, outbox.ErrInvalid)
	_, ok := e.member(e.scheme.Collection(dave, actor.Following), bob)
	assert.True(t, ok, "dave still follows bob")
}
