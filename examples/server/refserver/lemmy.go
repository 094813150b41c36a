package refserver

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/behaviour/lemmy"
	"github.com/fedi-go/fedi/federationmd"
	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/vocab"
)

// lemmyPlatform: communities (Group actors) that announce what is posted
// in them, votes, and moderation that hides rather than destroys.
var lemmyPlatform = platform{
	name:   "lemmy",
	served: lemmy.Served,
	wrapObjects: func(s *Server, next http.Handler) http.Handler {
		f := s.fed
		gone := lemmy.ServeHidden(f.Store, f.Scheme, f.Registry, next)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !prefersHTML(r) {
				gone.ServeHTTP(w, r)
				return
			}
			// A browser reads that the item was removed, on a page.
			if hidden, err := lemmy.Hidden(r.Context(), f.Store, f.Scheme, f.Scheme.Origin+r.URL.EscapedPath()); err == nil && hidden {
				v := &htmlView{s: s}
				v.render(w, http.StatusGone, page{Title: "Removed", Heading: "This was deleted by its author or removed by a moderator",
					Sub: "It stays stored, and comes back if restored."})
				return
			}
			next.ServeHTTP(w, r)
		})
	},
	register: func(_ context.Context, s *Server) error {
		f := s.fed
		lemmy.Register(f.Mux, lemmy.Options{Outbox: f.Outbox, Actors: f.Actors, Remote: f.Remote})
		s.lm = lemmy.Actions{Store: f.Store, Outbox: f.Outbox, Actors: f.LocalActors}
		c := s.ctl
		c.handle("POST /_control/group", c.createGroup)
		c.handle("POST /_control/post", c.post)
		c.handle("POST /_control/comment", c.comment)
		c.handle("POST /_control/vote", c.vote)
		c.handle("POST /_control/unvote", c.unvote)
		c.handle("POST /_control/remove", c.remove)
		c.handle("GET /_control/votes", c.votes)
		c.handle("GET /_control/posts", c.posts)
		return nil
	},
}

func init() {
	platformSent = append(platformSent,
		federationmd.Sent{Activity: "Create", Object: "Page", Doc: "when a user posts in a community (control API post), to the community, which announces it"},
		federationmd.Sent{Activity: "Create", Object: "Note", Doc: "when a user comments on a post or comment in a community (control API comment)"},
		federationmd.Sent{Activity: "Like", Doc: "an upvote of a community's post or comment, to the community (control API vote)"},
		federationmd.Sent{Activity: "Dislike", Doc: "a downvote of a community's post or comment, to the community"},
		federationmd.Sent{Activity: "Remove", Doc: "when a community's moderator removes a post or comment (control API remove); the item is hidden, not destroyed"},
		federationmd.Sent{Activity: "Announce", Doc: "by a community, of every activity about its posts and comments (Create, Like, Dislike, Remove, Delete, Undo), to its followers"},
	)
	objectSections = append(objectSections, voteSections)
	actorSections = append(actorSections, communitySections)
}

// prefersHTML reports whether a request asks for a page rather than
// ActivityStreams JSON.
func prefersHTML(r *http.Request) bool {
	acc := r.Header.Get("Accept")
	return strings.Contains(acc, "text/html") && !strings.Contains(acc, "activity+json") && !strings.Contains(acc, "ld+json")
}

func (c *control) createGroup(ctx context.Context, _ *http.Request, body map[string]any, u *actor.Actor) (any, error) {
	name, err := need(body, "name")
	if err != nil {
		return nil, err
	}
	if err := actor.CheckName(name); err != nil {
		return nil, bad(`"name" is the community's handle: letters, digits, '_', '-' and '.'`)
	}
	title := str(body, "title")
	if title == "" {
		title = name
	}
	var mods []string
	for _, m := range strs(body, "moderators") {
		iri, err := c.resolve(ctx, m)
		if err != nil {
			return nil, err
		}
		mods = append(mods, iri)
	}
	g, err := c.s.lm.CreateCommunity(ctx, u.IRI, name, title, str(body, "summary"))
	if errors.Is(err, actor.ErrExists) {
		return nil, &httpError{http.StatusConflict, "the actor exists: " + name}
	}
	if err != nil {
		return nil, failed(err)
	}
	for _, m := range mods {
		if _, err := c.s.lm.AddModerator(ctx, u.IRI, g.IRI, m); err != nil {
			return nil, failed(err)
		}
	}
	out := c.actorAnswer(g)
	out["moderators"] = c.s.fed.Scheme.Collection(g.IRI, lemmy.Moderators)
	return out, nil
}

