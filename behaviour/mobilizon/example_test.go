package mobilizon_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	ap "github.com/go-ap/activitypub"

	"github.com/fedi-go/fedi"
	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/behaviour/core"
	"github.com/fedi-go/fedi/behaviour/mobilizon"
	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/storage/memory"
	"github.com/fedi-go/fedi/vocab"
	vmz "github.com/fedi-go/fedi/vocab/mobilizon"
)

// The behaviour registers on top of the default one, and each handler
// says what it does; where it shares a pattern with the rule below it,
// both are listed, the one that sees the activity first first.
func ExampleRegister() {
	f, err := fedi.New(fedi.Options{Origin: "https://events.example", Store: memory.New(),
		Registry: vocab.MustRegistry(vmz.Vocabulary), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		panic(err)
	}
	core.Register(f.Mux, core.Options{Remote: f.Remote})
	mobilizon.Register(f.Mux, mobilizon.Options{Outbox: f.Outbox})
	for _, r := range f.Mux.Routes() {
		if strings.Contains(r.Pattern, "Join") || strings.Contains(r.Pattern, "Leave") {
			fmt.Println(r.Pattern+":", r.Doc)
		}
	}
	// Output:
	// Accept Join: marks our actor's participation in the event as accepted; only the event's organizer may accept it
	// Accept Join: records the Accept in the recipient's inbox; refuses one of an activity this server never sent
	// Join Event: makes the actor a participant of our event and sends the organizer's Accept, or keeps the Join pending with its participationMessage when the event is restricted; refuses a Join of a full event, or of an invite-only one without an invitation
	// Leave Event: removes the actor from our event's participants, accepted or pending, and updates the event's counts
	// Reject Join: drops our actor's participation in the event; only the event's organizer may reject it
	// Reject Join: records the Reject in the recipient's inbox; refuses one of an activity this server never sent
}

// The happy path of a restricted event: alice organizes it, carol asks
// to join with a message, alice reads it and accepts her.
func ExampleDecide() {
	ctx := context.Background()
	f, err := fedi.New(fedi.Options{Origin: "https://events.example", Store: memory.New(),
		Registry: vocab.MustRegistry(vmz.Vocabulary), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		panic(err)
	}
	core.Register(f.Mux, core.Options{Remote: f.Remote})
	mobilizon.Register(f.Mux, mobilizon.Options{Outbox: f.Outbox})
	d := mobilizon.Deps{Store: f.Store, Outbox: f.Outbox}
	alice, _ := f.LocalActors.Create(ctx, actor.Actor{Name: "alice"})
	carol, _ := f.LocalActors.Create(ctx, actor.Actor{Name: "carol"})
	deliver := func() { _, _ = f.Worker.RunOnce(ctx, 100) } // carol's Join and alice's Accept stay on this server

	start := time.Date(2030, 6, 1, 18, 0, 0, 0, time.UTC)
	ev := vmz.NewEvent("", ap.IRI(alice.IRI), "Picnic", start, start.Add(3*time.Hour))
	ev.JoinMode = vmz.JoinRestricted
	ev.MaximumAttendeeCapacity = new(10)
	event, _ := mobilizon.CreateEvent(ctx, d, alice.IRI, ev)

	_, _ = mobilizon.JoinEvent(ctx, d, carol.IRI, ap.IRI(event), "I'll bring a cake")
	deliver()
	pending, _, _ := mobilizon.Participations(ctx, d, event, storage.PageOptions{State: storage.Pending})
	fmt.Println(pending[0].Actor == carol.IRI, pending[0].Message)

	_, err = mobilizon.Decide(ctx, d, alice.IRI, pending[0].Join, true)
	fmt.Println("accepted:", err == nil)
	deliver()
	m, _ := f.Store.Collections.Contains(ctx, f.Scheme.Collection(carol.IRI, mobilizon.Joins), event)
	fmt.Println("carol's participation:", m.State)
	o, _ := f.Store.Objects.Get(ctx, event)
	stored, _ := f.Registry.Decode(o.Data)
	e, _ := vmz.EventOf(stored)
	fmt.Println("participants:", *e.ParticipantCount, "seats left:", *e.RemainingAttendeeCapacity)
	// Output:
	// true I'll bring a cake
	// accepted: true
	// carol's participation: accepted
	// participants: 1 seats left: 9
}
