package inbox

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"

	ap "github.com/go-ap/activitypub"

	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/fetch"
	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/vocab"
)

// maxEmbedDepth bounds how deep activities embedded in activities are
// checked (an Announce of an Undo of a Like is three).
const maxEmbedDepth = 4

// authorize runs the checks every activity passes before any handler
// sees it, and fills in a.Object and a.Target as checked. It does no
// effect. The rules:
//   - the key's owner is the activity's actor;
//   - the activity's id is on the actor's origin;
//   - an embedded object or activity on another origin is replaced by
//     its copy fetched from that origin, within the request's fetch
//     budget; one that cannot be fetched is refused; embedded copies of
//     our own objects are replaced by their IRIs, since only we speak for
//     them;
//   - a Create's object is attributed to actors of the actor's origin
//     only, never to another server's: a server holds the keys of all
//     its actors, so attribution within it is as trustworthy as the
//     signature (Mobilizon attributes a group's events to the group,
//     PeerTube videos to their channel), while attribution outside it
//     would be impersonation;
//   - Update and Delete only of what the actor owns: the stored owner,
//     an actor in the stored attributedTo, or the object's own
//     attributedTo when it is not stored;
//   - Undo only of the actor's own activities;
//   - the application's block hook.
func (h *Handler) authorize(ctx context.Context, a *Activity) *Error {
	act := a.Item
	actors := vocab.IRIs(vocab.ActorOf(act))
	if len(actors) != 1 {
		return refuse(http.StatusBadRequest, ErrMalformed, "an activity has exactly one actor", nil)
	}
	a.Actor = actors[0]
	if a.Signer != nil && a.Signer.Owner != a.Actor {
		return refuse(http.StatusUnauthorized, ErrNotActor, "the signing key does not belong to the actor",
			fmt.Errorf("key %s of %s signed an activity of %s", a.Signer.KeyID, a.Signer.Owner, a.Actor))
	}
	if h.opts.Blocked != nil {
		blocked, err := h.opts.Blocked(ctx, a.Actor)
		if err != nil {
			return classify(fmt.Errorf("block hook: %w", err))
		}
		if blocked {
			return refuse(http.StatusForbidden, ErrForbidden, "the actor is blocked here", fmt.Errorf("%s is blocked", a.Actor))
		}
	}
	if a.ID != "" && !actor.SameOrigin(a.ID, a.Actor) {
		return refuse(http.StatusForbidden, ErrForbidden, "the activity id is not on the actor's origin", fmt.Errorf("id %s, actor %s", a.ID, a.Actor))
	}
	if h.opts.Scheme.IsLocal(a.Actor) && a.Signer != nil {
		return refuse(http.StatusForbidden, ErrForbidden, "the actor is local to this server", fmt.Errorf("remote delivery claims local actor %s", a.Actor))
	}
	var err *Error
	if a.Object, err = h.checkItem(ctx, a.Actor, vocab.ObjectOf(act), 1); err != nil {
		return err
	}
	if a.Target, err = h.checkItem(ctx, a.Actor, vocab.TargetOf(act), 1); err != nil {
		return err
	}
	switch {
	case slices.Contains(a.Types, "Create"):
		return h.checkCreate(ctx, a)
	case slices.Contains(a.Types, "Update"), slices.Contains(a.Types, "Delete"):
		return h.checkOwned(ctx, a)
	case slices.Contains(a.Types, "Undo"):
		return h.checkUndo(ctx, a)
	}
	return nil
}

