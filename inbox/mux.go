package inbox

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"

	ap "github.com/go-ap/activitypub"

	"github.com/fedi-go/fedi/vocab"
)

// Rule is what a handler registered on a Mux does with one kind of
// activity, split as Lemmy splits it: Check decides whether the activity
// may have its effects, and Apply has them. Check runs before any effect
// of the activity, outside the storage transaction, and may read storage
// and fetch; Apply runs inside the transaction that also records the
// activity as received, writes through a.Store only, and does no network
// I/O (what it sends goes through a.Send, which only enqueues). A handler
// can assume that what reaches Apply was checked.
type Rule[O vocab.Item] struct {
	// Doc is one line saying what the handler does, for FEDERATION.md:
	// "adds the actor to the followers and answers with Accept".
	Doc string
	// Check, when set, refuses an activity its actor may not send, with
	// an *Error (Forbid, Reject) or any error (500).
	Check func(ctx context.Context, a *Activity, obj O) error
	// Apply has the activity's effects. An *Error refuses it; any other
	// error is ours (500, so that the peer retries). Either way, nothing
	// Apply wrote is kept.
	Apply func(ctx context.Context, a *Activity, obj O) error
}

// Route describes one registration, as Mux.Routes lists them.
type Route struct {
	// Pattern is the pattern as registered: "Follow" or "Create Note".
	Pattern string
	// Activity is the activity type, Object the object type or "".
	Activity, Object string
	// Doc is the Rule's Doc.
	Doc string
	// ObjectKind says what the handler takes as the object: "IRI",
	// "any", or the Go type of the embedded object.
	ObjectKind string
}

// Mux routes activities to their handlers by activity type and,
// optionally, the object's type. Registration is checked: a malformed or
// duplicate pattern, or a type no registered vocabulary defines, panics,
// as http.ServeMux does. It is safe for concurrent use once the Handler
// serves; register everything before.
type Mux struct {
	reg      *vocab.Registry
	mu       sync.RWMutex
	routes   map[routeKey]*route
	fallback *route
	typed    map[string]bool // activity types with a route by object type
}

type routeKey struct{ act, obj string }

type route struct {
	Route
	// next is the route registered before this one for the same pattern
	// (see Stack): it takes what this one passes.
	next *route
	// needs says what the object must be for the route: an embedded
	// object of the wrapper type it names, or anything.
	needs  reflect.Type // nil: an IRI or anything
	check  func(ctx context.Context, a *Activity) error
	apply  func(ctx context.Context, a *Activity) error
	accept func(vocab.Item) bool // whether the object converts to O
}

// NewMux returns an empty Mux whose patterns are checked against reg.
func NewMux(reg *vocab.Registry) *Mux {
	return &Mux{reg: reg, routes: map[routeKey]*route{}, typed: map[string]bool{}}
}

// Registry returns the registry the Mux checks types against.
func (m *Mux) Registry() *vocab.Registry { return m.reg }

// On registers apply for the activities matching pattern: an activity
// type ("Follow"), or an activity type and an object type ("Join
// Event"). The object reaches apply as O: ap.IRI for its IRI, vocab.Item
// for whatever it is, or a wrapper type (*vocab.Object, *vocab.Activity,
// *vocab.Actor, ...) for the embedded object, fetched from its origin
// when the activity gave only its IRI. doc says in one line what it does.
func On[O vocab.Item](m *Mux, pattern, doc string, apply func(ctx context.Context, a *Activity, obj O) error) {
	Handle(m, pattern, Rule[O]{Doc: doc, Apply: apply})
}

// Handle registers a Rule for pattern, as On does.
func Handle[O vocab.Item](m *Mux, pattern string, r Rule[O]) {
	m.register(pattern, newRoute(m, pattern, r), false)
}

// Replace replaces the Rule registered for pattern, so that an
// application or a platform can change one default behaviour; it panics
// when nothing is registered for pattern.
func Replace[O vocab.Item](m *Mux, pattern string, r Rule[O]) {
	m.register(pattern, newRoute(m, pattern, r), true)
}

