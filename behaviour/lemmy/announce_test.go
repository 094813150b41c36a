package lemmy_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/behaviour/lemmy"
	"github.com/fedi-go/fedi/storage"
)

// announce returns the remote community's Announce of inner, to its
// followers.
func (w *world) announce(id string, inner []byte) []byte {
	return fmt.Appendf(nil, `{"id":%q,"type":"Announce","actor":%q,"to":["https://www.w3.org/ns/activitystreams#Public"],"cc":[%q],"object":%s}`,
		w.ent.URL+"/activities/announce/"+id, w.ten, w.ten+"/followers", inner)
}

// remoteActivity returns an activity of another origin than the
// community's, served there so that it dereferences.
func (w *world) remoteActivity(t *testing.T, body []byte, id string) []byte {
	t.Helper()
	w.rem.Put(t, id, body)
	return body
}

// TestAnnounced: what the remote community announces to carol, its
// follower, takes effect here as if received: its post, votes on it
// (fetched from the voters' origin), its deletion and restoration, a
// moderator's removal and lock; and what fails the checks a received
// activity would fail is refused, storage unchanged.
func TestAnnounced(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	post := w.ent.URL + "/post/7"
	// Dave follows the community too: each Announce has two recipients,
	// and its effects are had once.
	require.NoError(t, w.srv.Store.Collections.Add(ctx, w.srv.Scheme.Collection(w.dave.IRI, actor.Following), storage.Member{IRI: w.ten}))

	// The corpus's Announce{Create{Page}}: the Create is on the
	// community's origin, embedded as is.
	w.accept(t, w.ten, payload(t, w.theirs, "lemmy-assets__activities_community_announce_create_page.json", nil))
	o, err := w.srv.Store.Objects.Get(ctx, post)
	require.NoError(t, err)
	assert.Equal(t, w.riker, o.Owner)
	announceID := w.ent.URL + "/activities/announce/8030b171-803a-4108-94b1-342688f375cf"
	assert.True(t, w.in(t, w.srv.Scheme.Collection(w.carol.IRI, actor.Inbox), announceID), "in carol's inbox")
	assert.True(t, w.in(t, w.srv.Scheme.Collection(w.dave.IRI, actor.Inbox), announceID), "in dave's inbox")

	like := w.remoteActivity(t, payload(t, w.theirs, "lemmy-assets__activities_voting_like_note.json", map[string]any{"object": post}),
		w.rem.URL+"/activities/like/fd61d070-7382-46a9-b2b7-6bb253732877")
	w.accept(t, w.ten, w.announce("like", like))
	assert.Equal(t, [2]int{1, 0}, w.votes(t, post))
	// The same vote announced again changes nothing.
	w.accept(t, w.ten, w.announce("like-again", like))
	assert.Equal(t, [2]int{1, 0}, w.votes(t, post))

	undo := w.remoteActivity(t, payload(t, w.theirs, "lemmy-assets__activities_voting_undo_like_note.json", map[string]any{"object.object": post}),
		w.rem.URL+"/activities/undo/3518565c-24a7-4d9e-8e0a-f7a2f45ac618")
	w.accept(t, w.ten, w.announce("undo-like", undo))
	assert.Equal(t, [2]int{0, 0}, w.votes(t, post))
	// The Like announced again, late: it was applied once, and stays
	// undone.
	w.accept(t, w.ten, w.announce("like-late", like))
	assert.Equal(t, [2]int{0, 0}, w.votes(t, post))

	// What is applied is the activity as its origin serves it, not the
	// announced copy: this one claims a Dislike by eve, her server says
	// it is a Like.
	served := fmt.Appendf(nil, `{"id":%q,"type":"Like","actor":%q,"object":%q}`, w.rem.URL+"/activities/vote/eve", w.eve, post)
	w.rem.Put(t, w.rem.URL+"/activities/vote/eve", served)
	w.accept(t, w.ten, w.announce("copy", fmt.Appendf(nil, `{"id":%q,"type":"Dislike","actor":%q,"object":%q}`, w.rem.URL+"/activities/vote/eve", w.eve, post)))
	assert.Equal(t, [2]int{1, 0}, w.votes(t, post), "eve's server says Like")
	w.accept(t, w.ten, w.announce("undo-copy", w.remoteActivity(t, fmt.Appendf(nil, `{"id":%q,"type":"Undo","actor":%q,"object":%s}`,
		w.rem.URL+"/activities/undo/eve", w.eve, served), w.rem.URL+"/activities/undo/eve")))
	assert.Equal(t, [2]int{0, 0}, w.votes(t, post))

	del := fmt.Appendf(nil, `{"id":%q,"type":"Delete","actor":%q,"object":%q,"to":["https://www.w3.org/ns/activitystreams#Public"],"cc":[%q],"audience":%q}`,
		w.ent.URL+"/activities/delete/1", w.riker, post, w.ten, w.ten)
	w.accept(t, w.ten, w.announce("delete", del))
	assert.True(t, w.hidden(t, post), "deleted by its creator")
	o, err = w.srv.Store.Objects.Get(ctx, post)
	require.NoError(t, err)
	assert.True(t, o.Deleted.IsZero(), "not tombstoned")
	w.accept(t, w.ten, w.announce("undo-delete", fmt.Appendf(nil, `{"id":%q,"type":"Undo","actor":%q,"object":%s}`, w.ent.URL+"/activities/undo/1", w.riker, del)))
	assert.False(t, w.hidden(t, post), "restored")

	// Lemmy's newer removal: a moderator's Delete, inside the Announce.
	modDelete := fmt.Appendf(nil, `{"id":%q,"type":"Delete","actor":%q,"object":%q,"summary":"off topic","to":["https://www.w3.org/ns/activitystreams#Public"],"cc":[%q]}`,
		w.ent.URL+"/activities/delete/2", w.picard, post, w.ten)
	w.accept(t, w.ten, w.announce("mod-delete", modDelete))
	assert.True(t, w.hidden(t, post), "removed by picard, a moderator")
	assert.True(t, w.in(t, lemmy.RemovedIRI(w.srv.Scheme), post))
	w.accept(t, w.ten, w.announce("undo-mod-delete", fmt.Appendf(nil, `{"id":%q,"type":"Undo","actor":%q,"object":%s}`, w.ent.URL+"/activities/undo/2", w.picard, modDelete)))
	assert.False(t, w.hidden(t, post))

	lock := fmt.Appendf(nil, `{"id":%q,"type":"Lock","actor":%q,"object":%q,"to":["https://www.w3.org/ns/activitystreams#Public"],"cc":[%q]}`,
		w.ent.URL+"/activities/lock/1", w.picard, post, w.ten)
	w.accept(t, w.ten, w.announce("lock", lock))
	locked, err := lemmy.Locked(ctx, w.srv.Store, w.srv.Scheme, post)
	require.NoError(t, err)
	assert.True(t, locked)

	refused := []struct {
		name   string
		body   []byte
		status int
		reason string
	}{
		{"a Remove by a non-moderator", w.announce("remove-by-riker", fmt.Appendf(nil,
			`{"id":%q,"type":"Remove","actor":%q,"object":%q,"cc":[%q]}`, w.ent.URL+"/activities/remove/1", w.riker, post, w.ten)),
			http.StatusForbidden, "moderator"},
		{"a Lock by a non-moderator", w.announce("lock-by-riker", fmt.Appendf(nil,
			`{"id":%q,"type":"Lock","actor":%q,"object":%q,"cc":[%q]}`, w.ent.URL+"/activities/lock/2", w.riker, post, w.ten)),
			http.StatusForbidden, "moderator"},
		{"a Delete by neither the creator nor a moderator", w.announce("delete-by-eve", w.remoteActivity(t, fmt.Appendf(nil,
			`{"id":%q,"type":"Delete","actor":%q,"object":%q,"cc":[%q]}`, w.rem.URL+"/activities/delete/eve", w.eve, post, w.ten), w.rem.URL+"/activities/delete/eve")),
			http.StatusForbidden, "creator"},
		{"a comment below the locked post", w.announce("comment", fmt.Appendf(nil,
			`{"id":%q,"type":"Create","actor":%q,"object":{"id":%q,"type":"Note","attributedTo":%q,"inReplyTo":%q,"content":"hi","to":["https://www.w3.org/ns/activitystreams#Public"],"cc":[%q],"audience":%q}}`,
			w.ent.URL+"/activities/create/c1", w.riker, w.ent.URL+"/comment/1", w.riker, post, w.ten, w.ten)),
			http.StatusForbidden, "locked"},
		{"a post attributed to someone else", w.announce("impersonation", fmt.Appendf(nil,
			`{"id":%q,"type":"Create","actor":%q,"object":{"id":%q,"type":"Page","name":"x","attributedTo":%q,"to":[%q,"https://www.w3.org/ns/activitystreams#Public"]}}`,
			w.ent.URL+"/activities/create/p2", w.riker, w.ent.URL+"/post/8", w.picard, w.ten)),
			http.StatusForbidden, "attributed"},
		{"an Undo of someone else's vote", w.announce("undo-other", fmt.Appendf(nil,
			`{"id":%q,"type":"Undo","actor":%q,"object":{"id":%q,"type":"Like","actor":%q,"object":%q}}`,
			w.ent.URL+"/activities/undo/3", w.riker, w.ent.URL+"/activities/like/9", w.picard, post)),
			http.StatusForbidden, "own activity"},
		{"an embedded activity of another origin that does not dereference", w.announce("forged", fmt.Appendf(nil,
			`{"id":%q,"type":"Like","actor":%q,"object":%q}`, w.rem.URL+"/activities/like/forged", w.alpha, post)),
			http.StatusForbidden, "could not be fetched"},
		{"an embedded activity claiming an actor of another origin", w.announce("claims", fmt.Appendf(nil,
			`{"id":%q,"type":"Delete","actor":%q,"object":%q}`, w.ent.URL+"/activities/delete/claims", w.alpha, post)),
			http.StatusForbidden, "origin"},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			before := w.count.State()
			status, msg := w.post(t, w.ten, tc.body)
			assert.Equal(t, tc.status, status, msg)
			assert.Contains(t, msg, tc.reason)
			assert.Equal(t, before, w.count.State(), "storage unchanged")
		})
	}
	assert.False(t, w.hidden(t, post))
	assert.Equal(t, [2]int{0, 0}, w.votes(t, post))
}

// TestAnnouncedOfAnotherCommunity: a community's Announce of an activity
// about another community's item is not Lemmy's to apply: it is kept in
// the recipient's inbox, without effect.
func TestAnnouncedOfAnotherCommunity(t *testing.T) {
	w := newWorld(t)
	post := w.seedPost(t) // in our community, main
	del := w.remoteActivity(t, payload(t, w.ours, "lemmy-assets__activities_deletion_delete_page.json", nil),
		w.rem.URL+"/activities/delete/f2abee48-c7bb-41d5-9e27-8775ff32db12")
	w.accept(t, w.ten, w.announce("other", del))
	assert.False(t, w.hidden(t, post))
	assert.True(t, w.in(t, w.srv.Scheme.Collection(w.carol.IRI, actor.Inbox), w.ent.URL+"/activities/announce/other"))
}
