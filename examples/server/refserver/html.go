package refserver

import (
	"context"
	"embed"
	"errors"
	"html/template"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/microcosm-cc/bluemonday"

	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/behaviour/communecter"
	"github.com/fedi-go/fedi/behaviour/lemmy"
	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/vocab"
)

//go:embed templates/*.html
var templateFS embed.FS

var templates = template.Must(template.New("").Funcs(template.FuncMap{
	"since": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2006-01-02 15:04:05")
	},
}).ParseFS(templateFS, "templates/*.html"))

// policy sanitizes remote HTML: what a peer sends can never run script
// here.
var policy = bluemonday.UGCPolicy()

// htmlView renders what federated, on the same URLs as the
// ActivityStreams documents (serve hands it the requests that prefer
// HTML), plus the home page and the queue.
type htmlView struct{ s *Server }

// section is a titled list on a page: the platforms add theirs.
type section struct {
	Title string
	Empty string
	Items []item
}

// item is one line of a section.
type item struct {
	Label string        // plain text
	Link  string        // optional link of the label
	Note  string        // plain text after the label
	HTML  template.HTML // sanitized content below it
}

// objectSections add sections to the page of an object (participants of
// an event, votes of a post, members of a project, holders of a badge).
var objectSections []func(ctx context.Context, v *htmlView, iri string, it vocab.Item) ([]section, error)

// actorSections add sections to the page of a local actor.
var actorSections []func(ctx context.Context, v *htmlView, a *actor.Actor) ([]section, error)

type page struct {
	Title    string
	Origin   string
	Heading  string
	Sub      string
	Content  template.HTML
	Sections []section
	Fields   []item
}

func (v *htmlView) render(w http.ResponseWriter, status int, p page) {
	p.Origin = v.s.fed.Scheme.Origin
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	if err := templates.ExecuteTemplate(w, "page.html", p); err != nil {
		v.s.log.Error("html: render", "err", err)
	}
}

func (v *htmlView) fail(w http.ResponseWriter, err error) {
	v.s.log.Error("html", "err", err)
	v.render(w, http.StatusInternalServerError, page{Title: "Error", Heading: "Something went wrong", Sub: "The detail is in the server's log."})
}

// sanitize returns remote HTML made safe.
func sanitize(s string) template.HTML { return template.HTML(policy.Sanitize(s)) }

// ServeHTTP renders the page of a local IRI: an actor, an object or a
// collection.
func (v *htmlView) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	f := v.s.fed
	iri := f.Scheme.Origin + r.URL.EscapedPath()
	if a, err := f.Actors.ByIRI(ctx, iri); err == nil {
		v.actorPage(w, r, a)
		return
	} else if errors.Is(err, actor.ErrGone) {
		v.render(w, http.StatusGone, page{Title: "Gone", Heading: "This actor was deleted"})
		return
	}
	if owner, name, ok := f.Scheme.ParseCollection(iri); ok && name != "" {
		if _, err := f.Store.Objects.Owner(ctx, owner); err == nil && !strings.Contains(name, ".") {
			v.collectionPage(w, r, iri, name)
			return
		}
	}
	o, err := f.Store.Objects.Get(ctx, iri)
	if errors.Is(err, storage.ErrNotFound) {
		v.render(w, http.StatusNotFound, page{Title: "Not found", Heading: "Nothing here", Sub: iri})
		return
	}
	if err != nil {
		v.fail(w, err)
		return
	}
	if !o.Deleted.IsZero() {
		v.render(w, http.StatusGone, page{Title: "Gone", Heading: "This was deleted", Sub: "on " + o.Deleted.UTC().Format(time.RFC1123)})
		return
	}
	it, err := f.Registry.Decode(o.Data)
	if err != nil {
		v.fail(w, err)
		return
	}
	if !vocab.IsPublicItem(it) && !vocab.HasType(it, "Tombstone") {
		v.render(w, http.StatusNotFound, page{Title: "Not found", Heading: "Nothing here", Sub: "(or nothing public)"})
		return
	}
	v.objectPage(w, r, iri, o, it)
}

