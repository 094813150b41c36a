package gathio_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	ap "github.com/go-ap/activitypub"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fedi-go/fedi"
	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/behaviour/communecter"
	"github.com/fedi-go/fedi/behaviour/gathio"
	"github.com/fedi-go/fedi/inbox"
	"github.com/fedi-go/fedi/internal/fedtest"
	"github.com/fedi-go/fedi/internal/mobilizontest"
	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/vocab"
	vmz "github.com/fedi-go/fedi/vocab/mobilizon"
)

// world is a server with the Gathio behaviour and picnic, an event that
// acts; bob and eve are on the remote server.
type world struct {
	*mobilizontest.World
	d      gathio.Deps
	picnic *actor.Actor
}

func newWorld(t *testing.T, setup ...func(f *fedi.Federation)) *world {
	t.Helper()
	w := &world{}
	w.World = mobilizontest.New(t, func(f *fedi.Federation) {
		for _, s := range setup {
			s(f)
		}
		gathio.Register(f.Mux, gathio.Options{})
	})
	w.d = gathio.Deps{Store: w.Srv.Store, Outbox: w.Srv.Outbox}
	mobilizontest.PutKey(t, w.Srv.Federation, "picnic", 2)
	var err error
	w.picnic, err = gathio.CreateEvent(context.Background(), w.Srv.LocalActors, "picnic", picnic("Picnic").Object)
	require.NoError(t, err)
	return w
}

func picnic(name string) vmz.Event {
	start := time.Date(2030, 6, 1, 18, 0, 0, 0, time.UTC)
	ev := vmz.NewEvent("", "", name, start, start.Add(3*time.Hour))
	ev.Summary = vocab.Text("<p>Bring something to share.</p>")
	ev.Location = vocab.NewPlace("", "The park")
	return ev
}

// get fetches iri from the server as ActivityStreams.
func (w *world) get(t *testing.T, iri string) map[string]any {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, iri, nil)
	require.NoError(t, err)
	req.Header.Set("Accept", "application/activity+json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(b))
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	return m
}

// TestEventActor: the event is an actor, with everything a Gathio event
// actor has (Gathio's documented shape) but as an Event, with its times.
func TestEventActor(t *testing.T) {
	w := newWorld(t)
	doc := w.get(t, w.picnic.IRI)
	var gathioDoc map[string]any
	require.NoError(t, json.Unmarshal(mobilizontest.Payload(t, "gathio__gathio-docs__FEDERATION__ex1-Person.json"), &gathioDoc))
	for k := range gathioDoc {
		switch k {
		case "featured", "icon": // the application's, when it has them
			continue
		}
		assert.Contains(t, doc, k, "a Gathio event actor has %s", k)
	}
	assert.Equal(t, "Event", doc["type"])
	assert.Equal(t, "picnic", doc["preferredUsername"])
	assert.Equal(t, "Picnic", doc["name"])
	assert.Equal(t, "2030-06-01T18:00:00Z", doc["startTime"])
	key, _ := doc["publicKey"].(map[string]any)
	require.NotNil(t, key)
	assert.Equal(t, w.picnic.IRI, key["owner"])
}

// follow is a Follow of the event by who.
func follow(id, who, event string) []byte {
	return fedtest.JSON(`{"@context":"https://www.w3.org/ns/activitystreams","id":%q,"type":"Follow","actor":%q,"object":%q}`, id, who, event)
}

