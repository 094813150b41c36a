package outbox_test

import (
	"errors"
	"strings"
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

func TestSendCompletesACreate(t *testing.T) {
	e := newEnv(t)
	alice := e.user("alice")
	before := time.Now().Add(-time.Second)

	create := note(alice, vocab.PublicIRI, e.followers(alice))
	id, err := e.out.Send(e.ctx, create)
	require.NoError(t, err)

	assert.Equal(t, string(create.ID), id, "Send returns the id it gave the activity")
	assert.True(t, strings.HasPrefix(id, alice+"/"), "the id is the scheme's, below the actor: %s", id)
	n := create.Object.(*vocab.Object)
	assert.True(t, strings.HasPrefix(string(n.ID), alice+"/"), "the object got an id: %s", n.ID)
	assert.NotEqual(t, id, string(n.ID))
	assert.Equal(t, ap.IRI(alice), vocab.IRIOf(n.AttributedTo), "attributedTo is the actor")
	assert.False(t, create.Published.Before(before), "published is set: %v", create.Published)
	assert.False(t, n.Published.Before(before), "the object's published is set: %v", n.Published)
	assert.Equal(t, []ap.IRI{vocab.PublicIRI, e.followers(alice)}, vocab.Audience(n), "the object shares the Create's addressing")

	stored, doc := e.stored(id)
	assert.Equal(t, "Create", stored.Type)
	assert.Equal(t, alice, stored.Owner)
	assert.Equal(t, id, doc["id"])
	obj, _ := e.stored(string(n.ID))
	assert.Equal(t, "Note", obj.Type)
	assert.Equal(t, alice, obj.Owner, "the object is stored, owned by the actor")
	assert.Equal(t, []string{id}, e.members(e.scheme.Collection(alice, actor.Outbox), storage.Accepted), "the outbox lists it")
	assert.Equal(t, int64(1), e.stats().Ready, "one fan-out is enqueued")
}

func TestSendKeepsWhatIsGiven(t *testing.T) {
	e := newEnv(t)
	alice := e.user("alice")
	published := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	n := vocab.NewObject("Note", ap.IRI(alice+"/notes/1"))
	n.Published = published
	n.To = ap.ItemCollection{ap.IRI("https://remote.example/users/bob")}
	create := vocab.NewActivity("Create", ap.IRI(alice+"/activities/1"), ap.IRI(alice), n)
	create.Published = published

	id, err := e.out.Send(e.ctx, create)
	require.NoError(t, err)
	assert.Equal(t, alice+"/activities/1", id)
	assert.Equal(t, ap.IRI(alice+"/notes/1"), n.ID)
	assert.Equal(t, published, create.Published)
	assert.Equal(t, published, n.Published)
	assert.Equal(t, []ap.IRI{"https://remote.example/users/bob"}, vocab.Audience(create),
		"the Create takes the addressing of its object")
}

func TestSendRefuses(t *testing.T) {
	e := newEnv(t)
	alice, bob := e.user("alice"), e.user("bob")
	bobsNote := note(bob, vocab.PublicIRI)
	_, err := e.out.Send(e.ctx, bobsNote)
	require.NoError(t, err)
	bobsNoteIRI := vocab.IRIOf(bobsNote.Object)
	aliceNote := note(alice)
	_, err = e.out.Send(e.ctx, aliceNote)
	require.NoError(t, err)
	aliceNoteIRI := vocab.IRIOf(aliceNote.Object)

	withID := func(a *vocab.Activity, id string) *vocab.Activity { a.ID = ap.IRI(id); return a }
	remoteNote := vocab.NewObject("Note", "https://remote.example/notes/1")
	twoActors := vocab.NewActivity("Like", "", ap.ItemCollection{ap.IRI(alice), ap.IRI(bob)}, ap.IRI(bobsNoteIRI))
	bobsNoteAgain := vocab.NewObject("Note", bobsNoteIRI)
	bobsNoteAgain.Content = vocab.Text("taken over")
	tests := []struct {
		name string
		item vocab.Item
		want error
	}{
		{"a remote actor", note("https://remote.example/users/mallory"), outbox.ErrNotLocal},
		{"an unknown local actor", note(origin + "/users/nobody"), outbox.ErrNotLocal},
		{"an id on another origin", withID(note(alice), "https://remote.example/a/1"), outbox.ErrNotLocal},
		{"a Create of an object on another origin", vocab.NewActivity("Create", "", ap.IRI(alice), remoteNote), outbox.ErrNotLocal},
		{"a bare object", vocab.NewObject("Note", ""), outbox.ErrNotActivity},
		{"an IRI", ap.IRI(alice + "/notes/1"), outbox.ErrNotActivity},
		{"no actor", vocab.NewActivity("Like", "", nil, ap.IRI(bobsNoteIRI)), outbox.ErrInvalid},
		{"two actors", twoActors, outbox.ErrInvalid},
		{"no type", vocab.NewActivity("", "", ap.IRI(alice), ap.IRI(bobsNoteIRI)), outbox.ErrInvalid},
		{"a Create of a link", vocab.NewActivity("Create", "", ap.IRI(alice), ap.IRI(alice+"/notes/2")), outbox.ErrInvalid},
		{"a Create of an object that exists", vocab.NewActivity("Create", "", ap.IRI(alice), bobsNoteAgain), outbox.ErrInvalid},
		{"an Update of someone else's object", vocab.NewActivity("Update", "", ap.IRI(alice), bobsNoteAgain), outbox.ErrNotOwner},
		{"a Delete of someone else's object", vocab.NewActivity("Delete", "", ap.IRI(alice), ap.IRI(bobsNoteIRI)), outbox.ErrNotOwner},
		{"a Delete of someone else's among ours", vocab.NewActivity("Delete", "", ap.IRI(alice),
			ap.ItemCollection{ap.IRI(aliceNoteIRI), ap.IRI(bobsNoteIRI)}), outbox.ErrNotOwner},
		{"an Update of a remote object", vocab.NewActivity("Update", "", ap.IRI(alice), remoteNote), outbox.ErrNotOwner},
		{"a Delete of what is not stored", vocab.NewActivity("Delete", "", ap.IRI(alice), ap.IRI(alice+"/notes/none")), outbox.ErrNotOwner},
		{"a Delete of another actor", vocab.NewActivity("Delete", "", ap.IRI(alice), ap.IRI(bob)), outbox.ErrNotOwner},
		{"an Update without id", vocab.NewActivity("Update", "", ap.IRI(alice), vocab.NewObject("Note", "")), outbox.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.depth()
			outboxBefore := e.members(e.scheme.Collection(alice, actor.Outbox), storage.Accepted)
			_, err := e.out.Send(e.ctx, tt.item)
			require.Error(t, err)
			assert.True(t, errors.Is(err, tt.want), "got %v, want %v", err, tt.want)
			assert.Equal(t, before, e.depth(), "nothing is enqueued")
			assert.Equal(t, outboxBefore, e.members(e.scheme.Collection(alice, actor.Outbox), storage.Accepted), "nothing is listed")
		})
	}
	_, doc := e.stored(string(bobsNoteIRI))
	assert.Equal(t, "hello", doc["content"], "bob's note is untouched")
	obj, _ := e.stored(string(aliceNoteIRI))
	assert.True(t, obj.Deleted.IsZero(), "alice's note was not deleted by the Delete that failed")
}

