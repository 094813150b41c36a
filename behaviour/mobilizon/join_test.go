package mobilizon_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fedi-go/fedi/behaviour/mobilizon"
	"github.com/fedi-go/fedi/internal/fedtest"
	"github.com/fedi-go/fedi/internal/mobilizontest"
	"github.com/fedi-go/fedi/storage"
	vmz "github.com/fedi-go/fedi/vocab/mobilizon"
)

// TestJoin: a Join of one of our events, by joinMode.
func TestJoin(t *testing.T) {
	cases := []struct {
		name    string
		mode    vmz.JoinMode
		max     int
		invite  bool   // alice invites bob first
		message string // participationMessage
		state   storage.State
		accept  bool // an Accept goes to bob
		count   int  // participantCount after
		left    *int // remainingAttendeeCapacity after
	}{
		{name: "free: a participant at once, and an Accept", mode: vmz.JoinFree, max: 2, state: storage.Accepted, accept: true, count: 1, left: intp(1)},
		{name: "free without capacity", mode: vmz.JoinFree, state: storage.Accepted, accept: true, count: 1},
		{name: "no joinMode is free", mode: "", state: storage.Accepted, accept: true, count: 1},
		{name: "restricted: pending, with the participation message", mode: vmz.JoinRestricted, max: 5, message: "I want to join !", state: storage.Pending, count: 0, left: intp(5)},
		{name: "invite, invited: a participant", mode: vmz.JoinInvite, invite: true, state: storage.Accepted, accept: true, count: 1},
		{name: "restricted, invited: a participant at once", mode: vmz.JoinRestricted, invite: true, message: "hi", state: storage.Accepted, accept: true, count: 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			ev := w.event(t, tc.mode, tc.max)
			if tc.invite {
				_, err := mobilizon.Invite(context.Background(), w.d, w.alice.IRI, ev, w.Bob)
				require.NoError(t, err)
			}
			id := w.Bob + "/join/event/1"
			status, msg := w.Post(t, w.Bob, w.Inbox(w.alice.IRI), join(t, id, w.Bob, ev, tc.message))
			mobilizontest.Status(t, http.StatusAccepted, status, msg)

			m, ok := w.Member(t, w.participants(ev), w.Bob)
			require.True(t, ok, "bob is in the participants")
			assert.Equal(t, tc.state, m.State)
			assert.Equal(t, id, m.Activity, "the Join is the member's activity")
			ps, _, err := mobilizon.Participations(context.Background(), w.d, ev, storage.PageOptions{State: tc.state})
			require.NoError(t, err)
			require.Len(t, ps, 1)
			assert.Equal(t, tc.message, ps[0].Message, "the participation message reads back")

			stored := w.stored(t, ev)
			assert.Equal(t, tc.count, *stored.ParticipantCount)
			assert.Equal(t, tc.left, stored.RemainingAttendeeCapacity)

			accepts := w.Received(t, "Accept")
			if !tc.accept {
				assert.Empty(t, accepts)
				return
			}
			require.Len(t, accepts, 1)
			assert.Equal(t, w.alice.IRI, accepts[0]["actor"], "the organizer accepts")
			obj, _ := accepts[0]["object"].(map[string]any)
			require.NotNil(t, obj, "the Join is embedded")
			assert.Equal(t, id, obj["id"])
		})
	}
}

// TestJoinAgain: a participant's second Join is answered again and counts
// once; a waiting participant's second Join replaces its first.
func TestJoinAgain(t *testing.T) {
	w := newWorld(t)
	free := w.event(t, vmz.JoinFree, 3)
	for i, id := range []string{w.Bob + "/join/1", w.Bob + "/join/2"} {
		status, msg := w.Post(t, w.Bob, w.Inbox(w.alice.IRI), join(t, id, w.Bob, free, ""))
		mobilizontest.Status(t, http.StatusAccepted, status, msg)
		assert.Len(t, w.Received(t, "Accept"), i+1)
	}
	assert.Equal(t, 1, *w.stored(t, free).ParticipantCount)

	restricted := w.event(t, vmz.JoinRestricted, 0)
	for i, id := range []string{w.Bob + "/join/3", w.Bob + "/join/4"} {
		status, msg := w.Post(t, w.Bob, w.Inbox(w.alice.IRI), join(t, id, w.Bob, restricted, "try "+string(rune('1'+i))))
		mobilizontest.Status(t, http.StatusAccepted, status, msg)
	}
	ps, _, err := mobilizon.Participations(context.Background(), w.d, restricted, storage.PageOptions{State: storage.Pending})
	require.NoError(t, err)
	require.Len(t, ps, 1)
	assert.Equal(t, w.Bob+"/join/4", ps[0].Join)
	assert.Equal(t, "try 2", ps[0].Message)
}

