package communecter

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	ap "github.com/go-ap/activitypub"

	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/vocab"
	cvocab "github.com/fedi-go/fedi/vocab/communecter"
)

// env is what the rules, the outbox hook and the helpers read state
// with: a store (a transaction's, inside one), the scheme and the
// registry.
type env struct {
	st     storage.Store
	scheme actor.Scheme
	reg    *vocab.Registry
}

// kind says what a project IRI names.
type kind uint8

const (
	notProject   kind = iota
	projectKind       // a Project object, owned by its creator
	organization      // an Organization actor, which speaks for itself
)

// project is a project or organization as this server knows it.
type project struct {
	IRI   string
	Kind  kind
	Owner string // the creator: the project's stored owner, the organization's attributedTo
	// Moderated says that Joins wait for an admin's approval: the
	// document's manuallyApprovesFollowers.
	Moderated bool
	Local     bool
}

// projectOf returns the project or organization iri as stored here: one
// of ours (a Project object, an Organization actor), or another server's
// cached (a Project object, an Organization in the remote-actor cache).
// A deleted one is not found.
func (e env) projectOf(ctx context.Context, iri string) (project, bool, error) {
	if iri == "" {
		return project{}, false, nil
	}
	p := project{IRI: iri, Local: e.scheme.IsLocal(iri)}
	o, err := e.st.Objects.Get(ctx, iri)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		if p.Local || e.st.Actors == nil {
			return project{}, false, nil
		}
		ra, err := e.st.Actors.Get(ctx, iri)
		if errors.Is(err, storage.ErrNotFound) || (err == nil && (ra.Document == nil || !ra.Gone.IsZero())) {
			return project{}, false, nil
		}
		if err != nil {
			return project{}, false, err
		}
		it, err := e.reg.Decode(ra.Document)
		if err != nil || !vocab.HasType(it, "Organization") {
			return project{}, false, nil
		}
		p.Kind, p.Owner = organization, iri
		p.Moderated = approvesByHand(it)
		return p, true, nil
	case err != nil:
		return project{}, false, err
	case !o.Deleted.IsZero():
		return project{}, false, nil
	}
	switch {
	case o.Type == "Project":
		p.Kind, p.Owner = projectKind, o.Owner
	case o.Type == "Organization" && o.Owner == iri:
		p.Kind, p.Owner = organization, iri
	default:
		return project{}, false, nil
	}
	it, err := e.reg.Decode(o.Data)
	if err != nil {
		return project{}, false, err
	}
	p.Moderated = approvesByHand(it)
	if p.Kind == organization {
		if by := vocab.AttributedTo(it); len(by) > 0 {
			p.Owner = string(by[0])
		}
	}
	return p, true, nil
}

// localProject returns one of our projects or organizations.
func (e env) localProject(ctx context.Context, iri string) (project, bool, error) {
	if !e.scheme.IsLocal(iri) {
		return project{}, false, nil
	}
	return e.projectOf(ctx, iri)
}

func approvesByHand(it vocab.Item) bool {
	var v *bool
	switch d := it.(type) {
	case *vocab.Object:
		v = d.ManuallyApprovesFollowers
	case *vocab.Actor:
		v = d.ManuallyApprovesFollowers
	}
	return v != nil && *v
}

// isProjectItem reports whether an item, as resolved, is a project or an
// organization.
func isProjectItem(it vocab.Item) bool {
	return it != nil && (vocab.HasType(it, "Project") || vocab.HasType(it, "Organization"))
}

// badge is a badge as this server knows it.
type badge struct {
	IRI    string
	Issuer string // the owner of a stored badge, else its attributedTo
	// SelfAssignable says that anyone may claim it for themselves.
	SelfAssignable bool
	Local          bool
}

