// Package lemmy is the behaviour of Lemmy, the federated link aggregator,
// on top of the default one (behaviour/core). Communities are Group
// actors that Announce to their followers every activity about the posts
// (Page) and comments (Note) in them; users vote with Like and Dislike,
// one vote each; creators delete (Delete) and moderators remove (Remove)
// and lock (Lock); Undo restores, for nothing is destroyed, only hidden;
// users send each other private messages (ChatMessage).
//
// Both directions are covered. Our communities take the activities of
// other servers' users, and of ours, check them and Announce them. Our
// users follow other servers' communities and take their Announces: the
// announced activity, authenticated by the inbox (on the community's
// origin, or fetched from its own), has its effects here as if it had
// been received, under the same rules.
//
//	f, _ := fedi.New(fedi.Options{..., Serve: serve.Options{Collections: lemmy.Served}})
//	core.Register(f.Mux, core.Options{Remote: f.Remote})
//	lemmy.Register(f.Mux, lemmy.Options{Outbox: f.Outbox, Actors: f.Actors, Remote: f.Remote})
//	act := lemmy.Actions{Store: f.Store, Outbox: f.Outbox, Actors: f.LocalActors}
//	c, _ := act.CreateCommunity(ctx, alice.IRI, "gophers", "Gophers", "<p>all about Go</p>")
//	post, _ := act.Post(ctx, bob.IRI, c.IRI, "Hello", "<p>first post</p>")
//	_, _ = act.Vote(ctx, alice.IRI, post, true)
//	up, down, _ := lemmy.Votes(ctx, f.Store, f.Scheme, post) // 1, 0
//	_, _ = act.Remove(ctx, alice.IRI, post, "off topic")   // alice moderates c
//	hidden, _ := lemmy.Hidden(ctx, f.Store, f.Scheme, post) // true
//
// The state is kept in collections (see the names below): a community's
// moderators (with the Add that made each one), posts and comments; an
// item's likes and dislikes (the voter, with its vote); the server's
// deleted, removed and locked items (with the activity that hid or locked
// each one); a user's private messages. Hidden items stay stored, and
// their Undo restores them: serving answers them as gone (wrap the
// objects handler in ServeHidden) and applications leave out what Hidden
// reports.
//
// Two shapes Lemmy sends are taken only inside a community's Announce:
// a moderator's removal sent as a Delete (Lemmy 0.17 and later), which
// the inbox refuses when sent directly since the moderator does not own
// the item; send and expect Remove instead. And our own users' Deletes of
// Lemmy items go through Actions.Delete: the outbox would tombstone them.
package lemmy

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/behaviour/core"
	"github.com/fedi-go/fedi/inbox"
	"github.com/fedi-go/fedi/outbox"
	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/vocab"
)

// The names of the collections this package keeps, as
// actor.Scheme.Collection takes them. Those of items and communities of
// other servers are storage keys only, never served.
const (
	// Moderators is a community's moderators: each member with the Add
	// that made it one (none for the creator).
	Moderators = "moderators"
	// Posts and Comments are a local community's posts and comments,
	// with the Create of each.
	Posts    = "posts"
	Comments = "comments"
	// Dislikes is an item's downvotes, each voter with its Dislike; the
	// upvotes are its actor.Likes.
	Dislikes = "dislikes"
	// Messages is a local user's private messages received, with their
	// Create.
	Messages = "messages"
)

// Served lists the collection names an application serves besides
// fedi's own (serve.Options.Collections), so that peers read a
// community's moderators and posts.
var Served = []string{Moderators, Posts}

// CommunitiesIRI is the collection of the local communities: Groups made
// by Actions.CreateCommunity, which behave as Lemmy communities.
func CommunitiesIRI(s actor.Scheme) string { return s.Origin + "/lemmy/communities" }

// DeletedIRI is the collection of the items hidden by their creator:
// each with its Delete.
func DeletedIRI(s actor.Scheme) string { return s.Origin + "/lemmy/deleted" }

// RemovedIRI is the collection of the items hidden by a moderator: each
// with its Remove (or a moderator's Delete).
func RemovedIRI(s actor.Scheme) string { return s.Origin + "/lemmy/removed" }

// LockedIRI is the collection of the locked posts and comments: each
// with its Lock. A locked item takes no new comment below it, except
// from a moderator.
func LockedIRI(s actor.Scheme) string { return s.Origin + "/lemmy/locked" }

