package lemmy

import (
	"context"
	"slices"

	ap "github.com/go-ap/activitypub"

	"github.com/fedi-go/fedi/inbox"
	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/vocab"
	"github.com/fedi-go/fedi/vocab/lemmy"
)

// plan is what an activity is to this package: where it takes effect,
// or that it is not Lemmy's (pass).
type plan struct {
	x    act
	c    community
	pass bool
	// private is the local recipient of a private message, or of the
	// Delete (or its Undo) of one.
	private string
	// skip marks an activity whose effects were had already (our own
	// community's Announce delivered to our own users).
	skip bool
}

// checkScope is the scope of a Check: it reads the store and fetches,
// once per activity and IRI however many local recipients it has.
func (r *rules) checkScope(a *inbox.Activity) scope {
	return scope{st: a.Store, s: a.Scheme(), reg: a.Registry(), dir: a.Directory(), remote: r.o.Remote,
		fetch: func(ctx context.Context, iri string) (vocab.Item, error) {
			return r.memo.get(a.DedupeKey+" "+iri, a.Registry(), func() (vocab.Item, error) { return a.Resolve(ctx, iri) })
		}}
}

// applyScope is the scope of an Apply: the transaction, no network, and
// the community's sends.
func (r *rules) applyScope(a *inbox.Activity) scope {
	return scope{st: a.Store, s: a.Scheme(), reg: a.Registry(), dir: a.Directory(), send: a.Send}
}

// direct is the rule of what other servers' users send to our
// communities, and of private messages to our users. Whether the
// activity is Lemmy's does not depend on the recipient: it concerns a
// local community, or it is a private message.
func (r *rules) direct(doc string) inbox.Rule[vocab.Item] {
	return inbox.Rule[vocab.Item]{
		Doc: doc,
		Check: func(ctx context.Context, a *inbox.Activity, _ vocab.Item) error {
			sc := r.checkScope(a)
			p, err := planDirect(ctx, sc, a.Item, a.Object, a.Target)
			switch {
			case err != nil:
				return toInbox(err)
			case p.pass:
				return inbox.ErrPass
			case p.private != "":
				return toInbox(sc.authorizePrivate(ctx, p, a))
			}
			return toInbox(sc.authorize(ctx, p.x, p.c))
		},
		Apply: func(ctx context.Context, a *inbox.Activity, _ vocab.Item) error {
			sc := r.applyScope(a)
			p, err := planDirect(ctx, sc, a.Item, a.Object, a.Target)
			if err != nil {
				return toInbox(err)
			}
			if p.pass {
				return inbox.RecordInInbox(ctx, a) // changed since Check: keep it, for the application
			}
			if p.private != "" {
				if err := sc.applyPrivate(ctx, p, a.Raw); err != nil {
					return toInbox(err)
				}
				return inbox.ListInInbox(ctx, a)
			}
			// The community has the effects once, whichever of our inboxes
			// the activity reached first: the inbox records it for each
			// recipient, and here for the community when it is not the
			// recipient.
			first := true
			if a.Recipient == nil || a.Recipient.IRI != p.c.iri {
				if first, err = a.Store.Dedupe.Record(ctx, a.DedupeKey, p.c.iri); err != nil {
					return err
				}
			}
			if first {
				if err := sc.effects(ctx, p.x, p.c, a.Raw); err != nil {
					return toInbox(err)
				}
			}
			return inbox.ListInInbox(ctx, a)
		},
	}
}

// planDirect finds what an activity delivered to us is about: a post,
// comment or moderator of a local community, a private message, or
// nothing of Lemmy's.
func planDirect(ctx context.Context, sc scope, it, object, target vocab.Item) (plan, error) {
	x, ok := parse(it, object, target)
	if !ok {
		return plan{pass: true}, nil
	}
	switch x.kind {
	case kCreate:
		obj, ok := x.object.(*vocab.Object)
		if !ok {
			return plan{pass: true}, nil
		}
		cs, err := sc.localCommunities(ctx, obj, x.activity)
		if err != nil {
			return plan{}, err
		}
		switch {
		case len(cs) > 1:
			return plan{}, reject(ErrNotInCommunity)
		case len(cs) == 1 && !vocab.HasType(obj, "ChatMessage"):
			return plan{x: x, c: sc.local(cs[0])}, nil
		}
		to, private, err := sc.privateRecipient(ctx, obj, x.activity)
		if err != nil || !private {
			return plan{pass: !private}, err
		}
		return plan{x: x, private: to}, nil
	case kAdd, kRemove:
		if owner, name, ok := sc.s.ParseCollection(x.target); ok && name == Moderators {
			if ok, err := sc.isCommunity(ctx, owner); err != nil || ok {
				return plan{x: x, c: sc.local(owner)}, err
			}
		}
		if x.kind == kAdd {
			return plan{pass: true}, nil
		}
	}
	if x.kind == kDelete || x.kind == kUndo && x.undoneKind == kDelete {
		to, err := sc.messageRecipient(ctx, x.item)
		if err != nil || to != "" {
			return plan{x: x, private: to}, err
		}
	}
	c, err := sc.communityOfItem(ctx, x.item)
	if err != nil || c == "" {
		return plan{pass: true}, err
	}
	return plan{x: x, c: sc.local(c)}, nil
}

