package lemmy

import (
	"context"
	"errors"
	"fmt"
	"time"

	ap "github.com/go-ap/activitypub"

	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/outbox"
	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/vocab"
	"github.com/fedi-go/fedi/vocab/lemmy"
)

// Actions are what an application does as the users and communities of
// a Lemmy-style server. Each builds the activity Lemmy sends and sends
// it through the outbox; the outbox's hook, which Register installs
// with Options.Outbox, has its effects here and announces it from our
// communities, or fails the Send when the actor may not do it
// (ErrNotModerator, ErrLocked...). The returned string is the IRI of
// what was made: the community, post, comment or message, or the
// activity sent.
type Actions struct {
	// Store is the application's store.
	Store storage.Store
	// Outbox sends; Register was given the same one.
	Outbox *outbox.Outbox
	// Actors makes communities, and finds the local actors.
	Actors *actor.Store
}

func (x Actions) scope(st storage.Store) scope {
	sc := scope{st: st, s: x.Outbox.Scheme(), reg: x.Outbox.Registry()}
	if x.Actors != nil {
		sc.dir = x.Actors.In(st)
	}
	return sc
}

// CreateCommunity makes a local community: a Group actor named name
// (its handle) with a title and a summary, whose first moderator is
// creator, and which publishes its moderators collection (as attributedTo
// and Lemmy's moderators). Serve its moderators and posts collections
// (Served).
func (x Actions) CreateCommunity(ctx context.Context, creator, name, title, summary string) (*actor.Actor, error) {
	s := x.Outbox.Scheme()
	iri := s.Actor(name)
	mods := ap.IRI(s.Collection(iri, Moderators))
	p := vocab.NewActor("Group", "")
	if title != "" {
		p.Name = vocab.Text(title)
	}
	if summary != "" {
		p.Summary = vocab.Text(summary)
	}
	p.AttributedTo = mods
	c, _ := lemmy.CommunityOf(p)
	restricted := false
	c.Moderators, c.PostingRestrictedToMods = mods, &restricted
	a, err := x.Actors.Create(ctx, actor.Actor{IRI: iri, Name: name, Type: "Group", Profile: p})
	if err != nil {
		return nil, err
	}
	err = storage.InTx(ctx, x.Store, func(ctx context.Context, tx storage.Store) error {
		if err := tx.Collections.Add(ctx, string(mods), storage.Member{IRI: creator}); err != nil {
			return err
		}
		return tx.Collections.Add(ctx, CommunitiesIRI(s), storage.Member{IRI: a.IRI})
	})
	if err != nil {
		return nil, fmt.Errorf("lemmy: community %s: %w", a.IRI, err)
	}
	return a, nil
}

// Post posts in a community, ours or another server's: a Create{Page}
// to the community, which announces it. It returns the post's IRI.
func (x Actions) Post(ctx context.Context, author, community, title, content string) (string, error) {
	post := lemmy.NewPost("", ap.IRI(author), ap.IRI(community), title, content)
	return x.create(ctx, author, community, post.Object)
}

// Comment comments on a post or comment (parent): a Create{Note} to the
// community of the parent. It returns the comment's IRI.
func (x Actions) Comment(ctx context.Context, author, parent, content string) (string, error) {
	it, _, _, err := x.scope(x.Store).lookup(ctx, parent)
	if err != nil {
		return "", err
	}
	community := communityIn(it)
	if community == "" {
		return "", fmt.Errorf("%w: %s names no community", ErrNotInCommunity, parent)
	}
	var c lemmy.Comment
	if vocab.HasType(it, "Page") {
		c = lemmy.NewComment("", ap.IRI(author), ap.IRI(community), ap.IRI(parent), "", content)
	} else {
		cm, _ := lemmy.CommentOf(it)
		post, _ := cm.ReplyChain()
		c = lemmy.NewComment("", ap.IRI(author), ap.IRI(community), post, ap.IRI(parent), content)
	}
	return x.create(ctx, author, community, c.Object)
}