func TestSendStoresWithoutBtoAndBcc(t *testing.T) {
	e := newEnv(t)
	alice := e.user("alice")
	create := note(alice, e.followers(alice))
	create.Bto = ap.ItemCollection{ap.IRI("https://remote.example/users/secret")}
	create.BCC = ap.ItemCollection{ap.IRI("https://remote.example/users/hidden")}
	id, err := e.out.Send(e.ctx, create)
	require.NoError(t, err)

	_, doc := e.stored(id)
	assert.NotContains(t, doc, "bto")
	assert.NotContains(t, doc, "bcc")
	assert.Equal(t, []any{e.scheme.Collection(alice, actor.Followers)}, anyList(doc["to"]))
	_, obj := e.stored(string(vocab.IRIOf(create.Object)))
	assert.NotContains(t, obj, "bto")
	assert.NotContains(t, obj, "bcc")
	assert.Len(t, create.Bto, 1, "the activity given keeps them, for the fan-out")
}

func TestSendUpdateAndDelete(t *testing.T) {
	e := newEnv(t)
	alice := e.user("alice")
	create := note(alice, vocab.PublicIRI)
	_, err := e.out.Send(e.ctx, create)
	require.NoError(t, err)
	iri := vocab.IRIOf(create.Object)

	changed := vocab.NewObject("Note", iri)
	changed.Content = vocab.Text("changed")
	changed.To = ap.ItemCollection{vocab.PublicIRI}
	_, err = e.out.Send(e.ctx, vocab.NewActivity("Update", "", ap.IRI(alice), changed))
	require.NoError(t, err)
	_, doc := e.stored(string(iri))
	assert.Equal(t, "changed", doc["content"])

	delID, err := e.out.Send(e.ctx, vocab.NewActivity("Delete", "", ap.IRI(alice), iri))
	require.NoError(t, err)
	obj, doc := e.stored(string(iri))
	assert.False(t, obj.Deleted.IsZero(), "the object is tombstoned")
	assert.Equal(t, "Tombstone", doc["type"])
	assert.Equal(t, "Note", doc["formerType"])
	_, del := e.stored(delID)
	assert.Equal(t, []any{string(vocab.PublicIRI)}, anyList(del["to"]), "a Delete that names no recipient goes where its object went")

	_, err = e.out.Send(e.ctx, vocab.NewActivity("Delete", "", ap.IRI(alice), iri))
	require.NoError(t, err, "deleting again is harmless")
	_, err = e.out.Send(e.ctx, vocab.NewActivity("Update", "", ap.IRI(alice), changed))
	require.Error(t, err, "a deleted object cannot be updated")
}

