package refserver

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	ap "github.com/go-ap/activitypub"

	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/behaviour/gathio"
	"github.com/fedi-go/fedi/behaviour/mobilizon"
	"github.com/fedi-go/fedi/federationmd"
	"github.com/fedi-go/fedi/storage"
	vmz "github.com/fedi-go/fedi/vocab/mobilizon"
)

// gathioPlatform: events that act, which people follow, and the answers
// to invitations (going, not going, maybe).
var gathioPlatform = platform{
	name:   "gathio",
	served: []string{string(gathio.Going), string(gathio.Maybe), string(gathio.NotGoing)},
	register: func(_ context.Context, s *Server) error {
		f := s.fed
		gathio.Register(f.Mux, gathio.Options{})
		s.gt = gathio.Deps{Store: f.Store, Outbox: f.Outbox}
		return nil
	},
}

func init() {
	platformSent = append(platformSent,
		federationmd.Sent{Activity: "Update", Object: "Event", Doc: "an event that acts sends its own Update to its followers when it changes"},
		federationmd.Sent{Activity: "Accept", Object: "Invite", Doc: "when a user answers an invitation to an event: going (Accept), not going (Reject)"},
	)
	deciders = append(deciders, decideGathio)
	pendingExtras = append(pendingExtras, pendingGathio)
	actorSections = append(actorSections, rsvpSections)
}

// createActingEvent makes an event that acts (POST event with "acts"):
// an actor of type Event, owned by u, that people follow.
func (c *control) createActingEvent(ctx context.Context, u *actor.Actor, handle string, ev vmz.Event) (any, error) {
	ev.AttributedTo = ap.IRI(u.IRI)
	a, err := gathio.CreateEvent(ctx, c.s.fed.LocalActors, handle, ev.Object)
	if errors.Is(err, actor.ErrExists) {
		return nil, &httpError{http.StatusConflict, "the actor exists: " + handle}
	}
	if err != nil {
		return nil, failed(err)
	}
	out := c.actorAnswer(a)
	out["event"], out["create"], out["delivery"] = a.IRI, nil, nil
	return out, nil
}

func gathioInvite(ctx context.Context, s *Server, by, event, who string) (string, error) {
	return gathio.Invite(ctx, s.gt, by, event, who)
}

func mobilizonInvite(ctx context.Context, s *Server, by, event, who string) (string, error) {
	return mobilizon.Invite(ctx, s.mz, by, event, who)
}

// decideGathio answers an invitation to an event u received: going, or
// not going.
func decideGathio(ctx context.Context, c *control, u *actor.Actor, id string, accept bool) (any, bool, error) {
	f := c.s.fed
	ms, err := c.members(ctx, f.Scheme.Collection(u.IRI, gathio.Invitations), storage.Pending)
	if err != nil {
		return nil, true, err
	}
	for _, m := range ms {
		if m.Activity != id {
			continue
		}
		rsvp, typ := gathio.Going, "Accept"
		if !accept {
			rsvp, typ = gathio.NotGoing, "Reject"
		}
		ans, err := gathio.Respond(ctx, c.s.gt, u.IRI, id, rsvp)
		if err != nil {
			return nil, true, failed(err, gathio.ErrNotInvited)
		}
		return map[string]any{"id": ans, "type": typ}, true, nil
	}
	return nil, false, nil
}

// pendingGathio adds the invitations to events that wait for u.
func pendingGathio(ctx context.Context, c *control, u *actor.Actor, out map[string]any) error {
	f := c.s.fed
	ms, err := c.members(ctx, f.Scheme.Collection(u.IRI, gathio.Invitations), storage.Pending)
	if err != nil {
		return err
	}
	l, _ := out["invitations"].([]map[string]any)
	for _, m := range ms {
		e := map[string]any{"id": m.Activity, "actor": nil, "object": m.IRI, "role": nil}
		if owner, err := f.Store.Objects.Owner(ctx, m.Activity); err == nil {
			e["actor"] = nullable(owner)
		}
		l = append(l, e)
	}
	if l == nil {
		l = []map[string]any{}
	}
	out["invitations"] = l
	return nil
}

// rsvpSections show the answers to the invitations to an event that
// acts.
func rsvpSections(ctx context.Context, v *htmlView, a *actor.Actor) ([]section, error) {
	if a.Type != "Event" {
		return nil, nil
	}
	var out []section
	for _, r := range []gathio.RSVP{gathio.Going, gathio.Maybe, gathio.NotGoing} {
		who, _, err := gathio.RSVPs(ctx, v.s.gt, a.IRI, r, storage.PageOptions{Limit: 100})
		if err != nil {
			return nil, err
		}
		sec := section{Title: "Answered " + r.String() + " (" + strconv.Itoa(len(who)) + ")", Empty: "nobody"}
		for _, w := range who {
			sec.Items = append(sec.Items, item{Label: v.actorLabel(ctx, w), Link: w})
		}
		out = append(out, sec)
	}
	return out, nil
}
