package outbox_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/outbox"
	"github.com/fedi-go/fedi/storage"
)

// client is a C2S client of an env: it authenticates with a bearer token
// that is the actor's name.
type client struct {
	e *env
	h http.Handler
}

func newClient(t *testing.T, e *env) *client {
	h, err := outbox.NewClientHandler(e.out, outbox.ClientOptions{Authenticate: func(r *http.Request) (string, error) {
		name, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok {
			return "", errors.New("no token")
		}
		return e.scheme.Actor(name), nil
	}})
	require.NoError(t, err)
	return &client{e: e, h: h}
}

// post POSTs body to the outbox of owner as who ("" for nobody).
func (c *client) post(owner, who, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, c.e.scheme.Collection(c.e.scheme.Actor(owner), actor.Outbox), strings.NewReader(body))
	r.Header.Set("Content-Type", `application/ld+json; profile="https://www.w3.org/ns/activitystreams"`)
	if who != "" {
		r.Header.Set("Authorization", "Bearer "+who)
	}
	w := httptest.NewRecorder()
	c.h.ServeHTTP(w, r)
	return w
}

// created POSTs and requires a 201; it returns the stored activity.
func (c *client) created(owner, body string) (string, map[string]any) {
	c.e.t.Helper()
	w := c.post(owner, owner, body)
	require.Equal(c.e.t, http.StatusCreated, w.Code, w.Body.String())
	id := w.Header().Get("Location")
	require.NotEmpty(c.e.t, id)
	_, doc := c.e.stored(id)
	return id, doc
}

func TestClientCreateOfABareObject(t *testing.T) {
	e := newEnv(t)
	alice := e.user("alice")
	c := newClient(t, e)
	id, doc := c.created("alice", `{"@context":"https://www.w3.org/ns/activitystreams","type":"Note",
		"id":"https://local.example/users/alice/notes/chosen-by-the-client",
		"content":"hi","to":["https://www.w3.org/ns/activitystreams#Public"],"cc":["https://remote.example/users/bob"]}`)

	assert.Equal(t, "Create", doc["type"])
	assert.Equal(t, alice, doc["actor"])
	assert.Equal(t, []any{"https://www.w3.org/ns/activitystreams#Public"}, anyList(doc["to"]), "the Create takes the object's addressing")
	assert.Equal(t, []any{"https://remote.example/users/bob"}, anyList(doc["cc"]))
	obj, _ := doc["object"].(map[string]any)
	noteID, _ := obj["id"].(string)
	assert.NotContains(t, noteID, "chosen-by-the-client", "the server assigns the ids")
	assert.True(t, strings.HasPrefix(id, alice+"/"))
	stored, note := e.stored(noteID)
	assert.Equal(t, alice, stored.Owner)
	assert.Equal(t, "hi", note["content"])
	assert.Equal(t, alice, note["attributedTo"])
	assert.Equal(t, []string{id}, e.members(e.scheme.Collection(alice, actor.Outbox), storage.Accepted))
	assert.Equal(t, int64(1), e.stats().Ready, "its fan-out is queued")
}

func TestClientCreateCopiesAddressingBothWays(t *testing.T) {
	e := newEnv(t)
	c := newClient(t, e)
	e.user("alice")
	_, doc := c.created("alice", `{"type":"Create","to":["https://remote.example/users/bob"],
		"object":{"type":"Note","content":"hi","cc":["https://remote.example/users/carol"],
		"bto":["https://remote.example/users/secret"]}}`)
	obj := doc["object"].(map[string]any)
	assert.Equal(t, []any{"https://remote.example/users/bob"}, anyList(obj["to"]))
	assert.Equal(t, []any{"https://remote.example/users/carol"}, anyList(doc["cc"]))
	assert.NotContains(t, doc, "bto")
	assert.NotContains(t, obj, "bto")
}