// checkItem checks one property value whose content is vouched for by
// authority, an actor: see authorize.
func (h *Handler) checkItem(ctx context.Context, authority string, it vocab.Item, depth int) (vocab.Item, *Error) {
	if it == nil {
		return nil, nil
	}
	if col, ok := it.(ap.ItemCollection); ok {
		out := make(ap.ItemCollection, len(col))
		for i, el := range col {
			c, err := h.checkItem(ctx, authority, el, depth)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	}
	if it.IsLink() {
		if iri := it.GetLink(); iri != "" {
			return iri, nil
		}
		return it, nil
	}
	id := string(vocab.IRIOf(it))
	switch {
	case id == "":
		// An anonymous object is part of the activity the signature
		// covers.
	case h.opts.Scheme.IsLocal(id):
		return ap.IRI(id), nil
	case !actor.SameOrigin(id, authority):
		fetched, err := h.fetchVerified(ctx, id)
		if err != nil {
			return nil, err
		}
		it = fetched
		if owner := string(vocab.OwnerOf(it)); owner != "" && actor.SameOrigin(owner, id) {
			authority = owner
		} else {
			authority = id
		}
	}
	if depth >= maxEmbedDepth {
		return it, nil
	}
	// An embedded activity's own actor, object and target are checked
	// against its actor: what it says of other origins is checked too.
	if inner, ok := it.(*vocab.Activity); ok {
		innerActor := vocab.IRIs(inner.Actor)
		if len(innerActor) != 1 {
			return nil, refuse(http.StatusBadRequest, ErrMalformed, "an embedded activity has exactly one actor", nil)
		}
		if !actor.SameOrigin(innerActor[0], authority) && id == "" {
			return nil, refuse(http.StatusForbidden, ErrForbidden, "an embedded activity without id names an actor of another origin", nil)
		}
		cp := *inner
		if id != "" && !actor.SameOrigin(innerActor[0], id) {
			return nil, refuse(http.StatusForbidden, ErrForbidden, "an embedded activity's id is not on its actor's origin", nil)
		}
		cp.Actor = ap.IRI(innerActor[0])
		var err *Error
		if cp.Object, err = h.checkItem(ctx, innerActor[0], inner.Object, depth+1); err != nil {
			return nil, err
		}
		if cp.Target, err = h.checkItem(ctx, innerActor[0], inner.Target, depth+1); err != nil {
			return nil, err
		}
		return &cp, nil
	}
	return it, nil
}

// fetchVerified fetches id from its origin and decodes it; the fetch
// client checks that the document's id is its URL.
func (h *Handler) fetchVerified(ctx context.Context, id string) (vocab.Item, *Error) {
	if h.opts.Client == nil {
		return nil, refuse(http.StatusForbidden, ErrUnverifiable, "a foreign object cannot be verified here", errors.New("no fetch client"))
	}
	doc, err := h.opts.Client.Get(ctx, id)
	if err != nil {
		code := http.StatusForbidden
		var se *fetch.StatusError
		if errors.Is(err, fetch.ErrTimeout) || errors.Is(err, fetch.ErrConnect) || errors.Is(err, fetch.ErrDNS) ||
			(errors.As(err, &se) && (se.Code >= 500 || se.Code == http.StatusTooManyRequests)) {
			code = http.StatusServiceUnavailable
		}
		return nil, refuse(code, ErrUnverifiable, "an object from another origin could not be fetched from it", fmt.Errorf("%s: %w", id, err))
	}
	it, err := h.opts.Registry.Decode(doc.Body)
	if err != nil {
		return nil, refuse(http.StatusForbidden, ErrUnverifiable, "an object fetched from its origin does not decode", fmt.Errorf("%s: %w", id, err))
	}
	return it, nil
}

// checkCreate: the created object is attributed to nobody outside the
// actor's origin. An object given by IRI is fetched, so that what is
// stored comes from its origin.
func (h *Handler) checkCreate(ctx context.Context, a *Activity) *Error {
	obj := a.Object
	if obj == nil {
		return refuse(http.StatusBadRequest, ErrMalformed, "a Create has an object", nil)
	}
	if col, ok := obj.(ap.ItemCollection); ok {
		if len(col) != 1 {
			return refuse(http.StatusBadRequest, ErrMalformed, "a Create has exactly one object", nil)
		}
		obj = col[0]
		a.Object = obj
	}
	if obj.IsLink() {
		iri := string(vocab.IRIOf(obj))
		if h.opts.Scheme.IsLocal(iri) {
			return refuse(http.StatusForbidden, ErrForbidden, "a Create of an object of this server", nil)
		}
		fetched, err := h.fetchVerified(ctx, iri)
		if err != nil {
			return err
		}
		a.Object, obj = fetched, fetched
		if !actor.SameOrigin(iri, a.Actor) {
			return refuse(http.StatusForbidden, ErrForbidden, "the created object is not on the actor's origin", nil)
		}
	}
	for _, by := range attributedTo(obj) {
		if !actor.SameOrigin(by, a.Actor) {
			return refuse(http.StatusForbidden, ErrForbidden, "the created object is attributed to an actor of another origin",
				fmt.Errorf("%s attributes %s to %s", a.Actor, vocab.IRIOf(obj), by))
		}
	}
	return nil
}

// checkOwned: an Update or Delete touches only what the actor owns.
func (h *Handler) checkOwned(ctx context.Context, a *Activity) *Error {
	for _, obj := range vocab.Items(a.Object) {
		iri := string(vocab.IRIOf(obj))
		if iri == "" {
			return refuse(http.StatusBadRequest, ErrMalformed, "the object of an Update or Delete has an id", nil)
		}
		if iri == a.Actor {
			continue // an actor updating or deleting itself
		}
		owner, by, stored, err := h.storedOwner(ctx, iri)
		if err != nil {
			return classify(err)
		}
		switch {
		case stored && (owner == a.Actor || slices.Contains(by, a.Actor)):
		case stored:
			return refuse(http.StatusForbidden, ErrForbidden, "the actor does not own the object",
				fmt.Errorf("%s may not change %s, owned by %s", a.Actor, iri, owner))
		case h.opts.Scheme.IsLocal(iri):
			return refuse(http.StatusForbidden, ErrForbidden, "the actor does not own the object", fmt.Errorf("%s may not change local %s", a.Actor, iri))
		case !actor.SameOrigin(iri, a.Actor):
			return refuse(http.StatusForbidden, ErrForbidden, "the object is not on the actor's origin", fmt.Errorf("%s may not change %s", a.Actor, iri))
		default:
			if by := attributedTo(obj); len(by) > 0 && !slices.Contains(by, a.Actor) {
				return refuse(http.StatusForbidden, ErrForbidden, "the object is attributed to someone else", fmt.Errorf("%s may not change %s", a.Actor, iri))
			}
		}
	}
	return nil
}

// checkUndo: an Undo undoes only the actor's own activities.
func (h *Handler) checkUndo(ctx context.Context, a *Activity) *Error {
	for _, obj := range vocab.Items(a.Object) {
		iri := string(vocab.IRIOf(obj))
		if !obj.IsLink() {
			if by := vocab.IRIs(vocab.ActorOf(obj)); len(by) != 1 || by[0] != a.Actor {
				return refuse(http.StatusForbidden, ErrForbidden, "an Undo undoes only the actor's own activities",
					fmt.Errorf("%s undoes %s by %v", a.Actor, iri, by))
			}
		}
		if iri == "" {
			continue
		}
		owner, _, stored, err := h.storedOwner(ctx, iri)
		if err != nil {
			return classify(err)
		}
		if stored && owner != a.Actor {
			return refuse(http.StatusForbidden, ErrForbidden, "an Undo undoes only the actor's own activities",
				fmt.Errorf("%s undoes %s by %s", a.Actor, iri, owner))
		}
		if !stored && obj.IsLink() && !actor.SameOrigin(iri, a.Actor) {
			return refuse(http.StatusForbidden, ErrForbidden, "an Undo undoes only the actor's own activities",
				fmt.Errorf("%s undoes unknown %s", a.Actor, iri))
		}
	}
	return nil
}

// storedOwner returns the stored owner and attributedTo of iri, and
// whether it is stored at all.
func (h *Handler) storedOwner(ctx context.Context, iri string) (owner string, by []string, stored bool, err error) {
	o, err := h.opts.Store.Objects.Get(ctx, iri)
	if errors.Is(err, storage.ErrNotFound) {
		return "", nil, false, nil
	}
	if err != nil {
		return "", nil, false, err
	}
	if o.Type != "Tombstone" {
		if it, err := h.opts.Registry.Decode(o.Data); err == nil {
			by = attributedTo(it)
		}
	}
	return o.Owner, by, true, nil
}

// attributedTo returns the IRIs an object is attributed to.
func attributedTo(it vocab.Item) []string {
	var out []string
	for _, iri := range vocab.AttributedTo(it) {
		out = append(out, string(iri))
	}
	return out
}
