package inbox_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fedi-go/fedi"
	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/behaviour/core"
	"github.com/fedi-go/fedi/inbox"
	"github.com/fedi-go/fedi/internal/fedtest"
	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/vocab"
)

// TestInboxQueue: with QueueInbound, the 202 goes out once the checked
// activity is recorded and enqueued; its effects come when a worker
// processes the queue, once, even when the peer redelivers.
func TestInboxQueue(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, fedi.Options{QueueInbound: true})
	follow := fedtest.JSON(`{"id":%q,"type":"Follow","actor":%q,"object":%q}`, w.bob+"/follow/1", w.bob, w.alice.IRI)
	followers := w.srv.Scheme.Collection(w.alice.IRI, actor.Followers)

	status, msg := w.post(t, w.bob, w.inbox(), follow)
	require.Equal(t, http.StatusAccepted, status, msg)
	_, err := w.srv.Store.Collections.Contains(ctx, followers, w.bob)
	assert.True(t, errors.Is(err, storage.ErrNotFound), "no effect before the queue is processed")
	stats, err := w.srv.Store.Queue.Stats(ctx)
	require.NoError(t, err)
	assert.EqualValues(t, 1, stats.Ready, "the activity waits in the queue")

	// A redelivery before processing is deduplicated, not enqueued again.
	status, msg = w.post(t, w.bob, w.inbox(), follow)
	require.Equal(t, http.StatusAccepted, status, msg)
	stats, _ = w.srv.Store.Queue.Stats(ctx)
	assert.EqualValues(t, 1, stats.Ready)

	// Processing applies it (the Accept's delivery to bob's server goes
	// out too: it is a loopback recording server).
	w.srv.Drain(t)
	m, err := w.srv.Store.Collections.Contains(ctx, followers, w.bob)
	require.NoError(t, err)
	assert.Equal(t, storage.Accepted, m.State)
	stats, _ = w.srv.Store.Queue.Stats(ctx)
	assert.Zero(t, stats.Ready+stats.Leased+stats.Scheduled+stats.Dead, "the job and the Accept's delivery are done")
	assert.Len(t, w.rem.Got("/inbox"), 1, "the Accept reached bob's server")
}

// TestInboxQueueStacked: in queued mode, an activity a stacked rule
// passed on is applied, later, by the rule that took it.
func TestInboxQueueStacked(t *testing.T) {
	var applied []string
	w := newWorld(t, fedi.Options{QueueInbound: true})
	inbox.Stack(w.srv.Mux, "Flag", inbox.Rule[vocab.Item]{Doc: "takes nothing",
		Check: func(context.Context, *inbox.Activity, vocab.Item) error { return inbox.ErrPass },
		Apply: func(context.Context, *inbox.Activity, vocab.Item) error {
			applied = append(applied, "top")
			return nil
		}})
	body := fedtest.JSON(`{"id":%q,"type":"Flag","actor":%q,"object":%q,"content":"spam"}`, w.bob+"/flag/1", w.bob, w.alice.IRI)
	status, msg := w.post(t, w.bob, w.inbox(), body)
	require.Equal(t, http.StatusAccepted, status, msg)
	w.srv.Drain(t)
	assert.Empty(t, applied, "the rule that passed it does not apply it")
	_, err := w.srv.Store.Collections.Contains(context.Background(), core.ReportsIRI(w.srv.Scheme), w.bob+"/flag/1")
	assert.NoError(t, err, "core's Flag, below, kept the report")
}
