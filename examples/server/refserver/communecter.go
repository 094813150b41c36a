package refserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode"

	ap "github.com/go-ap/activitypub"

	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/behaviour/communecter"
	"github.com/fedi-go/fedi/federationmd"
	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/vocab"
	vcc "github.com/fedi-go/fedi/vocab/communecter"
)

// communecterPlatform: projects and organizations with members and
// roles, and badges that wait for their holder's consent.
var communecterPlatform = platform{
	name:   "communecter",
	served: communecter.Served,
	register: func(_ context.Context, s *Server) error {
		f := s.fed
		o := communecter.Options{Outbox: f.Outbox, Store: f.Store, Actors: f.LocalActors}
		communecter.Register(f.Mux, o)
		cl, err := communecter.New(o)
		if err != nil {
			return fmt.Errorf("the Communecter client: %v", err)
		}
		s.cc = cl
		c := s.ctl
		c.handle("POST /_control/project", c.createProject)
		c.handle("POST /_control/invite", c.invite)
		c.handle("GET /_control/members", c.projectMembers)
		c.handle("POST /_control/badge", c.createBadge)
		c.handle("POST /_control/assign", c.assignBadge)
		c.handle("GET /_control/holders", c.holders)
		return nil
	},
}

func init() {
	platformSent = append(platformSent,
		federationmd.Sent{Activity: "Create", Object: "Project", Doc: "when a user creates a project (control API project); an organization is an actor of type Organization"},
		federationmd.Sent{Activity: "Invite", Doc: "when a member invites someone to a project or organization, with the role offered as instrument (control API invite)"},
		federationmd.Sent{Activity: "Accept", Object: "Invite", Doc: "when a user accepts an invitation to a project (control API accept); Reject when it declines"},
		federationmd.Sent{Activity: "Create", Object: "Badge", Doc: "when a user creates a badge (control API badge)"},
		federationmd.Sent{Activity: "Offer", Doc: "when a badge's issuer assigns it to someone (control API assign): the holder consents with an Accept"},
		federationmd.Sent{Activity: "Accept", Object: "Offer", Doc: "when a user accepts a badge assigned to it (control API accept); Reject when it declines"},
	)
	deciders = append(deciders, decideCommunecter)
	pendingExtras = append(pendingExtras, pendingCommunecter)
	objectSections = append(objectSections, projectSections)
	actorSections = append(actorSections, actorProjects)
}

func (c *control) createProject(ctx context.Context, _ *http.Request, body map[string]any, u *actor.Actor) (any, error) {
	name, err := need(body, "name")
	if err != nil {
		return nil, err
	}
	desc := str(body, "description")
	switch kind := str(body, "kind"); kind {
	case "", "Project":
		p := vcc.NewProject("", ap.IRI(u.IRI), name, desc)
		iri, err := c.s.cc.CreateProject(ctx, u.IRI, p)
		if err != nil {
			return nil, failed(err)
		}
		return map[string]any{"object": iri, "create": c.createOf(ctx, u, iri)}, nil
	case "Organization":
		prof := vocab.NewActor("Organization", "")
		prof.Name = vocab.Text(name)
		if desc != "" {
			prof.Summary = vocab.Text(desc)
		}
		handle := str(body, "handle")
		if handle == "" {
			handle = slug(name)
		}
		moderated, _ := body["manualApproval"].(bool)
		org, err := c.s.cc.CreateOrganization(ctx, u.IRI, actor.Actor{Name: handle, Profile: prof}, moderated)
		if errors.Is(err, actor.ErrExists) {
			return nil, &httpError{http.StatusConflict, "the actor exists: " + handle}
		}
		if err != nil {
			return nil, failed(err)
		}
		out := c.actorAnswer(org)
		out["object"] = org.IRI
		return out, nil
	default:
		return nil, bad(`"kind" is Project or Organization`)
	}
}