func (v *htmlView) objectPage(w http.ResponseWriter, r *http.Request, iri string, o storage.Object, it vocab.Item) {
	ctx := r.Context()
	p := page{Title: titleOf(it), Heading: titleOf(it), Sub: o.Type}
	if o.Owner != "" && o.Owner != iri {
		p.Sub += " by " + v.actorLabel(ctx, o.Owner)
	}
	if b := vocab.Base(it); b != nil {
		p.Content = sanitize(vocab.TextOf(b.Content))
		if !b.Published.IsZero() {
			p.Fields = append(p.Fields, item{Label: "published", Note: b.Published.UTC().Format(time.RFC1123)})
		}
		if !b.StartTime.IsZero() {
			p.Fields = append(p.Fields, item{Label: "starts", Note: b.StartTime.UTC().Format(time.RFC1123)})
		}
		for _, irt := range vocab.IRIs(b.InReplyTo) {
			p.Fields = append(p.Fields, item{Label: "in reply to", Link: irt, Note: irt})
		}
	}
	p.Fields = append(p.Fields, item{Label: "id", Link: iri, Note: iri})
	// What the platforms keep (participants, members, votes) reads
	// before the likes and shares.
	for _, f := range objectSections {
		secs, err := f(ctx, v, iri, it)
		if err != nil {
			v.fail(w, err)
			return
		}
		p.Sections = append(p.Sections, secs...)
	}
	s := v.s.fed.Scheme
	for _, c := range []struct{ name, title string }{{actor.Likes, "Likes"}, {actor.Shares, "Shares"}, {actor.Replies, "Replies"}} {
		sec, err := v.memberSection(ctx, c.title, s.Collection(iri, c.name), storage.Accepted, 50)
		if err != nil {
			v.fail(w, err)
			return
		}
		if len(sec.Items) > 0 {
			p.Sections = append(p.Sections, sec)
		}
	}
	v.render(w, http.StatusOK, p)
}

func titleOf(it vocab.Item) string {
	if b := vocab.Base(it); b != nil {
		if n := vocab.TextOf(b.Name); n != "" {
			return n
		}
		if s := vocab.TextOf(b.Summary); s != "" {
			return s
		}
	}
	return string(it.GetType())
}

// memberSection lists up to limit members of a collection, with the
// stored content of each when it is an object.
func (v *htmlView) memberSection(ctx context.Context, title, coll string, state storage.State, limit int) (section, error) {
	p, err := v.s.fed.Store.Collections.Page(ctx, coll, storage.PageOptions{State: state, Limit: limit})
	if err != nil {
		return section{}, err
	}
	n, err := v.s.fed.Store.Collections.Count(ctx, coll, state)
	if err != nil {
		return section{}, err
	}
	sec := section{Title: title + " (" + strconv.Itoa(n) + ")", Empty: "none"}
	for _, m := range p.Members {
		sec.Items = append(sec.Items, v.describe(ctx, m))
	}
	return sec, nil
}

// describe turns a member into a line: an actor by its handle; an
// activity by what it did to what ("Create Event: Seed swap"), linked
// to that, with who did it and when; an object by its title; and the
// content of the object, sanitized.
func (v *htmlView) describe(ctx context.Context, m storage.Member) item {
	when := m.Added.UTC().Format("2006-01-02 15:04")
	it := item{Label: m.IRI, Link: m.IRI, Note: "since " + when}
	o, err := v.s.fed.Store.Objects.Get(ctx, m.IRI)
	if err != nil {
		if label := v.actorLabel(ctx, m.IRI); label != m.IRI {
			it.Label = label
		}
		return it
	}
	if !o.Deleted.IsZero() {
		it.Note = "deleted"
		return it
	}
	d, err := v.s.fed.Registry.Decode(o.Data)
	if err != nil {
		return it
	}
	if _, isActor := d.(*vocab.Actor); isActor {
		it.Label = v.actorLabel(ctx, m.IRI)
		return it
	}
	by := ""
	if o.Owner != "" {
		by = v.actorLabel(ctx, o.Owner)
	}
	if vocab.ObjectOf(d) != nil {
		// An activity: say what it did, and to what.
		label, link, body := v.what(ctx, d, 0)
		it.Label, it.Note = label, "by "+by+" · "+when
		if link != "" {
			it.Link = link
		}
		hidden, _ := lemmy.Hidden(ctx, v.s.fed.Store, v.s.fed.Scheme, link)
		if b := vocab.Base(body); body != nil && !body.IsLink() && b != nil && vocab.TextOf(b.Content) != "" && !hidden {
			it.HTML = sanitize(vocab.TextOf(b.Content))
		}
		return it
	}
	if b := vocab.Base(d); b != nil {
		it.Label = titleOf(d)
		it.Note = string(d.GetType()) + " by " + by + " · " + when
		if c := vocab.TextOf(b.Content); c != "" {
			it.HTML = sanitize(c)
		}
	}
	return it
}

