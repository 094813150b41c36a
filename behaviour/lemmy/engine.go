package lemmy

import (
	"context"
	"errors"
	"slices"

	ap "github.com/go-ap/activitypub"

	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/vocab"
	"github.com/fedi-go/fedi/vocab/lemmy"
)

// An activity takes effect in a community in three ways: received by a
// local community (direct.go), announced by another server's community
// to our users (announce.go), or sent by one of our actors (hook.go).
// The three share what this file holds: the activity as parsed (act),
// what it may touch (scope), its checks (authorize) and its effects
// (effects).

// The kinds of activity about an item.
const (
	kCreate  = "Create"
	kUpdate  = "Update"
	kLike    = "Like"
	kDislike = "Dislike"
	kDelete  = "Delete"
	kRemove  = "Remove"
	kLock    = "Lock"
	kAdd     = "Add"
	kUndo    = "Undo"
)

var kinds = []string{kCreate, kUpdate, kLike, kDislike, kDelete, kRemove, kLock, kAdd, kUndo}

// undoable are the kinds an Undo reverses here.
var undoable = []string{kLike, kDislike, kDelete, kRemove, kLock}

// act is an activity about a Lemmy item, as checked.
type act struct {
	activity *vocab.Activity
	id       string
	actor    string
	kind     string
	object   vocab.Item // the activity's object as checked
	target   string
	// item is what the activity is about: the post, comment or message
	// created, voted on, hidden or locked; the person made or unmade a
	// moderator.
	item string
	// undone is the activity an Undo reverses, and undoneKind its kind.
	undone     *vocab.Activity
	undoneKind string
}

// parse reads an activity whose object and target were checked. It
// reports false for what is not an activity about an item.
func parse(it vocab.Item, object, target vocab.Item) (act, bool) {
	a, ok := it.(*vocab.Activity)
	if !ok {
		return act{}, false
	}
	actors := vocab.IRIs(a.Actor)
	if len(actors) != 1 {
		return act{}, false
	}
	x := act{activity: a, id: string(a.ID), actor: actors[0], object: object}
	for _, k := range kinds {
		if vocab.HasType(a, k) {
			x.kind = k
			break
		}
	}
	if x.kind == "" || object == nil {
		return act{}, false
	}
	if t := vocab.IRIs(target); len(t) == 1 {
		x.target = t[0]
	}
	if x.kind == kUndo {
		u, ok := object.(*vocab.Activity)
		if !ok {
			return act{}, false
		}
		for _, k := range undoable {
			if vocab.HasType(u, k) {
				x.undoneKind = k
				break
			}
		}
		items := vocab.IRIs(u.Object)
		if x.undoneKind == "" || len(items) != 1 {
			return act{}, false
		}
		x.undone, x.item = u, items[0]
		return x, true
	}
	items := vocab.IRIs(object)
	if len(items) != 1 {
		return act{}, false
	}
	x.item = items[0]
	return x, true
}

// undoneActor returns the actor of the undone activity.
func (x act) undoneActor() string {
	if by := vocab.IRIs(x.undone.Actor); len(by) == 1 {
		return by[0]
	}
	return ""
}

// modChange reports whether an Add or Remove changes the moderators
// collection mods.
func (x act) modChange(mods string) bool {
	return (x.kind == kAdd || x.kind == kRemove) && mods != "" && x.target == mods
}

// scope is what an activity may read and write where it takes effect.
type scope struct {
	st  storage.Store
	s   actor.Scheme
	reg *vocab.Registry
	dir actor.Directory
	// fetch dereferences an IRI from its origin; nil where no network
	// I/O is allowed (Apply, the outbox's hooks): what needed a fetch was
	// checked before.
	fetch func(ctx context.Context, iri string) (vocab.Item, error)
	// send sends an activity of a local community, in the transaction of
	// the effects; nil in Check.
	send func(ctx context.Context, act vocab.Item) error
	// remote finds other servers' communities; may be nil.
	remote *actor.Remote
}

// community is where an activity takes effect.
type community struct {
	iri   string
	local bool
	// mods is its moderators collection: ours, or the one its document
	// names ("" when it names none).
	mods string
}