// create sends a Create of obj in community. A Create to one of our
// communities addresses only the public: the community has it through
// the outbox's hook, and a local delivery of it would be refused by the
// inbox (a Create of a local object).
func (x Actions) create(ctx context.Context, author, community string, obj *vocab.Object) (string, error) {
	create := vocab.NewActivity("Create", "", ap.IRI(author), obj)
	create.To = ap.ItemCollection{vocab.PublicIRI}
	local, err := IsCommunity(ctx, x.Store, x.Outbox.Scheme(), community)
	if err != nil {
		return "", err
	}
	if !local {
		create.CC = ap.ItemCollection{ap.IRI(community)}
		create.Audience = ap.ItemCollection{ap.IRI(community)}
	}
	if _, err := x.Outbox.Send(ctx, create); err != nil {
		return "", err
	}
	return string(obj.ID), nil
}

// Vote upvotes (up) or downvotes an item: a Like or Dislike to its
// community. It replaces the voter's other vote.
func (x Actions) Vote(ctx context.Context, voter, item string, up bool) (string, error) {
	community, err := x.communityOf(ctx, item)
	if err != nil {
		return "", err
	}
	v := lemmy.NewDislike(ap.IRI(voter), ap.IRI(item), ap.IRI(community))
	if up {
		v = lemmy.NewLike(ap.IRI(voter), ap.IRI(item), ap.IRI(community))
	}
	return x.Outbox.Send(ctx, v)
}

// Unvote withdraws the voter's vote on item: an Undo of it.
func (x Actions) Unvote(ctx context.Context, voter, item string) (string, error) {
	s := x.Outbox.Scheme()
	for _, name := range []string{actor.Likes, Dislikes} {
		m, err := x.Store.Collections.Contains(ctx, s.Collection(item, name), voter)
		if errors.Is(err, storage.ErrNotFound) {
			continue
		}
		if err != nil {
			return "", err
		}
		return x.undo(ctx, voter, m.Activity)
	}
	return "", fmt.Errorf("lemmy: %s has no vote on %s: %w", voter, item, storage.ErrNotFound)
}

// undo sends the Undo of the stored activity id, embedded.
func (x Actions) undo(ctx context.Context, who, id string) (string, error) {
	o, err := x.Store.Objects.Get(ctx, id)
	if err != nil {
		return "", fmt.Errorf("lemmy: undo %s: %w", id, err)
	}
	it, err := x.Outbox.Registry().Decode(o.Data)
	if err != nil {
		return "", err
	}
	a, ok := it.(*vocab.Activity)
	if !ok {
		return "", fmt.Errorf("lemmy: undo %s: not an activity", id)
	}
	return x.Outbox.Send(ctx, lemmy.NewUndo(ap.IRI(who), a))
}