// slug makes a handle of a name: lower-case letters and digits, '-'
// between words.
func slug(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		switch {
		case r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
		default:
			dash = true
		}
	}
	if b.Len() == 0 {
		return "org"
	}
	return b.String()
}

// invite invites someone to a project or organization (with a role), or
// to an event: Mobilizon's for an event object, Gathio's for an event
// that acts.
func (c *control) invite(ctx context.Context, _ *http.Request, body map[string]any, u *actor.Actor) (any, error) {
	obj, err := need(body, "object")
	if err != nil {
		return nil, err
	}
	to, err := c.actorArg(ctx, body, "to")
	if err != nil {
		return nil, err
	}
	f := c.s.fed
	typ := ""
	if o, err := f.Store.Objects.Get(ctx, obj); err == nil {
		typ = o.Type
	}
	var id string
	switch {
	case typ == "Event" && f.Scheme.IsLocal(obj):
		if a, err := f.Actors.ByIRI(ctx, obj); err == nil && a.Type == "Event" {
			id, err = gathioInvite(ctx, c.s, u.IRI, obj, to)
			if err != nil {
				return nil, failed(err)
			}
		} else if id, err = mobilizonInvite(ctx, c.s, u.IRI, obj, to); err != nil {
			return nil, failed(err)
		}
	default:
		id, err = c.s.cc.Invite(ctx, u.IRI, to, obj, str(body, "role"))
		if err != nil {
			return nil, failed(err, communecter.ErrUnknown)
		}
	}
	return map[string]any{"activity": id}, nil
}

func (c *control) projectMembers(ctx context.Context, r *http.Request, _ map[string]any, _ *actor.Actor) (any, error) {
	obj := r.URL.Query().Get("object")
	if obj == "" {
		return nil, bad("object=IRI required")
	}
	ms, err := c.s.cc.Members(ctx, obj)
	if err != nil {
		return nil, failed(err, communecter.ErrUnknown)
	}
	out := []map[string]any{}
	for _, m := range ms {
		out = append(out, map[string]any{"actor": m.IRI, "state": stateName(m.State), "role": nullable(m.Role.Name), "admin": m.Admin, "activity": nullable(m.Activity)})
	}
	return out, nil
}

func (c *control) createBadge(ctx context.Context, _ *http.Request, body map[string]any, u *actor.Actor) (any, error) {
	name, err := need(body, "name")
	if err != nil {
		return nil, err
	}
	self, _ := body["selfAssignable"].(bool)
	iri, err := c.s.cc.CreateBadge(ctx, u.IRI, vcc.NewBadge("", ap.IRI(u.IRI), name, str(body, "description")), self)
	if err != nil {
		return nil, failed(err)
	}
	return map[string]any{"badge": iri, "create": c.createOf(ctx, u, iri)}, nil
}

func (c *control) assignBadge(ctx context.Context, _ *http.Request, body map[string]any, u *actor.Actor) (any, error) {
	badge, err := need(body, "badge")
	if err != nil {
		return nil, err
	}
	to, err := c.actorArg(ctx, body, "to")
	if err != nil {
		return nil, err
	}
	id, err := c.s.cc.AssignBadge(ctx, u.IRI, badge, to, str(body, "narrative"))
	if errors.Is(err, communecter.ErrNotIssuer) {
		return nil, &httpError{http.StatusForbidden, oneLine(err)}
	}
	if err != nil {
		return nil, failed(err, communecter.ErrUnknown)
	}
	return map[string]any{"activity": id}, nil
}

func (c *control) holders(ctx context.Context, r *http.Request, _ map[string]any, _ *actor.Actor) (any, error) {
	badge := r.URL.Query().Get("badge")
	if badge == "" {
		return nil, bad("badge=IRI required")
	}
	if o, err := c.s.fed.Store.Objects.Get(ctx, badge); err != nil || o.Type != "Badge" {
		return nil, notFound("no such badge: %s", badge)
	}
	ms, err := c.s.cc.Holders(ctx, badge)
	if err != nil {
		return nil, err
	}
	out := []map[string]any{}
	for _, m := range ms {
		out = append(out, map[string]any{"actor": m.IRI, "state": stateName(m.State), "activity": nullable(m.Activity)})
	}
	return out, nil
}

