package mobilizon_test

import (
	"context"
	"testing"
	"time"

	ap "github.com/go-ap/activitypub"
	"github.com/stretchr/testify/require"

	"github.com/fedi-go/fedi"
	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/behaviour/mobilizon"
	"github.com/fedi-go/fedi/internal/mobilizontest"
	"github.com/fedi-go/fedi/storage"
	vmz "github.com/fedi-go/fedi/vocab/mobilizon"
)

// world is a server with the Mobilizon behaviour, its relay, and alice,
// who organizes events; bob and eve are on the remote server.
type world struct {
	*mobilizontest.World
	d     mobilizon.Deps
	alice *actor.Actor
	relay string
}

func newWorld(t *testing.T, opts ...func(*mobilizon.Options)) *world {
	t.Helper()
	return newWorldOn(t, nil, opts...)
}

// newWorldOn is newWorld over the memory store as wrap wraps it.
func newWorldOn(t *testing.T, wrap func(storage.Store) storage.Store, opts ...func(*mobilizon.Options)) *world {
	t.Helper()
	var wraps []func(storage.Store) storage.Store
	if wrap != nil {
		wraps = append(wraps, wrap)
	}
	w := &world{}
	w.World = mobilizontest.New(t, func(f *fedi.Federation) {
		mobilizontest.PutKey(t, f, mobilizon.RelayName, 3)
		relay, err := mobilizon.EnsureRelay(context.Background(), f.LocalActors)
		require.NoError(t, err)
		w.relay = relay.IRI
		o := mobilizon.Options{Outbox: f.Outbox, Relay: relay.IRI}
		for _, opt := range opts {
			opt(&o)
		}
		mobilizon.Register(f.Mux, o)
	}, wraps...)
	w.d = mobilizon.Deps{Store: w.Srv.Store, Outbox: w.Srv.Outbox}
	w.alice = w.Actor(t, "alice", "Person", nil)
	return w
}

// event makes alice organize an event with joinMode mode and a
// maximumAttendeeCapacity of max (0: none), changed by more.
func (w *world) event(t *testing.T, mode vmz.JoinMode, max int, more ...func(vmz.Event)) string {
	t.Helper()
	start := time.Date(2030, 6, 1, 18, 0, 0, 0, time.UTC)
	ev := vmz.NewEvent("", ap.IRI(w.alice.IRI), "Picnic", start, start.Add(3*time.Hour))
	ev.JoinMode = mode
	ev.MaximumAttendeeCapacity = &max
	for _, f := range more {
		f(ev)
	}
	iri, err := mobilizon.CreateEvent(context.Background(), w.d, w.alice.IRI, ev)
	require.NoError(t, err)
	return iri
}

// stored returns the stored event iri.
func (w *world) stored(t *testing.T, iri string) vmz.Event {
	t.Helper()
	ev, ok := vmz.EventOf(w.Item(t, iri))
	require.True(t, ok, "%s is a stored event", iri)
	return ev
}

// join is Mobilizon's Join fixture, by who of event, with message when
// it is not "".
func join(t *testing.T, id, who, event, message string) []byte {
	t.Helper()
	set := map[string]any{"id": id, "actor": who, "object": event}
	if message != "" {
		set["participationMessage"] = message
	}
	return mobilizontest.Rewrite(t, mobilizontest.Payload(t, "mobilizon__mobilizon-fixtures__mobilizon-join-activity.json"), set)
}

func (w *world) participants(iri string) string {
	return w.Srv.Scheme.Collection(iri, mobilizon.Participants)
}

func intp(n int) *int { return &n }
