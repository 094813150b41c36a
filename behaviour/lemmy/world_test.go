package lemmy_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/fedi-go/fedi"
	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/behaviour/lemmy"
	"github.com/fedi-go/fedi/internal/fedtest"
	"github.com/fedi-go/fedi/internal/testpayload"
	"github.com/fedi-go/fedi/outbox"
	"github.com/fedi-go/fedi/signature"
	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/storage/memory"
)

// world is our server, with a community (main, created by alice, its
// moderator) and two more local users (carol, dave); a remote server
// standing for the Lemmy instances of the corpus (ds9 and enterprise
// users: lemmy_alpha, lemmy_beta, eve); and another server with a remote
// community (tenforward, moderated by picard) that our users follow.
type world struct {
	srv           *fedtest.Server
	count         *fedtest.Counter
	act           lemmy.Actions
	alice, carol  *actor.Actor
	dave          *actor.Actor
	main          string // our community
	rem           *fedtest.Remote
	alpha, beta   string // lemmy_alpha, lemmy_beta
	eve           string
	ent           *fedtest.Remote
	ten           string // the remote community
	picard, riker string // on ent: a moderator of ten, and not
	failed        *failures
	// repl rewrites the corpus IRIs to this world's: payloads about our
	// community (ours), or about the remote one (theirs).
	ours, theirs *strings.Replacer
}

func newWorld(t *testing.T) *world {
	t.Helper()
	ctx := context.Background()
	st, count := fedtest.Counting(memory.New())
	w := &world{count: count}
	w.failed = &failures{}
	w.srv = fedtest.New(t, fedtest.Config{Store: st, Options: fedi.Options{Worker: outbox.WorkerOptions{Observe: w.failed.observe}},
		Setup: func(f *fedi.Federation) {
			lemmy.Register(f.Mux, lemmy.Options{Outbox: f.Outbox, Actors: f.Actors, Remote: f.Remote})
		}})
	w.act = lemmy.Actions{Store: w.srv.Store, Outbox: w.srv.Outbox, Actors: w.srv.LocalActors}
	w.alice, w.carol, w.dave = w.srv.User(t, "alice"), w.srv.User(t, "carol"), w.srv.User(t, "dave")
	c, err := w.act.CreateCommunity(ctx, w.alice.IRI, "main", "Main", "<p>the main community</p>")
	require.NoError(t, err)
	w.main = c.IRI

	w.rem = fedtest.NewRemote(t)
	w.alpha, w.beta, w.eve = w.rem.Actor(t, "lemmy_alpha", 0), w.rem.Actor(t, "lemmy_beta", 1), w.rem.Actor(t, "eve", 2)

	w.ent = fedtest.NewRemote(t)
	w.picard, w.riker = w.ent.Actor(t, "picard", 0), w.ent.Actor(t, "riker", 1)
	w.ten = w.ent.Actor(t, "tenforward", 3)
	pem, err := signature.PublicKeyPEM(fedtest.Key(3).Public())
	require.NoError(t, err)
	w.ent.Put(t, w.ten, map[string]any{
		"@context":          []string{"https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"},
		"id":                w.ten,
		"type":              "Group",
		"preferredUsername": "tenforward",
		"inbox":             w.ten + "/inbox",
		"outbox":            w.ten + "/outbox",
		"followers":         w.ten + "/followers",
		"attributedTo":      w.ten + "/moderators",
		"endpoints":         map[string]string{"sharedInbox": w.ent.URL + "/inbox"},
		"publicKey":         map[string]string{"id": w.ten + "#main-key", "owner": w.ten, "publicKeyPem": pem},
	})
	mods := strings.NewReplacer("https://enterprise.lemmy.ml/c/tenforward", w.ten, "https://enterprise.lemmy.ml/u/picard", w.picard).
		Replace(string(read(t, "lemmy-assets__collections_group_moderators.json")))
	w.ent.Put(t, w.ten+"/moderators", mods)

	// Carol follows the remote community.
	require.NoError(t, w.srv.Store.Collections.Add(ctx, w.srv.Scheme.Collection(w.carol.IRI, actor.Following), storage.Member{IRI: w.ten}))

	w.ours = strings.NewReplacer(
		"https://enterprise.lemmy.ml/c/main", w.main, "http://enterprise.lemmy.ml/c/main", w.main,
		"https://enterprise.lemmy.ml/c/tenforward", w.main, "http://enterprise.lemmy.ml/u/main", w.main,
		"http://lemmy-alpha:8541/c/main", w.main, "https://lemmy-alpha/c/test", w.main, "http://lemmy-alpha/c/main", w.main,
		"https://lemmy-alpha/u/", w.rem.URL+"/users/", "https://lemmy-alpha/", w.rem.URL+"/",
		"https://enterprise.lemmy.ml/u/nutomic", w.rem.URL+"/users/eve", "https://voyager.lemmy.ml/u/nutomic", w.carol.IRI,
		"http://ds9.lemmy.ml/u/", w.rem.URL+"/users/", "http://enterprise.lemmy.ml/u/", w.rem.URL+"/users/",
		"http://lemmy-alpha:8541/u/", w.rem.URL+"/users/",
		"http://ds9.lemmy.ml/", w.rem.URL+"/", "http://enterprise.lemmy.ml/", w.rem.URL+"/",
		"https://enterprise.lemmy.ml/", w.rem.URL+"/", "http://lemmy-alpha:8541/", w.rem.URL+"/")
	w.theirs = strings.NewReplacer(
		"https://enterprise.lemmy.ml/c/main", w.ten, "http://enterprise.lemmy.ml/c/main", w.ten,
		"https://enterprise.lemmy.ml/c/tenforward", w.ten, "http://enterprise.lemmy.ml/u/main", w.ten,
		"http://enterprise.lemmy.ml/u/lemmy_beta", w.riker,
		"http://ds9.lemmy.ml/u/", w.rem.URL+"/users/", "http://ds9.lemmy.ml/", w.rem.URL+"/",
		"http://enterprise.lemmy.ml/", w.ent.URL+"/", "https://enterprise.lemmy.ml/", w.ent.URL+"/")
	return w
}