// badgeOf returns the badge iri when it is stored here, ours or cached.
func (e env) badgeOf(ctx context.Context, iri string) (badge, bool, error) {
	if iri == "" {
		return badge{}, false, nil
	}
	o, err := e.st.Objects.Get(ctx, iri)
	if errors.Is(err, storage.ErrNotFound) {
		return badge{}, false, nil
	}
	if err != nil {
		return badge{}, false, err
	}
	if !o.Deleted.IsZero() || o.Type != "Badge" {
		return badge{}, false, nil
	}
	it, err := e.reg.Decode(o.Data)
	if err != nil {
		return badge{}, false, err
	}
	b := badgeFrom(it)
	b.Issuer, b.Local = o.Owner, e.scheme.IsLocal(iri)
	return b, true, nil
}

// badgeFrom reads a badge document.
func badgeFrom(it vocab.Item) badge {
	b := badge{IRI: string(vocab.IRIOf(it)), SelfAssignable: SelfAssignable(it)}
	if by := vocab.AttributedTo(it); len(by) > 0 {
		b.Issuer = string(by[0])
	}
	return b
}

// SelfAssignableTerm is the property by which a badge says that anyone
// may claim it for themselves. Communecter's documentation has badges
// self-assigned (an Offer of the badge to oneself) but does not say how
// a badge allows it; this is fedi's choice, a compact IRI in the
// namespace vocab/communecter defines
// (https://communecter.org/ns#selfAssignable), so that it expands in
// JSON-LD with the context fedi sends. A badge without it, or with
// false, is assigned by its issuer only: the safe default for a badge
// that says nothing.
const SelfAssignableTerm = "communecter:selfAssignable"

// SelfAssignable reports whether a badge document allows its
// self-assignment: SelfAssignableTerm (or the bare "selfAssignable") is
// true.
func SelfAssignable(it vocab.Item) bool {
	o, ok := it.(*vocab.Object)
	if !ok {
		return false
	}
	for _, k := range []string{SelfAssignableTerm, "selfAssignable"} {
		var v bool
		if raw, ok := o.Extra[k]; ok && json.Unmarshal(raw, &v) == nil && v {
			return true
		}
	}
	return false
}

// SetSelfAssignable makes a badge document allow (or, with false, no
// longer allow) its self-assignment.
func SetSelfAssignable(o *vocab.Object, allow bool) {
	if !allow {
		delete(o.Extra, SelfAssignableTerm)
		return
	}
	if o.Extra == nil {
		o.Extra = vocab.Extra{}
	}
	o.Extra[SelfAssignableTerm] = json.RawMessage("true")
}

// invitation is an Invite, or an Offer of a role, read from its
// activity.
type invitation struct {
	ID, Inviter, Invitee, Project string
	Role                          cvocab.Role
}

// invitationOf reads an Invite or a role Offer: Communecter's Invite
// and Offer have the invitee as object and the project as target, and
// the role in instrument; an Offer may also have a Role as object, the
// invitee as target and the project as context.
func invitationOf(act *vocab.Activity) (invitation, bool) {
	if act == nil || !(vocab.HasType(act, "Invite") || vocab.HasType(act, "Offer")) {
		return invitation{}, false
	}
	inv := invitation{ID: string(act.ID), Inviter: one(act.Actor)}
	if r, ok := act.Object.(*vocab.Object); ok && vocab.HasType(r, "Role") && vocab.HasType(act, "Offer") {
		inv.Role = cvocab.Role{Name: vocab.TextOf(r.Name)}
		inv.Invitee, inv.Project = one(act.Target), one(act.Context)
	} else {
		inv.Invitee, inv.Project = one(act.Object), one(act.Target)
		inv.Role, _ = cvocab.RoleOf(act)
	}
	return inv, inv.Inviter != "" && inv.Invitee != "" && inv.Project != ""
}

// joinOf reads a Join or Leave of a project: Communecter's object is the
// actor and target the project; the plain form has the project as
// object. shaped is false when a target is given with an object that is
// not the actor.
func joinOf(act *vocab.Activity) (who, proj string, shaped bool) {
	if act == nil {
		return "", "", false
	}
	return joinParts(one(act.Actor), act.Object, act.Target)
}

func joinParts(who string, object, target vocab.Item) (string, string, bool) {
	obj, tgt := one(object), one(target)
	switch {
	case who == "":
		return "", "", false
	case tgt != "":
		return who, tgt, obj == who
	case obj != "" && obj != who:
		return who, obj, true
	}
	return who, "", false
}