// privateRecipient tells whether a created object is a private message
// and to whom: a ChatMessage is one, whatever it addresses (and it is
// refused unless it addresses exactly one local actor); a Note is one
// when it addresses exactly one actor, of ours.
func (sc scope) privateRecipient(ctx context.Context, obj *vocab.Object, create *vocab.Activity) (string, bool, error) {
	chat := vocab.HasType(obj, "ChatMessage")
	if !chat && !vocab.HasType(obj, "Note") {
		return "", false, nil
	}
	aud := recipients(obj, create)
	local := len(aud) == 1 && aud[0] != vocab.PublicIRI && sc.dir != nil
	if local {
		_, err := sc.dir.ByIRI(ctx, string(aud[0]))
		local = err == nil
	}
	switch {
	case local:
		return string(aud[0]), true, nil
	case chat:
		return "", false, reject(ErrPrivateMessage)
	}
	return "", false, nil
}

// recipients returns whom a private message addresses, in the Create
// and its object, each once, besides its sender.
func recipients(obj *vocab.Object, create *vocab.Activity) []ap.IRI {
	var out []ap.IRI
	senders := append(vocab.AttributedTo(obj), vocab.IRIOf(create.Actor))
	for _, it := range []vocab.Item{obj, create} {
		for _, iri := range vocab.Audience(it) {
			if !slices.Contains(out, iri) && !slices.Contains(senders, iri) {
				out = append(out, iri)
			}
		}
	}
	return out
}

// messageRecipient returns the local recipient of the stored private
// message item, or "" when it is none.
func (sc scope) messageRecipient(ctx context.Context, item string) (string, error) {
	it, _, stored, err := sc.lookup(ctx, item)
	if err != nil || !stored || it == nil {
		return "", err
	}
	o, ok := lemmy.PrivateMessageOf(it)
	if !ok {
		return "", nil
	}
	aud := vocab.Audience(o)
	if len(aud) != 1 {
		return "", nil
	}
	to := string(aud[0])
	if ok, err := contains(ctx, sc.st, sc.s.Collection(to, Messages), item); err != nil || !ok {
		return "", err
	}
	return to, nil
}

// authorizePrivate: a private message attributed to its actor, received
// by its one recipient; its Delete or Undo by its sender.
func (sc scope) authorizePrivate(ctx context.Context, p plan, a *inbox.Activity) error {
	if p.x.kind == kCreate {
		if by := vocab.AttributedTo(p.x.object); len(by) != 1 || string(by[0]) != p.x.actor {
			return forbid(ErrAttribution)
		}
		if a.Recipient == nil || a.Recipient.IRI != p.private {
			return forbid(ErrPrivateMessage)
		}
		return nil
	}
	_, owner, _, err := sc.lookup(ctx, p.x.item)
	if err != nil {
		return err
	}
	if owner != p.x.actor || p.x.kind == kUndo && p.x.undoneActor() != p.x.actor {
		return forbid(ErrNotCreator)
	}
	return nil
}

// applyPrivate keeps a private message for its recipient, or hides or
// restores it.
func (sc scope) applyPrivate(ctx context.Context, p plan, data []byte) error {
	x := p.x
	switch x.kind {
	case kCreate:
		if err := sc.storeItem(ctx, x, x.object); err != nil {
			return err
		}
		return sc.st.Collections.Add(ctx, sc.s.Collection(p.private, Messages), storage.Member{IRI: x.item, Activity: x.id})
	case kDelete:
		if err := sc.keep(ctx, x.id, x.activity, x.actor, data); err != nil {
			return err
		}
		return sc.st.Collections.Add(ctx, DeletedIRI(sc.s), storage.Member{IRI: x.item, Activity: x.id})
	case kUndo:
		return storage.IgnoreNotFound(sc.st.Collections.Remove(ctx, DeletedIRI(sc.s), x.item))
	}
	return nil
}
