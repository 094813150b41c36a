package actor_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	ap "github.com/go-ap/activitypub"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/fetch"
	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/storage/memory"
	"github.com/fedi-go/fedi/vocab"
)

var reg = vocab.MustRegistry()

// TestDocumentsReadBack: the document of a local actor, fetched by
// another server, gives that server its inbox, shared inbox and key:
// for an actor of an actor type, and for an Event that acts, whose shape
// is an object's.
func TestDocumentsReadBack(t *testing.T) {
	ctx := context.Background()
	st := memory.New()
	scheme, err := actor.NewScheme("https://local.example")
	require.NoError(t, err)
	actors := actor.NewStore(st, scheme, reg)
	event := vocab.NewObject("Event", "")
	event.Name = vocab.Text("a meetup")
	event.StartTime = time.Date(2030, 1, 1, 18, 0, 0, 0, time.UTC)
	for _, a := range []actor.Actor{
		{Name: "alice"},
		{Name: "team", Type: "Group", ManuallyApprovesFollowers: true},
		{Name: "meetup", Type: "Event", Profile: event},
	} {
		t.Run(a.Name, func(t *testing.T) {
			created, err := actors.Create(ctx, a)
			require.NoError(t, err)
			got, err := actors.ByName(ctx, a.Name)
			require.NoError(t, err)
			assert.Equal(t, created.IRI, got.IRI)
			assert.Equal(t, a.ManuallyApprovesFollowers, got.ManuallyApprovesFollowers)

			doc, err := actor.Document(ctx, scheme, st.Keys, got)
			require.NoError(t, err)
			raw, err := reg.Encode(doc)
			require.NoError(t, err)
			var m map[string]any
			require.NoError(t, json.Unmarshal(raw, &m))
			assert.Equal(t, a.Name, m["preferredUsername"])
			assert.Equal(t, a.ManuallyApprovesFollowers, m["manuallyApprovesFollowers"])

			it, err := reg.Decode(raw)
			require.NoError(t, err)
			ra, err := actor.RemoteFromDocument(it, raw)
			require.NoError(t, err, "another server reads it as an actor")
			assert.Equal(t, got.IRI, ra.IRI)
			assert.Equal(t, scheme.Collection(got.IRI, actor.Inbox), ra.Inbox)
			assert.Equal(t, scheme.SharedInbox, ra.SharedInbox)
			require.Len(t, ra.Keys, 1)
			assert.Equal(t, got.IRI+"#main-key", ra.Keys[0].ID)
			assert.Contains(t, ra.Keys[0].PEM, "BEGIN PUBLIC KEY")
		})
	}
}

func TestRemoteFromDocumentRefuses(t *testing.T) {
	for name, doc := range map[string]string{
		"a note":                    `{"id":"https://r.example/n","type":"Note"}`,
		"an actor without inbox":    `{"id":"https://r.example/a","type":"Person"}`,
		"an event without inbox":    `{"id":"https://r.example/e","type":"Event"}`,
		"an event with a bad inbox": `{"id":"https://r.example/e","type":"Event","inbox":"not an IRI"}`,
	} {
		t.Run(name, func(t *testing.T) {
			it, err := reg.Decode([]byte(doc))
			require.NoError(t, err)
			_, err = actor.RemoteFromDocument(it, []byte(doc))
			assert.ErrorIs(t, err, actor.ErrNotAnActor)
		})
	}
}

// remoteServer serves actor documents, or a status, and counts GETs.
type remoteServer struct {
	*httptest.Server
	mu     sync.Mutex
	status int
	gets   int
}

func newRemoteServer(t *testing.T) *remoteServer {
	s := &remoteServer{status: http.StatusOK}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.gets++
		status := s.status
		s.mu.Unlock()
		if status != http.StatusOK {
			w.WriteHeader(status)
			return
		}
		iri := s.URL + r.URL.Path
		w.Header().Set("Content-Type", "application/activity+json")
		_ = json.NewEncoder(w).Encode(map[string]any{"id": iri, "type": "Person", "inbox": iri + "/inbox",
			"endpoints": map[string]string{"sharedInbox": s.URL + "/inbox"}})
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *remoteServer) set(status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status = status
}

func (s *remoteServer) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gets
}

func TestRemote(t *testing.T) {
	ctx := context.Background()
	srv := newRemoteServer(t)
	client, err := fetch.New(fetch.Options{AllowLoopback: true})
	require.NoError(t, err)
	t.Cleanup(client.Close)
	st := memory.New()
	now := time.Now()
	clock := func() time.Time { return now }
	r := &actor.Remote{Cache: st.Actors, Client: client, Registry: reg, TTL: time.Hour, Now: clock}
	bob := srv.URL + "/users/bob"

	ra, err := r.Get(ctx, bob)
	require.NoError(t, err)
	assert.Equal(t, bob+"/inbox", ra.Inbox)
	assert.Equal(t, srv.URL+"/inbox", actor.DeliveryInbox(ra), "the shared inbox is preferred")
	_, err = r.Get(ctx, bob)
	require.NoError(t, err)
	assert.Equal(t, 1, srv.count(), "a fresh copy is not fetched again")

	now = now.Add(2 * time.Hour)
	srv.set(http.StatusInternalServerError)
	ra, err = r.Get(ctx, bob)
	require.NoError(t, err, "a stale copy beats nothing when the fetch fails")
	assert.Equal(t, bob+"/inbox", ra.Inbox)
	assert.Equal(t, 2, srv.count())

	srv.set(http.StatusGone)
	ra, err = r.Get(ctx, bob)
	require.NoError(t, err)
	assert.False(t, ra.Gone.IsZero(), "410 marks the actor gone")
	cached, err := st.Actors.Get(ctx, bob)
	require.NoError(t, err)
	assert.False(t, cached.Gone.IsZero())
	_, err = r.Get(ctx, bob)
	require.NoError(t, err)
	assert.Equal(t, 3, srv.count(), "a gone actor is not fetched again")

	srv.set(http.StatusNotFound)
	_, err = r.Get(ctx, srv.URL+"/users/nobody")
	var fe *fetch.Error
	assert.True(t, errors.As(err, &fe), "%v", err)

	offline := &actor.Remote{Cache: st.Actors, Registry: reg}
	_, err = offline.Get(ctx, srv.URL+"/users/carol")
	assert.ErrorIs(t, err, storage.ErrNotFound, "without a client only the cache answers")
}

func TestDeliveryInbox(t *testing.T) {
	assert.Equal(t, "https://r/inbox", actor.DeliveryInbox(storage.RemoteActor{Inbox: "https://r/u/inbox", SharedInbox: "https://r/inbox"}))
	assert.Equal(t, "https://r/u/inbox", actor.DeliveryInbox(storage.RemoteActor{Inbox: "https://r/u/inbox"}))
}

func TestDocumentWithoutKeys(t *testing.T) {
	scheme, err := actor.NewScheme("https://local.example")
	require.NoError(t, err)
	doc, err := actor.Document(context.Background(), scheme, nil, &actor.Actor{IRI: scheme.Actor("x"), Name: "x", Type: "Service"})
	require.NoError(t, err)
	a := doc.(*vocab.Actor)
	assert.Equal(t, ap.IRI(""), a.PublicKey.ID)
	assert.Equal(t, ap.ActivityVocabularyType("Service"), a.Type)
}
