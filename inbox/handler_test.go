package inbox_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	ap "github.com/go-ap/activitypub"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fedi-go/fedi"
	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/internal/fedtest"
	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/storage/memory"
	"github.com/fedi-go/fedi/vocab"
)

// world is a fedi server with a local user, alice, and a remote server
// with bob and eve, two actors with keys of their own, and a second
// remote server, other, on another origin.
type world struct {
	srv        *fedtest.Server
	count      *fedtest.Counter
	rem, other *fedtest.Remote
	alice      *actor.Actor
	bob, eve   string
	carol      string // on other
	followID   string // set by followBob
}

func newWorld(t *testing.T, opts fedi.Options) *world {
	t.Helper()
	st, count := fedtest.Counting(memory.New())
	w := &world{count: count}
	w.srv = fedtest.New(t, fedtest.Config{Store: st, Options: opts})
	w.alice = w.srv.User(t, "alice")
	w.rem, w.other = fedtest.NewRemote(t), fedtest.NewRemote(t)
	w.bob, w.eve = w.rem.Actor(t, "bob", 0), w.rem.Actor(t, "eve", 1)
	w.carol = w.other.Actor(t, "carol", 2)
	return w
}

func (w *world) inbox() string  { return w.alice.IRI + "/inbox" }
func (w *world) shared() string { return w.srv.URL + "/inbox" }

// post signs body as the actor as and POSTs it to url.
func (w *world) post(t *testing.T, as, url string, body []byte) (int, string) {
	t.Helper()
	rem := w.rem
	if strings.HasPrefix(as, w.other.URL) {
		rem = w.other
	}
	return fedtest.Do(t, rem.Signed(t, as, url, body))
}

func (w *world) stored(t *testing.T, iri string) (storage.Object, bool) {
	t.Helper()
	o, err := w.srv.Store.Objects.Get(context.Background(), iri)
	if errors.Is(err, storage.ErrNotFound) {
		return storage.Object{}, false
	}
	require.NoError(t, err)
	return o, true
}

func note(id, by, content string) string {
	return fmt.Sprintf(`{"id":%q,"type":"Note","attributedTo":%q,"content":%q,"to":["https://www.w3.org/ns/activitystreams#Public"]}`, id, by, content)
}

func create(id, by, object string) []byte {
	return fedtest.JSON(`{"@context":"https://www.w3.org/ns/activitystreams","id":%q,"type":"Create","actor":%q,"object":%s,"to":["https://www.w3.org/ns/activitystreams#Public"]}`, id, by, object)
}

// TestInboxAccepts: the happy path: a Create{Note} is stored, once.
func TestInboxAccepts(t *testing.T) {
	w := newWorld(t, fedi.Options{})
	body := create(w.bob+"/create/1", w.bob, note(w.bob+"/notes/1", w.bob, "hello"))
	status, msg := w.post(t, w.bob, w.inbox(), body)
	require.Equal(t, http.StatusAccepted, status, msg)
	o, ok := w.stored(t, w.bob+"/notes/1")
	require.True(t, ok, "the note is stored")
	assert.Equal(t, w.bob, o.Owner)
	writes := w.count.State()

	// The same activity again, a replay or a retry: accepted, no effect.
	status, msg = w.post(t, w.bob, w.inbox(), body)
	require.Equal(t, http.StatusAccepted, status, msg)
	assert.Equal(t, writes, w.count.State(), "a replay changes nothing")
}