// TestJoinRefused: each Join the event cannot take is refused with its
// status and reason, and storage is unchanged.
func TestJoinRefused(t *testing.T) {
	cases := []struct {
		name   string
		mode   vmz.JoinMode
		max    int
		more   func(vmz.Event)
		before func(t *testing.T, w *world, ev string) // fills the event
		noID   bool
		status int
		reason string
	}{
		{name: "a Join of a full event", mode: vmz.JoinFree, max: 1, before: func(t *testing.T, w *world, ev string) {
			status, msg := w.Post(t, w.Eve, w.Inbox(w.alice.IRI), join(t, w.Eve+"/join/1", w.Eve, ev, ""))
			mobilizontest.Status(t, http.StatusAccepted, status, msg)
		}, status: http.StatusConflict, reason: "full"},
		{name: "a Join of a full restricted event", mode: vmz.JoinRestricted, max: 1, before: func(t *testing.T, w *world, ev string) {
			id := w.Eve + "/join/1"
			status, msg := w.Post(t, w.Eve, w.Inbox(w.alice.IRI), join(t, id, w.Eve, ev, "me first"))
			mobilizontest.Status(t, http.StatusAccepted, status, msg)
			_, err := mobilizon.Decide(context.Background(), w.d, w.alice.IRI, id, true)
			require.NoError(t, err)
		}, status: http.StatusConflict, reason: "full"},
		{name: "a Join of an invite-only event without an invitation", mode: vmz.JoinInvite, before: func(t *testing.T, w *world, ev string) {
			_, err := mobilizon.Invite(context.Background(), w.d, w.alice.IRI, ev, w.Eve)
			require.NoError(t, err)
		}, status: http.StatusForbidden, reason: "by invitation only"},
		{name: "a Join of an event with external participation", mode: vmz.JoinExternal, status: http.StatusForbidden, reason: "external"},
		{name: "a Join of a draft", mode: vmz.JoinFree, more: func(ev vmz.Event) { yes := true; ev.Draft = &yes }, status: http.StatusForbidden, reason: "draft"},
		{name: "a Join of a cancelled event", mode: vmz.JoinFree, more: func(ev vmz.Event) { ev.Status = vmz.StatusCancelled }, status: http.StatusForbidden, reason: "cancelled"},
		{name: "a Join without id", mode: vmz.JoinFree, noID: true, status: http.StatusBadRequest, reason: "needs an id"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			var more []func(vmz.Event)
			if tc.more != nil {
				more = append(more, tc.more)
			}
			ev := w.event(t, tc.mode, tc.max, more...)
			if tc.before != nil {
				tc.before(t, w, ev)
			}
			body := join(t, w.Bob+"/join/event/1", w.Bob, ev, "please")
			if tc.noID {
				body = mobilizontest.Rewrite(t, body, map[string]any{"id": nil})
			}
			w.Srv.Drain(t)
			before := w.Count.State()
			doc := w.Item(t, ev)

			status, msg := w.Post(t, w.Bob, w.Inbox(w.alice.IRI), body)
			assert.Equal(t, tc.status, status, msg)
			assert.Contains(t, msg, tc.reason)
			assert.Equal(t, before, w.Count.State(), "storage is unchanged")
			_, member := w.Member(t, w.participants(ev), w.Bob)
			assert.False(t, member)
			assert.Equal(t, doc, w.Item(t, ev), "the event is unchanged")
			assert.Empty(t, w.Received(t, "Reject"), "a refusal is not a Reject")
		})
	}
}

// TestJoinOfAnotherServersEvent: a Join of an event that is not ours,
// delivered to us, is kept in the inbox.
func TestJoinOfAnotherServersEvent(t *testing.T) {
	w := newWorld(t)
	ev := w.Rem.URL + "/events/party"
	w.Rem.Put(t, ev, map[string]any{"@context": "https://www.w3.org/ns/activitystreams", "id": ev, "type": "Event", "name": "Party", "attributedTo": w.Eve})
	id := w.Bob + "/join/event/1"
	status, msg := w.Post(t, w.Bob, w.Inbox(w.alice.IRI), join(t, id, w.Bob, ev, ""))
	mobilizontest.Status(t, http.StatusAccepted, status, msg)
	_, listed := w.Member(t, w.Inbox(w.alice.IRI), id)
	assert.True(t, listed, "kept in alice's inbox")
	assert.Empty(t, w.Received(t, "Accept"))
}

// TestLeave: a Leave (Mobilizon's fixture) removes the participant and
// gives the seat back; a Leave by someone who had not joined changes
// nothing but the inbox.
func TestLeave(t *testing.T) {
	w := newWorld(t)
	ev := w.event(t, vmz.JoinFree, 2)
	status, msg := w.Post(t, w.Bob, w.Inbox(w.alice.IRI), join(t, w.Bob+"/join/event/1", w.Bob, ev, ""))
	mobilizontest.Status(t, http.StatusAccepted, status, msg)
	assert.Equal(t, 1, *w.stored(t, ev).RemainingAttendeeCapacity)

	leave := mobilizontest.Rewrite(t, mobilizontest.Payload(t, "mobilizon__mobilizon-fixtures__mobilizon-leave-activity.json"),
		map[string]any{"id": w.Bob + "/leave/event/1", "actor": w.Bob, "object": ev})
	status, msg = w.Post(t, w.Bob, w.Inbox(w.alice.IRI), leave)
	mobilizontest.Status(t, http.StatusAccepted, status, msg)
	_, member := w.Member(t, w.participants(ev), w.Bob)
	assert.False(t, member, "bob left")
	stored := w.stored(t, ev)
	assert.Equal(t, 0, *stored.ParticipantCount)
	assert.Equal(t, 2, *stored.RemainingAttendeeCapacity)

	leave = mobilizontest.Rewrite(t, leave, map[string]any{"id": w.Eve + "/leave/event/1", "actor": w.Eve})
	status, msg = w.Post(t, w.Eve, w.Inbox(w.alice.IRI), leave)
	mobilizontest.Status(t, http.StatusAccepted, status, msg)
	assert.Equal(t, 0, *w.stored(t, ev).ParticipantCount)
}

