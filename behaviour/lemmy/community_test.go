package lemmy_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/behaviour/lemmy"
	"github.com/fedi-go/fedi/internal/fedtest"
	"github.com/fedi-go/fedi/storage"
)

// TestCommunityFollow: a community is a Group that answers a Follow with
// an Accept and forgets the follower on its Undo.
func TestCommunityFollow(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	followers := w.srv.Scheme.Collection(w.main, actor.Followers)

	w.accept(t, w.alpha, payload(t, w.ours, "lemmy-assets__activities_following_follow.json", nil))
	assert.True(t, w.in(t, followers, w.alpha), "the follower")
	w.srv.Drain(t)
	got := w.rem.Received["/inbox"]
	require.Len(t, got, 1, "the Accept reached lemmy_alpha's server")
	var accept struct {
		Type, Actor string
		Object      struct{ ID string }
	}
	require.NoError(t, json.Unmarshal(got[0], &accept))
	assert.Equal(t, "Accept", accept.Type)
	assert.Equal(t, w.main, accept.Actor, "from the Group")
	assert.Contains(t, accept.Object.ID, "/activities/follow/")

	a, err := w.srv.Actors.ByIRI(ctx, w.main)
	require.NoError(t, err)
	assert.Equal(t, "Group", a.Type)

	// The Undo embeds a Follow of another id, as Lemmy regenerates it.
	w.accept(t, w.alpha, payload(t, w.ours, "lemmy-assets__activities_following_undo_follow.json", nil))
	assert.False(t, w.in(t, followers, w.alpha), "unfollowed")
}

// TestCommunityPostAndComment: a post and a comment in our community are
// stored, listed and announced with the received activity embedded.
func TestCommunityPostAndComment(t *testing.T) {
	w := newWorld(t)
	s := w.srv.Scheme
	w.accept(t, w.alpha, payload(t, w.ours, "lemmy-assets__activities_following_follow.json", nil))
	w.srv.Drain(t)

	post := w.seedPost(t)
	o, err := w.srv.Store.Objects.Get(context.Background(), post)
	require.NoError(t, err)
	assert.Equal(t, w.alpha, o.Owner)
	assert.True(t, w.in(t, s.Collection(w.main, lemmy.Posts), post))
	create := w.rem.URL + "/activities/create/eee6a57a-622f-464d-b560-73ae1fcd3ddf"
	assert.Equal(t, []string{create}, w.announced(t))

	comment := w.seedComment(t)
	assert.True(t, w.in(t, s.Collection(w.main, lemmy.Comments), comment))
	assert.Len(t, w.announced(t), 2)

	w.srv.Drain(t)
	var types []string
	for _, b := range w.rem.Received["/inbox"] {
		var doc struct {
			Type, Actor string
			Object      struct{ ID, Type string }
		}
		require.NoError(t, json.Unmarshal(b, &doc))
		types = append(types, doc.Type+" "+doc.Object.Type)
		if doc.Type == "Announce" {
			assert.Equal(t, w.main, doc.Actor)
		}
	}
	assert.Equal(t, []string{"Accept Follow", "Announce Create", "Announce Create"}, types, "the follower got both announces")
	_ = fedtest.JSON
	_ = storage.Accepted
}