// TestInboxRefuses: every refusal answers its status with a short reason
// and leaves storage unchanged.
func TestInboxRefuses(t *testing.T) {
	type tc struct {
		name   string
		as     string // signer; "" means unsigned
		url    string // "" means alice's inbox
		body   func(w *world) []byte
		setup  func(t *testing.T, w *world)
		req    func(t *testing.T, w *world) *http.Request // overrides as/url/body
		status int
		reason string
	}
	noteOf := func(w *world) []byte {
		return create(w.bob+"/create/1", w.bob, note(w.bob+"/notes/1", w.bob, "hello"))
	}
	cases := []tc{
		{name: "unsigned", req: func(t *testing.T, w *world) *http.Request {
			r, _ := http.NewRequest(http.MethodPost, w.inbox(), bytes.NewReader(noteOf(w)))
			return r
		}, status: http.StatusUnauthorized, reason: "not signed"},
		{name: "body changed after signing", req: func(t *testing.T, w *world) *http.Request {
			r := w.rem.Signed(t, w.bob, w.inbox(), noteOf(w))
			forged := create(w.bob+"/create/1", w.bob, note(w.bob+"/notes/1", w.bob, "forged"))
			r.Body = nopCloser{bytes.NewReader(forged)}
			r.ContentLength = int64(len(forged))
			return r
		}, status: http.StatusUnauthorized, reason: "digest"},
		{name: "signed by another key than the actor's", req: func(t *testing.T, w *world) *http.Request {
			return fedtest.SignedWith(t, w.bob+"#main-key", fedtest.Key(3), w.inbox(), noteOf(w), 0)
		}, status: http.StatusUnauthorized, reason: "does not verify"},
		{name: "over the body cap", req: func(t *testing.T, w *world) *http.Request {
			big := bytes.Repeat([]byte(" "), 2<<20)
			return w.rem.Signed(t, w.bob, w.inbox(), big)
		}, status: http.StatusRequestEntityTooLarge, reason: "too large"},
		{name: "invalid JSON", as: "bob", body: func(w *world) []byte { return []byte(`{"type":"Create",`) },
			status: http.StatusBadRequest, reason: "malformed"},
		{name: "not an activity", as: "bob", body: func(w *world) []byte { return []byte(note(w.bob+"/notes/1", w.bob, "x")) },
			status: http.StatusBadRequest, reason: "not an activity"},
		{name: "key of one actor, activity of another", as: "eve", body: noteOf,
			status: http.StatusUnauthorized, reason: "does not belong to the actor"},
		{name: "activity id on a foreign origin", as: "bob", body: func(w *world) []byte {
			return create(w.carol+"/create/1", w.bob, note(w.bob+"/notes/1", w.bob, "x"))
		}, status: http.StatusForbidden, reason: "not on the actor's origin"},
		{name: "id longer than storage.MaxIRI", as: "bob", body: func(w *world) []byte {
			return create(w.bob+"/create/"+strings.Repeat("x", storage.MaxIRI), w.bob, note(w.bob+"/notes/1", w.bob, "x"))
		}, status: http.StatusBadRequest, reason: "too long"},
		{name: "created object attributed to another server's actor", as: "bob", body: func(w *world) []byte {
			return create(w.bob+"/create/1", w.bob, note(w.bob+"/notes/1", w.carol, "in carol's name"))
		}, status: http.StatusForbidden, reason: "attributed to an actor of another origin"},
		{name: "embedded object on a foreign origin that does not dereference", as: "bob", body: func(w *world) []byte {
			return create(w.bob+"/create/1", w.bob, note(w.carol+"/notes/404", w.bob, "x"))
		}, status: http.StatusForbidden, reason: "could not be fetched"},
		{name: "embedded foreign object whose origin says otherwise", as: "bob", setup: func(t *testing.T, w *world) {
			w.other.Put(t, w.carol+"/notes/2", note(w.carol+"/notes/2", w.carol, "carol's words"))
		}, body: func(w *world) []byte {
			// Bob embeds carol's note with his own name on it; carol's
			// server serves it attributed to carol.
			return create(w.bob+"/create/1", w.bob, note(w.carol+"/notes/2", w.bob, "bob's lie"))
		}, status: http.StatusForbidden, reason: "attributed to an actor of another origin"},
		{name: "Update by a non-owner", as: "eve", setup: func(t *testing.T, w *world) {
			w.mustPost(t, w.bob, create(w.bob+"/create/1", w.bob, note(w.bob+"/notes/1", w.bob, "bob's")))
		}, body: func(w *world) []byte {
			return fedtest.JSON(`{"id":%q,"type":"Update","actor":%q,"object":%s}`, w.eve+"/update/1", w.eve, note(w.bob+"/notes/1", w.eve, "eve's now"))
		}, status: http.StatusForbidden, reason: "does not own"},
		{name: "Delete by a non-owner", as: "eve", setup: func(t *testing.T, w *world) {
			w.mustPost(t, w.bob, create(w.bob+"/create/1", w.bob, note(w.bob+"/notes/1", w.bob, "bob's")))
		}, body: func(w *world) []byte {
			return fedtest.JSON(`{"id":%q,"type":"Delete","actor":%q,"object":%q}`, w.eve+"/delete/1", w.eve, w.bob+"/notes/1")
		}, status: http.StatusForbidden, reason: "does not own"},
		{name: "Delete of one of our objects", as: "bob", setup: func(t *testing.T, w *world) {
			w.localNote(t, "mine")
		}, body: func(w *world) []byte {
			return fedtest.JSON(`{"id":%q,"type":"Delete","actor":%q,"object":%q}`, w.bob+"/delete/1", w.bob, w.alice.IRI+"/note/mine")
		}, status: http.StatusForbidden, reason: "does not own"},
		{name: "Undo of someone else's Like, by IRI", as: "eve", setup: func(t *testing.T, w *world) {
			w.localNote(t, "liked")
			w.mustPost(t, w.bob, fedtest.JSON(`{"id":%q,"type":"Like","actor":%q,"object":%q}`, w.bob+"/like/1", w.bob, w.alice.IRI+"/note/liked"))
		}, body: func(w *world) []byte {
			return fedtest.JSON(`{"id":%q,"type":"Undo","actor":%q,"object":%q}`, w.eve+"/undo/1", w.eve, w.bob+"/like/1")
		}, status: http.StatusForbidden, reason: "own activities"},
		{name: "Undo of someone else's Like, embedded", as: "eve", setup: func(t *testing.T, w *world) {
			w.localNote(t, "liked")
			w.mustPost(t, w.bob, fedtest.JSON(`{"id":%q,"type":"Like","actor":%q,"object":%q}`, w.bob+"/like/1", w.bob, w.alice.IRI+"/note/liked"))
		}, body: func(w *world) []byte {
			return fedtest.JSON(`{"id":%q,"type":"Undo","actor":%q,"object":{"id":%q,"type":"Like","actor":%q,"object":%q}}`,
				w.eve+"/undo/1", w.eve, w.bob+"/like/1", w.bob, w.alice.IRI+"/note/liked")
		}, status: http.StatusForbidden, reason: "own activities"},
		{name: "Undo of an activity embedded as someone else's, not stored", as: "eve", body: func(w *world) []byte {
			return fedtest.JSON(`{"id":%q,"type":"Undo","actor":%q,"object":{"id":%q,"type":"Follow","actor":%q,"object":%q}}`,
				w.eve+"/undo/2", w.eve, w.bob+"/follow/unknown", w.bob, w.alice.IRI)
		}, status: http.StatusForbidden, reason: "own activities"},
		{name: "Accept of a Follow never sent", as: "bob", body: func(w *world) []byte {
			return fedtest.JSON(`{"id":%q,"type":"Accept","actor":%q,"object":%q}`, w.bob+"/accept/1", w.bob, w.alice.IRI+"/follow/never")
		}, status: http.StatusUnprocessableEntity, reason: "never sent"},
		{name: "Accept of alice's Follow of someone else", as: "eve", setup: func(t *testing.T, w *world) {
			w.followBob(t)
		}, body: func(w *world) []byte {
			return fedtest.JSON(`{"id":%q,"type":"Accept","actor":%q,"object":%q}`, w.eve+"/accept/1", w.eve, w.followID)
		}, status: http.StatusForbidden, reason: "Follow of another actor"},
		{name: "personal inbox of an unknown user", as: "bob", url: "/users/nobody/inbox", body: noteOf,
			status: http.StatusNotFound, reason: "no such inbox"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t, fedi.Options{})
			if c.setup != nil {
				c.setup(t, w)
			}
			before := w.count.State()
			var req *http.Request
			if c.req != nil {
				req = c.req(t, w)
			} else {
				url := w.inbox()
				if c.url != "" {
					url = w.srv.URL + c.url
				}
				as := map[string]string{"bob": w.bob, "eve": w.eve}[c.as]
				req = w.rem.Signed(t, as, url, c.body(w))
			}
			status, msg := fedtest.Do(t, req)
			assert.Equal(t, c.status, status, msg)
			assert.Contains(t, msg, c.reason)
			assert.Equal(t, before, w.count.State(), "storage is unchanged")
		})
	}
}