// anyList returns v as a list, whether it was one value or several.
func anyList(v any) []any {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		return x
	}
	return []any{v}
}

// TestSendDeleteOfTheActor: an actor that deletes itself is gone once
// Send returns, and its followers are told.
func TestSendDeleteOfTheActor(t *testing.T) {
	e := newEnv(t)
	alice := e.user("alice")
	p := newPeer(t)
	e.follower(alice, p.actor("bob", true))
	carol := e.user("carol")
	n, err := e.actors.Count(e.ctx)
	require.NoError(t, err)
	require.Equal(t, 2, n)
	e.send(vocab.NewActivity("Delete", "", ap.IRI(alice), ap.IRI(alice)))

	_, err = e.actors.ByIRI(e.ctx, alice)
	require.ErrorIs(t, err, actor.ErrGone)
	n, err = e.actors.Count(e.ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "the server counts one actor less")
	list, _, err := e.actors.List(e.ctx, "", 10)
	require.NoError(t, err)
	assert.Equal(t, []string{carol}, list, "and lists it no more")
	obj, doc := e.stored(alice)
	assert.False(t, obj.Deleted.IsZero())
	assert.Equal(t, "Tombstone", doc["type"])
	assert.Equal(t, "Person", doc["formerType"])
	_, err = e.out.Send(e.ctx, note(alice, vocab.PublicIRI))
	assert.ErrorIs(t, err, outbox.ErrNotLocal, "a deleted actor sends nothing more")

	e.drain(e.worker(outbox.WorkerOptions{}))
	got := p.posts()
	require.Len(t, got, 1, "the followers are told")
	assert.Equal(t, "Delete", got[0].Type)
	assert.Equal(t, alice, got[0].Doc["object"])
}
