package serve_test

import (
	"context"
	"crypto/ed25519"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"testing"

	ap "github.com/go-ap/activitypub"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/serve"
	"github.com/fedi-go/fedi/signature"
	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/vocab"
)

const browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

var htmlPage = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write([]byte("<p>a page</p>"))
})

func TestContentNegotiation(t *testing.T) {
	e := newEnv(t)
	alice := e.user(actor.Actor{Name: "alice"})
	_, note := e.post(alice.IRI, vocab.PublicIRI)
	withHTML, withoutHTML := e.handler(serve.Options{HTML: htmlPage}), e.handler(serve.Options{})
	tests := []struct {
		accept string
		html   bool // the handler has an HTML handler
		status int
		ctype  string
	}{
		{"application/activity+json", false, 200, serve.ActivityJSON},
		{`application/ld+json; profile="https://www.w3.org/ns/activitystreams"`, false, 200, serve.LDJSON},
		{"application/ld+json", false, 200, serve.LDJSON},
		{"application/json", false, 200, serve.ActivityJSON},
		{"*/*", false, 200, serve.ActivityJSON},
		{"", false, 200, serve.ActivityJSON},
		{"application/activity+json, application/ld+json;q=0.5", false, 200, serve.ActivityJSON},
		{`application/activity+json;q=0.5, application/ld+json; profile="https://www.w3.org/ns/activitystreams"`, false, 200, serve.LDJSON},
		{"text/html", true, 200, "text/html; charset=utf-8"},
		{"text/html", false, 406, "text/plain; charset=utf-8"},
		{"text/html, application/activity+json", true, 200, serve.ActivityJSON},
		{"text/html, application/activity+json", false, 200, serve.ActivityJSON},
		{"text/html, application/activity+json;q=0.9", true, 200, "text/html; charset=utf-8"},
		{browser, true, 200, "text/html; charset=utf-8"},
		{browser, false, 200, serve.ActivityJSON}, // it accepts */*
		{"image/png", false, 406, "text/plain; charset=utf-8"},
		{"application/activity+json;q=0", false, 406, "text/plain; charset=utf-8"},
	}
	for _, tt := range tests {
		name := tt.accept + " html=" + strconv.FormatBool(tt.html)
		t.Run(name, func(t *testing.T) {
			h := withoutHTML
			if tt.html {
				h = withHTML
			}
			for _, url := range []string{alice.IRI, note, alice.IRI + "/outbox"} {
				w := e.get(h, url, "", tt.accept)
				assert.Equal(t, tt.status, w.Code, url)
				assert.Equal(t, tt.ctype, w.Header().Get("Content-Type"), url)
				assert.Contains(t, w.Header().Values("Vary"), "Accept", url)
				if tt.status == 200 && tt.ctype != "text/html; charset=utf-8" {
					assert.Equal(t, strconv.Itoa(w.Body.Len()), w.Header().Get("Content-Length"))
				}
			}
		})
	}
}

