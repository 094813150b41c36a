package outbox_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	ap "github.com/go-ap/activitypub"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/outbox"
	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/vocab"
)

// countByPath counts the POSTs of each path.
func countByPath(ps []post) map[string]int {
	out := map[string]int{}
	for _, p := range ps {
		out[p.Path]++
	}
	return out
}

// TestFanOutStreamsFollowers sends to more followers than a page holds:
// every one gets the activity once, the followers are read a page at a
// time, and the deliveries are enqueued in bounded batches, so that
// memory does not grow with the number of followers.
func TestFanOutStreamsFollowers(t *testing.T) {
	var cols *spyCollections
	var q *spyQueue
	var clock atomic.Int64
	e := newEnv(t, withStore(func(st storage.Store) storage.Store {
		cols = &spyCollections{Collections: st.Collections, clock: &clock}
		q = &spyQueue{Queue: st.Queue, clock: &clock}
		st.Collections, st.Queue = cols, q
		st.Tx = nil // the spies see every call: no transaction goes around them
		return st
	}))
	alice := e.user("alice")
	p := newPeer(t)
	const n = storage.MaxPageLimit + 150
	want := map[string]int{}
	for i := range n {
		iri := fmt.Sprintf("%s/users/f%d", p.URL, i)
		e.cache(iri, iri+"/inbox", "")
		e.follower(alice, iri)
		want[pathOf(iri)+"/inbox"] = 1
	}
	e.send(note(alice, e.followers(alice)))
	e.drain(e.worker(outbox.WorkerOptions{Concurrency: 16, PerHost: 16}))

	assert.Equal(t, want, countByPath(p.posts()), "every follower got it, once")
	pages := cols.pagesOf(string(e.followers(alice)))
	assert.GreaterOrEqual(t, len(pages), 2, "the followers are read page by page")
	for _, limit := range pages {
		assert.LessOrEqual(t, limit, storage.MaxPageLimit)
	}
	sizes := q.enqueueSizes()
	total := 0
	for _, s := range sizes {
		assert.LessOrEqual(t, s, outbox.DefaultBatch, "a batch of deliveries is bounded")
		total += s
	}
	assert.Equal(t, n+1, total, "the fan-out and one delivery per follower")
	// The first batch of deliveries goes to the queue before the last
	// page of followers is read: they are not gathered first.
	cols.mu.Lock()
	pageTicks := cols.ticks[string(e.followers(alice))]
	cols.mu.Unlock()
	q.mu.Lock()
	enqueueTicks := q.ticks
	q.mu.Unlock()
	require.Greater(t, len(enqueueTicks), 2)
	assert.Less(t, enqueueTicks[1], pageTicks[len(pageTicks)-1], "deliveries are enqueued while the followers are read")
	assert.Equal(t, int64(0), e.depth(), "the queue is empty")
}

func TestFanOutPrefersSharedInboxesAndDedupes(t *testing.T) {
	e := newEnv(t)
	alice := e.user("alice")
	a, b, c := newPeer(t), newPeer(t), newPeer(t)
	// Newest first: a2, then the b followers, then a1: the shared inbox
	// of a comes up again after more inboxes than a batch holds.
	e.follower(alice, a.actor("a1", true))
	for i := range outbox.DefaultBatch + 44 {
		iri := fmt.Sprintf("%s/users/b%d", b.URL, i)
		e.cache(iri, iri+"/inbox", "")
		e.follower(alice, iri)
	}
	e.follower(alice, a.actor("a2", true))
	c1 := c.actor("c1", false)
	e.follower(alice, c1)
	create := note(alice, e.followers(alice))
	create.CC = ap.ItemCollection{ap.IRI(a.actor("a3", true)), ap.IRI(c1)} // addressed and followers both
	e.send(create)
	e.drain(e.worker(outbox.WorkerOptions{Concurrency: 16, PerHost: 16}))

	assert.Equal(t, map[string]int{"/inbox": 1}, countByPath(a.posts()), "one delivery to the shared inbox")
	assert.Equal(t, map[string]int{"/users/c1/inbox": 1}, countByPath(c.posts()), "the personal inbox of an actor without a shared one")
	got := countByPath(b.posts())
	assert.Len(t, got, outbox.DefaultBatch+44)
	for path, n := range got {
		assert.Equal(t, 1, n, path)
	}
}

