package interop

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	ap "github.com/go-ap/activitypub"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/internal/fedtest"
	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/vocab"
)

// eventually polls cond every 100 ms until it holds or 30 s pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestFedifyFederation drives the federation core against the live
// Fedify peer, both ways: follows and their Accepts, a Create to
// followers, and the peer's Note, Like, Undo, Announce, Update and
// Delete taking effect here.
func TestFedifyFederation(t *testing.T) {
	peer := startPeer(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv := fedtest.New(t, fedtest.Config{})
	go func() { _ = srv.Run(ctx) }()
	gopher := srv.User(t, "gopher")
	st := srv.Store

	var info struct{ Actor, Inbox, SharedInbox string }
	peer.control(t, http.MethodGet, "/_control/info", nil, &info)

	contains := func(coll, member string, state storage.State) func() bool {
		return func() bool {
			m, err := st.Collections.Contains(ctx, coll, member)
			return err == nil && m.State == state
		}
	}
	follower := srv.Scheme.Collection(gopher.IRI, actor.Followers)

	t.Run("the peer follows us and our Accept reaches it", func(t *testing.T) {
		peer.control(t, http.MethodPost, "/_control/follow", map[string]any{"actor": gopher.IRI}, nil)
		eventually(t, "the peer in our followers", contains(follower, info.Actor, storage.Accepted))
		eventually(t, "the peer's following accepted", func() bool {
			var following []struct{ Actor, State string }
			peer.control(t, http.MethodGet, "/_control/following", nil, &following)
			for _, f := range following {
				if f.Actor == gopher.IRI && f.State == "accepted" {
					return true
				}
			}
			return false
		})
	})

	var ourNote string
	t.Run("our Create to followers arrives there", func(t *testing.T) {
		note := vocab.NewObject("Note", "")
		note.Content = vocab.Text("<p>hello from fedi</p>")
		create := vocab.NewActivity("Create", "", ap.IRI(gopher.IRI), note)
		create.To = ap.ItemCollection{vocab.PublicIRI}
		create.CC = ap.ItemCollection{ap.IRI(follower)}
		id, err := srv.Send(ctx, create)
		require.NoError(t, err)
		ourNote = string(note.ID)
		var got []struct{ ID, Type string }
		peer.control(t, http.MethodGet, "/_control/received?wait=20&id="+id, nil, &got)
		require.Len(t, got, 1, "the peer received our Create")
		assert.Equal(t, "Create", got[0].Type)
	})

	t.Run("we follow the peer and match its Accept with the embedded Follow", func(t *testing.T) {
		follow := vocab.NewActivity("Follow", "", ap.IRI(gopher.IRI), ap.IRI(info.Actor))
		_, err := srv.Send(ctx, follow)
		require.NoError(t, err)
		eventually(t, "our following accepted", contains(srv.Scheme.Collection(gopher.IRI, actor.Following), info.Actor, storage.Accepted))
	})

	var peerNote string
	t.Run("the peer's Note reaches us", func(t *testing.T) {
		var res struct{ Note, Create string }
		peer.control(t, http.MethodPost, "/_control/note", map[string]any{"content": "hello from Fedify", "visibility": "public"}, &res)
		require.NotEmpty(t, res.Note)
		peerNote = res.Note
		eventually(t, "the peer's note stored", func() bool {
			o, err := st.Objects.Get(ctx, peerNote)
			return err == nil && o.Owner == info.Actor
		})
	})

	t.Run("the peer's Like and its Undo", func(t *testing.T) {
		likes := srv.Scheme.Collection(ourNote, actor.Likes)
		peer.control(t, http.MethodPost, "/_control/like", map[string]any{"object": ourNote, "to": gopher.IRI}, nil)
		eventually(t, "the like counted", contains(likes, info.Actor, storage.Accepted))
		peer.control(t, http.MethodPost, "/_control/undo-last", map[string]any{}, nil)
		eventually(t, "the like undone", func() bool {
			_, err := st.Collections.Contains(ctx, likes, info.Actor)
			return errors.Is(err, storage.ErrNotFound)
		})
	})

	t.Run("the peer's Announce", func(t *testing.T) {
		peer.control(t, http.MethodPost, "/_control/announce", map[string]any{"object": ourNote, "to": gopher.IRI}, nil)
		eventually(t, "the share counted", contains(srv.Scheme.Collection(ourNote, actor.Shares), info.Actor, storage.Accepted))
	})

	t.Run("the peer's Update", func(t *testing.T) {
		peer.control(t, http.MethodPost, "/_control/update-note", map[string]any{"object": peerNote, "content": "edited by Fedify"}, nil)
		eventually(t, "the cached note updated", func() bool {
			o, err := st.Objects.Get(ctx, peerNote)
			if err != nil {
				return false
			}
			it, err := srv.Registry.Decode(o.Data)
			return err == nil && vocab.TextOf(vocab.Base(it).Content) == "edited by Fedify"
		})
	})

	t.Run("the peer's Delete", func(t *testing.T) {
		peer.control(t, http.MethodPost, "/_control/delete", map[string]any{"object": peerNote}, nil)
		eventually(t, "the cached note tombstoned", func() bool {
			o, err := st.Objects.Get(ctx, peerNote)
			return err == nil && !o.Deleted.IsZero()
		})
		_, err := srv.Client.Get(ctx, peerNote)
		var se interface{ Error() string }
		require.Error(t, err, "the peer answers 410 for its deleted note")
		se = err
		assert.Contains(t, se.Error(), "410", fmt.Sprint(err))
	})
}
