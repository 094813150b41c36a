package interop

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	ap "github.com/go-ap/activitypub"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fedi-go/fedi"
	"github.com/fedi-go/fedi/behaviour/mobilizon"
	"github.com/fedi-go/fedi/internal/fedtest"
	"github.com/fedi-go/fedi/storage"
	vmz "github.com/fedi-go/fedi/vocab/mobilizon"
)

// TestFedifyMobilizon drives the Mobilizon behaviour against the live
// Fedify peer: the peer's Mobilizon-style Join, with a
// participationMessage, of one of our restricted events waits with its
// message, and our organizer's Accept reaches the peer; the peer's Leave
// ends the participation; and our Join of the peer's event is accepted
// by it.
func TestFedifyMobilizon(t *testing.T) {
	peer := startPeer(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv := fedtest.New(t, fedtest.Config{Setup: func(f *fedi.Federation) {
		mobilizon.Register(f.Mux, mobilizon.Options{Outbox: f.Outbox})
	}})
	go func() { _ = srv.Run(ctx) }()
	d := mobilizon.Deps{Store: srv.Store, Outbox: srv.Outbox}
	gopher := srv.User(t, "gopher")

	var info struct{ Actor string }
	peer.control(t, http.MethodGet, "/_control/info", nil, &info)

	start := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)
	ev := vmz.NewEvent("", ap.IRI(gopher.IRI), "Go meetup", start, start.Add(2*time.Hour))
	ev.JoinMode = vmz.JoinRestricted
	ev.MaximumAttendeeCapacity = new(20)
	event, err := mobilizon.CreateEvent(ctx, d, gopher.IRI, ev)
	require.NoError(t, err)
	participants := srv.Scheme.Collection(event, mobilizon.Participants)

	var join struct {
		ID       string
		Delivery struct{ Status int }
	}
	t.Run("the peer's Join with a participationMessage waits with its message", func(t *testing.T) {
		peer.control(t, http.MethodPost, "/_control/join", map[string]any{"event": event, "message": "I write Go at work"}, &join)
		require.NotEmpty(t, join.ID)
		assert.Equal(t, http.StatusAccepted, join.Delivery.Status, "our inbox took the Join")
		ps, _, err := mobilizon.Participations(ctx, d, event, storage.PageOptions{State: storage.Pending})
		require.NoError(t, err)
		require.Len(t, ps, 1)
		assert.Equal(t, mobilizon.Participation{Actor: info.Actor, Join: join.ID, Message: "I write Go at work", State: storage.Pending}, ps[0])
	})

	t.Run("our organizer's Accept reaches the peer", func(t *testing.T) {
		accept, err := mobilizon.Decide(ctx, d, gopher.IRI, join.ID, true)
		require.NoError(t, err)
		var got []struct{ ID, Type string }
		peer.control(t, http.MethodGet, "/_control/received?wait=20&id="+accept, nil, &got)
		require.Len(t, got, 1, "the peer received our Accept")
		assert.Equal(t, "Accept", got[0].Type)
		eventually(t, "the peer's Join accepted", func() bool {
			var joins []struct{ ID, State string }
			peer.control(t, http.MethodGet, "/_control/joins", nil, &joins)
			for _, j := range joins {
				if j.ID == join.ID && j.State == "accepted" {
					return true
				}
			}
			return false
		})
		m, err := srv.Store.Collections.Contains(ctx, participants, info.Actor)
		require.NoError(t, err)
		assert.Equal(t, storage.Accepted, m.State)
	})

	t.Run("the peer's Leave ends its participation", func(t *testing.T) {
		peer.control(t, http.MethodPost, "/_control/leave", map[string]any{"event": event}, nil)
		eventually(t, "the peer no longer participates", func() bool {
			_, err := srv.Store.Collections.Contains(ctx, participants, info.Actor)
			return errors.Is(err, storage.ErrNotFound)
		})
	})

	t.Run("our Join of the peer's event is accepted by it", func(t *testing.T) {
		var res struct{ Event string }
		peer.control(t, http.MethodPost, "/_control/event", map[string]any{"name": "Fedify meetup"}, &res)
		require.NotEmpty(t, res.Event)
		doc, err := srv.Client.Get(ctx, res.Event)
		require.NoError(t, err)
		it, err := srv.Registry.Decode(doc.Body)
		require.NoError(t, err)
		_, err = mobilizon.JoinEvent(ctx, d, gopher.IRI, it, "")
		require.NoError(t, err)
		joins := srv.Scheme.Collection(gopher.IRI, mobilizon.Joins)
		eventually(t, "our participation accepted", func() bool {
			m, err := srv.Store.Collections.Contains(ctx, joins, res.Event)
			return err == nil && m.State == storage.Accepted
		})
	})
}