// what says what an activity did to what: "Create Event: Seed swap",
// "Announce Create Page: First frost", with the link and the document
// of what it is about (looked up when the activity names it by IRI).
func (v *htmlView) what(ctx context.Context, act vocab.Item, depth int) (string, string, vocab.Item) {
	obj := vocab.ObjectOf(act)
	label := string(act.GetType())
	if obj == nil {
		return label, "", nil
	}
	target := string(vocab.IRIOf(obj))
	if obj.IsLink() {
		if so, err := v.s.fed.Store.Objects.Get(ctx, target); err == nil && so.Deleted.IsZero() {
			if dec, err := v.s.fed.Registry.Decode(so.Data); err == nil {
				obj = dec
			}
		}
	}
	switch {
	case obj.IsLink():
		return label + " " + v.actorLabel(ctx, target), target, nil
	case depth < 2 && vocab.ObjectOf(obj) != nil:
		inner, link, body := v.what(ctx, obj, depth+1)
		return label + " " + inner, link, body
	}
	if _, isActor := obj.(*vocab.Actor); isActor {
		return label + " " + v.actorLabel(ctx, target), target, nil
	}
	return label + " " + string(obj.GetType()) + ": " + titleOf(obj), target, obj
}

func (v *htmlView) actorPage(w http.ResponseWriter, r *http.Request, a *actor.Actor) {
	ctx := r.Context()
	s := v.s.fed.Scheme
	host := strings.TrimPrefix(strings.TrimPrefix(s.Origin, "https://"), "http://")
	p := page{Title: a.Name, Heading: displayName(a), Sub: a.Type + " @" + a.Name + "@" + host}
	if prof, ok := a.Profile.(*vocab.Actor); ok {
		p.Content = sanitize(vocab.TextOf(prof.Summary))
	}
	p.Fields = append(p.Fields, item{Label: "id", Link: a.IRI, Note: a.IRI})
	if a.ManuallyApprovesFollowers {
		p.Fields = append(p.Fields, item{Label: "follows", Note: "approved by hand"})
	}
	type coll struct {
		title, name string
		state       storage.State
		always      bool // shown when empty
	}
	add := func(cs ...coll) bool {
		for _, c := range cs {
			sec, err := v.memberSection(ctx, c.title, s.Collection(a.IRI, c.name), c.state, 30)
			if err != nil {
				v.fail(w, err)
				return false
			}
			if c.always || len(sec.Items) > 0 {
				p.Sections = append(p.Sections, sec)
			}
		}
		return true
	}
	if !add(coll{"Followers", actor.Followers, storage.Accepted, true},
		coll{"Follow requests waiting", actor.Followers, storage.Pending, false},
		coll{"Following", actor.Following, storage.Accepted, true},
		coll{"Follows sent, not yet accepted", actor.Following, storage.Pending, false}) {
		return
	}
	// What the platforms keep (events, posts, members...) reads before
	// the raw activities.
	for _, f := range actorSections {
		secs, err := f(ctx, v, a)
		if err != nil {
			v.fail(w, err)
			return
		}
		p.Sections = append(p.Sections, secs...)
	}
	if !add(coll{"Sent", actor.Outbox, storage.Accepted, true}, coll{"Received", actor.Inbox, storage.Accepted, true}) {
		return
	}
	v.render(w, http.StatusOK, p)
}