func (c *control) post(ctx context.Context, _ *http.Request, body map[string]any, u *actor.Actor) (any, error) {
	group, err := c.actorArg(ctx, body, "group")
	if err != nil {
		return nil, err
	}
	name, err := need(body, "name")
	if err != nil {
		return nil, err
	}
	page, err := c.s.lm.Post(ctx, u.IRI, group, name, str(body, "content"))
	if err != nil {
		return nil, failed(err, lemmy.ErrNotCommunity)
	}
	return map[string]any{"page": page, "create": c.createOf(ctx, u, page)}, nil
}

func (c *control) comment(ctx context.Context, _ *http.Request, body map[string]any, u *actor.Actor) (any, error) {
	parent, err := need(body, "inReplyTo")
	if err != nil {
		return nil, err
	}
	content, err := need(body, "content")
	if err != nil {
		return nil, err
	}
	note, err := c.s.lm.Comment(ctx, u.IRI, parent, content)
	if err != nil {
		return nil, failed(err, lemmy.ErrNotCommunity)
	}
	return map[string]any{"note": note, "create": c.createOf(ctx, u, note)}, nil
}

func (c *control) vote(ctx context.Context, _ *http.Request, body map[string]any, u *actor.Actor) (any, error) {
	obj, err := need(body, "object")
	if err != nil {
		return nil, err
	}
	dir, err := need(body, "dir")
	if err != nil {
		return nil, err
	}
	if dir != "up" && dir != "down" {
		return nil, bad(`"dir" is up or down`)
	}
	id, err := c.s.lm.Vote(ctx, u.IRI, obj, dir == "up")
	if err != nil {
		return nil, failed(err, lemmy.ErrNotCommunity)
	}
	return map[string]any{"activity": id}, nil
}

func (c *control) unvote(ctx context.Context, _ *http.Request, body map[string]any, u *actor.Actor) (any, error) {
	obj, err := need(body, "object")
	if err != nil {
		return nil, err
	}
	id, err := c.s.lm.Unvote(ctx, u.IRI, obj)
	if err != nil {
		return nil, failed(err, lemmy.ErrNotCommunity)
	}
	return map[string]any{"activity": id}, nil
}

func (c *control) remove(ctx context.Context, _ *http.Request, body map[string]any, u *actor.Actor) (any, error) {
	obj, err := need(body, "object")
	if err != nil {
		return nil, err
	}
	id, err := c.s.lm.Remove(ctx, u.IRI, obj, str(body, "reason"))
	if errors.Is(err, lemmy.ErrNotModerator) {
		return nil, &httpError{http.StatusForbidden, oneLine(err)}
	}
	if err != nil {
		return nil, failed(err, lemmy.ErrNotCommunity)
	}
	return map[string]any{"activity": id}, nil
}

func (c *control) votes(ctx context.Context, r *http.Request, _ map[string]any, _ *actor.Actor) (any, error) {
	obj := r.URL.Query().Get("object")
	if obj == "" {
		return nil, bad("object=IRI required")
	}
	f := c.s.fed
	up, down, err := lemmy.Votes(ctx, f.Store, f.Scheme, obj)
	if err != nil {
		return nil, err
	}
	hidden, err := lemmy.Hidden(ctx, f.Store, f.Scheme, obj)
	if err != nil {
		return nil, err
	}
	return map[string]any{"up": up, "down": down, "hidden": hidden}, nil
}

