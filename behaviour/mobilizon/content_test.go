package mobilizon_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fedi-go/fedi/behaviour/core"
	"github.com/fedi-go/fedi/internal/fedtest"
	"github.com/fedi-go/fedi/internal/mobilizontest"
	"github.com/fedi-go/fedi/vocab"
	vmz "github.com/fedi-go/fedi/vocab/mobilizon"
)

// TestContent: the Create, Update and Delete of Events and Notes, owner
// only, and Flag, with Mobilizon's payload shapes; the default behaviour
// has these effects, and the Mobilizon behaviour leaves them to it.
func TestContent(t *testing.T) {
	w := newWorld(t)
	ourEvent := w.event(t, vmz.JoinFree, 0)
	ev := w.Rem.URL + "/events/39a0c4a6"
	createEvent := func(by string) []byte {
		doc := mobilizontest.Payload(t, "mobilizon__mobilizon-fixtures__mobilizon-post-activity.json")
		var act struct{ Object json.RawMessage }
		require.NoError(t, json.Unmarshal(doc, &act))
		obj := mobilizontest.Rewrite(t, act.Object, map[string]any{"id": ev, "url": ev, "attributedTo": by, "cc": []string{}})
		return mobilizontest.Rewrite(t, doc, map[string]any{"id": ev + "/activity", "actor": by, "object": json.RawMessage(obj), "cc": []string{}})
	}
	update := func(id, by, obj, name string) []byte {
		return fedtest.JSON(`{"@context":"https://www.w3.org/ns/activitystreams","id":%q,"type":"Update","actor":%q,"object":{"id":%q,"type":"Event","name":%q,"attributedTo":%q,"to":["https://www.w3.org/ns/activitystreams#Public"]},"to":["https://www.w3.org/ns/activitystreams#Public"]}`,
			id, by, obj, name, by)
	}
	del := func(id, by, obj string) []byte {
		return fedtest.JSON(`{"@context":"https://www.w3.org/ns/activitystreams","id":%q,"type":"Delete","actor":%q,"object":%q,"to":["https://www.w3.org/ns/activitystreams#Public"]}`, id, by, obj)
	}
	steps := []struct {
		name   string
		as     string
		body   func() []byte
		status int
		check  func(t *testing.T)
	}{
		{name: "Create{Event}: cached with its organizer", as: w.Bob, body: func() []byte { return createEvent(w.Bob) }, status: http.StatusAccepted, check: func(t *testing.T) {
			e, ok := vmz.EventOf(w.Item(t, ev))
			require.True(t, ok)
			assert.Equal(t, "My first event", vocab.TextOf(e.Name))
		}},
		{name: "Update{Event} by another actor", as: w.Eve, body: func() []byte { return update(w.Eve+"/u/1", w.Eve, ev, "hijacked") }, status: http.StatusForbidden},
		{name: "Update{Event} by its owner", as: w.Bob, body: func() []byte { return update(w.Bob+"/u/1", w.Bob, ev, "renamed") }, status: http.StatusAccepted, check: func(t *testing.T) {
			e, _ := vmz.EventOf(w.Item(t, ev))
			assert.Equal(t, "renamed", vocab.TextOf(e.Name))
		}},
		{name: "Update of our event by someone else", as: w.Bob, body: func() []byte { return update(w.Bob+"/u/2", w.Bob, ourEvent, "mine now") }, status: http.StatusForbidden},
		{name: "a comment on the event: Create{Note}", as: w.Eve, body: func() []byte { return reply(w.Eve+"/notes/1", w.Eve, ev) }, status: http.StatusAccepted, check: func(t *testing.T) {
			assert.NotNil(t, w.Item(t, w.Eve+"/notes/1"))
		}},
		{name: "Delete{Note} by another actor", as: w.Bob, body: func() []byte { return del(w.Bob+"/d/1", w.Bob, w.Eve+"/notes/1") }, status: http.StatusForbidden},
		{name: "Delete{Event} by another actor", as: w.Eve, body: func() []byte { return del(w.Eve+"/d/1", w.Eve, ev) }, status: http.StatusForbidden},
		{name: "Delete of our event by someone else", as: w.Bob, body: func() []byte { return del(w.Bob+"/d/2", w.Bob, ourEvent) }, status: http.StatusForbidden},
		{name: "Delete{Event} by its owner", as: w.Bob, body: func() []byte { return del(w.Bob+"/d/3", w.Bob, ev) }, status: http.StatusAccepted, check: func(t *testing.T) {
			assert.True(t, w.tombstoned(t, ev))
		}},
		{name: "Flag: a report, kept for the moderators", as: w.Eve, body: func() []byte {
			return fedtest.JSON(`{"@context":"https://www.w3.org/ns/activitystreams","id":%q,"type":"Flag","actor":%q,"content":"spam","object":[%q,%q],"to":[%q]}`,
				w.Eve+"/flag/1", w.Eve, w.alice.IRI, ourEvent, w.alice.IRI)
		}, status: http.StatusAccepted, check: func(t *testing.T) {
			_, ok := w.Member(t, core.ReportsIRI(w.Srv.Scheme), w.Eve+"/flag/1")
			assert.True(t, ok)
		}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			before := w.Count.State()
			status, msg := w.Post(t, st.as, w.Shared(), st.body())
			require.Equal(t, st.status, status, msg)
			if status != http.StatusAccepted {
				assert.Equal(t, before, w.Count.State(), "storage is unchanged")
			}
			if st.check != nil {
				st.check(t)
			}
		})
	}
}
