// Package communecter is the vocabulary of Communecter, the federated
// platform for local projects, organizations and badges.
//
// Communecter publishes no JSON-LD context; its payloads use terms such as
// Project, Badge and shortDescription with only the ActivityStreams
// context. This package defines them under https://communecter.org/ns#
// (fedi's choice, documented here) so that re-encoded documents carry a
// definition for every term.
//
// Its shapes follow Communecter's documentation:
//   - Join and Leave of a project have object = the actor and target = the
//     project;
//   - Invite, Offer, Join and Accept carry the role in instrument, either a
//     string ("admin", "contributor", "asadmin") or an object such as
//     {"as": "adminandrole", "rules": "Partenaire,Directeur"} (see RoleOf);
//   - badges are given with an Offer whose object is the badge and target
//     the recipient, person or organization, and answered with Accept or
//     Reject; a Reject whose instrument names a revokeAuthor and a
//     revokeReason refuses or revokes it;
//   - timestamps may carry "+0000" offsets, which the registry reads.
package communecter

import (
	"encoding/json"
	"strings"

	ap "github.com/go-ap/activitypub"

	"github.com/fedi-go/fedi/vocab"
	"github.com/fedi-go/fedi/vocab/schema"
)

// The roles Communecter sends as a string instrument.
const (
	RoleAdmin       = "admin"       // administrator of a project or organization
	RoleContributor = "contributor" // contributor to a project
	RoleAsAdmin     = "asadmin"     // offered the administrator role
)

// ProjectFields are the properties of a Project.
type ProjectFields struct {
	ShortDescription string
	Progress         string // such as "Ongoing"
}

// InstrumentFields are the properties Communecter puts on the instrument
// object of its activities.
type InstrumentFields struct {
	Rules            string // comma-separated role names
	Narrative        string // why a badge is assigned
	AttenteRecepteur *bool  // whether the recipient must accept the badge
	RevokeAuthor     ap.Item
	RevokeReason     string
}

var projectFields = vocab.NewProperties(
	vocab.StringField(vocab.Term{Name: "shortDescription", ID: "communecter:shortDescription"},
		func(f *ProjectFields) *string { return &f.ShortDescription }),
	vocab.StringField(vocab.Term{Name: "progress", ID: "communecter:progress"},
		func(f *ProjectFields) *string { return &f.Progress }),
)

var instrumentFields = vocab.NewProperties(
	vocab.StringField(vocab.Term{Name: "rules", ID: "communecter:rules"},
		func(f *InstrumentFields) *string { return &f.Rules }),
	vocab.StringField(vocab.Term{Name: "narrative", ID: "communecter:narrative"},
		func(f *InstrumentFields) *string { return &f.Narrative }),
	vocab.BoolField(vocab.Term{Name: "attenteRecepteur", ID: "communecter:attenteRecepteur"},
		func(f *InstrumentFields) **bool { return &f.AttenteRecepteur }),
	vocab.ItemField(vocab.Term{Name: "revokeAuthor", ID: "communecter:revokeAuthor", Type: "@id"},
		func(f *InstrumentFields) *ap.Item { return &f.RevokeAuthor }),
	vocab.StringField(vocab.Term{Name: "revokeReason", ID: "communecter:revokeReason"},
		func(f *InstrumentFields) *string { return &f.RevokeReason }),
)

// Vocabulary is the Communecter vocabulary. It includes schema.Vocabulary
// for the addresses of projects and events.
var Vocabulary = vocab.MustVocabulary(vocab.VocabularyDef{
	Name:  "communecter",
	Terms: []vocab.Term{{Name: "communecter", ID: "https://communecter.org/ns#"}},
	Types: []vocab.TypeDef{
		{Name: "Project", ID: "communecter:Project", Shape: vocab.ShapeObject},
		{Name: "Badge", ID: "communecter:Badge", Shape: vocab.ShapeObject},
		{Name: "Role", ID: "communecter:Role", Shape: vocab.ShapeObject},
	},
	Properties: []vocab.PropertySet{projectFields, instrumentFields},
	Includes:   []*vocab.Vocabulary{schema.Vocabulary},
})

// Project is a typed view of a Project.
type Project struct {
	*vocab.Object
	*ProjectFields
}

// ProjectOf returns the Project view of an item of type Project.
func ProjectOf(it vocab.Item) (Project, bool) {
	o, ok := it.(*vocab.Object)
	if !ok || !vocab.HasType(o, "Project") {
		return Project{}, false
	}
	return Project{Object: o, ProjectFields: vocab.PropsOf(o, projectFields)}, true
}