// posts lists the posts of one of our communities, newest first, with
// their votes, and whether each is hidden.
func (c *control) posts(ctx context.Context, r *http.Request, _ map[string]any, _ *actor.Actor) (any, error) {
	g := r.URL.Query().Get("group")
	if g == "" {
		return nil, bad("group=IRI or handle required")
	}
	iri, err := c.resolve(ctx, g)
	if err != nil {
		return nil, err
	}
	f := c.s.fed
	if ok, err := lemmy.IsCommunity(ctx, f.Store, f.Scheme, iri); err != nil || !ok {
		return nil, notFound("not one of our communities: %s", iri)
	}
	ms, err := c.members(ctx, f.Scheme.Collection(iri, lemmy.Posts), storage.Accepted)
	if err != nil {
		return nil, err
	}
	out := []map[string]any{}
	for _, m := range ms {
		up, down, err := lemmy.Votes(ctx, f.Store, f.Scheme, m.IRI)
		if err != nil {
			return nil, err
		}
		hidden, err := lemmy.Hidden(ctx, f.Store, f.Scheme, m.IRI)
		if err != nil {
			return nil, err
		}
		e := map[string]any{"id": m.IRI, "create": m.Activity, "up": up, "down": down, "hidden": hidden}
		if o, err := f.Store.Objects.Get(ctx, m.IRI); err == nil {
			e["author"] = o.Owner
			if it, err := f.Registry.Decode(o.Data); err == nil {
				e["name"] = titleOf(it)
			}
		}
		out = append(out, e)
	}
	return out, nil
}

// voteSections show the votes of a post or comment.
func voteSections(ctx context.Context, v *htmlView, iri string, it vocab.Item) ([]section, error) {
	if !vocab.HasType(it, "Page") && !vocab.HasType(it, "Note") {
		return nil, nil
	}
	f := v.s.fed
	up, down, err := lemmy.Votes(ctx, f.Store, f.Scheme, iri)
	if err != nil {
		return nil, err
	}
	var out []section
	if cs, err := v.comments(ctx, iri); err != nil {
		return nil, err
	} else if len(cs) > 0 {
		sec := section{Title: "Comments (" + strconv.Itoa(len(cs)) + ")"}
		for _, c := range cs {
			li := v.objectLine(ctx, c)
			if hidden, err := lemmy.Hidden(ctx, f.Store, f.Scheme, c); err == nil && hidden {
				li.Note += " · removed"
			} else if o, err := f.Store.Objects.Get(ctx, c); err == nil {
				if d, err := f.Registry.Decode(o.Data); err == nil {
					li.Label = v.actorLabel(ctx, o.Owner)
					li.Note = o.Updated.UTC().Format("2006-01-02 15:04")
					if b := vocab.Base(d); b != nil {
						li.HTML = sanitize(vocab.TextOf(b.Content))
					}
				}
			}
			sec.Items = append(sec.Items, li)
		}
		out = append(out, sec)
	}
	if up+down == 0 && !vocab.HasType(it, "Page") {
		return out, nil
	}
	sec := section{Title: "Votes", Items: []item{{Label: "▲ " + strconv.Itoa(up) + "  ▼ " + strconv.Itoa(down), Note: "score " + strconv.Itoa(up-down)}}}
	for _, name := range []string{actor.Likes, lemmy.Dislikes} {
		p, err := f.Store.Collections.Page(ctx, f.Scheme.Collection(iri, name), storage.PageOptions{Limit: 50})
		if err != nil {
			return nil, err
		}
		for _, m := range p.Members {
			word := "upvoted"
			if name == lemmy.Dislikes {
				word = "downvoted"
			}
			sec.Items = append(sec.Items, item{Label: v.actorLabel(ctx, m.IRI), Link: m.IRI, Note: word})
		}
	}
	return append([]section{sec}, out...), nil
}

// comments returns the comments directly below a post or comment in one
// of our communities, oldest first (from the community's comments,
// bounded).
func (v *htmlView) comments(ctx context.Context, iri string) ([]string, error) {
	f := v.s.fed
	o, err := f.Store.Objects.Get(ctx, iri)
	if err != nil {
		return nil, nil
	}
	it, err := f.Registry.Decode(o.Data)
	if err != nil {
		return nil, nil
	}
	var out []string
	for _, c := range vocab.Audience(it) {
		if ok, err := lemmy.IsCommunity(ctx, f.Store, f.Scheme, string(c)); err != nil || !ok {
			continue
		}
		p, err := f.Store.Collections.Page(ctx, f.Scheme.Collection(string(c), lemmy.Comments), storage.PageOptions{Limit: storage.MaxPageLimit})
		if err != nil {
			return nil, err
		}
		for i := len(p.Members) - 1; i >= 0; i-- {
			co, err := f.Store.Objects.Get(ctx, p.Members[i].IRI)
			if err != nil {
				continue
			}
			if d, err := f.Registry.Decode(co.Data); err == nil {
				if b := vocab.Base(d); b != nil && slices.Contains(vocab.IRIs(b.InReplyTo), iri) {
					out = append(out, p.Members[i].IRI)
				}
			}
		}
		break
	}
	return out, nil
}

