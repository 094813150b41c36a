package lemmy_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestVotes: Like and Dislike of the items of our community, from the
// corpus: one vote per actor, a second replaces the first, Undo reverts
// (even of a vote Lemmy regenerated with a new id), and every vote is
// announced.
func TestVotes(t *testing.T) {
	w := newWorld(t)
	post, comment := w.seedPost(t), w.seedComment(t)
	likeNote := "lemmy__lemmy-assets__activities_voting_like_note.json"[len("lemmy__"):]
	first := w.rem.URL + "/activities/like/fd61d070-7382-46a9-b2b7-6bb253732877"

	steps := []struct {
		name      string
		as, file  string
		edits     map[string]any
		item      string
		want      [2]int
		announced bool
	}{
		{"Like Note", w.alpha, likeNote, nil, comment, [2]int{1, 0}, true},
		{"a second Like replaces the first", w.alpha, likeNote, map[string]any{"id": w.rem.URL + "/activities/like/2"}, comment, [2]int{1, 0}, true},
		{"Undo of the replaced Like changes nothing", w.alpha, "lemmy-assets__activities_voting_undo_like_note.json",
			map[string]any{"object.id": first, "id": w.rem.URL + "/activities/undo/1"}, comment, [2]int{1, 0}, true},
		{"Undo of a regenerated Like reverts the vote", w.alpha, "lemmy-assets__activities_voting_undo_like_note.json", nil, comment, [2]int{0, 0}, true},
		{"Dislike Note", w.alpha, "lemmy-assets__activities_voting_dislike_page.json",
			map[string]any{"actor": w.alpha, "object": comment, "id": w.rem.URL + "/activities/dislike/1"}, comment, [2]int{0, 1}, true},
		{"a Like replaces the Dislike", w.alpha, likeNote, map[string]any{"id": w.rem.URL + "/activities/like/3"}, comment, [2]int{1, 0}, true},
		{"Dislike Page", w.beta, "lemmy-assets__activities_voting_dislike_page.json", nil, post, [2]int{0, 1}, true},
		{"Undo Dislike", w.beta, "lemmy-assets__activities_voting_undo_dislike_page.json", map[string]any{"object.type": "Dislike"}, post, [2]int{0, 0}, true},
	}
	for _, s := range steps {
		before := len(w.announced(t))
		w.accept(t, s.as, payload(t, w.ours, s.file, s.edits))
		assert.Equal(t, s.want, w.votes(t, s.item), s.name)
		if s.announced {
			assert.Equal(t, before+1, len(w.announced(t)), "%s: announced", s.name)
		}
	}
}