// NewProject returns a project.
func NewProject(id, creator ap.IRI, name, shortDescription string) Project {
	o := vocab.NewObject("Project", id)
	o.AttributedTo = creator
	o.Name = vocab.Text(name)
	p := Project{Object: o, ProjectFields: vocab.PropsOf(o, projectFields)}
	p.ShortDescription = shortDescription
	return p
}

// Place returns the project's location with its schema.org address.
func (p Project) Place() (schema.Place, bool) { return schema.PlaceOf(p.Location) }

// BadgeOf returns a Badge object.
func BadgeOf(it vocab.Item) (*vocab.Object, bool) {
	o, ok := it.(*vocab.Object)
	return o, ok && vocab.HasType(o, "Badge")
}

// NewBadge returns a badge issued by issuer.
func NewBadge(id, issuer ap.IRI, name, description string) *vocab.Object {
	o := vocab.NewObject("Badge", id)
	o.AttributedTo = issuer
	o.Name = vocab.Text(name)
	if description != "" {
		o.Content = vocab.Text(description)
	}
	return o
}

// OrganizationOf returns an Organization actor.
func OrganizationOf(it vocab.Item) (*vocab.Actor, bool) {
	a, ok := it.(*vocab.Actor)
	return a, ok && vocab.HasType(a, "Organization")
}

// Role is the role an activity's instrument carries.
type Role struct {
	Name  string   // "admin", "contributor", "asadmin", or the "as" (or name) of an instrument object
	Rules []string // the instrument object's comma-separated rules, trimmed
}

// RoleOf returns the role an activity carries in its instrument.
func RoleOf(a *vocab.Activity) (Role, bool) {
	switch v := a.Instrument.(type) {
	case ap.IRI:
		return Role{Name: string(v)}, v != ""
	case *vocab.Object:
		var r Role
		if raw, ok := v.Extra["as"]; ok {
			_ = json.Unmarshal(raw, &r.Name)
		}
		if r.Name == "" {
			r.Name = vocab.TextOf(v.Name)
		}
		if f := vocab.PropsOf(v, instrumentFields); f.Rules != "" {
			for _, rule := range strings.Split(f.Rules, ",") {
				if rule = strings.TrimSpace(rule); rule != "" {
					r.Rules = append(r.Rules, rule)
				}
			}
		}
		return r, r.Name != "" || len(r.Rules) > 0
	}
	return Role{}, false
}

// InstrumentOf returns Communecter's fields of an activity's instrument
// object, or nil when the instrument is not an object.
func InstrumentOf(a *vocab.Activity) *InstrumentFields {
	if o, ok := a.Instrument.(*vocab.Object); ok {
		return vocab.PropsOf(o, instrumentFields)
	}
	return nil
}

func withRole(a *vocab.Activity, role string) *vocab.Activity {
	if role != "" {
		a.Instrument = ap.IRI(role)
	}
	return a
}

// NewInvite returns actor's invitation of invitee to a project or
// organization, with the role offered (may be empty).
func NewInvite(actor, invitee, target ap.IRI, role string) *vocab.Activity {
	a := vocab.NewActivity("Invite", "", actor, invitee)
	a.Target = target
	return withRole(a, role)
}

// NewJoin returns actor's request to join a project: object is the actor
// itself and target the project, as Communecter sends it.
func NewJoin(actor, project ap.IRI, role string) *vocab.Activity {
	a := vocab.NewActivity("Join", "", actor, actor)
	a.Target = project
	return withRole(a, role)
}

// NewLeave returns actor's departure from a project: object is the actor
// and target the project.
func NewLeave(actor, project ap.IRI) *vocab.Activity {
	a := vocab.NewActivity("Leave", "", actor, actor)
	a.Target = project
	return a
}

// NewOffer returns actor's offer of a role to another actor for a project.
func NewOffer(actor, to, project ap.IRI, role string) *vocab.Activity {
	a := vocab.NewActivity("Offer", "", actor, to)
	a.Target = project
	return withRole(a, role)
}

// NewAccept returns the acceptance of an invitation, offer or join request;
// target and role may be empty.
func NewAccept(actor, activity, target ap.IRI, role string) *vocab.Activity {
	a := vocab.NewActivity("Accept", "", actor, activity)
	if target != "" {
		a.Target = target
	}
	return withRole(a, role)
}

// NewReject returns the refusal of an invitation, offer or join request.
func NewReject(actor, activity ap.IRI) *vocab.Activity {
	return vocab.NewActivity("Reject", "", actor, activity)
}

