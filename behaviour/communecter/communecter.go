// Package communecter is the behaviour of Communecter, the federated
// platform of local projects, organizations and badges: who joins and
// leaves a project, invitations and role offers, and badges that wait
// for their holder's consent.
//
// It registers in one call, on top of the default behaviour, and gives
// the application a Client to act (cvocab is vocab/communecter, whose
// constructors build the documents):
//
//	core.Register(f.Mux, core.Options{Remote: f.Remote})
//	opts := communecter.Options{Outbox: f.Outbox, Store: f.Store, Actors: f.LocalActors}
//	communecter.Register(f.Mux, opts)
//	c, _ := communecter.New(opts)
//
//	p := cvocab.NewProject("", ap.IRI(alice.IRI), "Community garden", "Vegetables for all")
//	project, _ := c.CreateProject(ctx, alice.IRI, p)
//	c.Invite(ctx, alice.IRI, bob, project, cvocab.RoleContributor) // bob's Accept makes him a contributor
//	members, _ := c.Members(ctx, project)                          // alice (admin), bob (contributor)
//
//	b, _ := c.CreateBadge(ctx, alice.IRI, cvocab.NewBadge("", ap.IRI(alice.IRI), "Gardener", ""), false)
//	c.AssignBadge(ctx, alice.IRI, b, bob, "for the tomatoes") // pending until bob accepts
//	holders, _ := c.Holders(ctx, b)
//
// # Projects and organizations
//
// Our projects are Project objects that a local actor created (their
// stored owner, an admin); our organizations are local actors of type
// Organization (CreateOrganization), whose creator, their attributedTo,
// is an admin. Their state is in collections of the project
// (actor.Scheme.Collection):
//   - Members: the members, Accepted, or Pending while a Join waits for
//     an admin; each with the activity that made it a member (the Invite,
//     Offer or Join), whose instrument is the member's role;
//   - Invited: the pending Invites and role Offers, by invitee, so that an
//     Accept or Reject is matched to an invitation of exactly its actor.
//
// Admins are the owner, an organization itself, and the members whose
// role is admin ("admin", "asadmin", "adminandrole"). Only an admin
// invites or offers as admin; any member invites or offers another role.
// The role granted is the invitation's: an Accept whose instrument names
// another role (Communecter echoes one) grants that of the Invite or
// Offer it accepts.
// A project whose document has manuallyApprovesFollowers (an
// organization that approves followers by hand) moderates its
// membership: Joins wait for an admin (Client.AnswerJoin). A Join that
// asks for the admin role always waits.
//
// Our actors' side is in collections of the actor: MemberOf (the
// projects they belong to, Pending while their Join waits), Invitations
// (the invitations and role offers they received, by project, until
// Client.AcceptInvitation or RejectInvitation) and Badges (the badges
// assigned to them, Pending until Client.AcceptBadge or DeclineBadge).
//
// A Follow of an organization is core's: the follower joins its
// followers, or waits when it approves followers by hand.
//
// # Badges
//
// A badge is created, updated and deleted by its issuer. It is assigned
// by an Offer of the badge to a person or an organization, and its
// holder consents with an Accept, or declines with a Reject (Communecter's
// Refuse is a Reject whose instrument names a revokeAuthor). Holders are
// in the badge's Holders collection, Pending until they accept, even
// when the Offer's attenteRecepteur is false: nobody holds a badge
// without consenting. A badge
// allows self-assignment when its document says
// "communecter:selfAssignable": true (see SelfAssignableTerm): anyone may
// then claim it with an Offer to themselves, and holds it at once; the
// issuer answers with an Accept. The issuer may revoke a badge with
// Client.RevokeBadge.
//
// # Events
//
// Communecter's events are Mobilizon's: register the Mobilizon behaviour
// too, before this one, and its rules handle joining and leaving events.
// A Create of an Event, Communecter's or one imported from Mobilizon, is
// core's: the event is cached, and mobilizon.EventOf reads it. This
// package passes
// (inbox.ErrPass) every Join, Leave, Invite, Offer and answer that is not
// about a project, an organization or a badge, to the rules below it.
//
// In the inbox's queued mode (fedi.Options.QueueInbound), the inbox
// applies an activity with the topmost rule of its pattern, whatever
// the Checks passed: an activity this package passed is then only
// recorded in the recipient's inbox, and the rule below it does not see
// it. Use the direct mode with stacked platforms.
//
// # Outgoing activities
//
// Register adds an outbox hook (outbox.Outbox.OnSend) that keeps our side
// in step with what our actors send, however it is sent, and refuses
// (undoing the Send) an Invite or Offer of the admin role by one who is
// not an admin of one of our projects, an answer to an invitation sent to
// someone else, and the assignment of a badge by one who is not its
// issuer.
package communecter

import (
	"context"
	"errors"

	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/inbox"
	"github.com/fedi-go/fedi/outbox"
	"github.com/fedi-go/fedi/storage"
)