func TestClientUpdateMerges(t *testing.T) {
	e := newEnv(t)
	e.user("alice")
	c := newClient(t, e)
	_, doc := c.created("alice", `{"type":"Note","content":"first","summary":"cw","sensitive":true,
		"to":["https://www.w3.org/ns/activitystreams#Public"]}`)
	noteID := doc["object"].(map[string]any)["id"].(string)

	id, upd := c.created("alice", `{"type":"Update","object":{"id":"`+noteID+`","content":"second","summary":null,
		"type":"Article","attributedTo":"https://local.example/users/bob"}}`)
	_, note := e.stored(noteID)
	assert.Equal(t, "second", note["content"], "a given property replaces the stored one")
	assert.NotContains(t, note, "summary", "null removes a property")
	assert.Equal(t, true, note["sensitive"], "what is not given stays")
	assert.Equal(t, "Note", note["type"], "the type does not change")
	assert.Equal(t, e.scheme.Actor("alice"), note["attributedTo"], "nor the author")
	assert.Contains(t, note, "updated")
	assert.Equal(t, []any{"https://www.w3.org/ns/activitystreams#Public"}, anyList(upd["to"]), "the Update goes where the object went")
	assert.Equal(t, "second", upd["object"].(map[string]any)["content"], "what is sent is the whole new object")
	assert.NotEmpty(t, id)
}

func TestClientRefusesAnUpdateOfWhatIsNotItsOwn(t *testing.T) {
	e := newEnv(t)
	e.user("alice")
	e.user("bob")
	c := newClient(t, e)
	_, doc := c.created("alice", `{"type":"Note","content":"alice's"}`)
	noteID := doc["object"].(map[string]any)["id"].(string)

	tests := []struct {
		name   string
		body   string
		status int
	}{
		{"someone else's object", `{"type":"Update","object":{"id":"` + noteID + `","content":"bob's now"}}`, http.StatusForbidden},
		{"an unknown object", `{"type":"Update","object":{"id":"https://local.example/notes/none","content":"x"}}`, http.StatusNotFound},
		{"a remote object", `{"type":"Update","object":{"id":"https://remote.example/notes/1","content":"x"}}`, http.StatusNotFound},
		{"an object by IRI", `{"type":"Update","object":"` + noteID + `"}`, http.StatusBadRequest},
		{"an object without id", `{"type":"Update","object":{"content":"x"}}`, http.StatusBadRequest},
		{"the actor itself", `{"type":"Update","object":{"id":"https://local.example/users/bob","name":"B"}}`, http.StatusForbidden},
		{"a Delete of someone else's object", `{"type":"Delete","object":"` + noteID + `"}`, http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := c.post("bob", "bob", tt.body)
			assert.Equal(t, tt.status, w.Code, w.Body.String())
		})
	}
	_, note := e.stored(noteID)
	assert.Equal(t, "alice's", note["content"])
	assert.Empty(t, e.members(e.scheme.Collection(e.scheme.Actor("bob"), actor.Outbox), storage.Accepted))
}

func TestClientDelete(t *testing.T) {
	e := newEnv(t)
	e.user("alice")
	c := newClient(t, e)
	_, doc := c.created("alice", `{"type":"Note","content":"bye","to":["https://remote.example/users/bob"]}`)
	noteID := doc["object"].(map[string]any)["id"].(string)
	_, del := c.created("alice", `{"type":"Delete","object":"`+noteID+`"}`)
	assert.Equal(t, []any{"https://remote.example/users/bob"}, anyList(del["to"]))
	obj, tomb := e.stored(noteID)
	assert.False(t, obj.Deleted.IsZero())
	assert.Equal(t, "Tombstone", tomb["type"])
	w := c.post("alice", "alice", `{"type":"Update","object":{"id":"`+noteID+`","content":"back"}}`)
	assert.Equal(t, http.StatusGone, w.Code)
}

func TestClientFollowLikeBlockUndo(t *testing.T) {
	e := newEnv(t)
	alice := e.user("alice")
	c := newClient(t, e)
	following := e.scheme.Collection(alice, actor.Following)

	follow, _ := c.created("alice", `{"type":"Follow","object":"https://remote.example/users/bob"}`)
	m, ok := e.member(following, "https://remote.example/users/bob")
	require.True(t, ok)
	assert.Equal(t, storage.Pending, m.State)
	like, _ := c.created("alice", `{"type":"Like","object":"https://remote.example/notes/1"}`)
	assert.Equal(t, []string{"https://remote.example/notes/1"}, e.members(e.scheme.Collection(alice, actor.Liked), storage.Accepted))
	c.created("alice", `{"type":"Block","object":"https://remote.example/users/carol"}`)
	assert.Equal(t, []string{"https://remote.example/users/carol"}, e.members(e.scheme.Collection(alice, actor.Blocked), storage.Accepted))

	c.created("alice", `{"type":"Undo","object":"`+follow+`"}`)
	_, ok = e.member(following, "https://remote.example/users/bob")
	assert.False(t, ok)
	c.created("alice", `{"type":"Undo","object":"`+like+`"}`)
	assert.Empty(t, e.members(e.scheme.Collection(alice, actor.Liked), storage.Accepted))
}

