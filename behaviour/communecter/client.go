package communecter

import (
	"context"
	"errors"
	"fmt"

	ap "github.com/go-ap/activitypub"

	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/outbox"
	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/vocab"
	cvocab "github.com/fedi-go/fedi/vocab/communecter"
)

// Client acts for our actors: it builds Communecter's activities, sends
// them through the outbox (whose hook, added by Register, keeps the
// state) and reads that state. Its methods return the id of the
// activity sent. It is safe for concurrent use.
type Client struct {
	out    *outbox.Outbox
	st     storage.Store
	actors *actor.Store
}

// New returns the Client of o; o.Outbox and o.Store are required.
func New(o Options) (*Client, error) {
	if o.Outbox == nil || o.Store.Objects == nil || o.Store.Collections == nil {
		return nil, errors.New("communecter: New needs Options.Outbox and Options.Store")
	}
	return &Client{out: o.Outbox, st: o.Store, actors: o.Actors}, nil
}

func (c *Client) env() env {
	return env{st: c.st, scheme: c.out.Scheme(), reg: c.out.Registry()}
}

func (c *Client) send(ctx context.Context, act *vocab.Activity, to ...string) (string, error) {
	for _, iri := range to {
		if iri != "" && iri != string(vocab.IRIOf(act.Actor)) {
			act.To = append(act.To, ap.IRI(iri))
		}
	}
	return c.out.Send(ctx, act)
}

// public addresses act to the public and, in cc, to by's followers.
func (c *Client) public(act *vocab.Activity, by string) *vocab.Activity {
	act.To = ap.ItemCollection{vocab.PublicIRI}
	act.CC = ap.ItemCollection{ap.IRI(c.out.Scheme().Collection(by, actor.Followers))}
	return act
}

// CreateProject publishes p, a new project of creator's (see
// cvocab.NewProject; an empty id gets one), to the public and its
// followers, and returns
// its IRI. The creator is its first member and an admin. A project whose
// ManuallyApprovesFollowers is true moderates its membership.
func (c *Client) CreateProject(ctx context.Context, creator string, p cvocab.Project) (string, error) {
	if p.AttributedTo == nil {
		p.AttributedTo = ap.IRI(creator)
	}
	create := vocab.NewActivity("Create", "", ap.IRI(creator), p.Object)
	c.public(create, creator)
	if _, err := c.out.Send(ctx, create); err != nil {
		return "", err
	}
	return string(p.ID), nil
}

// UpdateProject publishes the new version of a project of by's.
func (c *Client) UpdateProject(ctx context.Context, by string, p cvocab.Project) (string, error) {
	up := vocab.NewActivity("Update", "", ap.IRI(by), p.Object)
	c.public(up, by)
	return c.out.Send(ctx, up)
}

// DeleteProject deletes a project of by's.
func (c *Client) DeleteProject(ctx context.Context, by, project string) (string, error) {
	del := vocab.NewActivity("Delete", "", ap.IRI(by), ap.IRI(project))
	c.public(del, by)
	return c.out.Send(ctx, del)
}

// CreateOrganization makes org (its Name, optional Profile, a
// *vocab.Actor) one of our actors of type Organization, attributed to
// creator, its first member and an admin. With moderated, Joins (and
// Follows) of it wait for an admin.
func (c *Client) CreateOrganization(ctx context.Context, creator string, org actor.Actor, moderated bool) (*actor.Actor, error) {
	if c.actors == nil {
		return nil, errors.New("communecter: CreateOrganization needs Options.Actors")
	}
	var prof *vocab.Actor
	switch p := org.Profile.(type) {
	case nil:
		prof = vocab.NewActor("Organization", "")
	case *vocab.Actor:
		cp := *p
		prof = &cp
	default:
		return nil, fmt.Errorf("communecter: an organization's profile is a *vocab.Actor, not %T", org.Profile)
	}
	prof.AttributedTo = ap.IRI(creator)
	org.Type, org.Profile, org.ManuallyApprovesFollowers = "Organization", prof, moderated
	a, err := c.actors.Create(ctx, org)
	if err != nil {
		return nil, err
	}
	s := c.out.Scheme()
	err = storage.InTx(ctx, c.st, func(ctx context.Context, tx storage.Store) error {
		if err := tx.Collections.Add(ctx, s.Collection(a.IRI, Members), storage.Member{IRI: creator}); err != nil {
			return err
		}
		return tx.Collections.Add(ctx, s.Collection(creator, MemberOf), storage.Member{IRI: a.IRI})
	})
	return a, err
}

