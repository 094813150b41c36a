package mobilizon_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fedi-go/fedi/behaviour/mobilizon"
	"github.com/fedi-go/fedi/internal/mobilizontest"
	"github.com/fedi-go/fedi/storage"
	vmz "github.com/fedi-go/fedi/vocab/mobilizon"
)

// pending makes who ask to join ev, restricted, with a message, and
// returns the Join's id.
func (w *world) pending(t *testing.T, who, ev string) string {
	t.Helper()
	id := who + "/join/" + ev[len(ev)-8:]
	status, msg := w.Post(t, who, w.Inbox(w.alice.IRI), join(t, id, who, ev, "may I?"))
	mobilizontest.Status(t, http.StatusAccepted, status, msg)
	m, ok := w.Member(t, w.participants(ev), who)
	require.True(t, ok)
	require.Equal(t, storage.Pending, m.State)
	return id
}

// TestDecide: the organizer accepts or rejects a pending Join; the Accept
// or Reject goes to the participant, embedding the Join; the counts
// follow.
func TestDecide(t *testing.T) {
	ctx := context.Background()
	for _, accept := range []bool{true, false} {
		name := map[bool]string{true: "accept", false: "reject"}[accept]
		t.Run(name, func(t *testing.T) {
			w := newWorld(t)
			ev := w.event(t, vmz.JoinRestricted, 3)
			id := w.pending(t, w.Bob, ev)
			ans, err := mobilizon.Decide(ctx, w.d, w.alice.IRI, id, accept)
			require.NoError(t, err)

			typ := map[bool]string{true: "Accept", false: "Reject"}[accept]
			got := w.Received(t, typ)
			require.Len(t, got, 1)
			assert.Equal(t, ans, got[0]["id"])
			assert.Equal(t, w.alice.IRI, got[0]["actor"])
			obj, _ := got[0]["object"].(map[string]any)
			require.NotNil(t, obj)
			assert.Equal(t, id, obj["id"])
			assert.Equal(t, "may I?", obj["participationMessage"], "the embedded Join keeps its message")

			m, member := w.Member(t, w.participants(ev), w.Bob)
			stored := w.stored(t, ev)
			if accept {
				require.True(t, member)
				assert.Equal(t, storage.Accepted, m.State)
				assert.Equal(t, 1, *stored.ParticipantCount)
				assert.Equal(t, 2, *stored.RemainingAttendeeCapacity)
			} else {
				assert.False(t, member)
				assert.Equal(t, 0, *stored.ParticipantCount)
			}
		})
	}
}

// TestDecideExcludes: rejecting an accepted participant ends its
// participation and gives the seat back.
func TestDecideExcludes(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	ev := w.event(t, vmz.JoinRestricted, 2)
	id := w.pending(t, w.Bob, ev)
	_, err := mobilizon.Decide(ctx, w.d, w.alice.IRI, id, true)
	require.NoError(t, err)
	_, err = mobilizon.Decide(ctx, w.d, w.alice.IRI, id, false)
	require.NoError(t, err)
	_, member := w.Member(t, w.participants(ev), w.Bob)
	assert.False(t, member)
	assert.Equal(t, 2, *w.stored(t, ev).RemainingAttendeeCapacity)
}

// TestDecideRefused: a decision that cannot be made fails with its
// sentinel and changes nothing.
func TestDecideRefused(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name  string
		setup func(t *testing.T, w *world, ev, join string)
		by    func(w *world) string // who decides; alice when nil
		join  func(join string) string
		want  error
	}{
		{name: "an organizer decision by someone who is not the organizer",
			by: func(w *world) string { return w.Actor(t, "carol", "Person", nil).IRI }, want: mobilizon.ErrNotOrganizer},
		{name: "a decision by the participant itself", by: func(w *world) string { return w.Bob }, want: mobilizon.ErrNotOrganizer},
		{name: "an acceptance beyond the capacity", setup: func(t *testing.T, w *world, ev, join string) {
			other := w.pending(t, w.Eve, ev)
			_, err := mobilizon.Decide(ctx, w.d, w.alice.IRI, other, true)
			require.NoError(t, err)
		}, want: mobilizon.ErrFull},
		{name: "an acceptance of an accepted participant", setup: func(t *testing.T, w *world, ev, join string) {
			_, err := mobilizon.Decide(ctx, w.d, w.alice.IRI, join, true)
			require.NoError(t, err)
		}, want: mobilizon.ErrNotPending},
		{name: "a decision on an unknown Join", join: func(j string) string { return j + "x" }, want: mobilizon.ErrNotPending},
		{name: "a decision on a Join whose actor left", setup: func(t *testing.T, w *world, ev, join string) {
			leave := mobilizontest.Rewrite(t, mobilizontest.Payload(t, "mobilizon__mobilizon-fixtures__mobilizon-leave-activity.json"),
				map[string]any{"id": w.Bob + "/leave/1", "actor": w.Bob, "object": ev})
			status, msg := w.Post(t, w.Bob, w.Inbox(w.alice.IRI), leave)
			mobilizontest.Status(t, http.StatusAccepted, status, msg)
		}, want: mobilizon.ErrNotPending},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			ev := w.event(t, vmz.JoinRestricted, 1)
			join := w.pending(t, w.Bob, ev)
			if tc.setup != nil {
				tc.setup(t, w, ev, join)
			}
			by := w.alice.IRI
			if tc.by != nil {
				by = tc.by(w)
			}
			if tc.join != nil {
				join = tc.join(join)
			}
			sent := len(w.Received(t, ""))
			before := w.Count.State()
			m, _ := w.Member(t, w.participants(ev), w.Bob)

			_, err := mobilizon.Decide(ctx, w.d, by, join, true)
			require.Error(t, err)
			assert.True(t, errors.Is(err, tc.want), "%v", err)
			assert.Equal(t, before, w.Count.State(), "storage is unchanged")
			after, _ := w.Member(t, w.participants(ev), w.Bob)
			assert.Equal(t, m, after)
			assert.Len(t, w.Received(t, ""), sent, "nothing is sent")
		})
	}
}