// TestJoinRejected: with RejectRefusedJoins, a Join the event cannot take
// is answered with the organizer's Reject, and still makes no
// participation.
func TestJoinRejected(t *testing.T) {
	cases := []struct {
		name   string
		mode   vmz.JoinMode
		max    int
		before func(t *testing.T, w *world, ev string)
	}{
		{name: "a Join of a full event", mode: vmz.JoinFree, max: 1, before: func(t *testing.T, w *world, ev string) {
			status, msg := w.Post(t, w.Eve, w.Inbox(w.alice.IRI), join(t, w.Eve+"/join/1", w.Eve, ev, ""))
			mobilizontest.Status(t, http.StatusAccepted, status, msg)
		}},
		{name: "a Join of an invite-only event without an invitation", mode: vmz.JoinInvite},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, func(o *mobilizon.Options) { o.RejectRefusedJoins = true })
			ev := w.event(t, tc.mode, tc.max)
			if tc.before != nil {
				tc.before(t, w, ev)
			}
			doc := w.Item(t, ev)
			id := w.Bob + "/join/event/1"
			status, msg := w.Post(t, w.Bob, w.Inbox(w.alice.IRI), join(t, id, w.Bob, ev, "please"))
			mobilizontest.Status(t, http.StatusAccepted, status, msg)
			rejects := w.Received(t, "Reject")
			require.Len(t, rejects, 1)
			assert.Equal(t, w.alice.IRI, rejects[0]["actor"])
			obj, _ := rejects[0]["object"].(map[string]any)
			require.NotNil(t, obj)
			assert.Equal(t, id, obj["id"])
			_, member := w.Member(t, w.participants(ev), w.Bob)
			assert.False(t, member, "no participation")
			assert.Equal(t, doc, w.Item(t, ev), "the event is unchanged")
			assert.Nil(t, w.Item(t, id), "the Join is not kept")
		})
	}
}

// barrier holds the reads of a collection's count made outside
// transactions (the Checks) until n of them wait, or a few seconds pass:
// every racer's Check then sees the seats as they were before any Apply.
type barrier struct {
	storage.Collections
	mu      sync.Mutex
	coll    string
	n       int
	arrived int
	open    chan struct{}
}

func (b *barrier) Count(ctx context.Context, coll string, state storage.State) (int, error) {
	n, err := b.Collections.Count(ctx, coll, state)
	b.mu.Lock()
	watched := coll == b.coll
	if watched {
		b.arrived++
		if b.arrived == b.n {
			close(b.open)
		}
	}
	b.mu.Unlock()
	if watched {
		// Read, then wait: no Check returns before every Check read.
		select {
		case <-b.open:
		case <-time.After(5 * time.Second):
		}
	}
	return n, err
}

// TestJoinRace: Joins racing for the last seats of an event, each
// checked before any is applied: as many are taken as there are seats,
// the others are refused inside their transaction, and the counts agree.
func TestJoinRace(t *testing.T) {
	const seats, racers = 2, 6
	b := &barrier{n: racers, open: make(chan struct{})}
	w := newWorldOn(t, func(st storage.Store) storage.Store {
		b.Collections = st.Collections
		st.Collections = b
		return st
	})
	ev := w.event(t, vmz.JoinFree, seats)
	b.mu.Lock()
	b.coll = w.participants(ev)
	b.mu.Unlock()
	who := make([]string, racers)
	for i := range who {
		who[i] = w.Rem.Actor(t, "racer"+string(rune('a'+i)), i)
	}
	statuses := make([]int, racers)
	var wg sync.WaitGroup
	for i, a := range who {
		wg.Go(func() {
			statuses[i], _ = fedtest.Do(t, w.Rem.Signed(t, a, w.Inbox(w.alice.IRI), join(t, a+"/join/1", a, ev, "")))
		})
	}
	wg.Wait()
	taken := 0
	for _, s := range statuses {
		switch s {
		case http.StatusAccepted:
			taken++
		case http.StatusConflict:
		default:
			t.Fatalf("status %d", s)
		}
	}
	assert.Equal(t, seats, taken, "as many Joins taken as seats")
	n, err := w.Srv.Store.Collections.Count(context.Background(), w.participants(ev), storage.Accepted)
	require.NoError(t, err)
	assert.Equal(t, seats, n)
	stored := w.stored(t, ev)
	assert.Equal(t, seats, *stored.ParticipantCount)
	assert.Equal(t, 0, *stored.RemainingAttendeeCapacity)
}