func TestFanOutSkipsWhomItMust(t *testing.T) {
	e := newEnv(t)
	alice := e.user("alice")
	p := newPeer(t)
	ev := &events{}

	good := p.actor("good", false)
	goneCached := p.actor("gone-cached", false)
	require.NoError(t, e.mem.Actors.MarkGone(e.ctx, goneCached, time.Now()))
	goneFetched := p.URL + "/users/gone-fetched"
	p.serveDoc("/users/gone-fetched", http.StatusGone)
	blocked := p.actor("blocked", false)
	require.NoError(t, e.mem.Collections.Add(e.ctx, e.scheme.Collection(alice, actor.Blocked), storage.Member{IRI: blocked}))
	blocker := p.actor("blocker", false)
	require.NoError(t, e.mem.Collections.Add(e.ctx, e.scheme.Collection(alice, actor.BlockedBy), storage.Member{IRI: blocker}))
	missing := p.URL + "/users/missing"
	notAnActor := p.URL + "/notes/1"
	p.serveDoc("/notes/1", map[string]any{"id": notAnActor, "type": "Note"})
	// An inbox no store can keep: longer than storage.MaxIRI.
	long := p.actor("long", false)
	p.serveDoc("/users/long", map[string]any{"id": long, "type": "Person", "preferredUsername": "long",
		"inbox": long + "/" + strings.Repeat("x", storage.MaxIRI) + "/inbox"})
	// Cached in full, addresses and all, and gone since.
	goneFull := p.actor("gone-full", false)
	e.cache(goneFull, goneFull+"/inbox", "")
	require.NoError(t, e.mem.Actors.MarkGone(e.ctx, goneFull, time.Now()))
	// Cached long ago at an inbox it has left: fetched again, and
	// delivered to where it is now.
	moved := p.actor("moved", false)
	require.NoError(t, e.mem.Actors.Put(e.ctx, storage.RemoteActor{IRI: moved, Inbox: moved + "/old-inbox", Fetched: time.Now().Add(-2 * actor.DefaultRemoteTTL)}))
	for _, f := range []string{good, goneCached, goneFull, goneFetched, blocked, blocker, missing, notAnActor, long, moved} {
		e.follower(alice, f)
	}
	direct := note(alice, e.followers(alice), ap.IRI(blocked), ap.IRI(blocker), ap.IRI(goneCached))
	id := e.send(direct)
	e.drain(e.worker(outbox.WorkerOptions{Observe: ev.observe}))

	assert.Equal(t, map[string]int{"/users/good/inbox": 1, "/users/moved/inbox": 1}, countByPath(p.posts()), "only the good followers got it, at their inboxes of now")
	assert.Equal(t, int64(0), e.depth(), "the fan-out completed: nothing retried, nothing dead")
	exp := ev.of(outbox.Expanded)
	require.Len(t, exp, 1)
	assert.Equal(t, id, exp[0].Activity)
	assert.Equal(t, 2, exp[0].Count)
	ra, err := e.mem.Actors.Get(e.ctx, goneFetched)
	require.NoError(t, err)
	assert.False(t, ra.Gone.IsZero(), "an actor that answered 410 is remembered as gone")
}

