package fedi_test

import (
	"context"
	"testing"

	ap "github.com/go-ap/activitypub"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/internal/fedtest"
	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/vocab"
)

// TestFollowAcceptCreate: two servers on loopback. Alice follows Bob;
// Bob's server accepts; Alice's records the follow as accepted; Bob's
// note to his followers reaches Alice's server.
func TestFollowAcceptCreate(t *testing.T) {
	ctx := context.Background()
	a, b := fedtest.New(t, fedtest.Config{}), fedtest.New(t, fedtest.Config{})
	alice, bob := a.User(t, "alice"), b.User(t, "bob")

	follow := vocab.NewActivity("Follow", "", ap.IRI(alice.IRI), ap.IRI(bob.IRI))
	followID, err := a.Send(ctx, follow)
	require.NoError(t, err)
	m, err := a.Store.Collections.Contains(ctx, a.Scheme.Collection(alice.IRI, actor.Following), bob.IRI)
	require.NoError(t, err)
	assert.Equal(t, storage.Pending, m.State)

	fedtest.DrainAll(t, a, b)

	m, err = b.Store.Collections.Contains(ctx, b.Scheme.Collection(bob.IRI, actor.Followers), alice.IRI)
	require.NoError(t, err, "bob's followers")
	assert.Equal(t, storage.Accepted, m.State)
	assert.Equal(t, followID, m.Activity)
	m, err = a.Store.Collections.Contains(ctx, a.Scheme.Collection(alice.IRI, actor.Following), bob.IRI)
	require.NoError(t, err)
	assert.Equal(t, storage.Accepted, m.State, "alice's following after the Accept")

	note := vocab.NewObject("Note", "")
	note.Content = vocab.Text("hello followers")
	create := vocab.NewActivity("Create", "", ap.IRI(bob.IRI), note)
	create.To = ap.ItemCollection{ap.IRI(b.Scheme.Collection(bob.IRI, actor.Followers))}
	createID, err := b.Send(ctx, create)
	require.NoError(t, err)
	fedtest.DrainAll(t, a, b)

	got, err := a.Store.Objects.Get(ctx, string(note.ID))
	require.NoError(t, err, "the note reached alice's server")
	assert.Equal(t, bob.IRI, got.Owner)
	in, err := a.Store.Collections.Contains(ctx, a.Scheme.Collection(alice.IRI, actor.Inbox), createID)
	require.NoError(t, err, "the Create is in alice's inbox")
	assert.Equal(t, storage.Accepted, in.State)
}

// TestLocalDelivery: a note from one of our actors to another is
// delivered within the server, not refused as a Create of our own
// object.
func TestLocalDelivery(t *testing.T) {
	ctx := context.Background()
	s := fedtest.New(t, fedtest.Config{})
	alice, bob := s.User(t, "alice"), s.User(t, "bob")
	note := vocab.NewObject("Note", "")
	note.Content = vocab.Text("hi bob")
	create := vocab.NewActivity("Create", "", ap.IRI(alice.IRI), note)
	create.To = ap.ItemCollection{ap.IRI(bob.IRI)}
	id, err := s.Send(ctx, create)
	require.NoError(t, err)
	s.Drain(t)
	_, err = s.Store.Collections.Contains(ctx, s.Scheme.Collection(bob.IRI, actor.Inbox), id)
	require.NoError(t, err, "in bob's inbox")
	stats, err := s.Store.Queue.Stats(ctx)
	require.NoError(t, err)
	assert.Zero(t, stats.Dead, "nothing was refused")
}