// Invite invites invitee to project (one of ours, or another server's
// that by belongs to) with role ("" for none, cvocab.RoleContributor,
// cvocab.RoleAdmin...): Communecter's Invite, the invitee as object, the
// project as target (embedded when it is one of our Project objects, so
// that the invitee's server knows it), the role as instrument. In our
// projects, only members invite, and only admins as admin.
func (c *Client) Invite(ctx context.Context, by, invitee, project, role string) (string, error) {
	inv := cvocab.NewInvite(ap.IRI(by), ap.IRI(invitee), ap.IRI(project), role)
	c.embedProject(ctx, inv, project)
	return c.send(ctx, inv, invitee)
}

// OfferRole offers role in project to an actor, member or not: its
// Accept grants it. In our projects, only members offer roles, and only
// admins the admin role.
func (c *Client) OfferRole(ctx context.Context, by, to, project, role string) (string, error) {
	off := cvocab.NewOffer(ap.IRI(by), ap.IRI(to), ap.IRI(project), role)
	c.embedProject(ctx, off, project)
	return c.send(ctx, off, to)
}

// embedProject embeds our Project object as the activity's target.
func (c *Client) embedProject(ctx context.Context, act *vocab.Activity, project string) {
	if !c.out.Scheme().IsLocal(project) {
		return
	}
	o, err := c.st.Objects.Get(ctx, project)
	if err != nil || o.Type != "Project" || !o.Deleted.IsZero() {
		return
	}
	if it, err := c.out.Registry().Decode(o.Data); err == nil {
		act.Target = it
	}
}

// AcceptInvitation accepts the pending invitation (or role offer) of who
// to project: who becomes a member with its role once the project's
// server has the Accept.
func (c *Client) AcceptInvitation(ctx context.Context, who, project string) (string, error) {
	return c.answerInvitation(ctx, who, project, true)
}

// RejectInvitation declines the pending invitation (or role offer) of
// who to project.
func (c *Client) RejectInvitation(ctx context.Context, who, project string) (string, error) {
	return c.answerInvitation(ctx, who, project, false)
}

func (c *Client) answerInvitation(ctx context.Context, who, project string, accept bool) (string, error) {
	e := c.env()
	m, ok, err := member(ctx, c.st, e.scheme.Collection(who, Invitations), project)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", fmt.Errorf("%w: %s has no invitation to %s", ErrNotInvited, who, project)
	}
	act, err := e.activity(ctx, m.Activity)
	if err != nil {
		return "", err
	}
	inv, ok := invitationOf(act)
	if !ok {
		return "", fmt.Errorf("%w: %s is not stored", ErrNotInvited, m.Activity)
	}
	if !accept {
		rej := cvocab.NewReject(ap.IRI(who), ap.IRI(inv.ID))
		rej.Target = ap.IRI(project)
		return c.send(ctx, rej, inv.Inviter)
	}
	return c.send(ctx, cvocab.NewAccept(ap.IRI(who), ap.IRI(inv.ID), ap.IRI(project), inv.Role.Name), inv.Inviter)
}

// answerTo returns who answers for a project this server knows: an
// organization itself, a project's owner.
func (c *Client) answerTo(ctx context.Context, project string) (string, error) {
	p, ok, err := c.env().projectOf(ctx, project)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", fmt.Errorf("%w: %s", ErrUnknown, project)
	}
	if p.Kind == organization {
		return p.IRI, nil
	}
	return p.Owner, nil
}

// Join asks for who to join project, a project or organization this
// server knows (ours, or cached), with role ("" for none): Communecter's
// Join, who as object and the project as target, to the project's
// owner. It waits in who's MemberOf until the project accepts.
func (c *Client) Join(ctx context.Context, who, project, role string) (string, error) {
	to, err := c.answerTo(ctx, project)
	if err != nil {
		return "", err
	}
	return c.send(ctx, cvocab.NewJoin(ap.IRI(who), ap.IRI(project), role), to)
}

// Leave makes who leave project.
func (c *Client) Leave(ctx context.Context, who, project string) (string, error) {
	to, err := c.answerTo(ctx, project)
	if err != nil {
		return "", err
	}
	return c.send(ctx, cvocab.NewLeave(ap.IRI(who), ap.IRI(project)), to)
}

// AnswerJoin accepts (or, with accept false, rejects) the pending Join
// of joiner to project, one of ours, as by, one of its admins.
func (c *Client) AnswerJoin(ctx context.Context, by, project, joiner string, accept bool) (string, error) {
	e := c.env()
	m, ok, err := member(ctx, c.st, e.scheme.Collection(project, Members), joiner)
	if err != nil {
		return "", err
	}
	if !ok || m.State != storage.Pending {
		return "", fmt.Errorf("%w: %s has no pending Join of %s", ErrNotInvited, joiner, project)
	}
	var ans *vocab.Activity
	if accept {
		ans = cvocab.NewAccept(ap.IRI(by), ap.IRI(m.Activity), ap.IRI(project), "")
	} else {
		ans = cvocab.NewReject(ap.IRI(by), ap.IRI(m.Activity))
		ans.Target = ap.IRI(project)
	}
	return c.send(ctx, ans, joiner)
}

