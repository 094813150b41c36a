package communecter_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fedi-go/fedi/internal/testpayload"
	"github.com/fedi-go/fedi/vocab/mobilizon"
)

// TestEvent: Communecter's events are Mobilizon's: a Communecter Create
// of an Event (the event by IRI, fetched from its origin) and the import
// of a Mobilizon event are cached by core's Create and read with
// mobilizon.EventOf.
func TestEvent(t *testing.T) {
	ctx := context.Background()

	t.Run("Communecter's Create of an Event", func(t *testing.T) {
		w := newWorld(t)
		ev := w.bob + "/object/id/64a15d71d725c"
		w.rem.Put(t, ev, payload(t, "fedidevs-docs__objects-event__ex1-Event.json", map[string]any{
			"@context": "https://www.w3.org/ns/activitystreams", "id": ev, "attributedTo": w.bob,
		}))
		w.mustPost(t, w.bob, payload(t, "fedidevs-docs__activities-create__ex2-Create.json", map[string]any{
			"id": w.id(w.bob, "create"), "actor": w.bob, "object": ev, "summary": "Created a new Event: 'Community Cleanup Event'",
			"cc": []string{w.alice.IRI},
		}))
		e := storedEvent(t, w, ev)
		assert.Equal(t, "Community Cleanup Event", e.Name.First().Value.String())
		assert.Equal(t, time.Date(2023, 7, 15, 10, 0, 0, 0, time.UTC), e.StartTime.UTC())
		assert.Equal(t, "San Francisco", locality(t, e))
		o, err := w.srv.Store.Objects.Get(ctx, ev)
		require.NoError(t, err)
		assert.Equal(t, w.bob, o.Owner)
	})

	t.Run("a Mobilizon event imported", func(t *testing.T) {
		w := newWorld(t)
		var doc map[string]any
		require.NoError(t, json.Unmarshal(testpayload.Read(t, "mobilizon__lemmy-assets__objects_event.json"), &doc))
		ev := w.bob + "/events/b81c0531"
		doc["id"], doc["attributedTo"], doc["actor"], doc["url"] = ev, w.bob, w.bob, ev
		delete(doc, "contacts")
		delete(doc, "cc")
		w.mustPost(t, w.bob, payload(t, "fedidevs-docs__activities-create__ex2-Create.json", map[string]any{
			"id": w.id(w.bob, "create"), "actor": w.bob, "object": doc, "cc": []string{w.alice.IRI},
		}))
		e := storedEvent(t, w, ev)
		assert.Equal(t, mobilizon.JoinFree, e.JoinMode)
		assert.Equal(t, "Europe/London", e.Timezone)
		assert.Equal(t, "Teignbridge", locality(t, e))
	})
}

func storedEvent(t *testing.T, w *world, iri string) mobilizon.Event {
	t.Helper()
	o, err := w.srv.Store.Objects.Get(context.Background(), iri)
	require.NoError(t, err, "the event is cached")
	it, err := w.srv.Registry.Decode(o.Data)
	require.NoError(t, err)
	e, ok := mobilizon.EventOf(it)
	require.True(t, ok, "it reads as a Mobilizon event")
	return e
}

func locality(t *testing.T, e mobilizon.Event) string {
	t.Helper()
	place, ok := e.Place()
	require.True(t, ok, "the event has a place")
	addr, ok := place.PostalAddress()
	require.True(t, ok, "the place has an address")
	return addr.AddressLocality
}