func TestActorDocument(t *testing.T) {
	e := newEnv(t)
	profile := vocab.NewActor("Person", "")
	profile.Name = vocab.Text("Alice A.")
	profile.Summary = vocab.Text("<p>hi</p>")
	alice := e.user(actor.Actor{Name: "alice", Profile: profile})
	locked := e.user(actor.Actor{Name: "locked", Type: "Group", ManuallyApprovesFollowers: true})
	h := e.handler(serve.Options{})

	doc := e.doc(h, alice.IRI, "", 200)
	assert.Contains(t, strs(doc["@context"]), "https://www.w3.org/ns/activitystreams")
	assert.Contains(t, list(doc["@context"]), "https://w3id.org/security/v1", "publicKey is a term of the security vocabulary")
	assert.Equal(t, alice.IRI, doc["id"])
	assert.Equal(t, "Person", doc["type"])
	assert.Equal(t, "alice", doc["preferredUsername"])
	assert.Equal(t, "Alice A.", doc["name"])
	assert.Equal(t, "<p>hi</p>", doc["summary"])
	assert.Equal(t, alice.IRI+"/inbox", doc["inbox"])
	assert.Equal(t, alice.IRI+"/outbox", doc["outbox"])
	assert.Equal(t, alice.IRI+"/followers", doc["followers"])
	assert.Equal(t, alice.IRI+"/following", doc["following"])
	assert.Equal(t, map[string]any{"sharedInbox": origin + "/inbox"}, doc["endpoints"])
	assert.Equal(t, false, doc["manuallyApprovesFollowers"])
	key, _ := doc["publicKey"].(map[string]any)
	require.NotNil(t, key, "publicKey")
	assert.Equal(t, alice.IRI+"#main-key", key["id"])
	assert.Equal(t, alice.IRI, key["owner"])
	pemText, _ := key["publicKeyPem"].(string)
	pub, err := signature.ParsePublicKeyPEM(pemText)
	require.NoError(t, err)
	ks, err := e.st.Keys.Keys(e.ctx, alice.IRI)
	require.NoError(t, err)
	priv, err := ks[0].PrivateKey()
	require.NoError(t, err)
	assert.True(t, pub.(ed25519.PublicKey).Equal(priv.Public()), "the published key is the actor's")

	doc = e.doc(h, locked.IRI, "", 200)
	assert.Equal(t, "Group", doc["type"])
	assert.Equal(t, true, doc["manuallyApprovesFollowers"])
}

func TestGoneAfterDelete(t *testing.T) {
	e := newEnv(t)
	alice := e.user(actor.Actor{Name: "alice"})
	_, note := e.post(alice.IRI, vocab.PublicIRI)
	h := e.handler(serve.Options{})
	e.doc(h, note, "", 200)
	e.doc(h, note+"/likes", "", 200)

	e.send(vocab.NewActivity("Delete", "", ap.IRI(alice.IRI), ap.IRI(note)))
	assert.Equal(t, http.StatusNotFound, e.get(h, note+"/likes", "", serve.ActivityJSON).Code, "its collections went with it")
	doc := e.doc(h, note, "", 410)
	assert.Equal(t, "Tombstone", doc["type"])
	assert.Equal(t, note, doc["id"])
	assert.Equal(t, "Note", doc["formerType"])
	assert.Contains(t, doc, "deleted")

	e.send(vocab.NewActivity("Delete", "", ap.IRI(alice.IRI), ap.IRI(alice.IRI)))
	doc = e.doc(h, alice.IRI, "", 410)
	assert.Equal(t, "Tombstone", doc["type"])
	assert.Equal(t, alice.IRI, doc["id"])
	assert.Equal(t, "Person", doc["formerType"])
	assert.Contains(t, doc, "deleted")
	for _, name := range []string{"outbox", "followers", "following"} {
		assert.Equal(t, http.StatusNotFound, e.get(h, alice.IRI+"/"+name, "", serve.ActivityJSON).Code, name)
	}
}

// walk follows first and next from a collection to its last page, and
// prev back to the first, and returns the items of each page.
func walk(t *testing.T, e *env, h http.Handler, iri, signer string) (total float64, forward, backward [][]string) {
	t.Helper()
	col := e.doc(h, iri, signer, 200)
	assert.Equal(t, "OrderedCollection", col["type"])
	assert.Equal(t, iri, col["id"])
	total, _ = col["totalItems"].(float64)
	assert.NotContains(t, col, "orderedItems", "the items are on the pages")
	next, _ := col["first"].(string)
	require.NotEmpty(t, next, "first")
	var ids []string
	for next != "" {
		page := e.doc(h, next, signer, 200)
		assert.Equal(t, "OrderedCollectionPage", page["type"])
		assert.Equal(t, next, page["id"])
		assert.Equal(t, iri, page["partOf"])
		assert.Equal(t, total, page["totalItems"])
		if len(ids) == 0 {
			assert.NotContains(t, page, "prev", "the first page has no prev")
		} else {
			assert.Equal(t, ids[len(ids)-1], page["prev"], "prev is the page before")
		}
		ids = append(ids, next)
		forward = append(forward, strs(page["orderedItems"]))
		next, _ = page["next"].(string)
		require.Less(t, len(ids), 100, "a next loop")
	}
	prev := ids[len(ids)-1]
	for prev != "" {
		page := e.doc(h, prev, signer, 200)
		backward = append(backward, strs(page["orderedItems"]))
		prev, _ = page["prev"].(string)
		require.LessOrEqual(t, len(backward), len(ids), "a prev loop")
	}
	slices.Reverse(backward)
	return total, forward, backward
}