func displayName(a *actor.Actor) string {
	if prof, ok := a.Profile.(*vocab.Actor); ok {
		if n := vocab.TextOf(prof.Name); n != "" {
			return n
		}
	}
	return a.Name
}

func (v *htmlView) collectionPage(w http.ResponseWriter, r *http.Request, iri, name string) {
	sec, err := v.memberSection(r.Context(), name, iri, storage.Accepted, 100)
	if err != nil {
		v.fail(w, err)
		return
	}
	v.render(w, http.StatusOK, page{Title: name, Heading: name, Sub: iri, Sections: []section{sec}})
}

// home lists the local actors and what each has seen.
func (v *htmlView) home() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		f := v.s.fed
		p := page{Title: "fedi", Heading: "fedi reference server", Sub: f.Scheme.Origin}
		p.Content = template.HTML(`<p>A federating ActivityPub server built with <a href="https://github.com/fedi-go/fedi">fedi</a>. ` +
			`See <a href="/FEDERATION.md">how it federates</a> and <a href="/queue">its delivery queue</a>.</p>`)
		ids, _, err := f.LocalActors.List(ctx, "", 200)
		if err != nil {
			v.fail(w, err)
			return
		}
		actors := section{Title: "Local actors (" + strconv.Itoa(len(ids)) + ")", Empty: "none"}
		for _, id := range ids {
			a, err := f.Actors.ByIRI(ctx, id)
			if err != nil {
				continue
			}
			followers, _ := f.Store.Collections.Count(ctx, f.Scheme.Collection(id, actor.Followers), storage.Accepted)
			following, _ := f.Store.Collections.Count(ctx, f.Scheme.Collection(id, actor.Following), storage.Accepted)
			actors.Items = append(actors.Items, item{Label: a.Name, Link: id,
				Note: a.Type + " · " + plural(followers, "follower") + " · " + strconv.Itoa(following) + " following"})
		}
		sort.Slice(actors.Items, func(i, j int) bool { return actors.Items[i].Label < actors.Items[j].Label })
		p.Sections = append(p.Sections, actors)
		recent, err := v.recent(ctx, ids)
		if err != nil {
			v.fail(w, err)
			return
		}
		p.Sections = append(p.Sections, recent...)
		shared, err := v.memberSection(ctx, "Received through the shared inbox", f.Scheme.SharedInbox, storage.Accepted, 30)
		if err != nil {
			v.fail(w, err)
			return
		}
		p.Sections = append(p.Sections, shared)
		v.render(w, http.StatusOK, p)
	})
}

// queue shows the delivery queue: its counts, the dead letters with
// their last error, and what the worker saw of each host.
func (v *htmlView) queue() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		f := v.s.fed
		stats, err := f.Worker.Stats(ctx)
		if err != nil {
			v.fail(w, err)
			return
		}
		p := page{Title: "Queue", Heading: "Delivery queue"}
		p.Fields = []item{
			{Label: "ready", Note: strconv.FormatInt(stats.Ready, 10)},
			{Label: "leased (being delivered)", Note: strconv.FormatInt(stats.Leased, 10)},
			{Label: "scheduled (retries waiting)", Note: strconv.FormatInt(stats.Scheduled, 10)},
			{Label: "dead letters", Note: strconv.FormatInt(stats.Dead, 10)},
			{Label: "oldest pending", Note: stats.OldestAge.Round(time.Second).String()},
		}
		dead := section{Title: "Dead letters (newest first)", Empty: "none"}
		if dl, ok := f.Store.Queue.(storage.DeadLetters); ok {
			ds, _, err := dl.Dead(ctx, "", 50)
			if err != nil {
				v.fail(w, err)
				return
			}
			for _, d := range ds {
				dead.Items = append(dead.Items, item{Label: d.Inbox, Note: d.Activity + " · " + strconv.Itoa(d.Attempts) + " attempts · " + d.LastError})
			}
		}
		hosts := section{Title: "Hosts this process delivered to", Empty: "none yet"}
		for _, h := range f.Worker.Hosts() {
			note := strconv.FormatInt(h.Delivered, 10) + " delivered · " + strconv.FormatInt(h.Failures, 10) + " failures"
			if h.LastError != "" {
				note += " · last: " + h.LastError + " at " + h.LastAt.UTC().Format("15:04:05")
			}
			hosts.Items = append(hosts.Items, item{Label: h.Host, Note: note})
		}
		p.Sections = []section{dead, hosts}
		v.render(w, http.StatusOK, p)
	})
}