// decideCommunecter answers an invitation or role offer u received, a
// badge assigned to u, or a Join of one of u's projects that waits.
func decideCommunecter(ctx context.Context, c *control, u *actor.Actor, id string, accept bool) (any, bool, error) {
	answer := func(ans string, err error) (any, bool, error) {
		if err != nil {
			return nil, true, failed(err, communecter.ErrNotInvited, communecter.ErrUnknown)
		}
		return map[string]any{"id": ans, "type": map[bool]string{true: "Accept", false: "Reject"}[accept]}, true, nil
	}
	cl := c.s.cc
	invs, err := cl.Invitations(ctx, u.IRI)
	if err != nil {
		return nil, true, err
	}
	for _, in := range invs {
		if in.Activity != id {
			continue
		}
		if accept {
			return answer(cl.AcceptInvitation(ctx, u.IRI, in.Project))
		}
		return answer(cl.RejectInvitation(ctx, u.IRI, in.Project))
	}
	badges, err := cl.Badges(ctx, u.IRI)
	if err != nil {
		return nil, true, err
	}
	for _, b := range badges {
		if b.Activity != id || b.State != storage.Pending {
			continue
		}
		if accept {
			return answer(cl.AcceptBadge(ctx, u.IRI, b.IRI))
		}
		return answer(cl.DeclineBadge(ctx, u.IRI, b.IRI, ""))
	}
	// A Join of one of u's projects or organizations.
	o, err := c.s.fed.Store.Objects.Get(ctx, id)
	if err != nil || o.Type != "Join" {
		return nil, false, nil
	}
	it, err := c.s.fed.Registry.Decode(o.Data)
	if err != nil {
		return nil, false, nil
	}
	act, ok := it.(*vocab.Activity)
	if !ok {
		return nil, false, nil
	}
	for _, project := range []string{string(vocab.IRIOf(act.Target)), string(vocab.IRIOf(act.Object))} {
		ms, err := cl.Members(ctx, project)
		if err != nil {
			continue
		}
		for _, m := range ms {
			if m.Activity == id && m.State == storage.Pending {
				return answer(cl.AnswerJoin(ctx, u.IRI, project, m.IRI, accept))
			}
		}
	}
	return nil, false, nil
}

// pendingCommunecter adds the invitations and badges that wait for u.
func pendingCommunecter(ctx context.Context, c *control, u *actor.Actor, out map[string]any) error {
	invs, err := c.s.cc.Invitations(ctx, u.IRI)
	if err != nil {
		return err
	}
	l, _ := out["invitations"].([]map[string]any)
	for _, in := range invs {
		l = append(l, map[string]any{"id": in.Activity, "actor": nullable(in.Inviter), "object": in.Project, "role": nullable(in.Role.Name)})
	}
	if l == nil {
		l = []map[string]any{}
	}
	out["invitations"] = l
	badges, err := c.s.cc.Badges(ctx, u.IRI)
	if err != nil {
		return err
	}
	bl := []map[string]any{}
	for _, b := range badges {
		if b.State != storage.Pending {
			continue
		}
		e := map[string]any{"id": b.Activity, "badge": b.IRI, "actor": nil}
		if owner, err := c.s.fed.Store.Objects.Owner(ctx, b.Activity); err == nil {
			e["actor"] = nullable(owner)
		}
		bl = append(bl, e)
	}
	out["badges"] = bl
	return nil
}