// TestFollowEvent: people follow the event itself; it accepts and sends
// them its updates.
func TestFollowEvent(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	followers := w.Srv.Scheme.Collection(w.picnic.IRI, actor.Followers)
	status, msg := w.Post(t, w.Bob, w.Inbox(w.picnic.IRI), follow(w.Bob+"/follow/1", w.Bob, w.picnic.IRI))
	mobilizontest.Status(t, http.StatusAccepted, status, msg)
	_, ok := w.Member(t, followers, w.Bob)
	require.True(t, ok, "bob follows the event")
	accepts := w.Received(t, "Accept")
	require.Len(t, accepts, 1)
	assert.Equal(t, w.picnic.IRI, accepts[0]["actor"], "the event accepts")

	carol := w.Actor(t, "carol", "Person", nil)
	_, err := w.Srv.Outbox.Send(ctx, vocab.NewActivity("Follow", "", ap.IRI(carol.IRI), ap.IRI(w.picnic.IRI)))
	require.NoError(t, err)
	w.Srv.Drain(t)
	m, ok := w.Member(t, w.Srv.Scheme.Collection(carol.IRI, actor.Following), w.picnic.IRI)
	require.True(t, ok)
	assert.Equal(t, storage.Accepted, m.State, "a local follower too")

	ev := picnic("Picnic, moved indoors")
	id, err := gathio.UpdateEvent(ctx, w.d, w.picnic.IRI, ev.Object)
	require.NoError(t, err)
	updates := w.Received(t, "Update")
	require.Len(t, updates, 1, "the update goes to the followers")
	assert.Equal(t, id, updates[0]["id"])
	obj, _ := updates[0]["object"].(map[string]any)
	require.NotNil(t, obj)
	assert.Equal(t, w.picnic.IRI, obj["id"])
	assert.Equal(t, "Event", obj["type"])
	assert.Equal(t, "Picnic, moved indoors", obj["name"])
	assert.Contains(t, obj, "publicKey", "the updated actor keeps its key")
	assert.Equal(t, "Picnic, moved indoors", w.get(t, w.picnic.IRI)["name"])

	_, err = gathio.UpdateEvent(ctx, w.d, carol.IRI, ev.Object)
	assert.ErrorIs(t, err, gathio.ErrNotEvent)
}

// answer is bob's (or another's) answer of type typ to an Invite.
func answer(typ, id, who, invite string) []byte {
	return fedtest.JSON(`{"@context":"https://www.w3.org/ns/activitystreams","id":%q,"type":%q,"actor":%q,"object":%q,"to":[]}`, id, typ, who, invite)
}

// TestRSVP: the event invites bob; his answers are recorded on the event,
// the latest standing; nobody else answers his invitation.
func TestRSVP(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	invite, err := gathio.Invite(ctx, w.d, w.picnic.IRI, w.picnic.IRI, w.Bob)
	require.NoError(t, err)
	got := w.Received(t, "Invite")
	require.Len(t, got, 1)
	assert.Equal(t, w.picnic.IRI, got[0]["object"])
	assert.Equal(t, w.Bob, got[0]["target"])
	_, invited := w.Member(t, w.Srv.Scheme.Collection(w.picnic.IRI, gathio.Invited), w.Bob)
	assert.True(t, invited)

	rsvps := func() map[gathio.RSVP][]string {
		out := map[gathio.RSVP][]string{}
		for _, r := range []gathio.RSVP{gathio.Going, gathio.NotGoing, gathio.Maybe} {
			who, _, err := gathio.RSVPs(ctx, w.d, w.picnic.IRI, r, storage.PageOptions{})
			require.NoError(t, err)
			if len(who) > 0 {
				out[r] = who
			}
		}
		return out
	}
	for i, tc := range []struct {
		typ  string
		want gathio.RSVP
	}{{"Accept", gathio.Going}, {"TentativeAccept", gathio.Maybe}, {"Reject", gathio.NotGoing}, {"Accept", gathio.Going}} {
		id := w.Bob + "/answer/" + string(rune('a'+i))
		status, msg := w.Post(t, w.Bob, w.Inbox(w.picnic.IRI), answer(tc.typ, id, w.Bob, invite))
		mobilizontest.Status(t, http.StatusAccepted, status, msg)
		assert.Equal(t, map[gathio.RSVP][]string{tc.want: {w.Bob}}, rsvps(), "after %s", tc.typ)
		m, _ := w.Member(t, w.Srv.Scheme.Collection(w.picnic.IRI, string(tc.want)), w.Bob)
		assert.Equal(t, id, m.Activity)
	}

	t.Run("an answer to someone else's invitation", func(t *testing.T) {
		before := w.Count.State()
		status, msg := w.Post(t, w.Eve, w.Inbox(w.picnic.IRI), answer("Accept", w.Eve+"/answer/1", w.Eve, invite))
		assert.Equal(t, http.StatusForbidden, status)
		assert.Contains(t, msg, "someone else")
		assert.Equal(t, before, w.Count.State(), "storage is unchanged")
	})
	t.Run("an answer to an invitation never sent", func(t *testing.T) {
		before := w.Count.State()
		status, _ := w.Post(t, w.Bob, w.Inbox(w.picnic.IRI), answer("Accept", w.Bob+"/answer/x", w.Bob, w.picnic.IRI+"/invite/none"))
		assert.Equal(t, http.StatusUnprocessableEntity, status)
		assert.Equal(t, before, w.Count.State(), "storage is unchanged")
	})
	t.Run("an invitation by someone who does not organize the event", func(t *testing.T) {
		carol := w.Actor(t, "carol", "Person", nil)
		before := w.Count.State()
		_, err := gathio.Invite(ctx, w.d, carol.IRI, w.picnic.IRI, w.Eve)
		assert.ErrorIs(t, err, gathio.ErrNotOrganizer)
		assert.Equal(t, before, w.Count.State(), "storage is unchanged")
	})
}