// Delete deletes the author's post, comment or private message: it is
// hidden, not destroyed, and Restore brings it back. The Delete goes to
// the community (or the message's recipient) as Lemmy sends it, but not
// through Outbox.Send, which would tombstone the item: it is stored,
// listed in the author's outbox and enqueued for the outbox's Worker to
// fan out, with the item's effects, in one transaction.
func (x Actions) Delete(ctx context.Context, author, item string) (string, error) {
	s, reg := x.Outbox.Scheme(), x.Outbox.Registry()
	var id string
	err := storage.InTx(ctx, x.Store, func(ctx context.Context, tx storage.Store) error {
		sc := x.scope(tx)
		it, owner, stored, err := sc.lookup(ctx, item)
		switch {
		case err != nil:
			return err
		case !stored || it == nil:
			return fmt.Errorf("lemmy: delete %s: %w", item, storage.ErrNotFound)
		case owner != author:
			return fmt.Errorf("%w: %s", ErrNotCreator, item)
		}
		del := vocab.NewActivity("Delete", ap.IRI(s.NewID(author, "Delete")), ap.IRI(author), ap.IRI(item))
		del.Published = time.Now().UTC().Truncate(time.Second)
		to, err := sc.messageRecipient(ctx, item)
		if err != nil {
			return err
		}
		if o, ok := lemmy.PrivateMessageOf(it); ok && to == "" {
			if aud := vocab.Audience(o); len(aud) == 1 {
				to = string(aud[0])
			}
		}
		var c community
		if cm := communityIn(it); cm != "" && to == "" {
			del.To = ap.ItemCollection{vocab.PublicIRI}
			del.CC = ap.ItemCollection{ap.IRI(cm)}
			del.Audience = ap.ItemCollection{ap.IRI(cm)}
			c = community{iri: cm}
			if local, err := sc.isCommunity(ctx, cm); err != nil {
				return err
			} else if local {
				c = sc.local(cm)
				sc.send = func(ctx context.Context, act vocab.Item) error { return x.Outbox.SendIn(ctx, tx, act) }
			}
		} else if to != "" {
			del.To = ap.ItemCollection{ap.IRI(to)}
		}
		id = string(del.ID)
		data, err := reg.Encode(del)
		if err != nil {
			return err
		}
		if err := tx.Objects.Put(ctx, storage.Object{IRI: id, Type: "Delete", Owner: author, Data: data}); err != nil {
			return err
		}
		if err := tx.Collections.Add(ctx, s.Collection(author, actor.Outbox), storage.Member{IRI: id}); err != nil {
			return err
		}
		if err := tx.Queue.Enqueue(ctx, storage.Delivery{Activity: id, Inbox: outbox.FanoutInbox, Body: data, OrderingKey: item}); err != nil {
			return err
		}
		xa, _ := parse(del, ap.IRI(item), nil)
		if to != "" {
			return sc.applyPrivate(ctx, plan{x: xa, private: to}, data)
		}
		if c.iri != "" {
			if _, err := tx.Dedupe.Record(ctx, id, c.iri); err != nil {
				return err
			}
		}
		return sc.effects(ctx, xa, c, data)
	})
	if err != nil {
		return "", err
	}
	return id, nil
}

// Restore restores the author's deleted item: an Undo of its Delete.
func (x Actions) Restore(ctx context.Context, author, item string) (string, error) {
	m, err := x.Store.Collections.Contains(ctx, DeletedIRI(x.Outbox.Scheme()), item)
	if err != nil {
		return "", fmt.Errorf("lemmy: restore %s: %w", item, err)
	}
	return x.undo(ctx, author, m.Activity)
}

// Remove removes an item of a community as its moderator: a Remove, with
// the reason; the item is hidden until Reinstate.
func (x Actions) Remove(ctx context.Context, moderator, item, reason string) (string, error) {
	return x.moderate(ctx, "Remove", moderator, item, reason)
}

// Reinstate restores an item a moderator removed: an Undo of a Remove
// by this moderator, regenerated as Lemmy does, since the removal may be
// another moderator's.
func (x Actions) Reinstate(ctx context.Context, moderator, item string) (string, error) {
	return x.unmoderate(ctx, "Remove", moderator, item)
}

// Lock locks a post or comment as a moderator of its community: no new
// comment below it, except from a moderator.
func (x Actions) Lock(ctx context.Context, moderator, item, reason string) (string, error) {
	return x.moderate(ctx, "Lock", moderator, item, reason)
}

// Unlock unlocks a post or comment: an Undo of a Lock.
func (x Actions) Unlock(ctx context.Context, moderator, item string) (string, error) {
	return x.unmoderate(ctx, "Lock", moderator, item)
}

// moderation builds a Remove or Lock of item.
func (x Actions) moderation(ctx context.Context, typ, moderator, item, reason string) (*vocab.Activity, error) {
	community, err := x.communityOf(ctx, item)
	if err != nil {
		return nil, err
	}
	a := vocab.NewActivity(typ, "", ap.IRI(moderator), ap.IRI(item))
	a.To = ap.ItemCollection{vocab.PublicIRI}
	a.CC = ap.ItemCollection{ap.IRI(community)}
	a.Audience = ap.ItemCollection{ap.IRI(community)}
	if reason != "" {
		a.Summary = vocab.Text(reason)
	}
	return a, nil
}