// host is the authority of an IRI, for handles.
func host(iri string) string {
	h := strings.TrimPrefix(strings.TrimPrefix(iri, "https://"), "http://")
	h, _, _ = strings.Cut(h, "/")
	return h
}

// actorLabel names an actor for a person: @name@host for ours and for
// the cached remote actors, else its IRI.
func (v *htmlView) actorLabel(ctx context.Context, iri string) string {
	f := v.s.fed
	if a, err := f.Actors.ByIRI(ctx, iri); err == nil {
		return "@" + a.Name + "@" + host(iri)
	}
	if ra, err := f.Store.Actors.Get(ctx, iri); err == nil && ra.Document != nil {
		if it, err := f.Registry.Decode(ra.Document); err == nil {
			if a, ok := it.(*vocab.Actor); ok {
				if n := vocab.TextOf(a.PreferredUsername); n != "" {
					return "@" + n + "@" + host(iri)
				}
			}
		}
	}
	return iri
}

// objectLine is a line naming a stored object: its title, linked, with
// its type and who made it.
func (v *htmlView) objectLine(ctx context.Context, iri string) item {
	li := item{Label: iri, Link: iri}
	o, err := v.s.fed.Store.Objects.Get(ctx, iri)
	if err != nil {
		return li
	}
	if !o.Deleted.IsZero() {
		li.Note = "deleted"
		return li
	}
	it, err := v.s.fed.Registry.Decode(o.Data)
	if err != nil {
		return li
	}
	li.Label = titleOf(it)
	li.Note = string(it.GetType())
	if o.Owner != "" && o.Owner != iri {
		li.Note += " by " + v.actorLabel(ctx, o.Owner)
	}
	if b := vocab.Base(it); b != nil && !b.StartTime.IsZero() {
		li.Note += " · " + b.StartTime.UTC().Format("Mon 2 Jan 2006 15:04 MST")
	}
	return li
}