func TestCollectionPaging(t *testing.T) {
	e := newEnv(t)
	alice := e.user(actor.Actor{Name: "alice"})
	var sent []string
	for range 45 {
		id, _ := e.post(alice.IRI, vocab.PublicIRI)
		sent = append(sent, id)
	}
	slices.Reverse(sent) // newest first
	h := e.handler(serve.Options{PageSize: 20})

	total, forward, backward := walk(t, e, h, alice.IRI+"/outbox", "")
	assert.Equal(t, float64(45), total)
	assert.Equal(t, [][]string{sent[:20], sent[20:40], sent[40:]}, forward, "every item once, in order")
	assert.Equal(t, forward, backward, "prev walks back through the same pages")

	w := e.get(h, alice.IRI+"/outbox?page=true&cursor=garbage", "", serve.ActivityJSON)
	assert.Equal(t, http.StatusBadRequest, w.Code)
}

func TestCollectionEmpty(t *testing.T) {
	e := newEnv(t)
	alice := e.user(actor.Actor{Name: "alice"})
	h := e.handler(serve.Options{})
	total, forward, _ := walk(t, e, h, alice.IRI+"/following", "")
	assert.Equal(t, float64(0), total)
	assert.Equal(t, [][]string{nil}, forward)
	page := e.doc(h, alice.IRI+"/following?page=true", "", 200)
	assert.Equal(t, []any{}, page["orderedItems"], "an empty page lists nothing, not null")
}

func TestFollowersCountOnlyAndPending(t *testing.T) {
	e := newEnv(t)
	alice := e.user(actor.Actor{Name: "alice"})
	followers := alice.IRI + "/followers"
	for _, m := range []storage.Member{
		{IRI: "https://remote.example/users/a"},
		{IRI: "https://remote.example/users/b"},
		{IRI: "https://remote.example/users/pending", State: storage.Pending},
	} {
		require.NoError(t, e.st.Collections.Add(e.ctx, followers, m))
	}

	total, forward, _ := walk(t, e, e.handler(serve.Options{}), followers, "")
	assert.Equal(t, float64(2), total, "pending requests are not counted")
	assert.Equal(t, [][]string{{"https://remote.example/users/b", "https://remote.example/users/a"}}, forward, "nor listed")

	h := e.handler(serve.Options{CountOnly: []string{actor.Followers, actor.Following}})
	for _, url := range []string{followers, followers + "?page=true"} {
		doc := e.doc(h, url, "", 200)
		assert.Equal(t, "OrderedCollection", doc["type"], url)
		assert.Equal(t, float64(2), doc["totalItems"], url)
		assert.NotContains(t, doc, "first", url)
		assert.NotContains(t, doc, "orderedItems", url)
	}
	_, forward, _ = walk(t, e, h, alice.IRI+"/outbox", "")
	assert.Equal(t, [][]string{nil}, forward, "other collections are listed")
}

func TestLikesListTheLikes(t *testing.T) {
	e := newEnv(t)
	alice, bob := e.user(actor.Actor{Name: "alice"}), e.user(actor.Actor{Name: "bob"})
	_, note := e.post(alice.IRI, vocab.PublicIRI)
	like := e.send(vocab.NewActivity("Like", "", ap.IRI(bob.IRI), ap.IRI(note)))
	total, forward, _ := walk(t, e, e.handler(serve.Options{}), note+"/likes", "")
	assert.Equal(t, float64(1), total)
	assert.Equal(t, [][]string{{like}}, forward)
}