func (x Actions) moderate(ctx context.Context, typ, moderator, item, reason string) (string, error) {
	a, err := x.moderation(ctx, typ, moderator, item, reason)
	if err != nil {
		return "", err
	}
	return x.Outbox.Send(ctx, a)
}

func (x Actions) unmoderate(ctx context.Context, typ, moderator, item string) (string, error) {
	a, err := x.moderation(ctx, typ, moderator, item, "")
	if err != nil {
		return "", err
	}
	a.ID = ap.IRI(x.Outbox.Scheme().NewID(moderator, typ))
	return x.Outbox.Send(ctx, lemmy.NewUndo(ap.IRI(moderator), a))
}

// AddModerator makes person a moderator of a community, as one of its
// moderators: an Add to its moderators collection.
func (x Actions) AddModerator(ctx context.Context, moderator, community, person string) (string, error) {
	return x.modChange(ctx, "Add", moderator, community, person)
}

// RemoveModerator removes a moderator of a community, as one of its
// moderators; the last one stays (ErrLastModerator).
func (x Actions) RemoveModerator(ctx context.Context, moderator, community, person string) (string, error) {
	return x.modChange(ctx, "Remove", moderator, community, person)
}

func (x Actions) modChange(ctx context.Context, typ, moderator, community, person string) (string, error) {
	sc := x.scope(x.Store)
	c := sc.local(community)
	if local, err := sc.isCommunity(ctx, community); err != nil {
		return "", err
	} else if !local {
		var ok bool
		if c, ok, err = sc.remoteCommunity(ctx, community); err != nil {
			return "", err
		} else if !ok || c.mods == "" {
			return "", fmt.Errorf("%w: %s (not cached, or names no moderators)", ErrNotCommunity, community)
		}
	}
	a := lemmy.NewRemove(ap.IRI(moderator), ap.IRI(person), ap.IRI(c.mods), ap.IRI(community))
	a.Type = ap.ActivityVocabularyType(typ)
	return x.Outbox.Send(ctx, a)
}

// Announce has our community announce an activity to its followers, as
// it does by itself for every activity about its items: for an activity
// it should forward that is not one of those.
func (x Actions) Announce(ctx context.Context, community string, activity *vocab.Activity) (string, error) {
	s := x.Outbox.Scheme()
	return x.Outbox.Send(ctx, lemmy.NewAnnounce(ap.IRI(community), ap.IRI(s.Collection(community, actor.Followers)), activity))
}

// Message sends a private message from one user to one other: a
// Create{ChatMessage}. It returns the message's IRI. Actions.Actors must
// be set, to tell our users.
func (x Actions) Message(ctx context.Context, from, to, content string) (string, error) {
	msg := lemmy.NewChatMessage("", ap.IRI(from), ap.IRI(to), content)
	create := vocab.NewActivity("Create", "", ap.IRI(from), msg)
	create.To = ap.ItemCollection{ap.IRI(to)}
	if _, err := x.Outbox.Send(ctx, create); err != nil {
		return "", err
	}
	return string(msg.ID), nil
}

// communityOf returns the community of a stored item.
func (x Actions) communityOf(ctx context.Context, item string) (string, error) {
	sc := x.scope(x.Store)
	if c, err := sc.communityOfItem(ctx, item); err != nil || c != "" {
		return c, err
	}
	it, _, _, err := sc.lookup(ctx, item)
	if err != nil {
		return "", err
	}
	if c := communityIn(it); c != "" {
		return c, nil
	}
	return "", fmt.Errorf("%w: %s is not known here as a community's", ErrNotInCommunity, item)
}

// communityIn returns the community an item names: its audience, as
// Lemmy writes it, else the first recipient of a post that is not the
// public.
func communityIn(it vocab.Item) string {
	b := vocab.Base(it)
	if b == nil {
		return ""
	}
	if aud := vocab.IRIs(b.Audience); len(aud) > 0 {
		return aud[0]
	}
	if vocab.HasType(it, "Page") {
		if to := addressees(it); len(to) > 0 {
			return to[0]
		}
	}
	return ""
}