// isCommunity reports whether iri is a local community.
func (sc scope) isCommunity(ctx context.Context, iri string) (bool, error) {
	if !sc.s.IsLocal(iri) {
		return false, nil
	}
	return contains(ctx, sc.st, CommunitiesIRI(sc.s), iri)
}

// local returns the local community iri.
func (sc scope) local(iri string) community {
	return community{iri: iri, local: true, mods: sc.s.Collection(iri, Moderators)}
}

// lookup returns the item iri: stored (with its owner), or, where fetching
// is allowed, fetched from its origin. A nil item means unknown.
func (sc scope) lookup(ctx context.Context, iri string) (it vocab.Item, owner string, stored bool, err error) {
	o, err := sc.st.Objects.Get(ctx, iri)
	switch {
	case err == nil:
		if !o.Deleted.IsZero() {
			return nil, o.Owner, true, nil
		}
		it, err := sc.reg.Decode(o.Data)
		if err != nil {
			return nil, "", false, err
		}
		return it, o.Owner, true, nil
	case !errors.Is(err, storage.ErrNotFound):
		return nil, "", false, err
	case sc.fetch == nil || sc.s.IsLocal(iri):
		return nil, "", false, nil
	}
	it, err = sc.fetch(ctx, iri)
	if err != nil {
		return nil, "", false, nil
	}
	return it, "", false, nil
}

// addressees returns the recipients the items address, each once,
// without the Public collection.
func addressees(items ...vocab.Item) []string {
	var out []string
	for _, it := range items {
		for _, iri := range vocab.Audience(it) {
			if iri != vocab.PublicIRI && !slices.Contains(out, string(iri)) {
				out = append(out, string(iri))
			}
		}
	}
	return out
}

// localCommunities returns the local communities the items address.
func (sc scope) localCommunities(ctx context.Context, items ...vocab.Item) ([]string, error) {
	var out []string
	for _, iri := range addressees(items...) {
		ok, err := sc.isCommunity(ctx, iri)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, iri)
		}
	}
	return out, nil
}

// inLocal reports whether the item is a post or comment of the local
// community c.
func (sc scope) inLocal(ctx context.Context, c, item string) (bool, error) {
	for _, name := range []string{Posts, Comments} {
		ok, err := contains(ctx, sc.st, sc.s.Collection(c, name), item)
		if ok || err != nil {
			return ok, err
		}
	}
	return false, nil
}

// communityOfItem returns the local community whose post or comment
// item is, or "".
func (sc scope) communityOfItem(ctx context.Context, item string) (string, error) {
	it, _, stored, err := sc.lookup(ctx, item)
	if err != nil || !stored || it == nil {
		return "", err
	}
	cs, err := sc.localCommunities(ctx, it)
	if err != nil {
		return "", err
	}
	for _, c := range cs {
		ok, err := sc.inLocal(ctx, c, item)
		if err != nil {
			return "", err
		}
		if ok {
			return c, nil
		}
	}
	return "", nil
}

// remoteCommunity returns another server's community: its Group
// document, from the remote-actor cache or fetched.
func (sc scope) remoteCommunity(ctx context.Context, iri string) (community, bool, error) {
	var doc vocab.Item
	var ra storage.RemoteActor
	err := storage.ErrNotFound
	switch {
	case sc.remote != nil:
		ra, err = sc.remote.Get(ctx, iri)
	case sc.st.Actors != nil:
		ra, err = sc.st.Actors.Get(ctx, iri) // the cache only: no network here
	}
	if err == nil && ra.Document != nil {
		doc, _ = sc.reg.Decode(ra.Document)
	}
	if doc == nil && sc.fetch != nil {
		doc, _ = sc.fetch(ctx, iri)
	}
	c, ok := lemmy.CommunityOf(doc)
	if !ok || string(c.ID) != iri {
		return community{}, false, nil
	}
	mods := vocab.IRIs(c.Moderators)
	if len(mods) == 0 {
		// Newer Lemmy names the moderators collection in attributedTo.
		mods = vocab.IRIs(c.AttributedTo)
	}
	out := community{iri: iri}
	if len(mods) == 1 && actor.SameOrigin(mods[0], iri) {
		out.mods = mods[0]
	}
	return out, true, nil
}