// plainHTML shows plain text a peer sent (a participation message), its
// line breaks kept.
func plainHTML(s string) template.HTML {
	return template.HTML(strings.ReplaceAll(template.HTMLEscapeString(s), "\n", "<br>"))
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

// homeKinds are the kinds of objects the home page lists, by type.
var homeKinds = []struct{ title, empty string }{
	{"Recent notes", "no note yet"},
	{"Events", "no event yet"},
	{"Communities", "no community yet"},
	{"Recent posts in communities", "no post yet"},
	{"Projects and organizations", "no project yet"},
	{"Badges", "no badge yet"},
}

// kindOf is the index in homeKinds of a type, or -1.
func kindOf(typ string) int {
	switch typ {
	case "Note":
		return 0
	case "Event":
		return 1
	case "Group":
		return 2
	case "Page":
		return 3
	case "Project", "Organization":
		return 4
	case "Badge":
		return 5
	}
	return -1
}

// recent lists what federated, newest first: the public notes, events,
// posts, projects and badges our actors sent and received (the latest
// of each outbox and inbox, and of the shared inbox), the local
// communities, organizations and events that act.
func (v *htmlView) recent(ctx context.Context, actors []string) ([]section, error) {
	const perKind = 15
	f := v.s.fed
	type found struct {
		iri   string
		added time.Time
	}
	lists := make([][]found, len(homeKinds))
	seen := map[string]bool{}
	add := func(iri string, added time.Time) {
		if iri == "" || seen[iri] {
			return
		}
		seen[iri] = true
		o, err := f.Store.Objects.Get(ctx, iri)
		if err != nil || !o.Deleted.IsZero() {
			return
		}
		k := kindOf(o.Type)
		if k < 0 {
			return
		}
		it, err := f.Registry.Decode(o.Data)
		if err != nil {
			return
		}
		if _, isActor := it.(*vocab.Actor); !isActor && !vocab.IsPublicItem(it) {
			return
		}
		if hidden, err := lemmy.Hidden(ctx, f.Store, f.Scheme, iri); err != nil || hidden {
			return
		}
		lists[k] = append(lists[k], found{iri, added})
	}
	// What an activity is about: the object of a Create, or of the
	// Create an Announce carries.
	about := func(m storage.Member) {
		o, err := f.Store.Objects.Get(ctx, m.IRI)
		if err != nil {
			return
		}
		if o.Type != "Create" && o.Type != "Announce" {
			add(m.IRI, m.Added)
			return
		}
		it, err := f.Registry.Decode(o.Data)
		if err != nil {
			return
		}
		obj := vocab.ObjectOf(it)
		if inner := vocab.ObjectOf(obj); o.Type == "Announce" && inner != nil && vocab.HasType(obj, "Create") {
			obj = inner
		}
		add(string(vocab.IRIOf(obj)), m.Added)
	}
	colls := []string{f.Scheme.SharedInbox}
	for _, a := range actors {
		colls = append(colls, f.Scheme.Collection(a, actor.Outbox), f.Scheme.Collection(a, actor.Inbox))
		if ty, err := f.Store.Objects.Get(ctx, a); err == nil && (ty.Type == "Organization" || ty.Type == "Event") {
			add(a, ty.Updated)
		}
	}
	for _, coll := range colls {
		p, err := f.Store.Collections.Page(ctx, coll, storage.PageOptions{Limit: 50})
		if err != nil {
			return nil, err
		}
		for _, m := range p.Members {
			about(m)
		}
	}
	cp, err := f.Store.Collections.Page(ctx, lemmy.CommunitiesIRI(f.Scheme), storage.PageOptions{Limit: perKind})
	if err != nil {
		return nil, err
	}
	for _, m := range cp.Members {
		add(m.IRI, m.Added)
	}
	var out []section
	for k, l := range lists {
		sort.SliceStable(l, func(i, j int) bool { return l[i].added.After(l[j].added) })
		sec := section{Title: homeKinds[k].title, Empty: homeKinds[k].empty}
		for i, fd := range l {
			if i == perKind {
				break
			}
			var li item
			switch {
			case k == 2:
				li = v.communityLine(ctx, fd.iri)
			case k == 3:
				if li, err = v.postLine(ctx, fd.iri); err != nil {
					return nil, err
				}
			case k == 5:
				li = v.objectLine(ctx, fd.iri)
				n, _ := f.Store.Collections.Count(ctx, f.Scheme.Collection(fd.iri, communecter.Holders), storage.Accepted)
				li.Note += " · " + plural(n, "holder")
				if o, err := f.Store.Objects.Get(ctx, fd.iri); err == nil {
					if d, err := f.Registry.Decode(o.Data); err == nil {
						if b := vocab.Base(d); b != nil {
							li.HTML = sanitize(vocab.TextOf(b.Content))
						}
					}
				}
			case k == 4 || k == 1:
				li = v.objectLine(ctx, fd.iri)
				if a, err := f.Actors.ByIRI(ctx, fd.iri); err == nil {
					li.Label, li.Note = displayName(a), a.Type+" @"+a.Name+"@"+host(fd.iri)
				}
			default:
				li = v.describe(ctx, storage.Member{IRI: fd.iri, Added: fd.added})
				if o, err := f.Store.Objects.Get(ctx, fd.iri); err == nil {
					li.Label = v.actorLabel(ctx, o.Owner)
					li.Link = fd.iri
					li.Note = fd.added.UTC().Format("2006-01-02 15:04")
				}
			}
			sec.Items = append(sec.Items, li)
		}
		out = append(out, sec)
	}
	return out, nil
}
