package lemmy_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/fedi-go/fedi"
	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/behaviour/core"
	"github.com/fedi-go/fedi/behaviour/lemmy"
	"github.com/fedi-go/fedi/inbox"
	"github.com/fedi-go/fedi/storage/memory"
	"github.com/fedi-go/fedi/vocab"
	lemmyvocab "github.com/fedi-go/fedi/vocab/lemmy"
)

// The behaviour registers on top of the default one; each handler says
// what it does, for FEDERATION.md.
func ExampleRegister() {
	mux := inbox.NewMux(vocab.MustRegistry(lemmyvocab.Vocabulary))
	core.Register(mux, core.Options{})
	lemmy.Register(mux, lemmy.Options{})
	for _, r := range mux.Routes() {
		if strings.HasPrefix(r.Pattern, "Lock") || r.Pattern == "Like Page" {
			fmt.Printf("%s: %s\n", r.Pattern, r.Doc)
		}
	}
	// Output:
	// Like Page: lemmy: an upvote of a post of a local community, one per actor (it replaces a downvote), announced
	// Like Page: adds the actor to the liked object's likes when the object is ours
	// Lock Note: lemmy: a moderator locks the comment: no new reply below it but a moderator's; announced
	// Lock Page: lemmy: a moderator locks the post: no new comment below it but a moderator's; announced
}

// A community, a post, votes and a moderator's removal, on a server of
// its own (nothing is delivered here: there is no follower elsewhere).
func ExampleActions() {
	ctx := context.Background()
	f, err := fedi.New(fedi.Options{Origin: "https://lemmy.example", Store: memory.New(),
		Registry: vocab.MustRegistry(lemmyvocab.Vocabulary), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		panic(err)
	}
	core.Register(f.Mux, core.Options{Remote: f.Remote})
	lemmy.Register(f.Mux, lemmy.Options{Outbox: f.Outbox, Actors: f.Actors, Remote: f.Remote})
	act := lemmy.Actions{Store: f.Store, Outbox: f.Outbox, Actors: f.LocalActors}

	alice, _ := f.LocalActors.Create(ctx, actor.Actor{Name: "alice"})
	bob, _ := f.LocalActors.Create(ctx, actor.Actor{Name: "bob"})
	c, err := act.CreateCommunity(ctx, alice.IRI, "gophers", "Gophers", "<p>all about Go</p>")
	if err != nil {
		panic(err)
	}
	post, _ := act.Post(ctx, bob.IRI, c.IRI, "Hello", "<p>my first post</p>")

	_, _ = act.Vote(ctx, alice.IRI, post, true)
	_, _ = act.Vote(ctx, bob.IRI, post, true)
	up, down, _ := lemmy.Votes(ctx, f.Store, f.Scheme, post)
	fmt.Println("votes:", up, down)
	_, _ = act.Vote(ctx, bob.IRI, post, false) // replaces bob's upvote
	up, down, _ = lemmy.Votes(ctx, f.Store, f.Scheme, post)
	fmt.Println("votes:", up, down)

	_, err = act.Remove(ctx, bob.IRI, post, "spam")
	fmt.Println("bob removes:", errors.Is(err, lemmy.ErrNotModerator))
	_, _ = act.Remove(ctx, alice.IRI, post, "off topic")
	hidden, _ := lemmy.Hidden(ctx, f.Store, f.Scheme, post)
	fmt.Println("hidden:", hidden)
	_, _ = act.Reinstate(ctx, alice.IRI, post)
	hidden, _ = lemmy.Hidden(ctx, f.Store, f.Scheme, post)
	fmt.Println("hidden:", hidden)
	// Output:
	// votes: 2 0
	// votes: 1 1
	// bob removes: true
	// hidden: true
	// hidden: false
}