// CreateBadge publishes badge, issued by issuer (see cvocab.NewBadge;
// an empty id gets one), to the public and the issuer's followers, and
// returns its IRI. With selfAssignable, anyone may claim it for
// themselves.
func (c *Client) CreateBadge(ctx context.Context, issuer string, badge *vocab.Object, selfAssignable bool) (string, error) {
	if badge.AttributedTo == nil {
		badge.AttributedTo = ap.IRI(issuer)
	}
	SetSelfAssignable(badge, selfAssignable)
	if _, err := c.out.Send(ctx, c.public(cvocab.NewCreateBadge(ap.IRI(issuer), badge), issuer)); err != nil {
		return "", err
	}
	return string(badge.ID), nil
}

// UpdateBadge publishes the new version of a badge of issuer's.
func (c *Client) UpdateBadge(ctx context.Context, issuer string, badge *vocab.Object) (string, error) {
	return c.out.Send(ctx, c.public(cvocab.NewUpdateBadge(ap.IRI(issuer), badge), issuer))
}

// DeleteBadge deletes a badge of issuer's.
func (c *Client) DeleteBadge(ctx context.Context, issuer, badge string) (string, error) {
	return c.out.Send(ctx, c.public(cvocab.NewDeleteBadge(ap.IRI(issuer), ap.IRI(badge)), issuer))
}

// AssignBadge assigns badge, one of issuer's, to recipient, a person or
// an organization, with a narrative (why): the recipient holds it once
// it accepts.
func (c *Client) AssignBadge(ctx context.Context, issuer, badge, recipient, narrative string) (string, error) {
	return c.send(ctx, cvocab.NewAssignBadge(ap.IRI(issuer), ap.IRI(badge), ap.IRI(recipient), narrative), recipient)
}

// SelfAssignBadge claims badge for who, sent to its issuer: a badge of
// ours that allows it is held at once; another server's waits for its
// issuer's Accept.
func (c *Client) SelfAssignBadge(ctx context.Context, who, badge, narrative string) (string, error) {
	b, ok, err := c.env().badgeOf(ctx, badge)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", fmt.Errorf("%w: %s", ErrUnknown, badge)
	}
	return c.send(ctx, cvocab.NewSelfAssignBadge(ap.IRI(who), ap.IRI(badge), narrative), b.Issuer)
}

// AcceptBadge accepts the badge assigned to holder.
func (c *Client) AcceptBadge(ctx context.Context, holder, badge string) (string, error) {
	off, err := c.assigned(ctx, holder, badge)
	if err != nil {
		return "", err
	}
	return c.send(ctx, cvocab.NewAcceptBadge(ap.IRI(holder), ap.IRI(off.ID)), off.Assigner)
}

// DeclineBadge declines (Communecter's Reject) the badge assigned to
// holder, or gives up one it holds, with a reason (may be empty).
func (c *Client) DeclineBadge(ctx context.Context, holder, badge, reason string) (string, error) {
	off, err := c.assigned(ctx, holder, badge)
	if err != nil {
		return "", err
	}
	return c.send(ctx, cvocab.NewRejectBadge(ap.IRI(holder), ap.IRI(off.ID), reason), off.Assigner)
}

func (c *Client) assigned(ctx context.Context, holder, badge string) (assignment, error) {
	e := c.env()
	m, ok, err := member(ctx, c.st, e.scheme.Collection(holder, Badges), badge)
	if err != nil {
		return assignment{}, err
	}
	if !ok {
		return assignment{}, fmt.Errorf("%w: %s was not assigned %s", ErrNotInvited, holder, badge)
	}
	act, err := e.activity(ctx, m.Activity)
	if err != nil {
		return assignment{}, err
	}
	as, ok, err := e.assignmentOf(ctx, act)
	if err == nil && !ok {
		err = fmt.Errorf("%w: %s is not stored", ErrNotInvited, m.Activity)
	}
	return as, err
}

// RevokeBadge refuses a claim of (Communecter's Refuse), or revokes,
// badge, one of issuer's, held by or assigned to holder, with a reason.
func (c *Client) RevokeBadge(ctx context.Context, issuer, badge, holder, reason string) (string, error) {
	m, ok, err := member(ctx, c.st, c.out.Scheme().Collection(badge, Holders), holder)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", fmt.Errorf("%w: %s does not hold %s", ErrNotInvited, holder, badge)
	}
	return c.send(ctx, cvocab.NewRefuseBadge(ap.IRI(issuer), ap.IRI(m.Activity), reason), holder)
}