// TestInboxMethod: the handler answers POST only (mounted on a mux, GETs
// of the same path usually go elsewhere).
func TestInboxMethod(t *testing.T) {
	w := newWorld(t, fedi.Options{})
	rec := httptest.NewRecorder()
	w.srv.Inbox.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, w.inbox(), nil))
	assert.Equal(t, http.StatusMethodNotAllowed, rec.Code)
	assert.Equal(t, http.MethodPost, rec.Header().Get("Allow"))
	assert.Contains(t, rec.Body.String(), "only POST")
}

// followBob makes alice send a Follow of bob (not delivered).
func (w *world) followBob(t *testing.T) {
	t.Helper()
	f := vocab.NewActivity("Follow", "", ap.IRI(w.alice.IRI), ap.IRI(w.bob))
	id, err := w.srv.Send(context.Background(), f)
	require.NoError(t, err)
	w.followID = id
}

func (w *world) mustPost(t *testing.T, as string, body []byte) {
	t.Helper()
	status, msg := w.post(t, as, w.inbox(), body)
	require.Equal(t, http.StatusAccepted, status, msg)
}

// localNote stores a public note of alice's, at alice.IRI/note/name.
func (w *world) localNote(t *testing.T, name string) {
	t.Helper()
	id := w.alice.IRI + "/note/" + name
	err := w.srv.Store.Objects.Put(context.Background(), storage.Object{IRI: id, Type: "Note", Owner: w.alice.IRI,
		Data: []byte(note(id, w.alice.IRI, name))})
	require.NoError(t, err)
}

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }
