package communecter_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	ap "github.com/go-ap/activitypub"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fedi-go/fedi"
	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/behaviour/communecter"
	"github.com/fedi-go/fedi/inbox"
	"github.com/fedi-go/fedi/internal/fedtest"
	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/storage/memory"
	"github.com/fedi-go/fedi/vocab"
	cvocab "github.com/fedi-go/fedi/vocab/communecter"
)

// world is a fedi server with the Communecter behaviour and a local
// user, alice, and a fake remote Communecter with bob, eve and carol.
type world struct {
	srv   *fedtest.Server
	count *fedtest.Counter
	c     *communecter.Client
	rem   *fedtest.Remote
	alice *actor.Actor
	bob   string
	eve   string
	carol string

	mu      sync.Mutex
	pending []string // the types OnPending was told of
	seq     int
}

func newWorld(t *testing.T) *world {
	t.Helper()
	st, count := fedtest.Counting(memory.New())
	w := &world{count: count}
	w.srv = server(t, st, &w.c, func(ctx context.Context, a string) {
		w.mu.Lock()
		w.pending = append(w.pending, a)
		w.mu.Unlock()
	})
	w.alice = w.srv.User(t, "alice")
	w.rem = fedtest.NewRemote(t)
	w.bob, w.eve, w.carol = w.rem.Actor(t, "bob", 0), w.rem.Actor(t, "eve", 1), w.rem.Actor(t, "carol", 2)
	return w
}

// server starts a fedi server with the default behaviour and
// Communecter's, and sets *c to its Client.
func server(t *testing.T, st storage.Store, c **communecter.Client, onPending func(ctx context.Context, typ string)) *fedtest.Server {
	t.Helper()
	var opts fedi.Options
	opts.Serve.Collections = communecter.Served
	return fedtest.New(t, fedtest.Config{Store: st, Options: opts, Setup: func(f *fedi.Federation) {
		o := communecter.Options{Outbox: f.Outbox, Store: f.Store, Actors: f.LocalActors}
		if onPending != nil {
			o.OnPending = func(ctx context.Context, a *inbox.Activity) error {
				onPending(ctx, a.Type)
				return nil
			}
		}
		communecter.Register(f.Mux, o)
		var err error
		*c, err = communecter.New(o)
		require.NoError(t, err)
	}})
}

// payload returns the corpus payload name with the top-level properties
// in set replaced (nil removes one): the shape is Communecter's, the
// IRIs the test's.
func payload(t *testing.T, name string, set map[string]any) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(raw, &m))
	for k, v := range set {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	b, err := json.Marshal(m)
	require.NoError(t, err)
	return b
}

// id returns a fresh activity id of the remote actor as.
func (w *world) id(as, typ string) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.seq++
	return fmt.Sprintf("%s/activity/%s/%d", as, strings.ToLower(typ), w.seq)
}

// post signs body as the remote actor as and POSTs it to alice's inbox.
func (w *world) post(t *testing.T, as string, body []byte) (int, string) {
	t.Helper()
	return fedtest.Do(t, w.rem.Signed(t, as, w.alice.IRI+"/inbox", body))
}

// postTo signs body as the remote actor as and POSTs it to url.
func (w *world) postTo(t *testing.T, as, url string, body []byte) (int, string) {
	t.Helper()
	return fedtest.Do(t, w.rem.Signed(t, as, url, body))
}

func (w *world) mustPost(t *testing.T, as string, body []byte) {
	t.Helper()
	status, msg := w.post(t, as, body)
	require.Equal(t, http.StatusAccepted, status, msg)
}

// refused posts body and checks that it is refused with status and a
// reason containing reason, and that storage is unchanged.
func (w *world) refused(t *testing.T, as string, body []byte, status int, reason string) {
	t.Helper()
	before := w.count.State()
	got, msg := w.post(t, as, body)
	assert.Equal(t, status, got, msg)
	assert.Contains(t, msg, reason)
	assert.Equal(t, before, w.count.State(), "storage is unchanged")
}

// project makes alice create a project, moderated or not.
func (w *world) project(t *testing.T, moderated bool) string {
	t.Helper()
	p := cvocab.NewProject("", ap.IRI(w.alice.IRI), "EcoSmart Homes Initiative", "Sustainable housing")
	if moderated {
		yes := true
		p.ManuallyApprovesFollowers = &yes
	}
	iri, err := w.c.CreateProject(context.Background(), w.alice.IRI, p)
	require.NoError(t, err)
	return iri
}

// member returns who's entry in coll, or fails.
func (w *world) member(t *testing.T, coll, who string) storage.Member {
	t.Helper()
	m, err := w.srv.Store.Collections.Contains(context.Background(), coll, who)
	require.NoError(t, err, "%s in %s", who, coll)
	return m
}

// absent checks that who is not in coll.
func (w *world) absent(t *testing.T, coll, who string) {
	t.Helper()
	_, err := w.srv.Store.Collections.Contains(context.Background(), coll, who)
	assert.True(t, errors.Is(err, storage.ErrNotFound), "%s is not in %s: %v", who, coll, err)
}

func (w *world) col(owner, name string) string { return w.srv.Scheme.Collection(owner, name) }

// sent returns the activities of type typ in who's outbox, decoded.
func (w *world) sent(t *testing.T, who, typ string) []*vocab.Activity {
	t.Helper()
	return sentBy(t, w.srv, who, typ)
}

func sentBy(t *testing.T, srv *fedtest.Server, who, typ string) []*vocab.Activity {
	t.Helper()
	ctx := context.Background()
	p, err := srv.Store.Collections.Page(ctx, srv.Scheme.Collection(who, actor.Outbox), storage.PageOptions{Limit: storage.MaxPageLimit})
	require.NoError(t, err)
	var out []*vocab.Activity
	for _, m := range p.Members {
		o, err := srv.Store.Objects.Get(ctx, m.IRI)
		require.NoError(t, err)
		it, err := srv.Registry.Decode(o.Data)
		require.NoError(t, err)
		if act, ok := it.(*vocab.Activity); ok && vocab.HasType(act, typ) {
			out = append(out, act)
		}
	}
	return out
}

func (w *world) pendingTypes() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.pending...)
}

// joinMember makes the remote actor who a member of project with a
// Join (Communecter's shape), asking for role.
func (w *world) joinMember(t *testing.T, who, project, role string) string {
	t.Helper()
	id := w.id(who, "join")
	var instrument any
	if role != "" {
		instrument = role
	}
	w.mustPost(t, who, payload(t, "fedidevs-docs__activities-join__ex2-Join.json", map[string]any{
		"id": id, "actor": who, "object": who, "target": project, "instrument": instrument, "to": []string{w.alice.IRI},
	}))
	return id
}