// isAdminRole reports whether a role makes an admin: "admin", "asadmin"
// and Communecter's "adminandrole".
func isAdminRole(r cvocab.Role) bool {
	switch strings.ToLower(r.Name) {
	case cvocab.RoleAdmin, cvocab.RoleAsAdmin, "adminandrole", "administrator":
		return true
	}
	return false
}

// roleIn returns the role an activity that granted a membership carries:
// an Invite's or Offer's, a Join's; none for a Create (the creator).
func roleIn(it vocab.Item) cvocab.Role {
	act, ok := it.(*vocab.Activity)
	if !ok || act == nil {
		return cvocab.Role{}
	}
	if inv, ok := invitationOf(act); ok {
		return inv.Role
	}
	r, _ := cvocab.RoleOf(act)
	return r
}

// activity returns the stored activity iri, decoded; nil when it is not
// stored or not a transitive activity.
func (e env) activity(ctx context.Context, iri string) (*vocab.Activity, error) {
	if iri == "" {
		return nil, nil
	}
	o, err := e.st.Objects.Get(ctx, iri)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	it, err := e.reg.Decode(o.Data)
	if err != nil {
		return nil, err
	}
	act, _ := it.(*vocab.Activity)
	return act, nil
}

// roleOf returns the role of an accepted member of p: admin for the
// owner and, for an organization, for itself; else the role of the
// activity that made it a member.
func (e env) roleOf(ctx context.Context, p project, who string) (cvocab.Role, bool, error) {
	if who == p.Owner || who == p.IRI && p.Kind == organization {
		return cvocab.Role{Name: cvocab.RoleAdmin}, true, nil
	}
	m, err := e.st.Collections.Contains(ctx, e.scheme.Collection(p.IRI, Members), who)
	if errors.Is(err, storage.ErrNotFound) {
		return cvocab.Role{}, false, nil
	}
	if err != nil || m.State != storage.Accepted {
		return cvocab.Role{}, false, err
	}
	act, err := e.activity(ctx, m.Activity)
	if err != nil {
		return cvocab.Role{}, false, err
	}
	return roleIn(act), true, nil
}

// isAdmin reports whether who is an admin of p: its owner, the
// organization itself, or an accepted member whose role is admin.
func (e env) isAdmin(ctx context.Context, p project, who string) (bool, error) {
	r, member, err := e.roleOf(ctx, p, who)
	return member && isAdminRole(r), err
}

// isMember reports whether who is an accepted member (or the owner) of p.
func (e env) isMember(ctx context.Context, p project, who string) (bool, error) {
	_, member, err := e.roleOf(ctx, p, who)
	return member, err
}

// member returns who's entry in collection, or false.
func member(ctx context.Context, st storage.Store, collection, who string) (storage.Member, bool, error) {
	m, err := st.Collections.Contains(ctx, collection, who)
	if errors.Is(err, storage.ErrNotFound) {
		return storage.Member{}, false, nil
	}
	return m, err == nil, err
}

// isLocalActor reports whether iri is one of our actors: stored as owned
// by itself.
func (e env) isLocalActor(ctx context.Context, iri string) (bool, error) {
	if !e.scheme.IsLocal(iri) {
		return false, nil
	}
	owner, err := e.st.Objects.Owner(ctx, iri)
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	return err == nil && owner == iri, err
}

// storeActivity keeps a received activity, so that the Accept or Reject
// that names it, and the helpers, find it.
func storeActivity(ctx context.Context, st storage.Store, id, typ, by string, raw []byte) error {
	if id == "" {
		return nil
	}
	err := st.Objects.Put(ctx, storage.Object{IRI: id, Type: typ, Owner: by, Data: raw})
	if errors.Is(err, storage.ErrConflict) {
		return nil
	}
	return err
}

// one returns the IRI of a value that is a single IRI or object, or "".
func one(it vocab.Item) string {
	if it == nil {
		return ""
	}
	if col, ok := it.(ap.ItemCollection); ok {
		if len(col) != 1 {
			return ""
		}
		it = col[0]
	}
	return string(vocab.IRIOf(it))
}