// isModerator reports whether who moderates c: the community itself, a
// member of our moderators collection of a local one, a member of the
// collection another server's community names (fetched, in Check only).
func (sc scope) isModerator(ctx context.Context, c community, who string) (bool, error) {
	if who == c.iri {
		return true, nil
	}
	if c.local {
		return contains(ctx, sc.st, c.mods, who)
	}
	if c.mods == "" || sc.fetch == nil {
		return false, nil
	}
	// The collection, then its pages, within a few fetches: Lemmy embeds
	// the members, fedi serves a page at a time.
	next := c.mods
	for range maxModeratorPages {
		it, err := sc.fetch(ctx, next)
		if err != nil {
			return false, nil
		}
		members, more := collectionItems(it)
		if slices.Contains(members, who) {
			return true, nil
		}
		if more == "" || more == next || !actor.SameOrigin(more, c.mods) {
			return false, nil
		}
		next = more
	}
	return false, nil
}

// maxModeratorPages bounds the pages of another server's moderators
// collection read to find a moderator.
const maxModeratorPages = 5

// collectionItems returns the members a collection or page embeds and
// the IRI of the page to read next: the collection's first page when it
// embeds no members, a page's next.
func collectionItems(it vocab.Item) (members []string, next string) {
	switch c := it.(type) {
	case *vocab.OrderedCollection:
		if p, ok := c.First.(*vocab.OrderedCollectionPage); ok {
			return vocab.IRIs(p.OrderedItems), string(vocab.IRIOf(p.Next))
		}
		if len(c.OrderedItems) > 0 {
			return vocab.IRIs(c.OrderedItems), ""
		}
		return nil, string(vocab.IRIOf(c.First))
	case *vocab.Collection:
		if p, ok := c.First.(*vocab.CollectionPage); ok {
			return vocab.IRIs(p.Items), string(vocab.IRIOf(p.Next))
		}
		if len(c.Items) > 0 {
			return vocab.IRIs(c.Items), ""
		}
		return nil, string(vocab.IRIOf(c.First))
	case *vocab.OrderedCollectionPage:
		return vocab.IRIs(c.OrderedItems), string(vocab.IRIOf(c.Next))
	case *vocab.CollectionPage:
		return vocab.IRIs(c.Items), string(vocab.IRIOf(c.Next))
	}
	return nil, ""
}

// creator returns who created the stored or fetched item: its stored
// owner, else its attributedTo.
func creator(it vocab.Item, owner string) string {
	if owner != "" {
		return owner
	}
	if by := vocab.AttributedTo(it); len(by) > 0 {
		return string(by[0])
	}
	return ""
}

// authorize checks that x may take effect in c. It reads storage and,
// through sc.fetch when set, other servers; it writes nothing.
func (sc scope) authorize(ctx context.Context, x act, c community) error {
	switch x.kind {
	case kCreate:
		return sc.authorizeCreate(ctx, x, c)
	case kUpdate:
		it, owner, stored, err := sc.lookup(ctx, x.item)
		if err != nil {
			return err
		}
		if !stored {
			it = x.object
		}
		if by := creator(it, owner); by != x.actor {
			return forbid(ErrNotCreator)
		}
		return nil
	case kLike, kDislike:
		return nil
	case kDelete:
		it, owner, _, err := sc.lookup(ctx, x.item)
		if err != nil || it == nil && owner == "" {
			return err // an unknown item has nothing to hide
		}
		if creator(it, owner) == x.actor {
			return nil
		}
		// Lemmy 0.17 and later remove as a moderator's Delete.
		return sc.needModerator(ctx, c, x.actor, ErrNotCreator)
	case kRemove, kLock, kAdd:
		if err := sc.needModerator(ctx, c, x.actor, ErrNotModerator); err != nil {
			return err
		}
		if x.kind == kRemove && c.local && x.modChange(c.mods) {
			mod, err := contains(ctx, sc.st, c.mods, x.item)
			if err != nil || !mod {
				return err
			}
			n, err := sc.st.Collections.Count(ctx, c.mods, storage.Accepted)
			if err != nil {
				return err
			}
			if n <= 1 {
				return reject(ErrLastModerator)
			}
		}
		return nil
	case kUndo:
		if x.undoneActor() != x.actor {
			return forbid(ErrNotOwn)
		}
		switch x.undoneKind {
		case kDelete:
			it, owner, _, err := sc.lookup(ctx, x.item)
			if err != nil {
				return err
			}
			if (it != nil || owner != "") && creator(it, owner) == x.actor {
				return nil
			}
			return sc.needModerator(ctx, c, x.actor, ErrNotCreator)
		case kRemove, kLock:
			return sc.needModerator(ctx, c, x.actor, ErrNotModerator)
		}
	}
	return nil
}

