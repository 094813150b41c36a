package lemmy_test

import (
	"context"
	"encoding/json"
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
	"github.com/fedi-go/fedi/behaviour/lemmy"
	"github.com/fedi-go/fedi/inbox"
	"github.com/fedi-go/fedi/internal/fedtest"
	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/vocab"
	lemmyvocab "github.com/fedi-go/fedi/vocab/lemmy"
)

// TestUpdate: the creator's edit of a post replaces it and is announced;
// so does an edit the remote community announces.
func TestUpdate(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	post := w.seedPost(t)
	w.accept(t, w.alpha, payload(t, w.ours, "lemmy-assets__activities_create_or_update_update_page.json", nil))
	name := func(iri string) string {
		o, err := w.srv.Store.Objects.Get(ctx, iri)
		require.NoError(t, err)
		it, err := w.srv.Registry.Decode(o.Data)
		require.NoError(t, err)
		return vocab.TextOf(vocab.Base(it).Name)
	}
	assert.Equal(t, "test post 1", name(post))
	assert.Len(t, w.announced(t), 2)

	w.accept(t, w.ten, payload(t, w.theirs, "lemmy-assets__activities_community_announce_create_page.json", nil))
	theirs := w.ent.URL + "/post/7"
	update := fmt.Appendf(nil, `{"id":%q,"type":"Update","actor":%q,"object":{"id":%q,"type":"Page","name":"post 4, edited","attributedTo":%q,"to":[%q,"https://www.w3.org/ns/activitystreams#Public"]}}`,
		w.ent.URL+"/activities/update/1", w.riker, theirs, w.riker, w.ten)
	w.accept(t, w.ten, w.announce("update", update))
	assert.Equal(t, "post 4, edited", name(theirs))

	before := w.count.State()
	forged := fmt.Appendf(nil, `{"id":%q,"type":"Update","actor":%q,"object":{"id":%q,"type":"Page","name":"defaced","attributedTo":%q,"to":[%q]}}`,
		w.ent.URL+"/activities/update/2", w.picard, theirs, w.picard, w.ten)
	status, msg := w.post(t, w.ten, w.announce("forged-update", forged))
	assert.Equal(t, http.StatusForbidden, status, msg)
	assert.Equal(t, before, w.count.State())
	assert.Equal(t, "post 4, edited", name(theirs))
}

// TestServeHidden: a hidden item of ours is served as a Tombstone (410)
// and as itself again once restored.
func TestServeHidden(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	post, err := w.act.Post(ctx, w.carol.IRI, w.main, "Hello", "<p>hi</p>")
	require.NoError(t, err)
	h := lemmy.ServeHidden(w.srv.Store, w.srv.Scheme, w.srv.Registry, w.srv.Objects)
	get := func() (int, string) {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, post, nil)
		req.Header.Set("Accept", "application/activity+json")
		h.ServeHTTP(rec, req)
		var doc struct{ Type, FormerType string }
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &doc))
		return rec.Code, doc.Type + " " + doc.FormerType
	}
	status, typ := get()
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, "Page ", typ)

	_, err = w.act.Remove(ctx, w.alice.IRI, post, "spam")
	require.NoError(t, err)
	status, typ = get()
	assert.Equal(t, http.StatusGone, status)
	assert.Equal(t, "Tombstone Page", typ)

	_, err = w.act.Reinstate(ctx, w.alice.IRI, post)
	require.NoError(t, err)
	status, _ = get()
	assert.Equal(t, http.StatusOK, status)
}

// TestNotLemmys: what does not concern a community passes to the default
// behaviour: a Like of a user's note counts in its likes, its Undo
// reverts it, a Delete of a cached note tombstones it.
func TestNotLemmys(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	note := vocab.NewObject("Note", "")
	note.Content = vocab.Text("an ordinary note")
	create := vocab.NewActivity("Create", "", ap.IRI(w.carol.IRI), note)
	create.To = ap.ItemCollection{vocab.PublicIRI}
	_, err := w.srv.Send(ctx, create)
	require.NoError(t, err)
	likes := w.srv.Scheme.Collection(string(note.ID), actor.Likes)

	like := fmt.Appendf(nil, `{"id":%q,"type":"Like","actor":%q,"object":%q,"to":[%q]}`, w.rem.URL+"/likes/1", w.alpha, string(note.ID), w.carol.IRI)
	w.accept(t, w.alpha, like)
	assert.True(t, w.in(t, likes, w.alpha), "counted by the default rule")
	w.accept(t, w.alpha, fmt.Appendf(nil, `{"id":%q,"type":"Undo","actor":%q,"object":%s,"to":[%q]}`, w.rem.URL+"/undo/1", w.alpha, like, w.carol.IRI))
	assert.False(t, w.in(t, likes, w.alpha))

	theirs := w.rem.URL + "/notes/1"
	w.accept(t, w.alpha, fmt.Appendf(nil, `{"id":%q,"type":"Create","actor":%q,"to":[%q],"cc":[%q],"object":{"id":%q,"type":"Note","attributedTo":%q,"content":"hi","to":[%q],"cc":[%q]}}`,
		w.rem.URL+"/create/1", w.alpha, string(vocab.PublicIRI), w.carol.IRI, theirs, w.alpha, string(vocab.PublicIRI), w.carol.IRI))
	like2 := vocab.NewActivity("Like", "", ap.IRI(w.carol.IRI), ap.IRI(theirs))
	like2.To = ap.ItemCollection{ap.IRI(w.alpha)}
	_, err = w.srv.Send(ctx, like2)
	require.NoError(t, err)
	assert.Equal(t, [2]int{0, 0}, w.votes(t, theirs), "carol's like of a note is no Lemmy vote")
	w.accept(t, w.alpha, fmt.Appendf(nil, `{"id":%q,"type":"Delete","actor":%q,"object":%q,"to":[%q]}`, w.rem.URL+"/delete/1", w.alpha, theirs, w.carol.IRI))
	o, err := w.srv.Store.Objects.Get(ctx, theirs)
	require.NoError(t, err)
	assert.False(t, o.Deleted.IsZero(), "tombstoned by the default rule")
	assert.False(t, w.hidden(t, theirs))
}

