package refserver

import (
	"context"
	"errors"
	"fmt"
	"html"
	"net/http"
	"strconv"
	"strings"
	"time"

	ap "github.com/go-ap/activitypub"

	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/behaviour/mobilizon"
	"github.com/fedi-go/fedi/federationmd"
	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/vocab"
	vmz "github.com/fedi-go/fedi/vocab/mobilizon"
)

// mobilizonPlatform: events that people join, with the organizer's
// approval when the event says so, and the instance relay.
var mobilizonPlatform = platform{
	name:   "mobilizon",
	served: []string{mobilizon.Participants, mobilizon.Moderators},
	register: func(ctx context.Context, s *Server) error {
		f := s.fed
		relay, err := mobilizon.EnsureRelay(ctx, f.LocalActors)
		if err != nil {
			return fmt.Errorf("creating the relay: %v", err)
		}
		s.relay = relay
		mobilizon.Register(f.Mux, mobilizon.Options{Outbox: f.Outbox, Relay: relay.IRI, RejectRefusedJoins: true})
		s.mz = mobilizon.Deps{Store: f.Store, Outbox: f.Outbox}
		c := s.ctl
		c.handle("POST /_control/event", c.createEvent)
		c.handle("POST /_control/join", c.joinEvent)
		c.handle("POST /_control/leave", c.leaveEvent)
		c.handle("GET /_control/events", c.events)
		c.handle("GET /_control/participants", c.participants)
		c.handle("GET /_control/joins", c.joins)
		return nil
	},
}

func init() {
	platformSent = append(platformSent,
		federationmd.Sent{Activity: "Create", Object: "Event", Doc: "when a user publishes an event (control API event), with its joinMode, capacity and replies moderation"},
		federationmd.Sent{Activity: "Join", Doc: "when a user joins an event, with an optional participationMessage for the organizer"},
		federationmd.Sent{Activity: "Leave", Doc: "when a user leaves an event it joined"},
		federationmd.Sent{Activity: "Accept", Object: "Join", Doc: "when a Join of a free event arrives, or the organizer approves a waiting one"},
		federationmd.Sent{Activity: "Reject", Object: "Join", Doc: "when the organizer refuses a participation, or an event cannot take it (full, by invitation only, draft, cancelled)"},
		federationmd.Sent{Activity: "Invite", Object: "Event", Doc: "when an organizer invites someone to an event (control API invite)"},
		federationmd.Sent{Activity: "Announce", Doc: "by the instance relay (relay@host), of every public post of the server's people, to the instances that follow it"},
	)
	deciders = append(deciders, decideJoin)
	pendingExtras = append(pendingExtras, pendingJoins)
	objectSections = append(objectSections, eventSections)
	actorSections = append(actorSections, actorEvents)
}