func (sc scope) needModerator(ctx context.Context, c community, who string, refusal error) error {
	ok, err := sc.isModerator(ctx, c, who)
	if err != nil {
		return err
	}
	if !ok {
		return forbid(refusal)
	}
	return nil
}

// authorizeCreate: a post or comment attributed to its actor alone, in
// the community; a post where only moderators post, from a moderator; a
// comment below a locked item, from a moderator; a comment of a local
// community replying to one of its items.
func (sc scope) authorizeCreate(ctx context.Context, x act, c community) error {
	obj, ok := x.object.(*vocab.Object)
	if !ok || obj.ID == "" {
		return reject(ErrNotInCommunity)
	}
	by := vocab.AttributedTo(obj)
	if len(by) != 1 || string(by[0]) != x.actor {
		return forbid(ErrAttribution)
	}
	if !slices.Contains(addressees(obj, x.activity), c.iri) {
		return reject(ErrNotInCommunity)
	}
	if vocab.HasType(obj, "Page") {
		if c.local && sc.dir != nil {
			if a, err := sc.dir.ByIRI(ctx, c.iri); err == nil {
				if cm, ok := lemmy.CommunityOf(a.Profile); ok && cm.PostingRestrictedToMods != nil && *cm.PostingRestrictedToMods {
					return sc.needModerator(ctx, c, x.actor, ErrNotModerator)
				}
			}
		}
		return nil
	}
	cm, _ := lemmy.CommentOf(obj)
	post, parent := cm.ReplyChain()
	chain, known, err := sc.ancestors(ctx, parent, post)
	if err != nil {
		return err
	}
	if c.local && !known {
		return reject(ErrNotInCommunity)
	}
	for _, it := range chain {
		if c.local {
			if ok, err := sc.inLocal(ctx, c.iri, it); err != nil {
				return err
			} else if !ok {
				return reject(ErrNotInCommunity)
			}
		}
		locked, err := contains(ctx, sc.st, LockedIRI(sc.s), it)
		if err != nil {
			return err
		}
		if locked {
			return sc.needModerator(ctx, c, x.actor, ErrLocked)
		}
	}
	return nil
}

// maxDepth bounds the walk up a comment thread.
const maxDepth = 64

// ancestors returns the stored items above a comment, from its parent up
// to the post, and whether the walk reached a stored post.
func (sc scope) ancestors(ctx context.Context, parent, post ap.IRI) ([]string, bool, error) {
	var out []string
	next := string(parent)
	for range maxDepth {
		if next == "" || slices.Contains(out, next) {
			break
		}
		o, err := sc.st.Objects.Get(ctx, next)
		if errors.Is(err, storage.ErrNotFound) {
			break
		}
		if err != nil {
			return nil, false, err
		}
		out = append(out, next)
		if o.Type == "Page" {
			return out, true, nil
		}
		it, err := sc.reg.Decode(o.Data)
		if err != nil {
			break
		}
		cm, ok := lemmy.CommentOf(it)
		if !ok {
			break
		}
		p, up := cm.ReplyChain()
		if post == "" {
			post = p
		}
		next = string(up)
	}
	if post != "" && !slices.Contains(out, string(post)) {
		if o, err := sc.st.Objects.Get(ctx, string(post)); err == nil && o.Type == "Page" {
			return append(out, string(post)), true, nil
		} else if err != nil && !errors.Is(err, storage.ErrNotFound) {
			return nil, false, err
		}
	}
	return out, false, nil
}