// TestStacked: another platform's rule registered before for a pattern
// Lemmy shares ("Remove Note", which Mobilizon's groups use too) keeps
// what is not Lemmy's.
func TestStacked(t *testing.T) {
	var theirs []string
	srv := fedtest.New(t, fedtest.Config{Setup: func(f *fedi.Federation) {
		inbox.Handle(f.Mux, "Remove Note", inbox.Rule[vocab.Item]{
			Doc: "another platform's removal",
			Apply: func(ctx context.Context, a *inbox.Activity, _ vocab.Item) error {
				theirs = append(theirs, a.ID)
				return nil
			},
		})
		lemmy.Register(f.Mux, lemmy.Options{Outbox: f.Outbox, Actors: f.Actors, Remote: f.Remote})
	}})
	ctx := context.Background()
	act := lemmy.Actions{Store: srv.Store, Outbox: srv.Outbox, Actors: srv.LocalActors}
	mod, user := srv.User(t, "mod"), srv.User(t, "user")
	c, err := act.CreateCommunity(ctx, mod.IRI, "main", "", "")
	require.NoError(t, err)
	post, err := act.Post(ctx, user.IRI, c.IRI, "p", "")
	require.NoError(t, err)
	comment, err := act.Comment(ctx, user.IRI, post, "c")
	require.NoError(t, err)

	rem := fedtest.NewRemote(t)
	grp := rem.Actor(t, "group", 0)
	note := rem.URL + "/notes/1"
	rem.Put(t, note, fmt.Sprintf(`{"id":%q,"type":"Note","attributedTo":%q,"content":"x"}`, note, grp))
	status, msg := fedtest.Do(t, rem.Signed(t, grp, srv.URL+"/inbox", fmt.Appendf(nil,
		`{"id":%q,"type":"Remove","actor":%q,"object":%q,"target":%q,"to":[%q]}`, rem.URL+"/remove/1", grp, note, grp+"/discussions", user.IRI)))
	require.Equal(t, http.StatusAccepted, status, msg)
	assert.Equal(t, []string{rem.URL + "/remove/1"}, theirs, "the other platform's rule had it")

	_, err = act.Remove(ctx, mod.IRI, comment, "")
	require.NoError(t, err)
	hidden, err := lemmy.Hidden(ctx, srv.Store, srv.Scheme, comment)
	require.NoError(t, err)
	assert.True(t, hidden)

	var docs []string
	for _, r := range srv.Mux.Routes() {
		if r.Pattern == "Remove Note" {
			docs = append(docs, r.Doc)
		}
	}
	require.Len(t, docs, 2)
	assert.True(t, strings.HasPrefix(docs[0], "lemmy: ") != strings.HasPrefix(docs[1], "lemmy: "))
}

// TestPostingRestrictedToMods: in a community where only moderators
// post, another's post is refused.
func TestPostingRestrictedToMods(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	c, err := w.srv.LocalActors.ByIRI(ctx, w.main)
	require.NoError(t, err)
	cm, ok := lemmyvocab.CommunityOf(c.Profile)
	require.True(t, ok)
	restricted := true
	cm.PostingRestrictedToMods = &restricted
	require.NoError(t, w.srv.LocalActors.Update(ctx, c))

	before := w.count.State()
	status, msg := w.post(t, w.alpha, payload(t, w.ours, "lemmy-assets__activities_create_or_update_create_page.json", nil))
	assert.Equal(t, http.StatusForbidden, status, msg)
	assert.Equal(t, before, w.count.State())
	_, err = w.act.Post(ctx, w.alice.IRI, w.main, "by the moderator", "")
	require.NoError(t, err)
}

// TestLocalFollower: our own user following our own community gets its
// Announces through the local delivery, without the effects twice.
func TestLocalFollower(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	_, err := w.srv.Send(ctx, vocab.NewActivity("Follow", "", ap.IRI(w.dave.IRI), ap.IRI(w.main)))
	require.NoError(t, err)
	w.srv.Drain(t)
	assert.True(t, w.in(t, w.srv.Scheme.Collection(w.main, actor.Followers), w.dave.IRI))

	create := payload(t, w.ours, "lemmy-assets__activities_create_or_update_create_page.json", nil)
	w.rem.Put(t, w.rem.URL+"/activities/create/eee6a57a-622f-464d-b560-73ae1fcd3ddf", create)
	w.accept(t, w.alpha, create)
	w.accept(t, w.alpha, payload(t, w.ours, "lemmy-assets__activities_voting_dislike_page.json", map[string]any{
		"actor": w.alpha, "id": w.rem.URL + "/activities/dislike/1"}))
	w.rem.Put(t, w.rem.URL+"/activities/dislike/1", payload(t, w.ours, "lemmy-assets__activities_voting_dislike_page.json", map[string]any{
		"actor": w.alpha, "id": w.rem.URL + "/activities/dislike/1"}))
	w.srv.Drain(t)
	assert.Empty(t, w.failed.events())
	p, err := w.srv.Store.Collections.Page(ctx, w.srv.Scheme.Collection(w.dave.IRI, actor.Inbox), storage.PageOptions{})
	require.NoError(t, err)
	assert.Len(t, p.Members, 2, "both announces in dave's inbox")
	assert.Equal(t, [2]int{0, 1}, w.votes(t, w.rem.URL+"/post/1"))
}
