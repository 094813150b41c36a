package communecter_test

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"strings"

	ap "github.com/go-ap/activitypub"

	"github.com/fedi-go/fedi"
	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/behaviour/communecter"
	"github.com/fedi-go/fedi/behaviour/core"
	"github.com/fedi-go/fedi/storage/memory"
	"github.com/fedi-go/fedi/vocab"
	cvocab "github.com/fedi-go/fedi/vocab/communecter"
	"github.com/fedi-go/fedi/vocab/mobilizon"
)

// newFederation is a server of our own for the examples: nothing
// leaves it.
func newFederation() *fedi.Federation {
	f, err := fedi.New(fedi.Options{
		Origin:   "https://garden.example",
		Store:    memory.New(),
		Registry: vocab.MustRegistry(mobilizon.Vocabulary, cvocab.Vocabulary),
		Logger:   slog.New(slog.DiscardHandler),
	})
	if err != nil {
		log.Fatal(err)
	}
	return f
}

// The behaviour registers in one call; every handler says what it does,
// for FEDERATION.md.
func ExampleRegister() {
	f := newFederation()
	communecter.Register(f.Mux, communecter.Options{Outbox: f.Outbox})
	for _, r := range f.Mux.Routes() {
		fmt.Printf("%s: %s\n", r.Pattern, r.Doc)
	}
	// Output:
	// Accept Invite: makes the invitee a member of our project with the role of its pending invitation; refuses an answer by anyone else
	// Accept Join: makes our actor a member of the project it asked to join, when the project answers; refuses an answer by anyone else
	// Accept Offer: makes the recipient of our badge a holder, or the invitee a member of our project with the offered role; marks our actor's claimed badge as held; refuses an answer by anyone else
	// Create Badge: caches the badge, owned by the actor, which must be its issuer (attributedTo)
	// Create Project: caches the project, owned by the actor, which must be its creator (attributedTo)
	// Delete Badge: tombstones the cached badge, issuer only, and removes it from our actors' badges
	// Delete Project: tombstones the cached project, owner only, and forgets our actors' memberships and invitations of it
	// Invite: records an invitation to our project (by a member; admin role by an admin only) as pending, or one of our actors' invitation to another server's project for the application to answer
	// Join: makes the actor a member of our project or organization and answers Accept, or keeps it pending for an admin where membership is moderated or it asks for the admin role
	// Leave: removes the actor from the members of our project or organization
	// Offer: records a role offered in our project (admin role by an admin only) or to one of our actors; a badge assigned by its issuer to one of our actors, pending until accepted; a claim of our self-assignable badge, held at once and answered Accept
	// Reject Invite: drops the invitee's pending invitation to our project; refuses an answer by anyone else
	// Reject Join: drops our actor's pending Join of the project, when the project answers; refuses an answer by anyone else
	// Reject Offer: drops the recipient of our badge, or the invitee's pending role offer; drops our actor's badge claim, or the badge its issuer revokes; refuses an answer by anyone else
	// Update Badge: replaces the cached badge, issuer only
	// Update Project: replaces the cached project, owner only
}

// A project invites a member with a role, who accepts; a badge is
// assigned and accepted. Here both actors are on the same server, and
// the worker delivers to our own inboxes.
func ExampleClient() {
	ctx := context.Background()
	f := newFederation()
	core.Register(f.Mux, core.Options{Remote: f.Remote})
	opts := communecter.Options{Outbox: f.Outbox, Store: f.Store, Actors: f.LocalActors}
	communecter.Register(f.Mux, opts)
	c, err := communecter.New(opts)
	if err != nil {
		log.Fatal(err)
	}
	deliver := func() {
		for {
			if n, err := f.Worker.RunOnce(ctx, 100); err != nil || n == 0 {
				return
			}
		}
	}
	alice, _ := f.LocalActors.Create(ctx, actor.Actor{Name: "alice"})
	dave, _ := f.LocalActors.Create(ctx, actor.Actor{Name: "dave"})
	name := func(iri string) string { return iri[strings.LastIndexByte(iri, '/')+1:] }

	project, _ := c.CreateProject(ctx, alice.IRI, cvocab.NewProject("", ap.IRI(alice.IRI), "Community garden", "Vegetables for all"))
	if _, err := c.Invite(ctx, alice.IRI, dave.IRI, project, cvocab.RoleContributor); err != nil {
		log.Fatal(err)
	}
	deliver()
	invs, _ := c.Invitations(ctx, dave.IRI)
	fmt.Println("dave is invited as", invs[0].Role.Name)
	if _, err := c.AcceptInvitation(ctx, dave.IRI, project); err != nil {
		log.Fatal(err)
	}
	deliver()
	members, _ := c.Members(ctx, project)
	for _, m := range members {
		fmt.Printf("member %s: %s, admin %v\n", name(m.IRI), m.Role.Name, m.Admin)
	}

	badge, _ := c.CreateBadge(ctx, alice.IRI, cvocab.NewBadge("", ap.IRI(alice.IRI), "Gardener", ""), false)
	if _, err := c.AssignBadge(ctx, alice.IRI, badge, dave.IRI, "for the tomatoes"); err != nil {
		log.Fatal(err)
	}
	deliver()
	holders, _ := c.Holders(ctx, badge)
	fmt.Println("holder", name(holders[0].IRI), holders[0].State)
	if _, err := c.AcceptBadge(ctx, dave.IRI, badge); err != nil {
		log.Fatal(err)
	}
	deliver()
	holders, _ = c.Holders(ctx, badge)
	fmt.Println("holder", name(holders[0].IRI), holders[0].State)
	// Output:
	// dave is invited as contributor
	// member dave: contributor, admin false
	// member alice: admin, admin true
	// holder dave pending
	// holder dave accepted
}