// effects has x's effects in c and, when c is ours, announces x to its
// followers, embedded as received. data is x as received, kept for an
// Undo to find; nil has it encoded.
func (sc scope) effects(ctx context.Context, x act, c community, data []byte) error {
	if err := sc.apply(ctx, x, c, data); err != nil {
		return err
	}
	if !c.local || sc.send == nil {
		return nil
	}
	followers := ap.IRI(sc.s.Collection(c.iri, actor.Followers))
	return sc.send(ctx, lemmy.NewAnnounce(ap.IRI(c.iri), followers, x.activity))
}

func (sc scope) apply(ctx context.Context, x act, c community, data []byte) error {
	if x.kind != kCreate && x.kind != kUpdate && x.id != "" {
		// Keep the activity, so that an Undo naming it by IRI finds it
		// and the inbox checks its owner.
		if err := sc.keep(ctx, x.id, x.activity, x.actor, data); err != nil {
			return err
		}
	}
	switch x.kind {
	case kCreate:
		if err := sc.storeItem(ctx, x, x.object); err != nil {
			return err
		}
		if c.local {
			name := Comments
			if vocab.HasType(x.object, "Page") {
				name = Posts
			}
			return sc.st.Collections.Add(ctx, sc.s.Collection(c.iri, name), storage.Member{IRI: x.item, Activity: x.id})
		}
		return nil
	case kUpdate:
		return sc.replaceItem(ctx, x)
	case kLike, kDislike:
		return sc.vote(ctx, x.actor, x.item, x.kind, x.id)
	case kDelete:
		_, owner, stored, err := sc.lookup(ctx, x.item)
		if err != nil || !stored {
			return err
		}
		coll := DeletedIRI(sc.s)
		if owner != x.actor {
			coll = RemovedIRI(sc.s)
		}
		return sc.st.Collections.Add(ctx, coll, storage.Member{IRI: x.item, Activity: x.id})
	case kRemove:
		if x.modChange(c.mods) {
			if !c.local {
				return nil
			}
			return storage.IgnoreNotFound(sc.st.Collections.Remove(ctx, c.mods, x.item))
		}
		return sc.hideIfStored(ctx, RemovedIRI(sc.s), x)
	case kAdd:
		if x.modChange(c.mods) && c.local {
			return sc.st.Collections.Add(ctx, c.mods, storage.Member{IRI: x.item, Activity: x.id})
		}
		return nil
	case kLock:
		return sc.hideIfStored(ctx, LockedIRI(sc.s), x)
	case kUndo:
		return sc.undo(ctx, x)
	}
	return nil
}

// hideIfStored adds the stored item x is about to coll.
func (sc scope) hideIfStored(ctx context.Context, coll string, x act) error {
	if _, err := sc.st.Objects.Owner(ctx, x.item); err != nil {
		return storage.IgnoreNotFound(err)
	}
	return sc.st.Collections.Add(ctx, coll, storage.Member{IRI: x.item, Activity: x.id})
}

// undo reverses the undone activity of x. Lemmy regenerates the undone
// activity, with a new id, so what it reverses is found by item and
// actor: the actor's vote (unless a later vote of the actor replaced
// the one undone), the item's deletion or removal, its lock.
func (sc scope) undo(ctx context.Context, x act) error {
	switch x.undoneKind {
	case kLike, kDislike:
		coll := sc.s.Collection(x.item, votes(x.undoneKind))
		m, err := sc.st.Collections.Contains(ctx, coll, x.actor)
		if err != nil {
			return storage.IgnoreNotFound(err)
		}
		if id := string(x.undone.ID); id != "" && m.Activity != "" && m.Activity != id {
			if _, err := sc.st.Objects.Owner(ctx, id); err == nil {
				return nil // an older vote, which a later one replaced
			}
		}
		if err := storage.IgnoreNotFound(sc.st.Collections.Remove(ctx, coll, x.actor)); err != nil {
			return err
		}
		if x.undoneKind == kLike && sc.s.IsLocal(x.actor) {
			return storage.IgnoreNotFound(sc.st.Collections.Remove(ctx, sc.s.Collection(x.actor, actor.Liked), x.item))
		}
		return nil
	case kDelete:
		_, owner, _, err := sc.lookup(ctx, x.item)
		if err != nil {
			return err
		}
		coll := DeletedIRI(sc.s)
		if owner != x.actor {
			coll = RemovedIRI(sc.s)
		}
		return storage.IgnoreNotFound(sc.st.Collections.Remove(ctx, coll, x.item))
	case kRemove:
		return storage.IgnoreNotFound(sc.st.Collections.Remove(ctx, RemovedIRI(sc.s), x.item))
	case kLock:
		return storage.IgnoreNotFound(sc.st.Collections.Remove(ctx, LockedIRI(sc.s), x.item))
	}
	return nil
}