// projectSections show the members of a project and the holders of a
// badge.
func projectSections(ctx context.Context, v *htmlView, iri string, it vocab.Item) ([]section, error) {
	cl := v.s.cc
	switch {
	case vocab.HasType(it, "Project"):
		if !v.s.fed.Scheme.IsLocal(iri) {
			return nil, nil
		}
		sec, err := v.membersSection(ctx, iri)
		if err != nil {
			return nil, err
		}
		return []section{sec}, nil
	case vocab.HasType(it, "Badge"):
		hs, err := cl.Holders(ctx, iri)
		if err != nil {
			return nil, err
		}
		sec := section{Empty: "nobody yet"}
		held := 0
		for _, h := range hs {
			li := item{Label: v.actorLabel(ctx, h.IRI), Link: h.IRI, Note: "holds it"}
			if h.State == storage.Pending {
				li.Note = "assigned, not accepted yet"
			} else {
				held++
			}
			sec.Items = append(sec.Items, li)
		}
		sec.Title = "Holders (" + strconv.Itoa(held) + ")"
		return []section{sec}, nil
	}
	return nil, nil
}

// membersSection lists the members of a project or organization of
// ours with their roles.
func (v *htmlView) membersSection(ctx context.Context, project string) (section, error) {
	ms, err := v.s.cc.Members(ctx, project)
	if err != nil {
		return section{}, err
	}
	sec := section{Empty: "nobody yet"}
	n := 0
	for _, m := range ms {
		role := m.Role.Name
		if role == "" {
			role = "member"
		}
		if m.Admin && role != vcc.RoleAdmin {
			role += ", admin"
		}
		li := item{Label: v.actorLabel(ctx, m.IRI), Link: m.IRI, Note: role}
		if m.State == storage.Pending {
			li.Note += " · asks to join"
		} else {
			n++
		}
		sec.Items = append(sec.Items, li)
	}
	sec.Title = "Members (" + strconv.Itoa(n) + ")"
	return sec, nil
}

// actorProjects show, on an organization's page, its members; on a
// person's, its projects, the badges it issued and those it holds.
func actorProjects(ctx context.Context, v *htmlView, a *actor.Actor) ([]section, error) {
	if a.Type == "Organization" {
		if sec, err := v.membersSection(ctx, a.IRI); err == nil {
			return []section{sec}, nil
		}
		return nil, nil
	}
	var out []section
	ms, err := v.s.cc.MemberOf(ctx, a.IRI)
	if err != nil {
		return nil, err
	}
	if len(ms) > 0 {
		sec := section{Title: "Projects and organizations (" + strconv.Itoa(len(ms)) + ")"}
		for _, m := range ms {
			li := v.objectLine(ctx, m.IRI)
			if pa, err := v.s.fed.Actors.ByIRI(ctx, m.IRI); err == nil {
				li.Label, li.Note = displayName(pa), pa.Type+" @"+pa.Name+"@"+host(m.IRI)
			}
			if m.State == storage.Pending {
				li.Note += " · waiting for an admin"
			}
			sec.Items = append(sec.Items, li)
		}
		out = append(out, sec)
	}
	issued, err := createdBy(ctx, v.s, a.IRI, func(it vocab.Item) bool { return vocab.HasType(it, "Badge") })
	if err != nil {
		return nil, err
	}
	if len(issued) > 0 {
		sec := section{Title: "Badges issued (" + strconv.Itoa(len(issued)) + ")"}
		for _, b := range issued {
			li := v.objectLine(ctx, b)
			n, _ := v.s.fed.Store.Collections.Count(ctx, v.s.fed.Scheme.Collection(b, communecter.Holders), storage.Accepted)
			li.Note += " · " + plural(n, "holder")
			sec.Items = append(sec.Items, li)
		}
		out = append(out, sec)
	}
	held, err := v.s.cc.Badges(ctx, a.IRI)
	if err != nil {
		return nil, err
	}
	if len(held) > 0 {
		sec := section{Title: "Badges (" + strconv.Itoa(len(held)) + ")"}
		for _, b := range held {
			li := v.objectLine(ctx, b.IRI)
			if b.State == storage.Pending {
				li.Note += " · assigned, not accepted yet"
			}
			sec.Items = append(sec.Items, li)
		}
		out = append(out, sec)
	}
	return out, nil
}