// createEvent: the Fedify peer's route, plus Mobilizon's joinMode,
// maximumAttendeeCapacity and repliesModerationOption.
func (c *control) createEvent(ctx context.Context, _ *http.Request, body map[string]any, u *actor.Actor) (any, error) {
	name, err := need(body, "name")
	if err != nil {
		return nil, err
	}
	start := time.Now().UTC().Add(24 * time.Hour).Truncate(time.Second)
	if v := str(body, "startTime"); v != "" {
		if start, err = time.Parse(time.RFC3339, v); err != nil {
			return nil, bad(`"startTime" is an RFC 3339 time`)
		}
	}
	end := start.Add(2 * time.Hour)
	if v := str(body, "endTime"); v != "" {
		if end, err = time.Parse(time.RFC3339, v); err != nil {
			return nil, bad(`"endTime" is an RFC 3339 time`)
		}
	}
	ev := vmz.NewEvent("", ap.IRI(u.IRI), name, start, end)
	content := str(body, "content")
	if content == "" {
		content = "<p>" + html.EscapeString(name) + "</p>"
	}
	ev.Content = vocab.Text(content)
	if loc := str(body, "location"); loc != "" {
		place := vocab.NewObject("Place", "")
		place.Name = vocab.Text(loc)
		ev.Location = place
	}
	switch m := vmz.JoinMode(str(body, "joinMode")); m {
	case "":
	case vmz.JoinFree, vmz.JoinRestricted, vmz.JoinInvite, vmz.JoinExternal:
		ev.JoinMode = m
	default:
		return nil, bad(`"joinMode" is free, restricted, invite or external`)
	}
	if n, ok, err := intField(body, "maximumAttendeeCapacity"); err != nil {
		return nil, err
	} else if ok {
		ev.MaximumAttendeeCapacity = &n
	}
	switch m := vmz.RepliesModeration(str(body, "repliesModerationOption")); m {
	case "":
	case vmz.RepliesAllowAll, vmz.RepliesModerated, vmz.RepliesClosed:
		ev.SetRepliesModeration(m)
	default:
		return nil, bad(`"repliesModerationOption" is allow_all, moderated or closed`)
	}
	if acts, _ := body["acts"].(bool); acts {
		handle := str(body, "handle")
		if handle == "" {
			handle = slug(name)
		}
		return c.createActingEvent(ctx, u, handle, ev)
	}
	if announce, ok := body["announce"].(bool); ok && !announce {
		// Public, but delivered to nobody.
		ev.To = ap.ItemCollection{vocab.PublicIRI}
	}
	event, err := mobilizon.CreateEvent(ctx, c.s.mz, u.IRI, ev)
	if err != nil {
		return nil, failed(err)
	}
	create := c.createOf(ctx, u, event)
	return map[string]any{"event": event, "create": create, "delivery": map[string]any{"id": create, "type": "Create", "queued": true}}, nil
}

// eventArg returns the event named by "event": its IRI when it is
// stored here, its fetched document otherwise (cached, so that the
// answers to the Join find it).
func (c *control) eventArg(ctx context.Context, body map[string]any) (vocab.Item, error) {
	iri, err := need(body, "event")
	if err != nil {
		return nil, err
	}
	f := c.s.fed
	if o, err := f.Store.Objects.Get(ctx, iri); err == nil && o.Deleted.IsZero() {
		return ap.IRI(iri), nil
	}
	it, err := c.item(ctx, iri)
	if err != nil {
		return nil, err
	}
	ev, ok := vmz.EventOf(it)
	if !ok || string(ev.ID) != iri {
		return nil, bad("%s is not an Event", iri)
	}
	if by := vocab.AttributedTo(it); len(by) > 0 && !f.Scheme.IsLocal(iri) {
		if data, err := f.Registry.Encode(it); err == nil {
			_ = f.Store.Objects.Put(ctx, storage.Object{IRI: iri, Type: string(it.GetType()), Owner: string(by[0]), Data: data})
		}
	}
	return it, nil
}

func (c *control) joinEvent(ctx context.Context, _ *http.Request, body map[string]any, u *actor.Actor) (any, error) {
	ev, err := c.eventArg(ctx, body)
	if err != nil {
		return nil, err
	}
	id, err := mobilizon.JoinEvent(ctx, c.s.mz, u.IRI, ev, str(body, "message"))
	if err != nil {
		return nil, failed(err, mobilizon.ErrNotEvent)
	}
	return map[string]any{"id": id, "type": "Join", "delivery": map[string]any{"id": id, "queued": true}}, nil
}

func (c *control) leaveEvent(ctx context.Context, _ *http.Request, body map[string]any, u *actor.Actor) (any, error) {
	ev, err := c.eventArg(ctx, body)
	if err != nil {
		return nil, err
	}
	id, err := mobilizon.LeaveEvent(ctx, c.s.mz, u.IRI, ev)
	if err != nil {
		return nil, failed(err, mobilizon.ErrNotEvent)
	}
	return map[string]any{"id": id, "type": "Leave", "delivery": map[string]any{"id": id, "queued": true}}, nil
}