// Sentinel errors. What this package refuses wraps one of them: the
// inbox's refusals (an *inbox.Error) and the errors of Actions alike.
var (
	// ErrNotModerator refuses a Remove, Lock or change of moderators by
	// an actor who is not a moderator of the community.
	ErrNotModerator = errors.New("lemmy: only a moderator of the community may do this")
	// ErrNotCreator refuses a Delete, Update or Undo of a Delete by
	// someone other than the item's creator.
	ErrNotCreator = errors.New("lemmy: only the creator of the item may do this")
	// ErrNotOwn refuses an Undo of another actor's activity.
	ErrNotOwn = errors.New("lemmy: an Undo undoes only the actor's own activity")
	// ErrLocked refuses a comment below a locked post or comment.
	ErrLocked = errors.New("lemmy: the post is locked")
	// ErrPrivateMessage refuses a private message that is not addressed
	// to exactly one actor, or delivered to another.
	ErrPrivateMessage = errors.New("lemmy: a private message goes to exactly one actor")
	// ErrNotInCommunity refuses an activity about an item that is not in
	// the community, or a post addressed to several communities.
	ErrNotInCommunity = errors.New("lemmy: the item is not in the community")
	// ErrAttribution refuses a post or comment attributed to someone
	// other than its Create's actor.
	ErrAttribution = errors.New("lemmy: the item is attributed to someone else")
	// ErrLastModerator refuses the removal of a community's last
	// moderator.
	ErrLastModerator = errors.New("lemmy: a community keeps at least one moderator")
	// ErrUseDelete refuses a Delete of a post, comment or private
	// message sent through the outbox, which would destroy it: use
	// Actions.Delete, which hides it.
	ErrUseDelete = errors.New("lemmy: a post, comment or private message is deleted with Actions.Delete, which hides it")
	// ErrNotCommunity reports a community that is not one: no local
	// community, or no Group.
	ErrNotCommunity = errors.New("lemmy: not a community")
)

// refusal is a refusal of a rule: the sentinel it wraps and the status
// the inbox answers.
type refusal struct {
	code int
	err  error
}

func (r *refusal) Error() string { return r.err.Error() }
func (r *refusal) Unwrap() error { return r.err }

func forbid(err error) error { return &refusal{code: http.StatusForbidden, err: err} }
func reject(err error) error { return &refusal{code: http.StatusUnprocessableEntity, err: err} }

// toInbox turns a refusal into the inbox's *inbox.Error, wrapping both
// the inbox's sentinel and ours; other errors stand.
func toInbox(err error) error {
	var r *refusal
	if !errors.As(err, &r) {
		return err
	}
	base := inbox.ErrRejected
	if r.code == http.StatusForbidden {
		base = inbox.ErrForbidden
	}
	return &inbox.Error{Code: r.code, Safe: strings.TrimPrefix(r.err.Error(), "lemmy: "), Err: fmt.Errorf("%w: %w", base, r.err)}
}

// Options configures the behaviour. The zero value handles what other
// servers send; Outbox and Actors are needed for our own users' activities
// to reach our own communities.
type Options struct {
	// Outbox, when set, is told of every activity our actors send
	// (Outbox.OnSend): one about a local community has its effects there
	// within the Send, checked as a received one is (a non-moderator's
	// Remove fails the Send), and is announced; a private message to a
	// local user reaches the user. The inbox cannot take them: it refuses
	// a local Create delivered locally.
	Outbox *outbox.Outbox
	// Actors finds the local actors, for the activities told by Outbox.
	Actors actor.Directory
	// Remote finds other servers' communities, for their moderators
	// collection; without it they are fetched each time.
	Remote *actor.Remote
}

// rules is the registered behaviour.
type rules struct {
	o    Options
	memo *memo
}