// votes returns the collection name of a vote kind.
func votes(kind string) string {
	if kind == kDislike {
		return Dislikes
	}
	return actor.Likes
}

// vote records who's vote on item: one per actor, the new one replacing
// the other kind.
func (sc scope) vote(ctx context.Context, who, item, kind, id string) error {
	other := kLike
	if kind == kLike {
		other = kDislike
	}
	if err := storage.IgnoreNotFound(sc.st.Collections.Remove(ctx, sc.s.Collection(item, votes(other)), who)); err != nil {
		return err
	}
	if kind == kDislike && sc.s.IsLocal(who) {
		if err := storage.IgnoreNotFound(sc.st.Collections.Remove(ctx, sc.s.Collection(who, actor.Liked), item)); err != nil {
			return err
		}
	}
	return sc.st.Collections.Add(ctx, sc.s.Collection(item, votes(kind)), storage.Member{IRI: who, Activity: id})
}

// keep stores an activity, owned by its actor, unless it is stored.
func (sc scope) keep(ctx context.Context, id string, a *vocab.Activity, owner string, data []byte) error {
	if _, err := sc.st.Objects.Owner(ctx, id); err == nil || !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	if data == nil {
		var err error
		if data, err = sc.reg.Encode(a); err != nil {
			return err
		}
	}
	err := sc.st.Objects.Put(ctx, storage.Object{IRI: id, Type: string(a.Type), Owner: owner, Data: data})
	if errors.Is(err, storage.ErrConflict) {
		return nil
	}
	return err
}

// storeItem stores a created post, comment or message of another server,
// owned by its creator, and lists it in the replies of the item of ours
// it answers.
func (sc scope) storeItem(ctx context.Context, x act, obj vocab.Item) error {
	if sc.s.IsLocal(x.item) {
		return nil // ours: the outbox stored it
	}
	data, err := sc.reg.Encode(obj)
	if err != nil {
		return reject(ErrNotInCommunity)
	}
	if err := sc.st.Objects.Put(ctx, storage.Object{IRI: x.item, Type: string(obj.GetType()), Owner: x.actor, Data: data}); err != nil {
		return err
	}
	if base := vocab.Base(obj); base != nil {
		for _, parent := range vocab.IRIs(base.InReplyTo) {
			if !sc.s.IsLocal(parent) {
				continue
			}
			if _, err := sc.st.Objects.Owner(ctx, parent); err != nil {
				if err := storage.IgnoreNotFound(err); err != nil {
					return err
				}
				continue
			}
			if err := sc.st.Collections.Add(ctx, sc.s.Collection(parent, actor.Replies), storage.Member{IRI: x.item, Activity: x.id}); err != nil {
				return err
			}
		}
	}
	return nil
}

// replaceItem replaces the stored copy of an edited item, keeping its
// owner; an item not stored yet (announced by a community followed late)
// is stored.
func (sc scope) replaceItem(ctx context.Context, x act) error {
	if sc.s.IsLocal(x.item) {
		return nil
	}
	obj := x.object
	if obj == nil || obj.IsLink() {
		return nil
	}
	o, err := sc.st.Objects.Get(ctx, x.item)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return sc.storeItem(ctx, x, obj)
	case err != nil:
		return err
	case !o.Deleted.IsZero():
		return nil
	}
	data, err := sc.reg.Encode(obj)
	if err != nil {
		return reject(ErrNotInCommunity)
	}
	return sc.st.Objects.Put(ctx, storage.Object{IRI: x.item, Type: string(obj.GetType()), Owner: o.Owner, Data: data})
}