// TestVisibility: what is not public is served to its addressees, to the
// followers it addresses, and to nobody else; the outbox lists to each
// what it may see.
func TestVisibility(t *testing.T) {
	e := newEnv(t)
	alice := e.user(actor.Actor{Name: "alice"})
	follower, addressee, stranger, pending := e.remote("follower"), e.remote("addressee"), e.remote("stranger"), e.remote("pending")
	followers := alice.IRI + "/followers"
	require.NoError(t, e.st.Collections.Add(e.ctx, followers, storage.Member{IRI: follower}))
	require.NoError(t, e.st.Collections.Add(e.ctx, followers, storage.Member{IRI: pending, State: storage.Pending}))
	publicCreate, publicNote := e.post(alice.IRI, vocab.PublicIRI)
	fCreate, fNote := e.post(alice.IRI, ap.IRI(followers))
	dCreate, dNote := e.post(alice.IRI, ap.IRI(addressee))
	h := e.handler(serve.Options{})

	tests := []struct {
		signer string
		sees   []string // of the notes and Creates
	}{
		{"", []string{publicCreate, publicNote}},
		{stranger, []string{publicCreate, publicNote}},
		{pending, []string{publicCreate, publicNote}},
		{follower, []string{publicCreate, publicNote, fCreate, fNote}},
		{addressee, []string{publicCreate, publicNote, dCreate, dNote}},
	}
	for _, tt := range tests {
		t.Run("as "+tt.signer, func(t *testing.T) {
			for _, iri := range []string{publicCreate, publicNote, fCreate, fNote, dCreate, dNote} {
				w := e.get(h, iri, tt.signer, serve.ActivityJSON)
				if slices.Contains(tt.sees, iri) {
					assert.Equal(t, http.StatusOK, w.Code, iri)
				} else {
					assert.Equal(t, http.StatusNotFound, w.Code, iri)
					assert.NotContains(t, w.Body.String(), "hello", iri)
				}
			}
			page := e.doc(h, alice.IRI+"/outbox?page=true", tt.signer, 200)
			var want []string
			for _, id := range []string{dCreate, fCreate, publicCreate} {
				if slices.Contains(tt.sees, id) {
					want = append(want, id)
				}
			}
			assert.Equal(t, want, strs(page["orderedItems"]), "the outbox lists what the signer may see")
		})
	}
}

func TestRequireSignature(t *testing.T) {
	e := newEnv(t)
	alice := e.user(actor.Actor{Name: "alice"})
	_, note := e.post(alice.IRI, vocab.PublicIRI)
	bob := e.remote("bob")
	h := e.handler(serve.Options{RequireSignature: true})

	tests := []struct {
		name   string
		url    string
		signer string
		status int
	}{
		{"an unsigned object", note, "", http.StatusUnauthorized},
		{"an unsigned collection", alice.IRI + "/outbox", "", http.StatusUnauthorized},
		{"an unsigned page", alice.IRI + "/outbox?page=true", "", http.StatusUnauthorized},
		{"an unsigned unknown IRI", alice.IRI + "/nothing", "", http.StatusUnauthorized},
		{"an unsigned actor document", alice.IRI, "", http.StatusOK},
		{"a signed object", note, bob, http.StatusOK},
		{"a signed collection", alice.IRI + "/outbox", bob, http.StatusOK},
		{"a signed actor document", alice.IRI, bob, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := e.get(h, tt.url, tt.signer, serve.ActivityJSON)
			assert.Equal(t, tt.status, w.Code, w.Body.String())
		})
	}

	_, err := serve.New(serve.Options{Registry: reg, Store: e.st, Actors: e.actors, Scheme: e.scheme, RequireSignature: true})
	assert.Error(t, err, "RequireSignature needs a Verifier")
}

func TestBadSignature(t *testing.T) {
	e := newEnv(t)
	alice := e.user(actor.Actor{Name: "alice"})
	_, note := e.post(alice.IRI, vocab.PublicIRI)
	h := e.handler(serve.Options{})
	r := httptest.NewRequest(http.MethodGet, note, nil)
	r.Header.Set("Signature", `keyId="https://remote.example/users/nobody#main-key",headers="(request-target) host date",signature="AAAA"`)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	assert.Equal(t, http.StatusUnauthorized, w.Code, "a signature that does not verify is refused, not taken as anonymous")
}