// The collections this package keeps, by their name for
// actor.Scheme.Collection. Serve the ones of projects and badges by
// listing Served in serve.Options.Collections (fedi.Options.Serve).
const (
	// Members are a project's or organization's members: Pending while
	// their Join waits for an admin. Activity is the Invite, Offer or
	// Join that made them members; its instrument is their role.
	Members = "members"
	// Invited are a project's pending invitations and role offers, by
	// invitee, with the Invite or Offer as Activity.
	Invited = "invited"
	// Holders are a badge's holders: Pending until they accept it.
	// Activity is the Offer that assigned it.
	Holders = "holders"
	// MemberOf are the projects and organizations a local actor belongs
	// to, Pending while its Join waits, with the activity that made it a
	// member.
	MemberOf = "memberOf"
	// Invitations are the invitations and role offers a local actor
	// received and has not answered, by project, with the Invite or
	// Offer as Activity.
	Invitations = "invitations"
	// Badges are the badges assigned to a local actor: Pending until it
	// accepts them. Activity is the Offer that assigned it.
	Badges = "badges"
)

// Served are the collections of projects and badges worth serving.
var Served = []string{Members, Holders}

// Sentinel errors of the outbox hook and the Client.
var (
	// ErrNotAdmin reports an Invite or Offer of the admin role, or an
	// answer to a Join, by one who is not an admin of the project.
	ErrNotAdmin = errors.New("communecter: not an admin of the project")
	// ErrNotMember reports an invitation by one who is not a member.
	ErrNotMember = errors.New("communecter: not a member of the project")
	// ErrNotInvited reports an answer to an invitation, role offer or
	// badge assigned to someone else, or to none at all.
	ErrNotInvited = errors.New("communecter: no such invitation or request for this actor")
	// ErrNotIssuer reports the assignment of a badge by one who is not
	// its issuer.
	ErrNotIssuer = errors.New("communecter: not the badge's issuer")
	// ErrNotSelfAssignable reports a claim of a badge that does not allow
	// it.
	ErrNotSelfAssignable = errors.New("communecter: the badge cannot be self-assigned")
	// ErrUnknown reports a project or badge this server does not know.
	ErrUnknown = errors.New("communecter: unknown project or badge")
)

// Options configures the behaviour and the Client.
type Options struct {
	// Outbox sends our actors' activities: Register adds to it the hook
	// that keeps our state in step with what they send. Required.
	Outbox *outbox.Outbox
	// Store is the store the Outbox writes to; the Client reads through
	// it. Required by New.
	Store storage.Store
	// Actors makes our organizations (Client.CreateOrganization); without
	// it, the Client makes none.
	Actors *actor.Store
	// OnPending, when set, is told of every activity that waits for one
	// of our actors to act, within the transaction that records it (no
	// network I/O): an invitation, role offer or badge received, a Join of
	// one of our projects that waits for an admin.
	OnPending func(ctx context.Context, a *inbox.Activity) error
}

// Register registers the Communecter rules on m and adds the outbox hook
// to o.Outbox. Register the Mobilizon behaviour (and other platforms
// sharing Join, Leave, Invite, Offer and their answers) before it: its
// rules are stacked on theirs. It panics without o.Outbox.
func Register(m *inbox.Mux, o Options) {
	if o.Outbox == nil {
		panic("communecter: Register needs Options.Outbox")
	}
	inbox.Handle(m, "Create Project", CreateProject())
	inbox.Handle(m, "Update Project", UpdateProject())
	inbox.Handle(m, "Delete Project", DeleteProject())
	inbox.Handle(m, "Create Badge", CreateBadge())
	inbox.Handle(m, "Update Badge", UpdateBadge())
	inbox.Handle(m, "Delete Badge", DeleteBadge())
	inbox.Stack(m, "Join", Join(o))
	inbox.Stack(m, "Leave", Leave())
	inbox.Stack(m, "Invite", Invite(o))
	inbox.Stack(m, "Offer", Offer(o))
	inbox.Stack(m, "Accept Invite", AnswerInvitation("Accept"))
	inbox.Stack(m, "Reject Invite", AnswerInvitation("Reject"))
	inbox.Stack(m, "Accept Offer", AnswerOffer("Accept"))
	inbox.Stack(m, "Reject Offer", AnswerOffer("Reject"))
	inbox.Stack(m, "Accept Join", AnswerJoin("Accept"))
	inbox.Stack(m, "Reject Join", AnswerJoin("Reject"))
	o.Outbox.OnSend(Bookkeep(o.Outbox))
}

// envOf returns the env of an inbox activity.
func envOf(a *inbox.Activity) env {
	return env{st: a.Store, scheme: a.Scheme(), reg: a.Registry()}
}

// pending tells o.OnPending.
func (o Options) pending(ctx context.Context, a *inbox.Activity) error {
	if o.OnPending == nil {
		return nil
	}
	return o.OnPending(ctx, a)
}