// TestInvited: bob invites alice to an event of his server, embedded as
// Zap sends its invitations; she answers maybe, which goes back to him
// and is recorded on the event.
func TestInvited(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	alice := w.Actor(t, "alice", "Person", nil)
	party := w.Rem.URL + "/events/party"
	invite := w.Bob + "/invite/1"
	body := fedtest.JSON(`{"@context":"https://www.w3.org/ns/activitystreams","id":%q,"type":"Invite","actor":%q,
		"object":{"id":%q,"type":"Event","name":"Party","attributedTo":%q,"startTime":"2030-07-14T20:00:00Z"},
		"target":%q,"to":[%q]}`, invite, w.Bob, party, w.Bob, alice.IRI, alice.IRI)
	status, msg := w.Post(t, w.Bob, w.Shared(), body)
	mobilizontest.Status(t, http.StatusAccepted, status, msg)
	invitations := w.Srv.Scheme.Collection(alice.IRI, gathio.Invitations)
	m, ok := w.Member(t, invitations, party)
	require.True(t, ok, "alice is invited")
	assert.Equal(t, storage.Pending, m.State)
	assert.Equal(t, invite, m.Activity)

	t.Run("someone not invited answers", func(t *testing.T) {
		before := w.Count.State()
		_, err := gathio.Respond(ctx, w.d, w.picnic.IRI, invite, gathio.Going)
		assert.ErrorIs(t, err, gathio.ErrNotInvited)
		assert.Equal(t, before, w.Count.State(), "storage is unchanged")
	})

	id, err := gathio.Respond(ctx, w.d, alice.IRI, invite, gathio.Maybe)
	require.NoError(t, err)
	got := w.Received(t, "TentativeAccept")
	require.Len(t, got, 1)
	assert.Equal(t, id, got[0]["id"])
	assert.Equal(t, []any{w.Bob}, got[0]["to"])
	obj, _ := got[0]["object"].(map[string]any)
	require.NotNil(t, obj, "the Invite is embedded")
	assert.Equal(t, invite, obj["id"])
	maybe, _, err := gathio.RSVPs(ctx, w.d, party, gathio.Maybe, storage.PageOptions{})
	require.NoError(t, err)
	assert.Equal(t, []string{alice.IRI}, maybe)
	m, _ = w.Member(t, invitations, party)
	assert.Equal(t, storage.Accepted, m.State, "answered")
}