// Register registers the Lemmy handlers on m, on top of what is
// registered there for the same patterns (inbox.Stack): what is not
// Lemmy's passes to it. For the patterns nothing handles yet, the
// default (behaviour/core) rule of the activity type is registered
// beneath, so that a Like of a Mastodon note still counts as core counts
// it.
func Register(m *inbox.Mux, o Options) {
	r := &rules{o: o, memo: newMemo()}
	co := core.Options{Remote: o.Remote}
	for _, p := range []struct {
		pattern, doc string
		base         func(m *inbox.Mux, pattern string)
	}{
		{"Create Page", "lemmy: a post in a local community is stored, listed in its posts and announced to its followers; refused when attributed to another or addressed to several communities", base(core.Create())},
		{"Create Note", "lemmy: a comment in a local community is stored and announced, refused below a locked post except from a moderator; a Note to exactly one local user is a private message", base(core.Create())},
		{"Create ChatMessage", "lemmy: a private message is kept for its one recipient; refused when addressed to several actors or delivered to another", nil},
		{"Update Page", "lemmy: an edit of a post of a local community by its creator replaces it and is announced", base(core.Update(co))},
		{"Update Note", "lemmy: an edit of a comment of a local community by its creator replaces it and is announced", base(core.Update(co))},
		{"Like Page", "lemmy: an upvote of a post of a local community, one per actor (it replaces a downvote), announced", base(core.Like())},
		{"Like Note", "lemmy: an upvote of a comment of a local community, one per actor (it replaces a downvote), announced", base(core.Like())},
		{"Dislike Page", "lemmy: a downvote of a post of a local community, one per actor (it replaces an upvote), announced", nil},
		{"Dislike Note", "lemmy: a downvote of a comment of a local community, one per actor (it replaces an upvote), announced", nil},
		{"Delete Page", "lemmy: the creator's deletion hides the post (restorable, never destroyed) and is announced; refused from anyone else", base(core.Delete())},
		{"Delete Note", "lemmy: the creator's deletion hides the comment (announced) or private message, restorable; refused from anyone else", base(core.Delete())},
		{"Delete ChatMessage", "lemmy: the sender's deletion hides the private message (restorable)", base(core.Delete())},
		{"Remove Page", "lemmy: a moderator's removal hides the post of the community (restorable) and is announced; refused from anyone else", base(core.Remove())},
		{"Remove Note", "lemmy: a moderator's removal hides the comment of the community (restorable) and is announced; refused from anyone else", base(core.Remove())},
		{"Lock Page", "lemmy: a moderator locks the post: no new comment below it but a moderator's; announced", nil},
		{"Lock Note", "lemmy: a moderator locks the comment: no new reply below it but a moderator's; announced", nil},
		{"Add Person", "lemmy: a moderator makes a person a moderator of the community (its moderators collection); announced", base(core.Add())},
		{"Remove Person", "lemmy: a moderator removes a moderator of the community, never the last one; announced", base(core.Remove())},
		{"Undo Like", "lemmy: withdraws the actor's upvote of an item of a local community; announced", base(core.Undo())},
		{"Undo Dislike", "lemmy: withdraws the actor's downvote of an item of a local community; announced", base(core.Undo())},
		{"Undo Delete", "lemmy: the creator restores the deleted item (announced) or private message", base(core.Undo())},
		{"Undo Remove", "lemmy: a moderator restores the item removed from a local community; announced", base(core.Undo())},
		{"Undo Lock", "lemmy: a moderator unlocks the item; announced", base(core.Undo())},
	} {
		if p.base != nil && !m.Handles(p.pattern) {
			p.base(m, p.pattern)
		}
		inbox.Stack(m, p.pattern, r.direct(p.doc))
	}
	for _, inner := range []string{"Create", "Update", "Like", "Dislike", "Delete", "Remove", "Lock", "Add", "Undo"} {
		pattern := "Announce " + inner
		if !m.Handles(pattern) {
			inbox.Handle(m, pattern, core.Announce())
		}
		article := "a "
		if strings.ContainsAny(inner[:1], "AEIOU") {
			article = "an "
		}
		inbox.Stack(m, pattern, r.announced("lemmy: a community's Announce of "+article+inner+" about one of its items has the "+inner+"'s effects here, checked as if received"))
	}
	if !m.Handles("Undo Follow") {
		inbox.Handle(m, "Undo Follow", core.Undo())
	}
	inbox.Stack(m, "Undo Follow", r.undoFollow())
	if o.Outbox != nil {
		o.Outbox.OnSend(r.onSend)
	}
}

// base registers a core rule for a pattern.
func base[O vocab.Item](r inbox.Rule[O]) func(m *inbox.Mux, pattern string) {
	return func(m *inbox.Mux, pattern string) { inbox.Handle(m, pattern, r) }
}

// memo keeps, for a short while, what a Check fetched for one activity,
// so that an activity delivered to several local recipients (an
// Announce to every local follower of a community) fetches a community's
// moderators once, within the inbox's fetch budget. It keeps documents
// encoded: each Check decodes its own copy, since typed views write to
// the items they read.
type memo struct {
	mu sync.Mutex
	m  map[string]memoEntry
}

type memoEntry struct {
	doc []byte
	err error
	at  time.Time
}

const (
	memoTTL = time.Minute
	memoMax = 4096
)

func newMemo() *memo { return &memo{m: map[string]memoEntry{}} }

// get returns what fetch returned for key within memoTTL, or calls it.
func (m *memo) get(key string, reg *vocab.Registry, fetch func() (vocab.Item, error)) (vocab.Item, error) {
	now := time.Now()
	m.mu.Lock()
	e, ok := m.m[key]
	m.mu.Unlock()
	if ok && now.Sub(e.at) < memoTTL {
		if e.err != nil {
			return nil, e.err
		}
		return reg.Decode(e.doc)
	}
	it, err := fetch()
	if err == nil {
		if e.doc, err = reg.Encode(it); err != nil {
			return nil, err
		}
	}
	e.err, e.at = err, now
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.m) >= memoMax {
		for k, old := range m.m {
			if now.Sub(old.at) >= memoTTL {
				delete(m.m, k)
			}
		}
		if len(m.m) >= memoMax {
			clear(m.m)
		}
	}
	m.m[key] = e
	return it, err
}

// contains reports whether member is an accepted member of coll.
func contains(ctx context.Context, st storage.Store, coll, member string) (bool, error) {
	m, err := st.Collections.Contains(ctx, coll, member)
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	return err == nil && m.State == storage.Accepted, err
}