// eventsOf returns the IRIs of u's events, newest first, from the
// Creates in its outbox.
func eventsOf(ctx context.Context, s *Server, u string) ([]string, error) {
	return createdBy(ctx, s, u, func(it vocab.Item) bool {
		_, ok := vmz.EventOf(it)
		return ok
	})
}

// createdBy returns the objects u created that keep, newest first, from
// the Creates in its outbox (bounded), leaving out the deleted.
func createdBy(ctx context.Context, s *Server, u string, keep func(vocab.Item) bool) ([]string, error) {
	f := s.fed
	var out []string
	cursor := ""
	for pages := 0; pages < 20; pages++ {
		p, err := f.Store.Collections.Page(ctx, f.Scheme.Collection(u, actor.Outbox), storage.PageOptions{Cursor: cursor, Limit: storage.MaxPageLimit})
		if err != nil {
			return nil, err
		}
		for _, m := range p.Members {
			o, err := f.Store.Objects.Get(ctx, m.IRI)
			if err != nil || o.Type != "Create" {
				continue
			}
			it, err := f.Registry.Decode(o.Data)
			if err != nil {
				continue
			}
			obj := vocab.ObjectOf(it)
			iri := string(vocab.IRIOf(obj))
			stored, err := f.Store.Objects.Get(ctx, iri)
			if err != nil || !stored.Deleted.IsZero() {
				continue
			}
			if cur, err := f.Registry.Decode(stored.Data); err == nil && keep(cur) {
				out = append(out, iri)
			}
		}
		if p.Next == "" {
			break
		}
		cursor = p.Next
	}
	return out, nil
}

// participations returns every participation in event, accepted then
// pending, as the Fedify peer lists them.
func participations(ctx context.Context, s *Server, event string) ([]map[string]any, error) {
	out := []map[string]any{}
	for _, state := range []storage.State{storage.Accepted, storage.Pending} {
		cursor := ""
		for {
			ps, next, err := mobilizon.Participations(ctx, s.mz, event, storage.PageOptions{State: state, Cursor: cursor, Limit: storage.MaxPageLimit})
			if err != nil {
				return nil, err
			}
			for _, p := range ps {
				out = append(out, map[string]any{"actor": p.Actor, "joinId": nullable(p.Join), "message": nullable(p.Message), "state": stateName(p.State)})
			}
			if next == "" {
				break
			}
			cursor = next
		}
	}
	return out, nil
}

func (c *control) events(ctx context.Context, _ *http.Request, _ map[string]any, u *actor.Actor) (any, error) {
	evs, err := eventsOf(ctx, c.s, u.IRI)
	if err != nil {
		return nil, err
	}
	out := []map[string]any{}
	for _, ev := range evs {
		ps, err := participations(ctx, c.s, ev)
		if err != nil {
			return nil, err
		}
		out = append(out, map[string]any{"id": ev, "participants": ps})
	}
	return out, nil
}

func (c *control) participants(ctx context.Context, r *http.Request, _ map[string]any, _ *actor.Actor) (any, error) {
	ev := r.URL.Query().Get("event")
	if ev == "" {
		return nil, bad("event=IRI required")
	}
	if o, err := c.s.fed.Store.Objects.Get(ctx, ev); err != nil || !c.s.fed.Scheme.IsLocal(ev) || !strings.EqualFold(o.Type, "Event") {
		return nil, notFound("no such event of ours: %s", ev)
	}
	return participations(ctx, c.s, ev)
}

