package lemmy

import (
	"context"
	"slices"

	"github.com/fedi-go/fedi/inbox"
	"github.com/fedi-go/fedi/vocab"
)

// announced is the rule of the Announces other servers' communities send
// to their followers among our users. The announced activity reaches the
// rule as the inbox checked it: embedded by the community when on its
// origin, fetched from its own origin otherwise (an embedded activity of
// another origin that does not dereference is refused before any rule).
// It is what this rule applies, never the copy in the body. The checks
// of a received activity apply to it too: a Create attributed to its
// actor, an Update or Delete by the creator, an Undo of the actor's own
// activity, a Remove or Lock by a moderator of the community (its
// moderators collection, fetched from it). Its effects are had once,
// however many of our users follow the community.
func (r *rules) announced(doc string) inbox.Rule[vocab.Item] {
	return inbox.Rule[vocab.Item]{
		Doc: doc,
		Check: func(ctx context.Context, a *inbox.Activity, _ vocab.Item) error {
			sc := r.checkScope(a)
			p, err := planAnnounce(ctx, sc, a, true)
			switch {
			case err != nil:
				return toInbox(err)
			case p.pass:
				return inbox.ErrPass
			case p.skip:
				return nil
			}
			if p.x.id == "" {
				return inbox.Reject(400, "an announced activity has an id")
			}
			return toInbox(sc.authorize(ctx, p.x, p.c))
		},
		Apply: func(ctx context.Context, a *inbox.Activity, _ vocab.Item) error {
			sc := r.applyScope(a)
			p, err := planAnnounce(ctx, sc, a, false)
			if err != nil {
				return toInbox(err)
			}
			if !p.pass && !p.skip {
				// Once per server: the effects are the community's, not
				// the recipient's, and a later direct copy of the same
				// activity is recognised.
				first, err := a.Store.Dedupe.Record(ctx, p.x.id, p.c.iri)
				if err != nil {
					return err
				}
				if first {
					if err := sc.apply(ctx, p.x, p.c, nil); err != nil {
						return toInbox(err)
					}
				}
			}
			return inbox.RecordInInbox(ctx, a)
		},
	}
}

// planAnnounce finds what an Announce is about: an activity about an
// item of the announcing community, or, when the announcer is one of
// our communities, one whose effects were had. check is set in Check,
// where the community's document and an unknown item are fetched to
// decide; Apply decides from storage what Check accepted.
func planAnnounce(ctx context.Context, sc scope, a *inbox.Activity, check bool) (plan, error) {
	inner, ok := a.Object.(*vocab.Activity)
	if !ok {
		return plan{pass: true}, nil
	}
	local, err := sc.isCommunity(ctx, a.Actor)
	if err != nil {
		return plan{}, err
	}
	if local {
		return plan{skip: true}, nil
	}
	x, ok := parse(inner, inner.Object, inner.Target)
	if !ok {
		return plan{pass: true}, nil
	}
	c, group, err := sc.remoteCommunity(ctx, a.Actor)
	if err != nil {
		return plan{}, err
	}
	if !check {
		c.iri = a.Actor
		return plan{x: x, c: c}, nil
	}
	if !group {
		return plan{pass: true}, nil
	}
	switch {
	case x.kind == kAdd || x.kind == kRemove && x.target != "":
		if x.modChange(c.mods) {
			return plan{x: x, c: c}, nil
		}
		if x.kind == kAdd {
			return plan{pass: true}, nil
		}
	case x.kind == kCreate || x.kind == kUpdate:
		if slices.Contains(addressees(x.object, inner), c.iri) {
			return plan{x: x, c: c}, nil
		}
		return plan{pass: true}, nil
	}
	it, _, _, err := sc.lookup(ctx, x.item)
	if err != nil {
		return plan{}, err
	}
	if it == nil || !slices.Contains(addressees(it), c.iri) {
		return plan{pass: true}, nil
	}
	return plan{x: x, c: c}, nil
}