func TestFanOutStripsBtoAndBcc(t *testing.T) {
	e := newEnv(t)
	alice := e.user("alice")
	p := newPeer(t)
	to, bto, bcc, objBto := p.actor("to", false), p.actor("bto", false), p.actor("bcc", false), p.actor("objbto", false)
	create := note(alice, ap.IRI(to))
	create.Bto = ap.ItemCollection{ap.IRI(bto)}
	create.BCC = ap.ItemCollection{ap.IRI(bcc)}
	create.Object.(*vocab.Object).Bto = ap.ItemCollection{ap.IRI(objBto)}
	id := e.send(create)
	e.drain(e.worker(outbox.WorkerOptions{}))

	got := p.posts()
	assert.Equal(t, map[string]int{"/users/to/inbox": 1, "/users/bto/inbox": 1, "/users/bcc/inbox": 1, "/users/objbto/inbox": 1},
		countByPath(got), "every recipient is reached, the object's bto too")
	for _, r := range got {
		assert.Equal(t, id, r.ID)
		assert.NotContains(t, string(r.Body), `"bto"`, r.Path)
		assert.NotContains(t, string(r.Body), `"bcc"`, r.Path)
		assert.NotContains(t, string(r.Body), pathOf(bcc), "nothing names the hidden recipients")
	}
	for _, iri := range []string{id, string(vocab.IRIOf(create.Object))} {
		o, _ := e.stored(iri)
		assert.NotContains(t, string(o.Data), `"bto"`, iri)
		assert.NotContains(t, string(o.Data), `"bcc"`, iri)
	}
}

func TestFanOutExpandsRemoteCollectionsWithinBudget(t *testing.T) {
	members := func(p *peer) []string {
		var out []string
		for i := range 6 {
			out = append(out, p.actor(fmt.Sprintf("m%d", i), false))
		}
		return out
	}
	t.Run("within the budget, every member", func(t *testing.T) {
		e := newEnv(t)
		alice := e.user("alice")
		p := newPeer(t)
		col := p.collection("/groups/g/followers", members(p), 2)
		e.send(note(alice, ap.IRI(col)))
		e.drain(e.worker(outbox.WorkerOptions{}))
		assert.Len(t, countByPath(p.posts()), 6)
	})
	t.Run("past the budget, what it allows", func(t *testing.T) {
		e := newEnv(t)
		alice := e.user("alice")
		p := newPeer(t)
		col := p.collection("/groups/g/followers", members(p), 2)
		const budget = 5
		e.send(note(alice, ap.IRI(col)))
		e.drain(e.worker(outbox.WorkerOptions{FanoutBudget: budget}))
		assert.LessOrEqual(t, p.getCount(), budget, "no more fetches than the budget")
		assert.Less(t, len(p.posts()), 6)
		assert.Equal(t, int64(0), e.depth(), "the fan-out completed with what it could read")
	})
}

// TestFanOutLocalRecipients: a local actor addressed directly, or as a
// follower, gets the activity through the Local hook; a local collection
// that is not the sender's is not expanded.
func TestFanOutLocalRecipients(t *testing.T) {
	e := newEnv(t)
	alice, dave, erin := e.user("alice"), e.user("dave"), e.user("erin")
	p := newPeer(t)
	e.follower(alice, dave)
	e.follower(erin, p.actor("erinsfan", false))
	var mu sync.Mutex
	var local []string
	w := e.worker(outbox.WorkerOptions{Local: func(ctx context.Context, d storage.Delivery) error {
		mu.Lock()
		local = append(local, d.Inbox)
		mu.Unlock()
		return e.mem.Queue.Ack(ctx, d.Receipt)
	}})
	e.send(note(alice, e.followers(alice), ap.IRI(erin), e.followers(erin)))
	e.drain(w)
	assert.ElementsMatch(t, []string{e.scheme.Collection(dave, actor.Inbox), e.scheme.Collection(erin, actor.Inbox)}, local)
	assert.Empty(t, p.posts(), "erin's followers are erin's to write to, not alice's")
}