// TestInvitationsToProjects: an answer to an invitation to something else
// than an event (a project, Communecter's) passes to the rule registered
// for it before.
func TestInvitationsToProjects(t *testing.T) {
	ctx := context.Background()
	var projects []string
	w := newWorld(t, func(f *fedi.Federation) {
		inbox.Handle(f.Mux, "Accept Invite", inbox.Rule[vocab.Item]{
			Doc: "joins the project's contributors",
			Apply: func(ctx context.Context, a *inbox.Activity, obj vocab.Item) error {
				projects = append(projects, a.ID)
				return nil
			},
		})
	})
	carol := w.Actor(t, "carol", "Person", nil)
	project := vocab.NewObject("Project", "")
	project.Name = vocab.Text("Community garden")
	_, err := w.Srv.Outbox.Send(ctx, vocab.NewActivity("Create", "", ap.IRI(carol.IRI), project))
	require.NoError(t, err)
	inv := vocab.NewActivity("Invite", "", ap.IRI(carol.IRI), project.ID)
	inv.Target = ap.IRI(w.Bob)
	invite, err := w.Srv.Outbox.Send(ctx, inv)
	require.NoError(t, err)

	status, msg := w.Post(t, w.Bob, w.Inbox(carol.IRI), answer("Accept", w.Bob+"/answer/p", w.Bob, invite))
	mobilizontest.Status(t, http.StatusAccepted, status, msg)
	assert.Equal(t, []string{w.Bob + "/answer/p"}, projects, "the project's rule has it")
}

// TestAnswerEvent: the RSVP Gathio takes, an Accept{Event} (or Reject,
// TentativeAccept) of the event itself, from its followers and invitees.
func TestAnswerEvent(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	status, msg := w.Post(t, w.Bob, w.Inbox(w.picnic.IRI), follow(w.Bob+"/follow/1", w.Bob, w.picnic.IRI))
	mobilizontest.Status(t, http.StatusAccepted, status, msg)
	going := w.Srv.Scheme.Collection(w.picnic.IRI, string(gathio.Going))
	maybe := w.Srv.Scheme.Collection(w.picnic.IRI, string(gathio.Maybe))

	status, msg = w.Post(t, w.Bob, w.Shared(), answer("Accept", w.Bob+"/rsvp/1", w.Bob, w.picnic.IRI))
	mobilizontest.Status(t, http.StatusAccepted, status, msg)
	_, ok := w.Member(t, going, w.Bob)
	assert.True(t, ok, "a follower's Accept{Event}: going")

	status, msg = w.Post(t, w.Bob, w.Shared(), answer("TentativeAccept", w.Bob+"/rsvp/2", w.Bob, w.picnic.IRI))
	mobilizontest.Status(t, http.StatusAccepted, status, msg)
	_, ok = w.Member(t, going, w.Bob)
	assert.False(t, ok)
	_, ok = w.Member(t, maybe, w.Bob)
	assert.True(t, ok, "then maybe")

	before := w.Count.State()
	status, msg = w.Post(t, w.Eve, w.Shared(), answer("Accept", w.Eve+"/rsvp/1", w.Eve, w.picnic.IRI))
	assert.Equal(t, http.StatusForbidden, status)
	assert.Contains(t, msg, "invitees and followers")
	assert.Equal(t, before, w.Count.State(), "storage is unchanged")

	_, err := gathio.Invite(ctx, w.d, w.picnic.IRI, w.picnic.IRI, w.Eve)
	require.NoError(t, err)
	status, msg = w.Post(t, w.Eve, w.Shared(), answer("Reject", w.Eve+"/rsvp/2", w.Eve, w.picnic.IRI))
	mobilizontest.Status(t, http.StatusAccepted, status, msg)
	notGoing, _, err := gathio.RSVPs(ctx, w.d, w.picnic.IRI, gathio.NotGoing, storage.PageOptions{})
	require.NoError(t, err)
	assert.Equal(t, []string{w.Eve}, notGoing, "an invitee's Reject{Event}: not going")
}

// TestCollectionsApartFromCommunecter: an actor's invitations to events
// are not kept in the collection where Communecter keeps its invitations
// to projects, so that an application registering both lists and
// answers each with its own behaviour.
func TestCollectionsApartFromCommunecter(t *testing.T) {
	assert.NotEqual(t, communecter.Invitations, gathio.Invitations)
}