// NewCreateBadge returns the Create of a badge.
func NewCreateBadge(actor ap.IRI, badge *vocab.Object) *vocab.Activity {
	a := vocab.NewActivity("Create", "", actor, badge)
	a.To = ap.ItemCollection{vocab.PublicIRI}
	return a
}

// NewUpdateBadge returns the Update of a badge.
func NewUpdateBadge(actor ap.IRI, badge *vocab.Object) *vocab.Activity {
	a := vocab.NewActivity("Update", "", actor, badge)
	a.To = ap.ItemCollection{vocab.PublicIRI}
	return a
}

// NewDeleteBadge returns the Delete of a badge.
func NewDeleteBadge(actor, badge ap.IRI) *vocab.Activity {
	a := vocab.NewActivity("Delete", "", actor, badge)
	a.To = ap.ItemCollection{vocab.PublicIRI}
	return a
}

// NewAssignBadge returns actor's assignment of a badge to a recipient, a
// person or an organization: an Offer of the badge that the recipient
// answers with Accept or Reject.
func NewAssignBadge(actor, badge, recipient ap.IRI, narrative string) *vocab.Activity {
	a := vocab.NewActivity("Offer", "", actor, badge)
	a.Target = recipient
	instr := vocab.NewObject("Object", "")
	f := vocab.PropsOf(instr, instrumentFields)
	f.Narrative = narrative
	wait := true
	f.AttenteRecepteur = &wait
	a.Instrument = instr
	return a
}

// NewSelfAssignBadge returns actor's claim of a badge for itself: an Offer
// whose recipient is the actor, which the badge's issuer accepts or
// refuses.
func NewSelfAssignBadge(actor, badge ap.IRI, narrative string) *vocab.Activity {
	return NewAssignBadge(actor, badge, actor, narrative)
}

// NewAcceptBadge returns the acceptance of a badge offer.
func NewAcceptBadge(actor, offer ap.IRI) *vocab.Activity {
	return vocab.NewActivity("Accept", "", actor, offer)
}

// NewRejectBadge returns the recipient's rejection of a badge offer.
func NewRejectBadge(actor, offer ap.IRI, summary string) *vocab.Activity {
	a := vocab.NewActivity("Reject", "", actor, offer)
	if summary != "" {
		a.Summary = vocab.Text(summary)
	}
	return a
}

// NewRefuseBadge returns the issuer's refusal (or revocation) of a badge
// offer or claim: a Reject whose instrument names the author and the
// reason.
func NewRefuseBadge(actor, offer ap.IRI, reason string) *vocab.Activity {
	a := vocab.NewActivity("Reject", "", actor, offer)
	instr := vocab.NewObject("", "")
	f := vocab.PropsOf(instr, instrumentFields)
	f.RevokeAuthor = actor
	f.RevokeReason = reason
	a.Instrument = instr
	return a
}

// BadgeAssignment describes an Offer of a badge.
type BadgeAssignment struct {
	Badge, Recipient ap.IRI
	Narrative        string
	NeedsAcceptance  bool
	SelfAssigned     bool
}

// BadgeAssignmentOf reads an Offer of a badge. A badge Offer has an
// instrument object with a narrative or attenteRecepteur, or an embedded
// Badge as object.
func BadgeAssignmentOf(a *vocab.Activity) (BadgeAssignment, bool) {
	if !vocab.HasType(a, "Offer") {
		return BadgeAssignment{}, false
	}
	_, embedded := BadgeOf(a.Object)
	f := InstrumentOf(a)
	if !embedded && (f == nil || f.Narrative == "" && f.AttenteRecepteur == nil) {
		return BadgeAssignment{}, false
	}
	b := BadgeAssignment{Badge: vocab.IRIOf(a.Object), Recipient: vocab.IRIOf(a.Target)}
	if f != nil {
		b.Narrative = f.Narrative
		b.NeedsAcceptance = f.AttenteRecepteur != nil && *f.AttenteRecepteur
	}
	b.SelfAssigned = b.Recipient != "" && b.Recipient == vocab.IRIOf(a.Actor)
	return b, true
}

// RevocationOf reads the revocation a Reject carries: who refused or
// revoked, and why.
func RevocationOf(a *vocab.Activity) (author ap.IRI, reason string, ok bool) {
	if !vocab.HasType(a, "Reject") {
		return "", "", false
	}
	f := InstrumentOf(a)
	if f == nil || f.RevokeAuthor == nil && f.RevokeReason == "" {
		return "", "", false
	}
	return vocab.IRIOf(f.RevokeAuthor), f.RevokeReason, true
}
