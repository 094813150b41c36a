package refserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	ap "github.com/go-ap/activitypub"

	"github.com/fedi-go/fedi"
	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/fetch"
	"github.com/fedi-go/fedi/inbox"
	"github.com/fedi-go/fedi/outbox"
	"github.com/fedi-go/fedi/signature"
	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/vocab"
	"github.com/fedi-go/fedi/webfinger"
)

// ringMax bounds each of the control API's logs.
const ringMax = 5000

// control is the JSON control API at /_control: the routes and shapes of
// the Fedify peer's (see its README), so that one script drives either
// server, plus fedi's own.
type control struct {
	s       *Server
	finger  *webfinger.Client
	started time.Time
	routes  map[string]routeFunc

	mu       sync.Mutex
	changed  chan struct{} // closed, and replaced, when received grows
	received []map[string]any
	recvSeq  int
	rejected []map[string]any
	rejSeq   int
	outgoing []map[string]any
	outSeq   int
	undoable map[string][]undoable // by actor
}

type undoable struct {
	id, kind, object string
}

// routeFunc answers one control route: the request, its JSON body
// (empty for a GET), and the acting local user.
type routeFunc func(ctx context.Context, r *http.Request, body map[string]any, user *actor.Actor) (any, error)

// httpError is a control API error with its status.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func bad(format string, args ...any) error {
	return &httpError{http.StatusBadRequest, fmt.Sprintf(format, args...)}
}

func notFound(format string, args ...any) error {
	return &httpError{http.StatusNotFound, fmt.Sprintf(format, args...)}
}

func upstream(err error) error {
	return &httpError{http.StatusBadGateway, oneLine(err)}
}

func newControl(s *Server, client *fetch.Client) (*control, error) {
	finger, err := webfinger.NewClient(client)
	if err != nil {
		return nil, err
	}
	c := &control{s: s, finger: finger, started: time.Now(), changed: make(chan struct{}), undoable: map[string][]undoable{}}
	c.routes = map[string]routeFunc{
		"GET /_control": c.list,
		"GET /_control/health": func(context.Context, *http.Request, map[string]any, *actor.Actor) (any, error) {
			return map[string]bool{"ok": true}, nil
		},
		"GET /_control/info":            c.info,
		"GET /_control/webfinger":       c.webfinger,
		"GET /_control/lookup":          c.lookup,
		"GET /_control/received":        c.listReceived,
		"GET /_control/rejected":        c.listRejected,
		"GET /_control/outgoing":        c.listOutgoing,
		"GET /_control/followers":       c.followers,
		"GET /_control/following":       c.following,
		"GET /_control/pending":         c.pending,
		"GET /_control/notes":           c.notes,
		"POST /_control/reset":          c.reset,
		"POST /_control/follow":         c.follow,
		"POST /_control/unfollow":       c.unfollow,
		"POST /_control/note":           c.note,
		"POST /_control/update-note":    c.updateNote,
		"POST /_control/update-profile": c.updateProfile,
		"POST /_control/delete":         c.deleteObject,
		"POST /_control/like":           c.like,
		"POST /_control/announce":       c.announce,
		"POST /_control/undo-last":      c.undoLast,
		"POST /_control/undo":           c.undo,
		"POST /_control/accept": func(ctx context.Context, r *http.Request, b map[string]any, u *actor.Actor) (any, error) {
			return c.decide(ctx, b, u, true)
		},
		"POST /_control/reject": func(ctx context.Context, r *http.Request, b map[string]any, u *actor.Actor) (any, error) {
			return c.decide(ctx, b, u, false)
		},
		"POST /_control/send": c.send,
		"POST /_control/user": c.createUser,
	}
	return c, nil
}

// handle registers a route; platforms add theirs.
func (c *control) handle(route string, f routeFunc) { c.routes[route] = f }

