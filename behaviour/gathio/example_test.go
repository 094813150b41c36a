package gathio_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/fedi-go/fedi"
	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/behaviour/core"
	"github.com/fedi-go/fedi/behaviour/gathio"
	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/storage/memory"
	"github.com/fedi-go/fedi/vocab"
	vmz "github.com/fedi-go/fedi/vocab/mobilizon"
)

// The behaviour registers on top of the default one: the answers to
// invitations to events go above core's answers.
func ExampleRegister() {
	f, err := fedi.New(fedi.Options{Origin: "https://events.example", Store: memory.New(),
		Registry: vocab.MustRegistry(vmz.Vocabulary), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		panic(err)
	}
	core.Register(f.Mux, core.Options{Remote: f.Remote})
	gathio.Register(f.Mux, gathio.Options{})
	for _, r := range f.Mux.Routes() {
		if strings.HasSuffix(r.Pattern, " Invite") || r.Pattern == "Invite Event" {
			fmt.Println(r.Pattern+":", r.Doc)
		}
	}
	// Output:
	// Accept Invite: records the invited actor as going on our invitation's event; only an invited actor answers
	// Accept Invite: records the Accept in the recipient's inbox; refuses one of an activity this server never sent
	// Invite Event: keeps the invitation to the event in the invited actor's invitations, for it to answer going, not going or maybe
	// Invite Event: stores the activity and lists it in the recipient's inbox
	// Reject Invite: records the invited actor as not going on our invitation's event; only an invited actor answers
	// Reject Invite: records the Reject in the recipient's inbox; refuses one of an activity this server never sent
	// TentativeAccept Invite: records the invited actor as maybe on our invitation's event; only an invited actor answers
	// TentativeAccept Invite: records the TentativeAccept in the recipient's inbox; refuses one of an activity this server never sent
}

// The happy path: an event that acts invites carol, who answers that she
// is going; her answer is recorded on the event.
func ExampleRespond() {
	ctx := context.Background()
	f, err := fedi.New(fedi.Options{Origin: "https://events.example", Store: memory.New(),
		Registry: vocab.MustRegistry(vmz.Vocabulary), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		panic(err)
	}
	core.Register(f.Mux, core.Options{Remote: f.Remote})
	gathio.Register(f.Mux, gathio.Options{})
	d := gathio.Deps{Store: f.Store, Outbox: f.Outbox}
	deliver := func() { _, _ = f.Worker.RunOnce(ctx, 100) } // everything stays on this server

	start := time.Date(2030, 6, 1, 18, 0, 0, 0, time.UTC)
	picnic, _ := gathio.CreateEvent(ctx, f.LocalActors, "picnic", vmz.NewEvent("", "", "Picnic", start, start.Add(3*time.Hour)).Object)
	carol, _ := f.LocalActors.Create(ctx, actor.Actor{Name: "carol"})

	invite, _ := gathio.Invite(ctx, d, picnic.IRI, picnic.IRI, carol.IRI)
	deliver()
	m, _ := f.Store.Collections.Contains(ctx, f.Scheme.Collection(carol.IRI, gathio.Invitations), picnic.IRI)
	fmt.Println("carol's invitation:", m.State)

	_, err = gathio.Respond(ctx, d, carol.IRI, invite, gathio.Going)
	fmt.Println("answered:", err == nil)
	deliver()
	going, _, _ := gathio.RSVPs(ctx, d, picnic.IRI, gathio.Going, storage.PageOptions{})
	fmt.Println("going:", len(going), going[0] == carol.IRI)
	// Output:
	// carol's invitation: pending
	// answered: true
	// going: 1 true
}