func TestBlockedSigner(t *testing.T) {
	e := newEnv(t)
	alice := e.user(actor.Actor{Name: "alice"})
	_, note := e.post(alice.IRI, vocab.PublicIRI)
	bad, good := e.remote("bad"), e.remote("good")
	h := e.handler(serve.Options{Blocked: func(_ context.Context, iri string) (bool, error) {
		if iri == "https://remote.example/users/broken" {
			return false, errors.New("the blocklist is down")
		}
		return iri == bad, nil
	}})
	assert.Equal(t, http.StatusForbidden, e.get(h, note, bad, serve.ActivityJSON).Code)
	assert.Equal(t, http.StatusForbidden, e.get(h, alice.IRI, bad, serve.ActivityJSON).Code)
	assert.Equal(t, http.StatusOK, e.get(h, note, good, serve.ActivityJSON).Code)
	assert.Equal(t, http.StatusOK, e.get(h, note, "", serve.ActivityJSON).Code)
}

func TestMethods(t *testing.T) {
	e := newEnv(t)
	alice := e.user(actor.Actor{Name: "alice"})
	h := e.handler(serve.Options{})

	r := httptest.NewRequest(http.MethodHead, alice.IRI, nil)
	r.Header.Set("Accept", serve.ActivityJSON)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	assert.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, serve.ActivityJSON, w.Header().Get("Content-Type"))
	get := e.get(h, alice.IRI, "", serve.ActivityJSON)
	assert.Equal(t, strconv.Itoa(get.Body.Len()), w.Header().Get("Content-Length"), "HEAD tells the length of the GET")
	assert.Zero(t, w.Body.Len())

	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete} {
		r := httptest.NewRequest(m, alice.IRI, nil)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		assert.Equal(t, http.StatusMethodNotAllowed, w.Code, m)
		assert.Equal(t, "GET, HEAD", w.Header().Get("Allow"), m)
	}
}

func TestNotFound(t *testing.T) {
	e := newEnv(t)
	alice := e.user(actor.Actor{Name: "alice"})
	remote := "https://remote.example/notes/1"
	require.NoError(t, e.st.Objects.Put(e.ctx, storage.Object{IRI: remote, Type: "Note", Owner: "https://remote.example/users/x",
		Data: []byte(`{"id":"https://remote.example/notes/1","type":"Note","to":"https://www.w3.org/ns/activitystreams#Public"}`)}))
	h := e.handler(serve.Options{})
	for _, url := range []string{
		origin + "/users/nobody",
		origin + "/users/nobody/outbox",
		alice.IRI + "/nothing",
		alice.IRI + "/inbox", // never served
		alice.IRI + "/blocked",
	} {
		assert.Equal(t, http.StatusNotFound, e.get(h, url, "", serve.ActivityJSON).Code, url)
	}
}

func TestNewValidates(t *testing.T) {
	e := newEnv(t)
	for name, o := range map[string]serve.Options{
		"no registry":   {Store: e.st, Actors: e.actors, Scheme: e.scheme},
		"no store":      {Registry: reg, Actors: e.actors, Scheme: e.scheme},
		"no actors":     {Registry: reg, Store: e.st, Scheme: e.scheme},
		"no scheme":     {Registry: reg, Store: e.st, Actors: e.actors},
		"page too long": {Registry: reg, Store: e.st, Actors: e.actors, Scheme: e.scheme, PageSize: storage.MaxPageLimit + 1},
	} {
		_, err := serve.New(o)
		assert.Error(t, err, name)
	}
}

// TestNoTypeIsPublicByItself: an object is public by its addressing, not
// its type, even one typed Tombstone that was never deleted.
func TestNoTypeIsPublicByItself(t *testing.T) {
	e := newEnv(t)
	alice := e.user(actor.Actor{Name: "alice"})
	bob := e.remote("bob")
	tomb := vocab.NewObject("Tombstone", "")
	tomb.Content = vocab.Text("for bob only")
	c := vocab.NewActivity("Create", "", ap.IRI(alice.IRI), tomb)
	c.To = ap.ItemCollection{ap.IRI(bob)}
	e.send(c)
	h := e.handler(serve.Options{})
	assert.Equal(t, http.StatusNotFound, e.get(h, string(tomb.ID), "", serve.ActivityJSON).Code)
	assert.Equal(t, http.StatusOK, e.get(h, string(tomb.ID), bob, serve.ActivityJSON).Code)
}