func TestClientBadRequests(t *testing.T) {
	e := newEnv(t)
	e.user("alice")
	e.user("bob")
	c := newClient(t, e)
	note := `{"type":"Note","content":"hi"}`
	tests := []struct {
		name   string
		req    func() *http.Request
		status int
	}{
		{"GET", func() *http.Request {
			return httptest.NewRequest(http.MethodGet, origin+"/users/alice/outbox", nil)
		}, http.StatusMethodNotAllowed},
		{"not an outbox", func() *http.Request { return req(origin+"/users/alice/inbox", "alice", note) }, http.StatusNotFound},
		{"no such actor", func() *http.Request { return req(origin+"/users/nobody/outbox", "nobody", note) }, http.StatusNotFound},
		{"anonymous", func() *http.Request { return req(origin+"/users/alice/outbox", "", note) }, http.StatusUnauthorized},
		{"another actor's outbox", func() *http.Request { return req(origin+"/users/alice/outbox", "bob", note) }, http.StatusForbidden},
		{"another actor in the activity", func() *http.Request {
			return req(origin+"/users/alice/outbox", "alice", `{"type":"Like","actor":"https://local.example/users/bob","object":"https://remote.example/n"}`)
		}, http.StatusForbidden},
		{"an object attributed to another", func() *http.Request {
			return req(origin+"/users/alice/outbox", "alice", `{"type":"Note","attributedTo":"https://local.example/users/bob"}`)
		}, http.StatusForbidden},
		{"too large", func() *http.Request {
			return req(origin+"/users/alice/outbox", "alice", `{"type":"Note","content":"`+strings.Repeat("x", outbox.DefaultClientMaxBytes)+`"}`)
		}, http.StatusRequestEntityTooLarge},
		{"malformed", func() *http.Request { return req(origin+"/users/alice/outbox", "alice", `{"type":`) }, http.StatusBadRequest},
		{"not ActivityStreams", func() *http.Request { return req(origin+"/users/alice/outbox", "alice", `[1,2]`) }, http.StatusBadRequest},
		{"an IRI", func() *http.Request {
			return req(origin+"/users/alice/outbox", "alice", `"https://local.example/users/alice"`)
		}, http.StatusBadRequest},
		{"a Create of a link", func() *http.Request {
			return req(origin+"/users/alice/outbox", "alice", `{"type":"Create","object":"https://remote.example/n"}`)
		}, http.StatusBadRequest},
		{"not JSON", func() *http.Request {
			r := req(origin+"/users/alice/outbox", "alice", note)
			r.Header.Set("Content-Type", "text/plain")
			return r
		}, http.StatusUnsupportedMediaType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			c.h.ServeHTTP(w, tt.req())
			assert.Equal(t, tt.status, w.Code, w.Body.String())
			assert.Empty(t, w.Header().Get("Location"))
		})
	}
	assert.Equal(t, int64(0), e.depth(), "nothing was sent")
}

func req(url, who, body string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, url, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/activity+json")
	if who != "" {
		r.Header.Set("Authorization", "Bearer "+who)
	}
	return r
}

func TestNewClientHandlerValidates(t *testing.T) {
	e := newEnv(t)
	_, err := outbox.NewClientHandler(e.out, outbox.ClientOptions{})
	assert.Error(t, err)
	_, err = outbox.NewClientHandler(nil, outbox.ClientOptions{Authenticate: func(*http.Request) (string, error) { return "", nil }})
	assert.Error(t, err)
}

// The answer's Location dereferences: it is the id of what was stored.
func TestClientLocationIsTheStoredActivity(t *testing.T) {
	e := newEnv(t)
	e.user("alice")
	c := newClient(t, e)
	w := c.post("alice", "alice", `{"type":"Note","content":"hi"}`)
	require.Equal(t, http.StatusCreated, w.Code)
	o, err := e.mem.Objects.Get(e.ctx, w.Header().Get("Location"))
	require.NoError(t, err)
	var doc map[string]any
	require.NoError(t, json.Unmarshal(o.Data, &doc))
	assert.Equal(t, w.Header().Get("Location"), doc["id"])
}