// TestFanOutTakenOverAfterACrash: a worker dies in the middle of a
// fan-out, after it enqueued a first batch; once its lease expires,
// another worker takes the fan-out over and enqueues the rest: every
// follower gets the activity exactly once.
func TestFanOutTakenOverAfterACrash(t *testing.T) {
	e := newEnv(t)
	alice := e.user("alice")
	p := newPeer(t)
	const n = 2*outbox.DefaultBatch + 50
	for i := range n {
		iri := fmt.Sprintf("%s/users/f%d", p.URL, i)
		e.cache(iri, iri+"/inbox", "")
		e.follower(alice, iri)
	}
	e.send(note(alice, e.followers(alice)))

	// The first worker's store stops answering as its third batch
	// begins: its process is gone, and with it the fan-out's lease, until
	// it expires.
	var crashed atomic.Bool
	dead := func(string) error {
		if crashed.Load() {
			return errors.New("the process is gone")
		}
		return nil
	}
	crashing := e.mem
	spy := &spyQueue{Queue: e.mem.Queue, fail: dead}
	crashing.Queue = spy
	crashing.Dedupe = &crashDedupe{Dedupe: e.mem.Dedupe, queue: spy, batches: 2, crashed: &crashed}
	// The wrappers stand in for the store: without its transactions,
	// each batch's writes are made as they come, the crash mid-batch
	// included.
	crashing.Tx = nil
	out1, err := outbox.New(outbox.Options{Registry: reg, Store: crashing, Actors: e.actors, Scheme: e.scheme, Logger: quiet})
	require.NoError(t, err)
	const lease = 300 * time.Millisecond
	w1, err := outbox.NewWorker(out1, outbox.WorkerOptions{Client: e.client, Visibility: lease, Logger: quiet,
		Retry: outbox.RetryPolicy{Backoff: func(int) time.Duration { return 0 }}})
	require.NoError(t, err)
	handled, err := w1.RunOnce(e.ctx, 1)
	require.NoError(t, err)
	require.Equal(t, 1, handled)
	require.True(t, crashed.Load(), "the first worker crashed in the fan-out")
	s := e.stats()
	require.Equal(t, int64(1), s.Leased, "the fan-out is still leased by the dead worker")
	spy.mu.Lock()
	first := spy.enqueues[0] + spy.enqueues[1]
	spy.mu.Unlock()
	require.Equal(t, int64(first), s.Ready, "its first two batches were enqueued")
	require.Less(t, first, n, "the crash cut the fan-out short")

	time.Sleep(lease + 50*time.Millisecond)
	e.drain(e.worker(outbox.WorkerOptions{Concurrency: 16, PerHost: 16}))
	got := countByPath(p.posts())
	assert.Len(t, got, n, "every follower got it")
	for path, c := range got {
		if c != 1 {
			t.Errorf("%s got it %d times", path, c)
		}
	}
	assert.Equal(t, int64(0), e.depth())
}

// crashDedupe fails every Record from the first one after queue saw
// batches Enqueues, and marks the process crashed: a crash as a batch
// begins. (A store without transactions that crashed in the middle of a
// batch would lose its recorded inboxes: InTx is what makes the records
// and the deliveries of a batch one.)
type crashDedupe struct {
	storage.Dedupe
	queue   *spyQueue
	batches int
	crashed *atomic.Bool
}

func (d *crashDedupe) Record(ctx context.Context, activity, recipient string) (bool, error) {
	d.queue.mu.Lock()
	n := len(d.queue.enqueues)
	d.queue.mu.Unlock()
	if n >= d.batches || d.crashed.Load() {
		d.crashed.Store(true)
		return false, errors.New("the process is gone")
	}
	return d.Dedupe.Record(ctx, activity, recipient)
}

// TestDeliveredBodyIsTheActivity: what an inbox receives is the
// activity as stored, with its object embedded, and Content-Type
// application/activity+json.
func TestDeliveredBodyIsTheActivity(t *testing.T) {
	e := newEnv(t)
	alice := e.user("alice")
	p := newPeer(t)
	bobIRI := p.actor("bob", false)
	create := note(alice, ap.IRI(bobIRI))
	id := e.send(create)
	e.drain(e.worker(outbox.WorkerOptions{}))
	got := p.posts()
	require.Len(t, got, 1)
	assert.Equal(t, id, got[0].ID)
	assert.Equal(t, "Create", got[0].Type)
	var doc struct {
		Actor  string `json:"actor"`
		Object struct {
			ID           string `json:"id"`
			AttributedTo string `json:"attributedTo"`
			Content      string `json:"content"`
		} `json:"object"`
	}
	require.NoError(t, json.Unmarshal(got[0].Body, &doc))
	assert.Equal(t, alice, doc.Actor)
	assert.Equal(t, string(vocab.IRIOf(create.Object)), doc.Object.ID)
	assert.Equal(t, alice, doc.Object.AttributedTo)
	assert.Equal(t, "hello", doc.Object.Content)
}