// joins lists the Joins u sent that stand: pending until the organizer
// answers, accepted after (a Reject or a Leave ends them).
func (c *control) joins(ctx context.Context, _ *http.Request, _ map[string]any, u *actor.Actor) (any, error) {
	f := c.s.fed
	out := []map[string]any{}
	for _, state := range []storage.State{storage.Accepted, storage.Pending} {
		ms, err := c.members(ctx, f.Scheme.Collection(u.IRI, mobilizon.Joins), state)
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			e := map[string]any{"id": m.Activity, "event": m.IRI, "organizer": nil, "state": stateName(state), "message": nil}
			if it, err := c.stored(ctx, m.Activity); err == nil {
				if j, ok := vmz.JoinOf(it); ok {
					e["message"] = nullable(j.ParticipationMessage)
					if to := vocab.IRIs(j.To); len(to) > 0 {
						e["organizer"] = to[0]
					}
				}
			}
			out = append(out, e)
		}
	}
	return out, nil
}

// pendingJoins adds the Joins of u's events that wait for its decision.
func pendingJoins(ctx context.Context, c *control, u *actor.Actor, out map[string]any) error {
	evs, err := eventsOf(ctx, c.s, u.IRI)
	if err != nil {
		return err
	}
	joins := []map[string]any{}
	for _, ev := range evs {
		ps, _, err := mobilizon.Participations(ctx, c.s.mz, ev, storage.PageOptions{State: storage.Pending, Limit: storage.MaxPageLimit})
		if err != nil {
			return err
		}
		for _, p := range ps {
			joins = append(joins, map[string]any{"id": p.Join, "actor": p.Actor, "event": ev, "message": nullable(p.Message)})
		}
	}
	out["joins"] = joins
	return nil
}

// decideJoin answers a Join of one of u's events.
func decideJoin(ctx context.Context, c *control, u *actor.Actor, id string, accept bool) (any, bool, error) {
	o, err := c.s.fed.Store.Objects.Get(ctx, id)
	if err != nil || o.Type != "Join" {
		return nil, false, nil
	}
	it, err := c.s.fed.Registry.Decode(o.Data)
	if err != nil {
		return nil, false, nil
	}
	ev := string(vocab.IRIOf(vocab.ObjectOf(it)))
	if owner, err := c.s.fed.Store.Objects.Owner(ctx, ev); err != nil || owner != u.IRI {
		return nil, false, nil // not an event of u's: a project's, perhaps
	}
	ans, err := mobilizon.Decide(ctx, c.s.mz, u.IRI, id, accept)
	switch {
	case errors.Is(err, mobilizon.ErrNotPending), errors.Is(err, mobilizon.ErrNotOrganizer):
		return nil, true, notFound("%s", oneLine(err))
	case errors.Is(err, mobilizon.ErrFull):
		return nil, true, &httpError{http.StatusConflict, oneLine(err)}
	case err != nil:
		return nil, true, err
	}
	return map[string]any{"id": ans, "type": map[bool]string{true: "Accept", false: "Reject"}[accept]}, true, nil
}