// ServeHTTP implements http.Handler.
func (c *control) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !loopbackClient(r) {
		writeJSON(w, http.StatusForbidden, map[string]string{"error": "the control API answers loopback clients only"})
		return
	}
	key := r.Method + " " + strings.TrimSuffix(r.URL.Path, "/")
	f, ok := c.routes[key]
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]any{"error": "no control route " + key, "routes": c.names()})
		return
	}
	body := map[string]any{}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		writeJSON(w, http.StatusRequestEntityTooLarge, map[string]string{"error": "body too large"})
		return
	}
	if len(bytes.TrimSpace(raw)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&body); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "body is not a JSON object: " + oneLine(err)})
			return
		}
	}
	user, err := c.user(r.Context(), r, body)
	if err != nil {
		c.fail(w, err)
		return
	}
	out, err := f(r.Context(), r, body, user)
	if err != nil {
		c.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (c *control) fail(w http.ResponseWriter, err error) {
	var he *httpError
	status := http.StatusInternalServerError
	msg := oneLine(err)
	if errors.As(err, &he) {
		status = he.status
	} else {
		c.s.log.Error("control: route failed", "err", err)
	}
	writeJSON(w, status, map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"cannot encode the answer"}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func loopbackClient(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	return err == nil && fetch.IsLoopbackHost(host)
}

func (c *control) names() []string {
	out := make([]string, 0, len(c.routes))
	for k := range c.routes {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (c *control) list(context.Context, *http.Request, map[string]any, *actor.Actor) (any, error) {
	return c.names(), nil
}

// user returns the local actor a request acts as: "user" in the body or
// the query (a name, a handle or an IRI), else the first -user.
func (c *control) user(ctx context.Context, r *http.Request, body map[string]any) (*actor.Actor, error) {
	name := str(body, "user")
	if name == "" {
		name = r.URL.Query().Get("user")
	}
	if name == "" {
		if len(c.s.users) == 0 {
			return nil, notFound("this server has no local user")
		}
		return c.s.users[0], nil
	}
	dir := c.s.fed.Actors
	if strings.Contains(name, "://") {
		a, err := dir.ByIRI(ctx, name)
		if err != nil {
			return nil, notFound("no local user %s", name)
		}
		return a, nil
	}
	name = strings.TrimPrefix(name, "@")
	name, _, _ = strings.Cut(name, "@")
	a, err := dir.ByName(ctx, name)
	if err != nil {
		return nil, notFound("no local user %s", name)
	}
	return a, nil
}

func str(body map[string]any, key string) string {
	s, _ := body[key].(string)
	return s
}

func need(body map[string]any, key string) (string, error) {
	s := str(body, key)
	if s == "" {
		return "", bad("missing string field %q", key)
	}
	return s, nil
}

// strs reads a string or a list of strings.
func strs(body map[string]any, key string) []string {
	switch v := body[key].(type) {
	case string:
		if v != "" {
			return []string{v}
		}
	case []any:
		var out []string
		for _, el := range v {
			if s, ok := el.(string); ok && s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// observeInbox records what the inboxes accepted and refused.
func (c *control) observeInbox(_ context.Context, ev inbox.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now().UTC().Format(time.RFC3339Nano)
	if ev.Status >= 400 {
		c.rejSeq++
		e := map[string]any{"seq": c.rejSeq, "at": now, "path": ev.Path, "status": ev.Status, "reason": ev.Reason}
		if ev.Err != nil {
			e["detail"] = oneLine(ev.Err)
		}
		if a := ev.Activity; a != nil {
			e["activityId"], e["type"], e["actor"] = a.ID, a.Type, a.Actor
			e["body"] = truncate(string(a.Raw), 4096)
		}
		c.rejected = ring(append(c.rejected, e))
		return
	}
	a := ev.Activity
	if a == nil || len(ev.Recipients) == 0 {
		return
	}
	var names []string
	var recipient any
	for _, r := range ev.Recipients {
		if r == c.s.fed.Scheme.SharedInbox {
			continue
		}
		names = append(names, r)
	}
	if len(names) > 0 {
		recipient = lastSegment(names[0])
	}
	var raw any
	_ = json.Unmarshal(a.Raw, &raw)
	c.recvSeq++
	e := map[string]any{"seq": c.recvSeq, "receivedAt": now, "recipient": recipient, "recipients": names,
		"type": a.Type, "id": a.ID, "actor": a.Actor, "object": objectSummary(raw), "transport": map[string]any{"path": ev.Path},
		"activity": raw}
	if m, ok := raw.(map[string]any); ok {
		if pm, ok := m["participationMessage"]; ok {
			e["participationMessage"] = pm
		}
	}
	c.received = ring(append(c.received, e))
	close(c.changed)
	c.changed = make(chan struct{})
}

func lastSegment(iri string) string {
	return iri[strings.LastIndexByte(iri, '/')+1:]
}

func objectSummary(raw any) any {
	m, ok := raw.(map[string]any)
	if !ok {
		return nil
	}
	switch o := m["object"].(type) {
	case map[string]any:
		out := map[string]any{}
		for _, k := range []string{"id", "type", "content", "name", "attributedTo", "actor", "object"} {
			if v, ok := o[k]; ok {
				out[k] = v
			}
		}
		return out
	default:
		return o
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func ring(l []map[string]any) []map[string]any {
	if len(l) > ringMax {
		return append([]map[string]any(nil), l[len(l)-ringMax:]...)
	}
	return l
}

// observeDelivery records every delivery attempt of the worker.
func (c *control) observeDelivery(e outbox.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.outSeq++
	o := map[string]any{"seq": c.outSeq, "at": time.Now().UTC().Format(time.RFC3339Nano), "method": "POST", "url": e.Inbox,
		"activity": e.Activity, "outcome": e.Kind.String(), "status": e.Status, "attempt": e.Attempt, "ms": e.Latency.Milliseconds()}
	if e.Kind == outbox.Expanded {
		o["method"], o["deliveries"] = "FANOUT", e.Count
	}
	if e.Err != nil {
		o["error"] = oneLine(e.Err)
	}
	c.outgoing = ring(append(c.outgoing, o))
}

func (c *control) info(ctx context.Context, _ *http.Request, _ map[string]any, u *actor.Actor) (any, error) {
	f := c.s.fed
	out := map[string]any{"fedi": fedi.Version, "go": runtime.Version(), "origin": f.Scheme.Origin, "sharedInbox": f.Scheme.SharedInbox,
		"startedAt": c.started.UTC().Format(time.RFC3339), "store": c.s.storeIs}
	host := strings.TrimPrefix(strings.TrimPrefix(f.Scheme.Origin, "https://"), "http://")
	out["actor"], out["handle"] = u.IRI, u.Name+"@"+host
	out["inbox"] = f.Scheme.Collection(u.IRI, actor.Inbox)
	out["followers"] = f.Scheme.Collection(u.IRI, actor.Followers)
	var keys []map[string]string
	ks, err := f.Store.Keys.Keys(ctx, u.IRI)
	if err != nil {
		return nil, err
	}
	for _, k := range ks {
		alg := "?"
		if s, err := k.PrivateKey(); err == nil {
			alg = fmt.Sprintf("%T", s.Public())
		}
		keys = append(keys, map[string]string{"keyId": k.ID, "algorithm": alg})
	}
	out["keys"] = keys
	return out, nil
}

// resolve returns the actor IRI of a handle or IRI, through WebFinger.
func (c *control) resolve(ctx context.Context, handleOrIRI string) (string, error) {
	if strings.HasPrefix(handleOrIRI, "http://") || strings.HasPrefix(handleOrIRI, "https://") {
		return handleOrIRI, nil
	}
	// A bare name is one of our actors.
	if name := strings.TrimPrefix(handleOrIRI, "@"); !strings.Contains(name, "@") {
		a, err := c.s.fed.Actors.ByName(ctx, name)
		if err != nil {
			return "", notFound("no local actor %s (a remote one is user@host)", name)
		}
		return a.IRI, nil
	}
	iri, err := c.finger.Resolve(ctx, handleOrIRI)
	if errors.Is(err, webfinger.ErrBadResource) {
		return "", bad("%s", oneLine(err))
	}
	if err != nil {
		return "", upstream(err)
	}
	return iri, nil
}

// fingerJRD fetches the raw JRD of a handle, for the webfinger route:
// over http for a loopback host when loopback is allowed, https
// otherwise, as webfinger.Client.Lookup does.
func (c *control) fingerJRD(ctx context.Context, handle string) (string, []byte, error) {
	user, host, err := webfinger.ParseHandle(handle)
	if err != nil {
		return "", nil, bad("%s", oneLine(err))
	}
	client := c.s.fed.Client
	scheme := "https"
	if u, err := url.Parse("http://" + host); err == nil && client.AllowsLoopback() && fetch.IsLoopbackHost(u.Hostname()) {
		scheme = "http"
	}
	u := scheme + "://" + host + "/.well-known/webfinger?resource=" + url.QueryEscape("acct:"+user+"@"+host)
	resp, err := client.GetJSON(ctx, u, "application/jrd+json")
	if err != nil {
		return u, nil, upstream(err)
	}
	return u, resp.Body, nil
}

func (c *control) webfinger(ctx context.Context, r *http.Request, _ map[string]any, _ *actor.Actor) (any, error) {
	res := r.URL.Query().Get("resource")
	if res == "" {
		res = r.URL.Query().Get("handle")
	}
	if res == "" {
		return nil, bad("resource=acct:user@host required")
	}
	u, jrd, err := c.fingerJRD(ctx, res)
	if err != nil {
		return nil, err
	}
	var v any
	_ = json.Unmarshal(jrd, &v)
	return map[string]any{"url": u, "contentType": "application/jrd+json", "jrd": v}, nil
}

func (c *control) lookup(ctx context.Context, r *http.Request, _ map[string]any, _ *actor.Actor) (any, error) {
	target := r.URL.Query().Get("iri")
	if target == "" {
		target = r.URL.Query().Get("handle")
	}
	if target == "" {
		return nil, bad("iri=... or handle=... required")
	}
	iri, err := c.resolve(ctx, target)
	if err != nil {
		return nil, err
	}
	doc, err := c.s.fed.Client.Get(ctx, iri)
	if err != nil {
		return nil, upstream(err)
	}
	it, err := c.s.fed.Registry.Decode(doc.Body)
	if err != nil {
		return nil, upstream(err)
	}
	var raw any
	_ = json.Unmarshal(doc.Body, &raw)
	out := map[string]any{"class": string(it.GetType()), "id": doc.ID, "jsonLd": raw}
	if a, ok := it.(*vocab.Actor); ok {
		ra, err := actor.RemoteFromDocument(a, doc.Body)
		if err == nil {
			var keys []string
			for _, k := range ra.Keys {
				keys = append(keys, k.ID)
			}
			out["actor"] = map[string]any{"preferredUsername": vocab.TextOf(a.PreferredUsername), "inbox": ra.Inbox,
				"sharedInbox": ra.SharedInbox, "outbox": string(vocab.IRIOf(a.Outbox)), "followers": string(vocab.IRIOf(a.Followers)),
				"publicKeyIds": keys}
		}
	}
	return out, nil
}

// listReceived answers ?type, actor, id, since, full=0, wait, min and
// user, as the Fedify peer does.
func (c *control) listReceived(ctx context.Context, r *http.Request, _ map[string]any, _ *actor.Actor) (any, error) {
	q := r.URL.Query()
	typ, actorIRI, id := q.Get("type"), q.Get("actor"), q.Get("id")
	since, _ := strconv.Atoi(q.Get("since"))
	minN, _ := strconv.Atoi(q.Get("min"))
	minN = max(minN, 1)
	wait, _ := strconv.ParseFloat(q.Get("wait"), 64)
	wait = min(max(wait, 0), 30)
	var userIRI string
	if name := q.Get("user"); name != "" {
		u, err := c.user(ctx, r, map[string]any{})
		if err != nil {
			return nil, err
		}
		userIRI = u.IRI
	}
	selectFn := func() []map[string]any {
		var out []map[string]any
		for _, e := range c.received {
			if typ != "" && e["type"] != typ {
				continue
			}
			if since > 0 && e["seq"].(int) <= since {
				continue
			}
			if actorIRI != "" && e["actor"] != actorIRI {
				continue
			}
			if id != "" && e["id"] != id {
				continue
			}
			if userIRI != "" {
				found := false
				for _, r := range e["recipients"].([]string) {
					found = found || r == userIRI
				}
				if !found {
					continue
				}
			}
			out = append(out, e)
		}
		return out
	}
	deadline := time.Now().Add(time.Duration(wait * float64(time.Second)))
	for {
		c.mu.Lock()
		items := selectFn()
		changed := c.changed
		c.mu.Unlock()
		if len(items) >= minN || !time.Now().Before(deadline) {
			if q.Get("full") == "0" {
				slim := make([]map[string]any, len(items))
				for i, e := range items {
					s := map[string]any{}
					for k, v := range e {
						if k != "activity" {
							s[k] = v
						}
					}
					slim[i] = s
				}
				return slim, nil
			}
			if items == nil {
				items = []map[string]any{}
			}
			return items, nil
		}
		select {
		case <-changed:
		case <-time.After(time.Until(deadline)):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func (c *control) listRejected(context.Context, *http.Request, map[string]any, *actor.Actor) (any, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]map[string]any{}, c.rejected...), nil
}

func (c *control) listOutgoing(_ context.Context, r *http.Request, _ map[string]any, _ *actor.Actor) (any, error) {
	since, _ := strconv.Atoi(r.URL.Query().Get("since"))
	c.mu.Lock()
	defer c.mu.Unlock()
	out := []map[string]any{}
	for _, o := range c.outgoing {
		if o["seq"].(int) > since {
			out = append(out, o)
		}
	}
	return out, nil
}

func (c *control) reset(context.Context, *http.Request, map[string]any, *actor.Actor) (any, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.received, c.rejected, c.outgoing = nil, nil, nil
	return map[string]bool{"ok": true}, nil
}

// members pages through a whole collection (bounded).
func (c *control) members(ctx context.Context, coll string, state storage.State) ([]storage.Member, error) {
	var out []storage.Member
	cursor := ""
	for len(out) < 10000 {
		p, err := c.s.fed.Store.Collections.Page(ctx, coll, storage.PageOptions{State: state, Cursor: cursor, Limit: storage.MaxPageLimit})
		if err != nil {
			return nil, err
		}
		out = append(out, p.Members...)
		if p.Next == "" {
			break
		}
		cursor = p.Next
	}
	return out, nil
}

func (c *control) followers(ctx context.Context, _ *http.Request, _ map[string]any, u *actor.Actor) (any, error) {
	ms, err := c.members(ctx, c.s.fed.Scheme.Collection(u.IRI, actor.Followers), storage.Accepted)
	if err != nil {
		return nil, err
	}
	out := []map[string]any{}
	for _, m := range ms {
		e := map[string]any{"id": m.IRI, "followId": m.Activity, "at": m.Added.UTC().Format(time.RFC3339)}
		if ra, err := c.s.fed.Store.Actors.Get(ctx, m.IRI); err == nil {
			e["inbox"], e["sharedInbox"] = ra.Inbox, nullable(ra.SharedInbox)
		}
		out = append(out, e)
	}
	return out, nil
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (c *control) following(ctx context.Context, _ *http.Request, _ map[string]any, u *actor.Actor) (any, error) {
	coll := c.s.fed.Scheme.Collection(u.IRI, actor.Following)
	out := []map[string]any{}
	for _, state := range []storage.State{storage.Accepted, storage.Pending} {
		ms, err := c.members(ctx, coll, state)
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			e := map[string]any{"actor": m.IRI, "followId": m.Activity, "state": map[storage.State]string{storage.Accepted: "accepted", storage.Pending: "pending"}[state]}
			out = append(out, e)
		}
	}
	return out, nil
}

func (c *control) pending(ctx context.Context, r *http.Request, body map[string]any, u *actor.Actor) (any, error) {
	ms, err := c.members(ctx, c.s.fed.Scheme.Collection(u.IRI, actor.Followers), storage.Pending)
	if err != nil {
		return nil, err
	}
	follows := []map[string]any{}
	for _, m := range ms {
		follows = append(follows, map[string]any{"id": m.Activity, "actor": m.IRI})
	}
	out := map[string]any{"follows": follows, "joins": []any{}}
	for _, extra := range pendingExtras {
		if err := extra(ctx, c, u, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// pendingExtras add the platforms' pending requests to GET pending.
var pendingExtras []func(ctx context.Context, c *control, u *actor.Actor, out map[string]any) error

func (c *control) notes(ctx context.Context, _ *http.Request, _ map[string]any, u *actor.Actor) (any, error) {
	s := c.s.fed.Scheme
	ms, err := c.members(ctx, s.Collection(u.IRI, actor.Outbox), storage.Accepted)
	if err != nil {
		return nil, err
	}
	out := []map[string]any{}
	for _, m := range ms {
		o, err := c.s.fed.Store.Objects.Get(ctx, m.IRI)
		if err != nil || o.Type != "Create" {
			continue
		}
		it, err := c.s.fed.Registry.Decode(o.Data)
		if err != nil {
			continue
		}
		obj := vocab.ObjectOf(it)
		if obj == nil || !vocab.HasType(obj, "Note") {
			continue
		}
		id := string(vocab.IRIOf(obj))
		stored, err := c.s.fed.Store.Objects.Get(ctx, id)
		e := map[string]any{"id": id, "deleted": err == nil && !stored.Deleted.IsZero()}
		for name, key := range map[string]string{actor.Likes: "likes", actor.Shares: "shares"} {
			l := []map[string]any{}
			ms, err := c.members(ctx, s.Collection(id, name), storage.Accepted)
			if err != nil {
				return nil, err
			}
			for _, m := range ms {
				l = append(l, map[string]any{"id": m.Activity, "actor": m.IRI})
			}
			e[key] = l
		}
		replies := []string{}
		rs, err := c.members(ctx, s.Collection(id, actor.Replies), storage.Accepted)
		if err != nil {
			return nil, err
		}
		for _, m := range rs {
			replies = append(replies, m.IRI)
		}
		e["replies"] = replies
		out = append(out, e)
	}
	return out, nil
}

// sendAs sends an activity of u and records what it can undo.
func (c *control) sendAs(ctx context.Context, u *actor.Actor, act *vocab.Activity, kind string, to []string) (map[string]any, error) {
	id, err := c.s.fed.Send(ctx, act)
	if err != nil {
		return nil, bad("%s", oneLine(err))
	}
	if kind != "" {
		c.mu.Lock()
		c.undoable[u.IRI] = append(c.undoable[u.IRI], undoable{id: id, kind: kind, object: string(vocab.IRIOf(act.Object))})
		c.mu.Unlock()
	}
	if to == nil {
		to = []string{}
	}
	return map[string]any{"id": id, "type": string(act.Type), "to": to, "queued": true}, nil
}

// resolveActor resolves the body's "handle", or else its "actor".
func (c *control) resolveActor(ctx context.Context, body map[string]any) (string, error) {
	target := str(body, "handle")
	if target == "" {
		target = str(body, "actor")
	}
	if target == "" {
		return "", bad(`"handle" or "actor" required`)
	}
	return c.resolve(ctx, target)
}

func (c *control) follow(ctx context.Context, _ *http.Request, body map[string]any, u *actor.Actor) (any, error) {
	iri, err := c.resolveActor(ctx, body)
	if err != nil {
		return nil, err
	}
	f := vocab.NewActivity("Follow", "", ap.IRI(u.IRI), ap.IRI(iri))
	f.To = ap.ItemCollection{ap.IRI(iri)}
	return c.sendAs(ctx, u, f, "follow", []string{iri})
}

func (c *control) unfollow(ctx context.Context, _ *http.Request, body map[string]any, u *actor.Actor) (any, error) {
	iri, err := c.resolveActor(ctx, body)
	if err != nil {
		return nil, err
	}
	m, err := c.s.fed.Store.Collections.Contains(ctx, c.s.fed.Scheme.Collection(u.IRI, actor.Following), iri)
	if err != nil {
		return nil, notFound("not following %s", iri)
	}
	undone, err := c.stored(ctx, m.Activity)
	if err != nil {
		return nil, err
	}
	undo := vocab.NewActivity("Undo", "", ap.IRI(u.IRI), undone)
	undo.To = ap.ItemCollection{ap.IRI(iri)}
	return c.sendAs(ctx, u, undo, "", []string{iri})
}

// stored returns the stored item iri, or its IRI when it is not stored.
func (c *control) stored(ctx context.Context, iri string) (vocab.Item, error) {
	o, err := c.s.fed.Store.Objects.Get(ctx, iri)
	if errors.Is(err, storage.ErrNotFound) {
		return ap.IRI(iri), nil
	}
	if err != nil {
		return nil, err
	}
	return c.s.fed.Registry.Decode(o.Data)
}

func (c *control) note(ctx context.Context, _ *http.Request, body map[string]any, u *actor.Actor) (any, error) {
	content, err := need(body, "content")
	if err != nil {
		return nil, err
	}
	s := c.s.fed.Scheme
	followers := ap.IRI(s.Collection(u.IRI, actor.Followers))
	var to, cc ap.ItemCollection
	visibility := str(body, "visibility")
	switch visibility {
	case "", "public":
		to, cc = ap.ItemCollection{vocab.PublicIRI}, ap.ItemCollection{followers}
	case "followers":
		to = ap.ItemCollection{followers}
	case "direct":
	default:
		return nil, bad(`"visibility" is public, followers or direct`)
	}
	note := vocab.NewObject("Note", "")
	note.Content = vocab.Text(content)
	if sum := str(body, "summary"); sum != "" {
		note.Summary = vocab.Text(sum)
	}
	if irt := str(body, "inReplyTo"); irt != "" {
		note.InReplyTo = ap.IRI(irt)
	}
	var tags ap.ItemCollection
	for _, m := range append(strs(body, "mention"), strs(body, "mentions")...) {
		iri, err := c.resolve(ctx, m)
		if err != nil {
			return nil, err
		}
		tags = append(tags, vocab.NewLink("Mention", ap.IRI(iri), m))
		if visibility == "direct" {
			to = append(to, ap.IRI(iri))
		} else {
			cc = append(cc, ap.IRI(iri))
		}
	}
	for _, t := range strs(body, "to") {
		iri, err := c.resolve(ctx, t)
		if err != nil {
			return nil, err
		}
		cc = append(cc, ap.IRI(iri))
	}
	note.Tag = tags
	note.To, note.CC = to, cc
	create := vocab.NewActivity("Create", "", ap.IRI(u.IRI), note)
	create.To, create.CC = to, cc
	d, err := c.sendAs(ctx, u, create, "", nil)
	if err != nil {
		return nil, err
	}
	return map[string]any{"note": string(note.ID), "create": d["id"], "delivery": d}, nil
}

// ours returns a stored object of u's.
func (c *control) ours(ctx context.Context, u *actor.Actor, iri string) (vocab.Item, error) {
	o, err := c.s.fed.Store.Objects.Get(ctx, iri)
	if err != nil || o.Owner != u.IRI || !o.Deleted.IsZero() {
		return nil, notFound("not one of %s's objects: %s", u.Name, iri)
	}
	return c.s.fed.Registry.Decode(o.Data)
}

func (c *control) updateNote(ctx context.Context, _ *http.Request, body map[string]any, u *actor.Actor) (any, error) {
	iri, err := need(body, "object")
	if err != nil {
		return nil, err
	}
	content, err := need(body, "content")
	if err != nil {
		return nil, err
	}
	it, err := c.ours(ctx, u, iri)
	if err != nil {
		return nil, err
	}
	b := vocab.Base(it)
	b.Content = vocab.Text(content)
	b.Updated = time.Now().UTC().Truncate(time.Second)
	up := vocab.NewActivity("Update", "", ap.IRI(u.IRI), it)
	up.To, up.CC = b.To, b.CC
	return c.sendAs(ctx, u, up, "", nil)
}

func (c *control) updateProfile(ctx context.Context, _ *http.Request, body map[string]any, u *actor.Actor) (any, error) {
	name := str(body, "name")
	prof, _ := u.Profile.(*vocab.Actor)
	if prof == nil {
		prof = vocab.NewActor(u.Type, ap.IRI(u.IRI))
	}
	if name != "" {
		prof.Name = vocab.Text(name)
	}
	u.Profile = prof
	if err := c.s.fed.LocalActors.Update(ctx, u); err != nil {
		return nil, err
	}
	doc, err := actor.Document(ctx, c.s.fed.Scheme, c.s.fed.Store.Keys, u)
	if err != nil {
		return nil, err
	}
	up := vocab.NewActivity("Update", "", ap.IRI(u.IRI), doc)
	up.To = ap.ItemCollection{vocab.PublicIRI}
	up.CC = ap.ItemCollection{ap.IRI(c.s.fed.Scheme.Collection(u.IRI, actor.Followers))}
	return c.sendAs(ctx, u, up, "", []string{"followers"})
}

func (c *control) deleteObject(ctx context.Context, _ *http.Request, body map[string]any, u *actor.Actor) (any, error) {
	iri, err := need(body, "object")
	if err != nil {
		return nil, err
	}
	it, err := c.ours(ctx, u, iri)
	if err != nil {
		return nil, err
	}
	b := vocab.Base(it)
	del := vocab.NewActivity("Delete", "", ap.IRI(u.IRI), vocab.NewTombstone(ap.IRI(iri), string(b.Type), time.Now().UTC().Truncate(time.Second)))
	del.To = ap.ItemCollection{vocab.PublicIRI}
	del.CC = ap.ItemCollection{ap.IRI(c.s.fed.Scheme.Collection(u.IRI, actor.Followers))}
	for _, el := range append(append(ap.ItemCollection{}, b.To...), b.CC...) {
		if iri := vocab.IRIOf(el); iri != "" && !vocab.IsPublic(iri) {
			del.CC = append(del.CC, iri)
		}
	}
	return c.sendAs(ctx, u, del, "", []string{"followers"})
}

// ownerOf returns who to send a reaction to: "to", or the object's
// author (stored or fetched).
func (c *control) ownerOf(ctx context.Context, iri string, body map[string]any) (string, error) {
	if to := str(body, "to"); to != "" {
		return c.resolve(ctx, to)
	}
	if o, err := c.s.fed.Store.Objects.Get(ctx, iri); err == nil && o.Owner != "" {
		return o.Owner, nil
	}
	doc, err := c.s.fed.Client.Get(ctx, iri)
	if err != nil {
		return "", upstream(fmt.Errorf("could not fetch %s; pass \"to\": %w", iri, err))
	}
	it, err := c.s.fed.Registry.Decode(doc.Body)
	if err != nil {
		return "", upstream(err)
	}
	if by := vocab.AttributedTo(it); len(by) > 0 {
		return string(by[0]), nil
	}
	if a := vocab.ActorOf(it); a != nil {
		return string(vocab.IRIOf(a)), nil
	}
	return "", upstream(fmt.Errorf("%s has no attributedTo; pass \"to\"", iri))
}

func (c *control) like(ctx context.Context, _ *http.Request, body map[string]any, u *actor.Actor) (any, error) {
	iri, err := need(body, "object")
	if err != nil {
		return nil, err
	}
	owner, err := c.ownerOf(ctx, iri, body)
	if err != nil {
		return nil, err
	}
	l := vocab.NewActivity("Like", "", ap.IRI(u.IRI), ap.IRI(iri))
	l.To = ap.ItemCollection{ap.IRI(owner)}
	return c.sendAs(ctx, u, l, "like", []string{owner})
}

func (c *control) announce(ctx context.Context, _ *http.Request, body map[string]any, u *actor.Actor) (any, error) {
	iri, err := need(body, "object")
	if err != nil {
		return nil, err
	}
	owner, err := c.ownerOf(ctx, iri, body)
	if err != nil {
		return nil, err
	}
	a := vocab.NewActivity("Announce", "", ap.IRI(u.IRI), ap.IRI(iri))
	a.To = ap.ItemCollection{vocab.PublicIRI}
	a.CC = ap.ItemCollection{ap.IRI(c.s.fed.Scheme.Collection(u.IRI, actor.Followers)), ap.IRI(owner)}
	return c.sendAs(ctx, u, a, "announce", []string{owner, "followers"})
}

func (c *control) undoLast(ctx context.Context, _ *http.Request, _ map[string]any, u *actor.Actor) (any, error) {
	c.mu.Lock()
	l := c.undoable[u.IRI]
	if len(l) == 0 {
		c.mu.Unlock()
		return nil, &httpError{http.StatusConflict, "nothing to undo"}
	}
	last := l[len(l)-1]
	c.undoable[u.IRI] = l[:len(l)-1]
	c.mu.Unlock()
	return c.undoActivity(ctx, u, last)
}

func (c *control) undo(ctx context.Context, _ *http.Request, body map[string]any, u *actor.Actor) (any, error) {
	iri, err := need(body, "activity")
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	l := c.undoable[u.IRI]
	idx := -1
	for i := len(l) - 1; i >= 0; i-- {
		if l[i].id == iri {
			idx = i
			break
		}
	}
	if idx < 0 {
		c.mu.Unlock()
		// Any activity of the user's may be undone, not only those
		// this process sent.
		return c.undoActivity(ctx, u, undoable{id: iri})
	}
	it := l[idx]
	c.undoable[u.IRI] = append(l[:idx:idx], l[idx+1:]...)
	c.mu.Unlock()
	return c.undoActivity(ctx, u, it)
}

func (c *control) undoActivity(ctx context.Context, u *actor.Actor, it undoable) (any, error) {
	undone, err := c.ours(ctx, u, it.id)
	if err != nil {
		return nil, err
	}
	b := vocab.Base(undone)
	undo := vocab.NewActivity("Undo", "", ap.IRI(u.IRI), undone)
	undo.To, undo.CC = b.To, b.CC
	d, err := c.sendAs(ctx, u, undo, "", nil)
	if err != nil {
		return nil, err
	}
	return map[string]any{"id": d["id"], "undid": it.id, "kind": it.kind, "delivery": d}, nil
}

// decide answers a pending request: a Follow of u, or one a platform
// keeps (Join, Invite, badge assignment).
func (c *control) decide(ctx context.Context, body map[string]any, u *actor.Actor, accept bool) (any, error) {
	id, err := need(body, "activity")
	if err != nil {
		return nil, err
	}
	for _, d := range deciders {
		out, handled, err := d(ctx, c, u, id, accept)
		if handled || err != nil {
			return out, err
		}
	}
	f := c.s.fed
	follow, err := f.Store.Objects.Get(ctx, id)
	if err != nil || follow.Type != "Follow" {
		return nil, notFound("no pending Follow, Join, Invite or assignment with that id (GET /_control/pending)")
	}
	ansID, err := acceptPending(ctx, c, u, follow.Owner, accept)
	if err != nil {
		return nil, notFound("%s", oneLine(err))
	}
	typ := "Reject"
	if accept {
		typ = "Accept"
	}
	return map[string]any{"id": ansID, "type": typ}, nil
}

// deciders answer the platforms' pending requests; each reports whether
// the id was one of its own.
var deciders []func(ctx context.Context, c *control, u *actor.Actor, id string, accept bool) (any, bool, error)

// send sends any JSON, signed by u's key, once, synchronously: to "inbox",
// or to the inboxes of "to" (actors, handles, "followers").
func (c *control) send(ctx context.Context, _ *http.Request, body map[string]any, u *actor.Actor) (any, error) {
	act, ok := body["activity"].(map[string]any)
	if !ok {
		return nil, bad(`"activity" object required`)
	}
	f := c.s.fed
	if _, ok := act["id"]; !ok {
		act["id"] = f.Scheme.NewID(u.IRI, "raw")
	}
	if _, ok := act["actor"]; !ok {
		act["actor"] = u.IRI
	}
	if _, ok := act["@context"]; !ok {
		act["@context"] = "https://www.w3.org/ns/activitystreams"
	}
	raw, err := json.Marshal(act)
	if err != nil {
		return nil, bad("activity: %s", oneLine(err))
	}
	var inboxes []string
	if in := str(body, "inbox"); in != "" {
		inboxes = []string{in}
	} else {
		to := strs(body, "to")
		if len(to) == 0 {
			to = []string{"followers"}
		}
		for _, t := range to {
			if t == "followers" {
				ms, err := c.members(ctx, f.Scheme.Collection(u.IRI, actor.Followers), storage.Accepted)
				if err != nil {
					return nil, err
				}
				for _, m := range ms {
					if ra, err := f.Remote.Get(ctx, m.IRI); err == nil {
						inboxes = append(inboxes, actor.DeliveryInbox(ra))
					}
				}
				continue
			}
			iri, err := c.resolve(ctx, t)
			if err != nil {
				return nil, err
			}
			ra, err := f.Remote.Get(ctx, iri)
			if err != nil {
				return nil, upstream(err)
			}
			inboxes = append(inboxes, actor.DeliveryInbox(ra))
		}
	}
	ks, err := f.Store.Keys.Keys(ctx, u.IRI)
	if err != nil || len(ks) == 0 {
		return nil, fmt.Errorf("no key for %s", u.IRI)
	}
	key, err := ks[0].PrivateKey()
	if err != nil {
		return nil, err
	}
	signer, err := signature.NewSigner(signature.SignerOptions{KeyID: ks[0].ID, Key: key})
	if err != nil {
		return nil, err
	}
	deliveries := []map[string]any{}
	seen := map[string]bool{}
	for _, in := range inboxes {
		if seen[in] {
			continue
		}
		seen[in] = true
		resp, err := f.Client.Post(ctx, in, "application/activity+json", raw, signer)
		if err != nil {
			deliveries = append(deliveries, map[string]any{"inbox": in, "status": 0, "error": oneLine(err)})
			continue
		}
		deliveries = append(deliveries, map[string]any{"inbox": in, "status": resp.StatusCode, "body": truncate(string(resp.Body), 2048)})
	}
	return map[string]any{"id": act["id"], "deliveries": deliveries}, nil
}

func (c *control) createUser(ctx context.Context, _ *http.Request, body map[string]any, _ *actor.Actor) (any, error) {
	name, err := need(body, "name")
	if err != nil {
		return nil, err
	}
	typ := str(body, "type")
	if typ == "" {
		typ = "Person"
	}
	switch typ {
	case "Person", "Group", "Organization", "Service", "Application":
	default:
		return nil, bad(`"type" is Person, Group, Organization, Service or Application`)
	}
	manual, _ := body["manualApproval"].(bool)
	a, err := c.s.fed.LocalActors.Create(ctx, actor.Actor{Name: name, Type: typ, ManuallyApprovesFollowers: manual})
	if errors.Is(err, actor.ErrExists) {
		return nil, &httpError{http.StatusConflict, "the user exists: " + name}
	}
	if err != nil {
		return nil, bad("%s", oneLine(err))
	}
	return c.actorAnswer(a), nil
}

func (c *control) actorAnswer(a *actor.Actor) map[string]any {
	host := strings.TrimPrefix(strings.TrimPrefix(c.s.fed.Scheme.Origin, "https://"), "http://")
	return map[string]any{"actor": a.IRI, "handle": a.Name + "@" + host, "inbox": c.s.fed.Scheme.Collection(a.IRI, actor.Inbox)}
}
