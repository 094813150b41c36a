package lemmy_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRefusals: what our community refuses, each with its status and
// reason, storage unchanged afterwards. Lemmy's checks (moderators,
// creators, locks, one community, one recipient) and the inbox's own
// (an Undo of another's activity, a Delete of what the actor does not
// own) alike.
func TestRefusals(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	post, comment := w.seedPost(t), w.seedComment(t)
	other, err := w.act.CreateCommunity(ctx, w.dave.IRI, "other", "Other", "")
	require.NoError(t, err)
	like := payload(t, w.ours, "lemmy-assets__activities_voting_like_note.json", nil)
	w.accept(t, w.alpha, like)
	likeID := w.rem.URL + "/activities/like/fd61d070-7382-46a9-b2b7-6bb253732877"

	cases := []struct {
		name   string
		as     string
		body   []byte
		status int
		reason string
	}{
		{"a Remove by a non-moderator", w.beta,
			payload(t, w.ours, "lemmy-assets__activities_deletion_remove_note.json", map[string]any{"type": "Remove"}),
			http.StatusForbidden, "only a moderator"},
		{"a Lock by a non-moderator", w.alpha,
			payload(t, w.ours, "lemmy-assets__activities_community_lock_page.json", map[string]any{"object": post}),
			http.StatusForbidden, "only a moderator"},
		{"a Lock of a comment by a non-moderator", w.alpha,
			payload(t, w.ours, "lemmy-assets__activities_community_lock_note.json", map[string]any{"actor": w.alpha, "object": comment}),
			http.StatusForbidden, "only a moderator"},
		{"an Undo of a Remove by a non-moderator", w.beta,
			payload(t, w.ours, "lemmy-assets__activities_deletion_undo_remove_note.json", map[string]any{"object.type": "Remove"}),
			http.StatusForbidden, "only a moderator"},
		{"a Delete of a post by someone other than its creator", w.beta,
			payload(t, w.ours, "lemmy-assets__activities_deletion_delete_page.json", map[string]any{"actor": w.beta}),
			http.StatusForbidden, "does not own"},
		{"an Update of a post by someone other than its creator", w.beta,
			payload(t, w.ours, "lemmy-assets__activities_create_or_update_update_page.json", map[string]any{"actor": w.beta}),
			http.StatusForbidden, "does not own"},
		{"an Undo of someone else's vote, embedded", w.beta,
			payload(t, w.ours, "lemmy-assets__activities_voting_undo_like_note.json", map[string]any{"actor": w.beta}),
			http.StatusForbidden, "own activities"},
		{"an Undo of someone else's vote, by IRI", w.beta,
			fmt.Appendf(nil, `{"id":%q,"type":"Undo","actor":%q,"object":%q,"audience":%q}`, w.rem.URL+"/activities/undo/b1", w.beta, likeID, w.main),
			http.StatusForbidden, "own activities"},
		{"a replayed vote", w.alpha, like, http.StatusAccepted, "accepted"},
		{"a private message to two people", w.eve,
			payload(t, w.ours, "lemmy-assets__activities_create_or_update_create_private_message_0.19.json", map[string]any{
				"to": []string{w.carol.IRI, w.dave.IRI}, "object.to": []string{w.carol.IRI, w.dave.IRI}}),
			http.StatusUnprocessableEntity, "exactly one actor"},
		{"a private message to one of ours and one of another server", w.eve,
			payload(t, w.ours, "lemmy-assets__activities_create_or_update_create_private_message_0.19.json", map[string]any{
				"object.cc": []string{w.beta}}),
			http.StatusUnprocessableEntity, "exactly one actor"},
		{"a post addressed to two communities", w.alpha,
			payload(t, w.ours, "lemmy-assets__activities_create_or_update_create_page.json", map[string]any{
				"id": w.rem.URL + "/activities/create/p2", "object.id": w.rem.URL + "/post/2", "cc": []string{w.main, other.IRI}}),
			http.StatusUnprocessableEntity, "not in the community"},
		{"a post attributed to another user of the same server", w.alpha,
			payload(t, w.ours, "lemmy-assets__activities_create_or_update_create_page.json", map[string]any{
				"id": w.rem.URL + "/activities/create/p3", "object.id": w.rem.URL + "/post/3", "object.attributedTo": w.eve}),
			http.StatusForbidden, "attributed to someone else"},
		{"a comment on an unknown post", w.alpha,
			payload(t, w.ours, "lemmy-assets__activities_create_or_update_create_comment.json", map[string]any{
				"id": w.rem.URL + "/activities/create/c2", "object.id": w.rem.URL + "/comment/2", "object.inReplyTo": w.rem.URL + "/post/404"}),
			http.StatusUnprocessableEntity, "not in the community"},
		{"a comment in another community than its post's", w.alpha,
			payload(t, w.ours, "lemmy-assets__activities_create_or_update_create_comment.json", map[string]any{
				"id": w.rem.URL + "/activities/create/c3", "object.id": w.rem.URL + "/comment/3",
				"cc": []string{other.IRI}, "object.cc": []string{other.IRI}, "object.audience": other.IRI, "audience": other.IRI}),
			http.StatusUnprocessableEntity, "not in the community"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := w.count.State()
			status, msg := w.post(t, tc.as, tc.body)
			assert.Equal(t, tc.status, status, msg)
			assert.Contains(t, msg, tc.reason)
			assert.Equal(t, before, w.count.State(), "storage unchanged")
		})
	}
	assert.False(t, w.hidden(t, post))
	assert.False(t, w.hidden(t, comment))
	assert.Equal(t, [2]int{1, 0}, w.votes(t, comment))

	t.Run("a private message delivered to another user", func(t *testing.T) {
		before := w.count.State()
		body := payload(t, w.ours, "lemmy-assets__activities_create_or_update_create_private_message_0.19.json", nil)
		status, msg := w.postTo(t, w.eve, w.dave.IRI+"/inbox", body)
		assert.Equal(t, http.StatusForbidden, status, msg)
		assert.Contains(t, msg, "exactly one actor")
		assert.Equal(t, before, w.count.State(), "storage unchanged")
	})
}