// communitySections show a community's posts with their votes and its
// moderators; on a person's page, the communities it moderates.
func communitySections(ctx context.Context, v *htmlView, a *actor.Actor) ([]section, error) {
	f := v.s.fed
	ok, err := lemmy.IsCommunity(ctx, f.Store, f.Scheme, a.IRI)
	if err != nil {
		return nil, err
	}
	if !ok {
		return moderated(ctx, v, a)
	}
	p, err := f.Store.Collections.Page(ctx, f.Scheme.Collection(a.IRI, lemmy.Posts), storage.PageOptions{Limit: 50})
	if err != nil {
		return nil, err
	}
	n, err := f.Store.Collections.Count(ctx, f.Scheme.Collection(a.IRI, lemmy.Posts), storage.Accepted)
	if err != nil {
		return nil, err
	}
	posts := section{Title: "Posts (" + strconv.Itoa(n) + ")", Empty: "no post yet"}
	for _, m := range p.Members {
		li, err := v.postLine(ctx, m.IRI)
		if err != nil {
			return nil, err
		}
		posts.Items = append(posts.Items, li)
	}
	mods := section{Title: "Moderators"}
	mp, err := f.Store.Collections.Page(ctx, f.Scheme.Collection(a.IRI, lemmy.Moderators), storage.PageOptions{Limit: 50})
	if err != nil {
		return nil, err
	}
	for _, m := range mp.Members {
		mods.Items = append(mods.Items, item{Label: v.actorLabel(ctx, m.IRI), Link: m.IRI})
	}
	return []section{posts, mods}, nil
}

// postLine is a line of a post: its title, author, votes and comments,
// and its content, sanitized; a hidden post shows no content.
func (v *htmlView) postLine(ctx context.Context, iri string) (item, error) {
	f := v.s.fed
	li := v.objectLine(ctx, iri)
	up, down, err := lemmy.Votes(ctx, f.Store, f.Scheme, iri)
	if err != nil {
		return li, err
	}
	li.Note += " · ▲ " + strconv.Itoa(up) + " ▼ " + strconv.Itoa(down)
	if cs, err := v.comments(ctx, iri); err == nil && len(cs) > 0 {
		li.Note += " · " + plural(len(cs), "comment")
	}
	if hidden, err := lemmy.Hidden(ctx, f.Store, f.Scheme, iri); err != nil {
		return li, err
	} else if hidden {
		li.Note += " · removed"
		return li, nil
	}
	if o, err := f.Store.Objects.Get(ctx, iri); err == nil {
		if it, err := f.Registry.Decode(o.Data); err == nil {
			if b := vocab.Base(it); b != nil {
				li.HTML = sanitize(vocab.TextOf(b.Content))
			}
		}
	}
	return li, nil
}

// moderated lists the communities of ours a person moderates.
func moderated(ctx context.Context, v *htmlView, a *actor.Actor) ([]section, error) {
	f := v.s.fed
	p, err := f.Store.Collections.Page(ctx, lemmy.CommunitiesIRI(f.Scheme), storage.PageOptions{Limit: 200})
	if err != nil {
		return nil, err
	}
	sec := section{Title: "Communities moderated"}
	for _, m := range p.Members {
		if ok, err := lemmy.IsModerator(ctx, f.Store, f.Scheme, m.IRI, a.IRI); err == nil && ok {
			sec.Items = append(sec.Items, v.communityLine(ctx, m.IRI))
		}
	}
	if len(sec.Items) == 0 {
		return nil, nil
	}
	return []section{sec}, nil
}

// communityLine is a line of a community: its title, handle, posts and
// followers.
func (v *htmlView) communityLine(ctx context.Context, iri string) item {
	f := v.s.fed
	li := item{Label: iri, Link: iri}
	a, err := f.Actors.ByIRI(ctx, iri)
	if err != nil {
		return li
	}
	li.Label = displayName(a)
	posts, _ := f.Store.Collections.Count(ctx, f.Scheme.Collection(iri, lemmy.Posts), storage.Accepted)
	followers, _ := f.Store.Collections.Count(ctx, f.Scheme.Collection(iri, actor.Followers), storage.Accepted)
	li.Note = "@" + a.Name + "@" + host(iri) + " · " + plural(posts, "post") + " · " + plural(followers, "follower")
	return li
}