// ErrPass is returned by a Rule's Check that does not handle the
// activity it was given, so that the Rule registered before it for the
// same pattern (see Stack) has it, or the fallback when there is none.
// Only Check may pass: by Apply, the activity was checked for this Rule.
var ErrPass = errors.New("inbox: not handled here, pass it on")

// Stack registers a Rule for pattern on top of the one registered
// before, if any: the new Rule sees the activities first and its Check
// passes the ones it does not handle with ErrPass. Two platforms that both answer
// an "Accept Invite", one of events and one of projects, stack their
// rules.
func Stack[O vocab.Item](m *Mux, pattern string, r Rule[O]) {
	rt := newRoute(m, pattern, r)
	m.mu.Lock()
	defer m.mu.Unlock()
	k := routeKey{rt.Activity, rt.Object}
	rt.next = m.routes[k]
	m.routes[k] = rt
	if rt.Object != "" {
		m.typed[rt.Activity] = true
	}
}

// Fallback sets the handler of the activities no route takes. The
// default records the activity in the recipient's inbox collection and
// logs it at debug level (see Options.Logger).
func Fallback(m *Mux, doc string, apply func(ctx context.Context, a *Activity) error) {
	if apply == nil {
		panic("inbox: Fallback with a nil function")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.fallback = &route{Route: Route{Pattern: "*", Doc: doc, ObjectKind: "any"}, apply: apply,
		accept: func(vocab.Item) bool { return true }}
}

func newRoute[O vocab.Item](m *Mux, pattern string, r Rule[O]) *route {
	if r.Apply == nil {
		panic(fmt.Sprintf("inbox: %q registered without Apply", pattern))
	}
	if strings.TrimSpace(r.Doc) == "" || strings.ContainsAny(r.Doc, "\n\r") {
		panic(fmt.Sprintf("inbox: %q needs a one-line Doc, for FEDERATION.md", pattern))
	}
	act, obj, err := parsePattern(pattern)
	if err != nil {
		panic(err.Error())
	}
	for _, t := range []string{act, obj} {
		if t == "" {
			continue
		}
		if _, ok := m.reg.ShapeOf(t); !ok {
			panic(fmt.Sprintf("inbox: %q: no registered vocabulary defines the type %q", pattern, t))
		}
	}
	var zero O
	rt := &route{Route: Route{Pattern: pattern, Activity: act, Object: obj, Doc: r.Doc}}
	switch any(zero).(type) {
	case ap.IRI:
		rt.ObjectKind = "IRI"
		rt.accept = func(it vocab.Item) bool { return vocab.IRIOf(it) != "" }
	default:
		if t := reflect.TypeFor[O](); t.Kind() == reflect.Interface {
			rt.ObjectKind = "any"
			rt.accept = func(it vocab.Item) bool { _, ok := it.(O); return ok }
		} else {
			rt.ObjectKind = t.String()
			rt.needs = t
			rt.accept = func(it vocab.Item) bool { _, ok := it.(O); return ok }
			if obj != "" {
				shape, _ := m.reg.ShapeOf(obj)
				if want := shapeType(shape); want != nil && want != t {
					panic(fmt.Sprintf("inbox: %q: a %s decodes to %v, not %v", pattern, obj, want, t))
				}
			}
		}
	}
	conv := func(a *Activity) O {
		var zero O
		if _, ok := any(zero).(ap.IRI); ok {
			return any(vocab.IRIOf(a.Object)).(O)
		}
		o, _ := a.Object.(O)
		return o
	}
	rt.apply = func(ctx context.Context, a *Activity) error { return r.Apply(ctx, a, conv(a)) }
	if r.Check != nil {
		rt.check = func(ctx context.Context, a *Activity) error { return r.Check(ctx, a, conv(a)) }
	}
	return rt
}

// shapeType is the Go type a shape decodes to.
func shapeType(s vocab.Shape) reflect.Type {
	switch s {
	case vocab.ShapeObject:
		return reflect.TypeFor[*vocab.Object]()
	case vocab.ShapeActivity:
		return reflect.TypeFor[*vocab.Activity]()
	case vocab.ShapeIntransitiveActivity:
		return reflect.TypeFor[*vocab.IntransitiveActivity]()
	case vocab.ShapeActor:
		return reflect.TypeFor[*vocab.Actor]()
	case vocab.ShapeLink:
		return reflect.TypeFor[*vocab.Link]()
	case vocab.ShapeQuestion:
		return reflect.TypeFor[*vocab.Question]()
	case vocab.ShapeCollection:
		return reflect.TypeFor[*vocab.Collection]()
	case vocab.ShapeOrderedCollection:
		return reflect.TypeFor[*vocab.OrderedCollection]()
	case vocab.ShapePlace:
		return reflect.TypeFor[*vocab.Place]()
	case vocab.ShapeTombstone:
		return reflect.TypeFor[*vocab.Tombstone]()
	}
	return nil
}

func parsePattern(p string) (act, obj string, err error) {
	f := strings.Fields(p)
	if len(f) == 0 || len(f) > 2 || strings.Join(f, " ") != p {
		return "", "", fmt.Errorf("inbox: malformed pattern %q: want \"Activity\" or \"Activity Object\"", p)
	}
	act = f[0]
	if len(f) == 2 {
		obj = f[1]
	}
	return act, obj, nil
}

func (m *Mux) register(pattern string, rt *route, replace bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := routeKey{rt.Activity, rt.Object}
	_, exists := m.routes[k]
	switch {
	case replace && !exists:
		panic(fmt.Sprintf("inbox: Replace of %q, which is not registered", pattern))
	case !replace && exists:
		panic(fmt.Sprintf("inbox: %q is already registered", pattern))
	}
	m.routes[k] = rt
	if rt.Object != "" {
		m.typed[rt.Activity] = true
	}
}

// Routes lists the registrations, sorted by pattern, with the fallback
// last.
func (m *Mux) Routes() []Route {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]Route, 0, len(m.routes)+1)
	for _, rt := range m.routes {
		for ; rt != nil; rt = rt.next {
			out = append(out, rt.Route)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Pattern < out[j].Pattern })
	if m.fallback != nil {
		out = append(out, m.fallback.Route)
	}
	return out
}

