package interop

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fedi-go/fedi"
	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/behaviour/lemmy"
	"github.com/fedi-go/fedi/internal/fedtest"
	"github.com/fedi-go/fedi/serve"
	"github.com/fedi-go/fedi/storage"
)

// TestFedifyLemmyCommunity drives one of our Lemmy-style communities
// from the live Fedify peer: the peer follows it and is accepted, posts
// a Create{Page} to it (sent as raw JSON, signed), receives the
// community's Announce of that Create, and its Like of the post is
// counted and its Undo reverts the count.
func TestFedifyLemmyCommunity(t *testing.T) {
	peer := startPeer(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv := fedtest.New(t, fedtest.Config{
		Options: fedi.Options{Serve: serve.Options{Collections: lemmy.Served}},
		Setup: func(f *fedi.Federation) {
			lemmy.Register(f.Mux, lemmy.Options{Outbox: f.Outbox, Actors: f.Actors, Remote: f.Remote})
		}})
	go func() { _ = srv.Run(ctx) }()
	act := lemmy.Actions{Store: srv.Store, Outbox: srv.Outbox, Actors: srv.LocalActors}
	mod := srv.User(t, "mod")
	community, err := act.CreateCommunity(ctx, mod.IRI, "gophers", "Gophers", "<p>all about Go</p>")
	require.NoError(t, err)
	st, s := srv.Store, srv.Scheme

	var info struct{ Actor string }
	peer.control(t, http.MethodGet, "/_control/info", nil, &info)

	t.Run("the peer follows the community and is accepted by the Group", func(t *testing.T) {
		peer.control(t, http.MethodPost, "/_control/follow", map[string]any{"actor": community.IRI}, nil)
		eventually(t, "the peer among the community's followers", func() bool {
			m, err := st.Collections.Contains(ctx, s.Collection(community.IRI, actor.Followers), info.Actor)
			return err == nil && m.State == storage.Accepted
		})
		eventually(t, "the peer's follow accepted", func() bool {
			var following []struct{ Actor, State string }
			peer.control(t, http.MethodGet, "/_control/following", nil, &following)
			for _, f := range following {
				if f.Actor == community.IRI && f.State == "accepted" {
					return true
				}
			}
			return false
		})
	})

	post := info.Actor + "/pages/1"
	t.Run("the peer's Create{Page} is taken and announced back to it", func(t *testing.T) {
		var res struct {
			ID         string
			Deliveries []struct {
				Status int
				Body   string
			}
		}
		public := "https://www.w3.org/ns/activitystreams#Public"
		peer.control(t, http.MethodPost, "/_control/send", map[string]any{
			"to": community.IRI,
			"activity": map[string]any{
				"type": "Create", "to": []string{public}, "cc": []string{community.IRI}, "audience": community.IRI,
				"object": map[string]any{
					"id": post, "type": "Page", "attributedTo": info.Actor, "name": "Hello from Fedify",
					"content": "<p>a post in a Lemmy-style community</p>", "mediaType": "text/html",
					"to": []string{community.IRI, public}, "audience": community.IRI,
				},
			},
		}, &res)
		require.Len(t, res.Deliveries, 1)
		require.Equal(t, http.StatusAccepted, res.Deliveries[0].Status, res.Deliveries[0].Body)
		ok, err := lemmy.IsCommunity(ctx, st, s, community.IRI)
		require.NoError(t, err)
		require.True(t, ok)
		m, err := st.Collections.Contains(ctx, s.Collection(community.IRI, lemmy.Posts), post)
		require.NoError(t, err, "the post is the community's")
		assert.Equal(t, res.ID, m.Activity)

		var got []struct {
			Actor    string
			Activity json.RawMessage
		}
		peer.control(t, http.MethodGet, "/_control/received?wait=20&type=Announce", nil, &got)
		require.Len(t, got, 1, "the peer received the community's Announce")
		assert.Equal(t, community.IRI, got[0].Actor)
		var announce struct {
			Object struct {
				ID     string
				Type   string
				Object struct{ ID string }
			}
		}
		require.NoError(t, json.Unmarshal(got[0].Activity, &announce))
		assert.Equal(t, res.ID, announce.Object.ID, "the received Create, embedded")
		assert.Equal(t, "Create", announce.Object.Type)
		assert.Equal(t, post, announce.Object.Object.ID)
	})

	votes := func(want [2]int) func() bool {
		return func() bool {
			up, down, err := lemmy.Votes(ctx, st, s, post)
			return err == nil && [2]int{up, down} == want
		}
	}
	t.Run("the peer's Like is counted and its Undo reverts it", func(t *testing.T) {
		peer.control(t, http.MethodPost, "/_control/like", map[string]any{"object": post, "to": community.IRI}, nil)
		eventually(t, "the upvote counted", votes([2]int{1, 0}))
		peer.control(t, http.MethodPost, "/_control/undo-last", map[string]any{}, nil)
		eventually(t, "the upvote withdrawn", votes([2]int{0, 0}))
		var got []struct{ Type string }
		peer.control(t, http.MethodGet, "/_control/received?wait=20&type=Announce&min=3", nil, &got)
		assert.Len(t, got, 3, "the Like and its Undo announced too")
	})
}
