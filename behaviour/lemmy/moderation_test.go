package lemmy_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/behaviour/lemmy"
)

// TestDeleteAndRestore: the creator's Delete hides the post, stored and
// never tombstoned, and its Undo (embedding a regenerated Delete)
// restores it; both are announced.
func TestDeleteAndRestore(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	post := w.seedPost(t)

	w.accept(t, w.alpha, payload(t, w.ours, "lemmy-assets__activities_deletion_delete_page.json", nil))
	assert.True(t, w.hidden(t, post))
	o, err := w.srv.Store.Objects.Get(ctx, post)
	require.NoError(t, err)
	assert.True(t, o.Deleted.IsZero(), "hidden, not tombstoned")
	assert.Equal(t, "Page", o.Type)

	w.accept(t, w.alpha, payload(t, w.ours, "lemmy-assets__activities_deletion_undo_delete_page.json", nil))
	assert.False(t, w.hidden(t, post), "restored")
	assert.Len(t, w.announced(t), 3, "the Create, the Delete and its Undo")
}

// TestRemoveAndRestore: a moderator (made one by alice, the community's
// creator) removes a comment and restores it; Lemmy's newer removal, a
// moderator's Delete, is refused by the inbox's owner check when sent
// directly (it passes only inside a community's Announce).
func TestRemoveAndRestore(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.seedPost(t)
	comment := w.seedComment(t)
	_, err := w.act.AddModerator(ctx, w.alice.IRI, w.main, w.beta)
	require.NoError(t, err)

	status, msg := w.post(t, w.beta, payload(t, w.ours, "lemmy-assets__activities_deletion_remove_note.json", nil))
	assert.Equal(t, http.StatusForbidden, status, msg)
	assert.False(t, w.hidden(t, comment))

	w.accept(t, w.beta, payload(t, w.ours, "lemmy-assets__activities_deletion_remove_note.json", map[string]any{"type": "Remove"}))
	assert.True(t, w.hidden(t, comment))
	w.accept(t, w.beta, payload(t, w.ours, "lemmy-assets__activities_deletion_undo_remove_note.json", map[string]any{"object.type": "Remove"}))
	assert.False(t, w.hidden(t, comment))
}

// TestLock: a moderator locks a post: a comment below it is refused,
// but a moderator's; the Undo unlocks it.
func TestLock(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	post := w.seedPost(t)
	w.seedComment(t)
	_, err := w.act.AddModerator(ctx, w.alice.IRI, w.main, w.beta)
	require.NoError(t, err)

	lock := map[string]any{"actor": w.beta, "object": post}
	w.accept(t, w.beta, payload(t, w.ours, "lemmy-assets__activities_community_lock_page.json", lock))
	locked, err := lemmy.Locked(ctx, w.srv.Store, w.srv.Scheme, post)
	require.NoError(t, err)
	assert.True(t, locked)

	reply := func(as, n string) []byte {
		return payload(t, w.ours, "lemmy-assets__activities_create_or_update_create_comment.json", map[string]any{
			"id": w.rem.URL + "/activities/create/" + n, "actor": as, "object.id": w.rem.URL + "/comment/" + n,
			"object.attributedTo": as, "object.inReplyTo": w.rem.URL + "/comment/1"})
	}
	before := w.count.State()
	status, msg := w.post(t, w.alpha, reply(w.alpha, "2"))
	assert.Equal(t, http.StatusForbidden, status, msg)
	assert.Contains(t, msg, "locked")
	assert.Equal(t, before, w.count.State(), "storage unchanged")
	w.accept(t, w.beta, reply(w.beta, "3"))

	w.accept(t, w.beta, payload(t, w.ours, "lemmy-assets__activities_community_undo_lock_page.json", map[string]any{
		"id": w.rem.URL + "/activities/undo/1", "actor": w.beta, "object.actor": w.beta, "object.object": post}))
	locked, err = lemmy.Locked(ctx, w.srv.Store, w.srv.Scheme, post)
	require.NoError(t, err)
	assert.False(t, locked)
	w.accept(t, w.alpha, reply(w.alpha, "4"))
}

// TestModerators: the moderators collection changes by Add and Remove of
// its moderators, never down to none.
func TestModerators(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	mods := w.srv.Scheme.Collection(w.main, lemmy.Moderators)
	addAlpha := payload(t, w.ours, "lemmy-assets__activities_community_add_mod.json", nil)

	before := w.count.State()
	status, msg := w.post(t, w.beta, addAlpha)
	assert.Equal(t, http.StatusForbidden, status, msg)
	assert.Equal(t, before, w.count.State())

	_, err := w.act.AddModerator(ctx, w.alice.IRI, w.main, w.beta)
	require.NoError(t, err)
	w.accept(t, w.beta, addAlpha)
	assert.True(t, w.in(t, mods, w.alpha))
	ok, err := lemmy.IsModerator(ctx, w.srv.Store, w.srv.Scheme, w.main, w.alpha)
	require.NoError(t, err)
	assert.True(t, ok)

	w.accept(t, w.beta, payload(t, w.ours, "lemmy-assets__activities_community_remove_mod.json", nil))
	assert.False(t, w.in(t, mods, w.alpha))

	_, err = w.act.RemoveModerator(ctx, w.alice.IRI, w.main, w.beta)
	require.NoError(t, err)
	_, err = w.act.RemoveModerator(ctx, w.alice.IRI, w.main, w.alice.IRI)
	require.ErrorIs(t, err, lemmy.ErrLastModerator)
	assert.True(t, w.in(t, mods, w.alice.IRI))
}

// TestPrivateMessages: a ChatMessage reaches its one recipient; the
// sender deletes (hides) and restores it; a historical Lemmy private
// message (a Note to one actor) is one too.
func TestPrivateMessages(t *testing.T) {
	w := newWorld(t)
	s := w.srv.Scheme
	msgs := s.Collection(w.carol.IRI, lemmy.Messages)
	w.accept(t, w.eve, payload(t, w.ours, "lemmy-assets__activities_create_or_update_create_private_message_0.19.json", nil))
	msg := w.rem.URL + "/private_message/29"
	assert.True(t, w.in(t, msgs, msg))
	assert.True(t, w.in(t, s.Collection(w.carol.IRI, actor.Inbox), w.rem.URL+"/activities/create/dac79033-6c94-4136-892a-802cb6d86622"))

	del := []byte(`{"id":"` + w.rem.URL + `/activities/delete/pm","type":"Delete","actor":"` + w.eve + `","object":"` + msg + `","to":["` + w.carol.IRI + `"]}`)
	w.accept(t, w.eve, del)
	assert.True(t, w.hidden(t, msg))
	undo := []byte(`{"id":"` + w.rem.URL + `/activities/undo/pm","type":"Undo","actor":"` + w.eve + `","to":["` + w.carol.IRI + `"],"object":` + string(del) + `}`)
	w.accept(t, w.eve, undo)
	assert.False(t, w.hidden(t, msg))

	w.accept(t, w.eve, payload(t, w.ours, "lemmy-assets__activities_create_or_update_create_private_message_0.19.json", map[string]any{
		"id": w.rem.URL + "/activities/create/2", "object.type": "Note", "object.id": w.rem.URL + "/private_message/30"}))
	assert.True(t, w.in(t, msgs, w.rem.URL+"/private_message/30"))
}