// Handles reports whether a route is registered for pattern.
func (m *Mux) Handles(pattern string) bool {
	act, obj, err := parsePattern(pattern)
	if err != nil {
		return false
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	_, ok := m.routes[routeKey{act, obj}]
	return ok
}

// match returns the route for an activity of types acts whose object has
// types objs: the first (activity, object) pair registered, then the
// first activity type registered alone, then the fallback (nil when none
// is set).
func (m *Mux) match(acts, objs []string) *route {
	m.mu.RLock()
	defer m.mu.RUnlock()
	for _, a := range acts {
		for _, o := range objs {
			if rt := m.routes[routeKey{a, o}]; rt != nil {
				return rt
			}
		}
	}
	for _, a := range acts {
		if rt := m.routes[routeKey{a, ""}]; rt != nil {
			return rt
		}
	}
	return m.fallback
}

// generic returns the route registered for the activity type alone.
func (m *Mux) generic(act string) *route {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.routes[routeKey{act, ""}]
}

func (m *Mux) fallbackRoute() *route {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.fallback
}

// needsEmbedded reports whether a route of activity types acts may need
// the embedded object: one registered by object type, or one whose
// handler takes an embedded object.
func (m *Mux) needsEmbedded(acts []string) bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	for _, a := range acts {
		if m.typed[a] {
			return true
		}
		if rt := m.routes[routeKey{a, ""}]; rt != nil && rt.needs != nil {
			return true
		}
	}
	return false
}