// failures records the deliveries a worker retried or gave up on.
type failures struct {
	mu   sync.Mutex
	list []outbox.Event
}

func (f *failures) observe(e outbox.Event) {
	if e.Kind == outbox.Failed || e.Kind == outbox.Retried {
		f.mu.Lock()
		f.list = append(f.list, e)
		f.mu.Unlock()
	}
}

func (f *failures) events() []outbox.Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]outbox.Event(nil), f.list...)
}

// read returns a corpus payload: the package's testdata, or the
// repository's testdata/payloads (lemmy__ prefixed).
func read(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if errors.Is(err, os.ErrNotExist) {
		return testpayload.Read(t, "lemmy__"+name)
	}
	require.NoError(t, err)
	return b
}

// payload returns a corpus payload with its IRIs rewritten by r, and
// edited by the edits: a map from a dotted path ("object.id") to the
// new value (nil deletes).
func payload(t *testing.T, r *strings.Replacer, name string, edits map[string]any) []byte {
	t.Helper()
	return edit(t, []byte(r.Replace(string(read(t, name)))), edits)
}

func edit(t *testing.T, body []byte, edits map[string]any) []byte {
	t.Helper()
	if len(edits) == 0 {
		return body
	}
	var doc map[string]any
	require.NoError(t, json.Unmarshal(body, &doc))
	for path, v := range edits {
		m, keys := doc, strings.Split(path, ".")
		for _, k := range keys[:len(keys)-1] {
			next, ok := m[k].(map[string]any)
			require.True(t, ok, "%s: no object at %s", path, k)
			m = next
		}
		if v == nil {
			delete(m, keys[len(keys)-1])
		} else {
			m[keys[len(keys)-1]] = v
		}
	}
	out, err := json.Marshal(doc)
	require.NoError(t, err)
	return out
}

// post delivers body, signed by as (an actor of rem or ent), to our
// shared inbox.
func (w *world) post(t *testing.T, as string, body []byte) (int, string) {
	t.Helper()
	return w.postTo(t, as, w.srv.URL+"/inbox", body)
}

// postTo delivers body, signed by as, to url.
func (w *world) postTo(t *testing.T, as, url string, body []byte) (int, string) {
	t.Helper()
	r := w.rem
	if strings.HasPrefix(as, w.ent.URL) {
		r = w.ent
	}
	return fedtest.Do(t, r.Signed(t, as, url, body))
}

// accept delivers body and requires a 202.
func (w *world) accept(t *testing.T, as string, body []byte) {
	t.Helper()
	status, msg := w.post(t, as, body)
	require.Equal(t, http.StatusAccepted, status, msg)
}

// votes returns an item's votes.
func (w *world) votes(t *testing.T, item string) [2]int {
	t.Helper()
	up, down, err := lemmy.Votes(context.Background(), w.srv.Store, w.srv.Scheme, item)
	require.NoError(t, err)
	return [2]int{up, down}
}

func (w *world) hidden(t *testing.T, item string) bool {
	t.Helper()
	h, err := lemmy.Hidden(context.Background(), w.srv.Store, w.srv.Scheme, item)
	require.NoError(t, err)
	return h
}

func (w *world) in(t *testing.T, coll, member string) bool {
	t.Helper()
	_, err := w.srv.Store.Collections.Contains(context.Background(), coll, member)
	if errors.Is(err, storage.ErrNotFound) {
		return false
	}
	require.NoError(t, err)
	return true
}

// announced returns the activities our community announced, newest
// first: the ids of the embedded activities.
func (w *world) announced(t *testing.T) []string {
	t.Helper()
	ctx := context.Background()
	p, err := w.srv.Store.Collections.Page(ctx, w.srv.Scheme.Collection(w.main, actor.Outbox), storage.PageOptions{Limit: 100})
	require.NoError(t, err)
	var out []string
	for _, m := range p.Members {
		o, err := w.srv.Store.Objects.Get(ctx, m.IRI)
		require.NoError(t, err)
		var doc struct {
			Type   string
			Object json.RawMessage
		}
		require.NoError(t, json.Unmarshal(o.Data, &doc))
		if doc.Type != "Announce" {
			continue
		}
		var inner struct{ ID string }
		if json.Unmarshal(doc.Object, &inner) != nil || inner.ID == "" {
			_ = json.Unmarshal(doc.Object, &inner.ID)
		}
		out = append(out, inner.ID)
	}
	return out
}

// seedPost has lemmy_alpha post in our community, from the corpus's
// create_page, and returns the post's IRI.
func (w *world) seedPost(t *testing.T) string {
	t.Helper()
	w.accept(t, w.alpha, payload(t, w.ours, "lemmy-assets__activities_create_or_update_create_page.json", nil))
	return w.rem.URL + "/post/1"
}

// seedComment has lemmy_alpha comment on the post, from the corpus's
// create_comment, and returns the comment's IRI.
func (w *world) seedComment(t *testing.T) string {
	t.Helper()
	w.accept(t, w.alpha, payload(t, w.ours, "lemmy-assets__activities_create_or_update_create_comment.json", nil))
	return w.rem.URL + "/comment/1"
}
