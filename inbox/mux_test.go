package inbox_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fedi-go/fedi"
	"github.com/fedi-go/fedi/inbox"
	"github.com/fedi-go/fedi/internal/fedtest"
	"github.com/fedi-go/fedi/storage/memory"
	"github.com/fedi-go/fedi/vocab"
)

// TestMuxRegistration: patterns are checked when registered.
func TestMuxRegistration(t *testing.T) {
	noop := func(context.Context, *inbox.Activity, vocab.Item) error { return nil }
	tests := []struct {
		name, want string
		reg        func(m *inbox.Mux)
	}{
		{"duplicate", "already registered", func(m *inbox.Mux) {
			inbox.On(m, "Follow", "a", noop)
			inbox.On(m, "Follow", "b", noop)
		}},
		{"unknown activity type", "no registered vocabulary defines", func(m *inbox.Mux) { inbox.On(m, "Folow", "a", noop) }},
		{"unknown object type", "no registered vocabulary defines", func(m *inbox.Mux) { inbox.On(m, "Join Evnt", "a", noop) }},
		{"malformed pattern", "malformed pattern", func(m *inbox.Mux) { inbox.On(m, "Join Event Now", "a", noop) }},
		{"no doc", "one-line Doc", func(m *inbox.Mux) { inbox.On(m, "Join", "", noop) }},
		{"object of the wrong shape", "decodes to", func(m *inbox.Mux) {
			inbox.On(m, "Follow Person", "a", func(context.Context, *inbox.Activity, *vocab.Object) error { return nil })
		}},
		{"replace of nothing", "not registered", func(m *inbox.Mux) { inbox.Replace(m, "Like", inbox.Rule[vocab.Item]{Doc: "a", Apply: noop}) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := inbox.NewMux(vocab.MustRegistry())
			defer func() {
				r := recover()
				require.NotNil(t, r, "registration must panic")
				assert.Contains(t, r.(string), tt.want)
			}()
			tt.reg(m)
		})
	}
}

// TestMuxStack: a stacked rule sees activities first and passes those it
// does not handle to the rule below.
func TestMuxStack(t *testing.T) {
	var mu sync.Mutex
	var handled []string
	record := func(who string) func(context.Context, *inbox.Activity, vocab.Item) error {
		return func(_ context.Context, a *inbox.Activity, _ vocab.Item) error {
			mu.Lock()
			handled = append(handled, who+":"+a.ID)
			mu.Unlock()
			return nil
		}
	}
	st, count := fedtest.Counting(memory.New())
	w := &world{count: count}
	w.srv = fedtest.New(t, fedtest.Config{Store: st, NoCore: true, Setup: func(f *fedi.Federation) {
		inbox.Handle(f.Mux, "Flag", inbox.Rule[vocab.Item]{Doc: "below", Apply: record("below")})
		inbox.Stack(f.Mux, "Flag", inbox.Rule[vocab.Item]{Doc: "on top, by check",
			Check: func(_ context.Context, a *inbox.Activity, _ vocab.Item) error {
				if !strings.Contains(string(a.Raw), "top-check") {
					return inbox.ErrPass
				}
				return nil
			},
			Apply: record("top")})
		inbox.Stack(f.Mux, "Flag", inbox.Rule[vocab.Item]{Doc: "on top of all",
			Check: func(_ context.Context, a *inbox.Activity, _ vocab.Item) error {
				if !strings.Contains(string(a.Raw), "top-apply") {
					return inbox.ErrPass
				}
				return nil
			},
			Apply: record("topmost")})
	}})
	w.alice = w.srv.User(t, "alice")
	w.rem, w.other = fedtest.NewRemote(t), fedtest.NewRemote(t)
	w.bob = w.rem.Actor(t, "bob", 0)
	for i, content := range []string{"top-check", "top-apply", "neither"} {
		body := fedtest.JSON(`{"id":"%s/flag/%d","type":"Flag","actor":%q,"object":%q,"content":%q}`, w.bob, i, w.bob, w.alice.IRI, content)
		status, msg := w.post(t, w.bob, w.inbox(), body)
		require.Equal(t, http.StatusAccepted, status, msg)
	}
	assert.Equal(t, []string{"top:" + w.bob + "/flag/0", "topmost:" + w.bob + "/flag/1", "below:" + w.bob + "/flag/2"}, handled)
	var docs []string
	for _, r := range w.srv.Mux.Routes() {
		if r.Pattern == "Flag" {
			docs = append(docs, r.Doc)
		}
	}
	assert.Equal(t, []string{"on top of all", "on top, by check", "below"}, docs, "Routes lists stacked rules, top first")
}

// TestMuxPassToGeneric: what the last rule of "Flag Person" passes goes
// to the rule of "Flag" alone, not straight to the fallback.
func TestMuxPassToGeneric(t *testing.T) {
	var got []string
	w := &world{}
	st, count := fedtest.Counting(memory.New())
	w.count = count
	w.srv = fedtest.New(t, fedtest.Config{Store: st, NoCore: true, Setup: func(f *fedi.Federation) {
		inbox.On(f.Mux, "Flag", "generic", func(_ context.Context, a *inbox.Activity, _ vocab.Item) error {
			got = append(got, "generic")
			return nil
		})
		inbox.Handle(f.Mux, "Flag Person", inbox.Rule[vocab.Item]{Doc: "specific, passes",
			Check: func(context.Context, *inbox.Activity, vocab.Item) error { return inbox.ErrPass },
			Apply: func(context.Context, *inbox.Activity, vocab.Item) error {
				got = append(got, "specific")
				return nil
			}})
	}})
	w.alice = w.srv.User(t, "alice")
	w.rem, w.other = fedtest.NewRemote(t), fedtest.NewRemote(t)
	w.bob = w.rem.Actor(t, "bob", 0)
	body := fedtest.JSON(`{"id":"%s/flag/1","type":"Flag","actor":%q,"object":%q}`, w.bob, w.bob, w.alice.IRI)
	status, msg := w.post(t, w.bob, w.inbox(), body)
	require.Equal(t, http.StatusAccepted, status, msg)
	assert.Equal(t, []string{"generic"}, got)
}