// eventSections show an event of ours: its settings, its participants
// and the Joins that wait, with their messages.
func eventSections(ctx context.Context, v *htmlView, iri string, it vocab.Item) ([]section, error) {
	ev, ok := vmz.EventOf(it)
	if !ok || !v.s.fed.Scheme.IsLocal(iri) {
		return nil, nil
	}
	about := section{Title: "Event"}
	if !ev.StartTime.IsZero() {
		about.Items = append(about.Items, item{Label: "when", Note: ev.StartTime.UTC().Format("Mon 2 Jan 2006 15:04") + " – " + ev.EndTime.UTC().Format("15:04 MST")})
	}
	if p, ok := ev.Place(); ok {
		about.Items = append(about.Items, item{Label: "where", Note: vocab.TextOf(p.Name)})
	} else if loc := vocab.Base(ev.Location); loc != nil && vocab.TextOf(loc.Name) != "" {
		about.Items = append(about.Items, item{Label: "where", Note: vocab.TextOf(loc.Name)})
	}
	mode := string(ev.JoinMode)
	if mode == "" {
		mode = string(vmz.JoinFree)
	}
	about.Items = append(about.Items, item{Label: "joining", Note: joinModeWords[vmz.JoinMode(mode)]})
	if ev.MaximumAttendeeCapacity != nil && *ev.MaximumAttendeeCapacity > 0 {
		left := "?"
		if ev.RemainingAttendeeCapacity != nil {
			left = strconv.Itoa(*ev.RemainingAttendeeCapacity)
		}
		about.Items = append(about.Items, item{Label: "places", Note: left + " left of " + strconv.Itoa(*ev.MaximumAttendeeCapacity)})
	}
	about.Items = append(about.Items, item{Label: "replies", Note: repliesWords[ev.RepliesModeration()]})
	var going, waiting []item
	ps, err := participations(ctx, v.s, iri)
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		a, _ := p["actor"].(string)
		li := item{Label: v.actorLabel(ctx, a), Link: a}
		if m, _ := p["message"].(string); m != "" {
			li.HTML = plainHTML(m)
		}
		if p["state"] == "pending" {
			li.Note = "asks to join · POST /_control/accept {\"activity\": \"" + fmt.Sprint(p["joinId"]) + "\"}"
			waiting = append(waiting, li)
		} else {
			going = append(going, li)
		}
	}
	return []section{about,
		{Title: "Participants (" + strconv.Itoa(len(going)) + ")", Empty: "nobody yet", Items: going},
		{Title: "Waiting for the organizer's approval (" + strconv.Itoa(len(waiting)) + ")", Empty: "nobody waits", Items: waiting},
	}, nil
}

var repliesWords = map[vmz.RepliesModeration]string{
	"":                   "anyone may reply",
	vmz.RepliesAllowAll:  "anyone may reply",
	vmz.RepliesModerated: "replies are moderated",
	vmz.RepliesClosed:    "closed to replies",
}

var joinModeWords = map[vmz.JoinMode]string{
	vmz.JoinFree:       "free: anyone joins at once",
	vmz.JoinRestricted: "restricted: the organizer approves each participant",
	vmz.JoinInvite:     "by invitation only",
	vmz.JoinExternal:   "on an external site",
}

// actorEvents show the events an actor organizes and those it joined.
func actorEvents(ctx context.Context, v *htmlView, a *actor.Actor) ([]section, error) {
	evs, err := eventsOf(ctx, v.s, a.IRI)
	if err != nil {
		return nil, err
	}
	var out []section
	if len(evs) > 0 {
		sec := section{Title: "Events organized (" + strconv.Itoa(len(evs)) + ")"}
		for _, ev := range evs {
			li := v.objectLine(ctx, ev)
			going, _ := v.s.fed.Store.Collections.Count(ctx, v.s.fed.Scheme.Collection(ev, mobilizon.Participants), storage.Accepted)
			waiting, _ := v.s.fed.Store.Collections.Count(ctx, v.s.fed.Scheme.Collection(ev, mobilizon.Participants), storage.Pending)
			li.Note += " · " + plural(going, "participant") + " · " + strconv.Itoa(waiting) + " waiting"
			sec.Items = append(sec.Items, li)
		}
		out = append(out, sec)
	}
	joined := section{Title: "Events joined"}
	for _, state := range []storage.State{storage.Accepted, storage.Pending} {
		p, err := v.s.fed.Store.Collections.Page(ctx, v.s.fed.Scheme.Collection(a.IRI, mobilizon.Joins), storage.PageOptions{State: state, Limit: 50})
		if err != nil {
			return nil, err
		}
		for _, m := range p.Members {
			li := v.objectLine(ctx, m.IRI)
			if state == storage.Pending {
				li.Note += " · waiting for the organizer"
			} else {
				li.Note += " · going"
			}
			joined.Items = append(joined.Items, li)
		}
	}
	if len(joined.Items) > 0 {
		joined.Title += " (" + strconv.Itoa(len(joined.Items)) + ")"
		out = append(out, joined)
	}
	return out, nil
}
