package communecter

import (
	"context"
	"fmt"

	"github.com/fedi-go/fedi/storage"
	cvocab "github.com/fedi-go/fedi/vocab/communecter"
)

// Member is a member of a project or organization as Client.Members
// lists it.
type Member struct {
	// IRI is the member.
	IRI string
	// State is Accepted, or Pending while its Join waits for an admin.
	State storage.State
	// Activity is what made it a member: the Invite, Offer or Join (the
	// Create of the project, for its creator).
	Activity string
	// Role is the role that activity carries: admin for the creator.
	Role cvocab.Role
	// Admin says whether it is an admin of the project.
	Admin bool
}

// Invitation is an invitation or role offer one of our actors received.
type Invitation struct {
	Project, Activity, Inviter string
	Role                       cvocab.Role
}

// all returns every member of coll in state, newest first.
func all(ctx context.Context, st storage.Store, coll string, state storage.State) ([]storage.Member, error) {
	var out []storage.Member
	cursor := ""
	for {
		p, err := st.Collections.Page(ctx, coll, storage.PageOptions{State: state, Cursor: cursor, Limit: storage.MaxPageLimit})
		if err != nil {
			return nil, err
		}
		out = append(out, p.Members...)
		if p.Next == "" {
			return out, nil
		}
		cursor = p.Next
	}
}

// both returns the accepted members of coll, then the pending ones.
func both(ctx context.Context, st storage.Store, coll string) ([]storage.Member, error) {
	acc, err := all(ctx, st, coll, storage.Accepted)
	if err != nil {
		return nil, err
	}
	pen, err := all(ctx, st, coll, storage.Pending)
	return append(acc, pen...), err
}

// Members lists the members of project, one of ours, with their role:
// the accepted ones, newest first, then the pending ones.
func (c *Client) Members(ctx context.Context, project string) ([]Member, error) {
	e := c.env()
	p, ok, err := e.localProject(ctx, project)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrUnknown, project)
	}
	ms, err := both(ctx, c.st, e.scheme.Collection(project, Members))
	if err != nil {
		return nil, err
	}
	out := make([]Member, 0, len(ms))
	for _, m := range ms {
		mem := Member{IRI: m.IRI, State: m.State, Activity: m.Activity}
		act, err := e.activity(ctx, m.Activity)
		if err != nil {
			return nil, err
		}
		mem.Role = roleIn(act)
		if m.IRI == p.Owner {
			mem.Role = cvocab.Role{Name: cvocab.RoleAdmin}
		}
		mem.Admin = m.State == storage.Accepted && isAdminRole(mem.Role)
		out = append(out, mem)
	}
	return out, nil
}

// IsAdmin reports whether who is an admin of project, one of ours.
func (c *Client) IsAdmin(ctx context.Context, project, who string) (bool, error) {
	e := c.env()
	p, ok, err := e.localProject(ctx, project)
	if err != nil || !ok {
		return false, err
	}
	return e.isAdmin(ctx, p, who)
}

// Invited lists the pending invitations and role offers of project, one
// of ours: the invitees, each with its Invite or Offer as Activity.
func (c *Client) Invited(ctx context.Context, project string) ([]storage.Member, error) {
	return all(ctx, c.st, c.out.Scheme().Collection(project, Invited), storage.Pending)
}

// Holders lists the holders of badge, one of ours: the accepted ones,
// then those who have not accepted yet, each with the Offer that
// assigned it.
func (c *Client) Holders(ctx context.Context, badge string) ([]storage.Member, error) {
	return both(ctx, c.st, c.out.Scheme().Collection(badge, Holders))
}

// Invitations lists the invitations and role offers who, one of our
// actors, has not answered.
func (c *Client) Invitations(ctx context.Context, who string) ([]Invitation, error) {
	e := c.env()
	ms, err := all(ctx, c.st, e.scheme.Collection(who, Invitations), storage.Pending)
	if err != nil {
		return nil, err
	}
	out := make([]Invitation, 0, len(ms))
	for _, m := range ms {
		in := Invitation{Project: m.IRI, Activity: m.Activity}
		act, err := e.activity(ctx, m.Activity)
		if err != nil {
			return nil, err
		}
		if inv, ok := invitationOf(act); ok {
			in.Inviter, in.Role = inv.Inviter, inv.Role
		}
		out = append(out, in)
	}
	return out, nil
}

// MemberOf lists the projects and organizations who, one of our actors,
// belongs to, then those whose answer to its Join it waits for.
func (c *Client) MemberOf(ctx context.Context, who string) ([]storage.Member, error) {
	return both(ctx, c.st, c.out.Scheme().Collection(who, MemberOf))
}

// Badges lists the badges of who, one of our actors: those it holds,
// then those assigned to it that it has not accepted yet.
func (c *Client) Badges(ctx context.Context, who string) ([]storage.Member, error) {
	return both(ctx, c.st, c.out.Scheme().Collection(who, Badges))
}
