package refserver

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/vocab"
)

// platform is one platform's part of the reference server, in its own
// file: the collections it serves, what it wraps around the objects
// handler, and its registration (behaviour, control routes, HTML
// sections).
type platform struct {
	name string
	// served are the collection names served besides fedi's own.
	served []string
	// wrapObjects, when set, wraps the handler of GETs below /users/.
	wrapObjects func(s *Server, next http.Handler) http.Handler
	// register registers the behaviour on s.fed.Mux, after core's.
	register func(ctx context.Context, s *Server) error
}

// platforms are the platform registrations, in the order they register:
// Communecter stacks its rules on those of Mobilizon (Joins, Leaves,
// Invites of events) and Gathio (answers to Invites of events), so it
// comes after both.
var platforms = []platform{mobilizonPlatform, gathioPlatform, lemmyPlatform, communecterPlatform}

// servedCollections are the collection names the platforms serve.
func servedCollections() []string {
	var out []string
	seen := map[string]bool{}
	for _, p := range platforms {
		for _, n := range p.served {
			if !seen[n] {
				seen[n] = true
				out = append(out, n)
			}
		}
	}
	return out
}

// registerBehaviours registers the platforms' behaviours on the
// federation, and their control routes and HTML sections.
func registerBehaviours(ctx context.Context, s *Server) error {
	for _, p := range platforms {
		if err := p.register(ctx, s); err != nil {
			return err
		}
	}
	return nil
}

// objectsHandler is the handler of GETs below /users/, wrapped by the
// platforms.
func (s *Server) objectsHandler() http.Handler {
	var h http.Handler = s.fed.Objects
	for _, p := range platforms {
		if p.wrapObjects != nil {
			h = p.wrapObjects(s, h)
		}
	}
	return h
}

// createOf returns the id of the Create of object in u's outbox, among
// its latest activities ("" when it is not there).
func (c *control) createOf(ctx context.Context, u *actor.Actor, object string) string {
	f := c.s.fed
	p, err := f.Store.Collections.Page(ctx, f.Scheme.Collection(u.IRI, actor.Outbox), storage.PageOptions{Limit: 50})
	if err != nil {
		return ""
	}
	for _, m := range p.Members {
		o, err := f.Store.Objects.Get(ctx, m.IRI)
		if err != nil || o.Type != "Create" {
			continue
		}
		it, err := f.Registry.Decode(o.Data)
		if err != nil {
			continue
		}
		if string(vocab.IRIOf(vocab.ObjectOf(it))) == object {
			return m.IRI
		}
	}
	return ""
}

// item returns the document of iri: the stored one (ours, or a cached
// copy), else fetched from its server.
func (c *control) item(ctx context.Context, iri string) (vocab.Item, error) {
	f := c.s.fed
	if o, err := f.Store.Objects.Get(ctx, iri); err == nil {
		if !o.Deleted.IsZero() {
			return nil, &httpError{http.StatusGone, "deleted: " + iri}
		}
		return f.Registry.Decode(o.Data)
	}
	doc, err := f.Client.Get(ctx, iri)
	if err != nil {
		return nil, upstream(err)
	}
	it, err := f.Registry.Decode(doc.Body)
	if err != nil {
		return nil, upstream(err)
	}
	return it, nil
}

// actorArg resolves a field naming an actor, by IRI or handle.
func (c *control) actorArg(ctx context.Context, body map[string]any, key string) (string, error) {
	v, err := need(body, key)
	if err != nil {
		return "", err
	}
	return c.resolve(ctx, v)
}

// intField reads an optional integer field.
func intField(body map[string]any, key string) (int, bool, error) {
	v, ok := body[key]
	if !ok || v == nil {
		return 0, false, nil
	}
	n, isNum := v.(json.Number)
	if !isNum {
		return 0, false, bad("%q is a number", key)
	}
	i, err := strconv.Atoi(n.String())
	if err != nil || i < 0 {
		return 0, false, bad("%q is a whole number, 0 or more", key)
	}
	return i, true, nil
}

// stateName is a member's state as the control API writes it.
func stateName(s storage.State) string {
	if s == storage.Pending {
		return "pending"
	}
	return "accepted"
}

// failed turns a helper's error into the control API's: a refusal the
// caller can fix is a 400 or 404, the rest a 500.
func failed(err error, notFoundErrs ...error) error {
	for _, nf := range notFoundErrs {
		if errors.Is(err, nf) {
			return notFound("%s", oneLine(err))
		}
	}
	return bad("%s", oneLine(err))
}
