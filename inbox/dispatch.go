package inbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	ap "github.com/go-ap/activitypub"

	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/vocab"
)

// route finds the route of an activity, resolving an object given by IRI
// when a route needs it embedded, and checks that the object fits it.
func (h *Handler) route(ctx context.Context, a *Activity) (*route, *Error) {
	if a.Object != nil && a.Object.IsLink() && h.opts.Mux.needsEmbedded(a.Types) {
		if it, err := h.resolve(ctx, a.ObjectIRI(), h.opts.Store); err == nil {
			a.Object = it
		} else if !errors.Is(err, storage.ErrNotFound) {
			h.log.DebugContext(ctx, "inbox: object not resolved", "object", a.ObjectIRI(), "err", err)
		}
	}
	objs := vocab.Types(a.Object)
	if a.Object != nil && a.Object.IsLink() {
		objs = nil
	}
	rt := h.opts.Mux.match(a.Types, objs)
	if rt == nil {
		return h.defaultFallback(), nil
	}
	if a.Object != nil && !rt.accept(a.Object) && rt.Pattern != "*" {
		if a.Object.IsLink() {
			return nil, refuse(http.StatusUnprocessableEntity, ErrRejected, "the object could not be resolved", fmt.Errorf("%s of %s", a.ObjectIRI(), rt.Pattern))
		}
		return nil, refuse(http.StatusUnprocessableEntity, ErrRejected, "unexpected object for "+rt.Pattern, nil)
	}
	if a.Object == nil && rt.needs != nil {
		return nil, refuse(http.StatusBadRequest, ErrMalformed, "the activity has no object", nil)
	}
	return rt, nil
}

// check runs the Check of rt, or of the route below it that takes the
// activity when rt passes it (see Stack), for every recipient, and
// returns the route that took it.
func (h *Handler) check(ctx context.Context, rt *route, a *Activity, recipients []*actor.Actor) (*route, *Error) {
	a.passes = 0
	for rt != nil && rt.check != nil {
		var err error
		for _, rec := range recipients {
			if err = rt.check(ctx, a.copyFor(rec, h.opts.Store)); err != nil {
				break
			}
		}
		if err == nil {
			return rt, nil
		}
		if !errors.Is(err, ErrPass) {
			return nil, classify(err)
		}
		rt = h.below(rt, a)
		a.passes++
	}
	if rt == nil {
		rt = h.defaultFallback()
	}
	return rt, nil
}

// below returns the route that takes what rt passes: the one registered
// before it for the pattern, else the one of the activity type alone,
// else the fallback.
func (h *Handler) below(rt *route, a *Activity) *route {
	if rt.next != nil {
		if a.Object == nil || rt.next.accept(a.Object) {
			return rt.next
		}
	}
	// Below the last rule of "Accept Join" comes that of "Accept".
	if rt.Object != "" {
		if gen := h.opts.Mux.generic(rt.Activity); gen != nil && (a.Object == nil || gen.accept(a.Object)) {
			return gen
		}
	}
	if fb := h.opts.Mux.fallbackRoute(); fb != nil && fb != rt {
		return fb
	}
	if rt.Pattern == "*" {
		return nil
	}
	return h.defaultFallback()
}

// apply runs the Apply of rt.
func (h *Handler) apply(ctx context.Context, rt *route, a *Activity) error {
	err := rt.apply(ctx, a)
	if errors.Is(err, ErrPass) {
		return fmt.Errorf("inbox: %s: only Check may pass an activity on: %w", rt.Pattern, err)
	}
	return err
}

// resolve returns the object iri from st, from the local actors, or
// fetched from its origin.
func (h *Handler) resolve(ctx context.Context, iri string, st storage.Store) (vocab.Item, error) {
	if o, err := st.Objects.Get(ctx, iri); err == nil {
		return h.opts.Registry.Decode(o.Data)
	} else if !errors.Is(err, storage.ErrNotFound) {
		return nil, err
	}
	if h.opts.Scheme.IsLocal(iri) {
		a, err := actor.In(h.opts.Actors, st).ByIRI(ctx, iri)
		if err != nil {
			return nil, fmt.Errorf("inbox: resolve %s: %w", iri, storage.ErrNotFound)
		}
		return actor.Document(ctx, h.opts.Scheme, nil, a)
	}
	if h.opts.Client == nil {
		return nil, fmt.Errorf("inbox: resolve %s: no fetch client: %w", iri, storage.ErrNotFound)
	}
	doc, err := h.opts.Client.Get(ctx, iri)
	if err != nil {
		return nil, err
	}
	return h.opts.Registry.Decode(doc.Body)
}

// accept runs the route's Check for every recipient, then, in one
// transaction, records the activity for each recipient that has not
// had it yet and applies it, and runs after. It returns the number of
// recipients the activity was new to.
func (h *Handler) accept(ctx context.Context, a *Activity, recipients []*actor.Actor, after func(ctx context.Context, tx storage.Store) error) ([]string, *Error) {
	rt, e := h.route(ctx, a)
	if e != nil {
		return nil, e
	}
	if rt, e = h.check(ctx, rt, a, recipients); e != nil {
		return nil, e
	}
	var (
		n        int
		recorded []string
	)
	err := storage.InTx(ctx, h.opts.Store, func(ctx context.Context, tx storage.Store) error {
		n, recorded = 0, recorded[:0]
		var fresh []*actor.Actor
		for _, rec := range recipients {
			ra := a.copyFor(rec, tx)
			first, err := tx.Dedupe.Record(ctx, a.DedupeKey, ra.RecipientIRI())
			if err != nil {
				return err
			}
			if !first {
				continue
			}
			recorded = append(recorded, ra.RecipientIRI())
			n++
			if h.opts.Queue {
				fresh = append(fresh, rec)
				continue
			}
			if err := h.apply(ctx, rt, ra); err != nil {
				return err
			}
		}
		if h.opts.Queue && len(fresh) > 0 {
			if err := h.enqueue(ctx, tx, a, fresh); err != nil {
				return err
			}
		}
		if after != nil {
			return after(ctx, tx)
		}
		return nil
	})
	if err != nil {
		if h.opts.Store.Tx == nil {
			// Without transactions, forget the records so that the
			// peer's retry is processed rather than deduplicated away.
			for _, r := range recorded {
				if ferr := h.opts.Store.Dedupe.Forget(context.WithoutCancel(ctx), a.DedupeKey, r); ferr != nil {
					h.log.ErrorContext(ctx, "inbox: forgetting a failed activity", "activity", a.DedupeKey, "recipient", r, "err", ferr)
				}
			}
		}
		return nil, classify(err)
	}
	if n == 0 {
		h.log.DebugContext(ctx, "inbox: duplicate", "activity", a.DedupeKey, "actor", a.Actor)
	} else {
		h.log.InfoContext(ctx, "inbox: accepted", "activity", a.DedupeKey, "type", a.Type, "actor", a.Actor, "recipients", n, "handler", rt.Pattern)
	}
	return recorded, nil
}

// defaultFallback is the route of activities no route takes when the mux
// has no Fallback: they are stored and listed in the recipient's inbox
// collection, and logged at debug level, so that nothing vanishes
// unseen.
func (h *Handler) defaultFallback() *route {
	return &route{Route: Route{Pattern: "*", Doc: "stores the activity and lists it in the recipient's inbox", ObjectKind: "any"},
		accept: func(vocab.Item) bool { return true },
		apply: func(ctx context.Context, a *Activity) error {
			h.log.DebugContext(ctx, "inbox: no handler", "activity", a.DedupeKey, "type", a.Type, "actor", a.Actor, "recipient", a.RecipientIRI())
			return RecordInInbox(ctx, a)
		}}
}

// RecordInInbox stores a and lists it in its recipient's inbox
// collection (the shared inbox's, for the server): what the default
// fallback does. An activity without id is only logged.
func RecordInInbox(ctx context.Context, a *Activity) error {
	if a.ID == "" {
		return nil
	}
	err := a.Store.Objects.Put(ctx, storage.Object{IRI: a.ID, Type: a.Type, Owner: a.Actor, Data: a.Raw})
	if err != nil && !errors.Is(err, storage.ErrConflict) {
		return err
	}
	return ListInInbox(ctx, a)
}

// ListInInbox lists a in its recipient's inbox collection without
// storing it: for handlers that stored what matters of it (a Create's
// object).
func ListInInbox(ctx context.Context, a *Activity) error {
	if a.ID == "" {
		return nil
	}
	coll := a.Scheme().SharedInbox
	if a.Recipient != nil {
		coll = a.Scheme().Collection(a.Recipient.IRI, actor.Inbox)
	}
	return a.Store.Collections.Add(ctx, coll, storage.Member{IRI: a.ID})
}

// envelope is what Queue mode keeps of a checked activity until Process
// applies it.
type envelope struct {
	Raw        json.RawMessage `json:"raw"`
	KeyID      string          `json:"keyId,omitempty"`
	Owner      string          `json:"owner,omitempty"`
	Recipients []string        `json:"recipients"` // "" for the server
	Object     json.RawMessage `json:"object,omitempty"`
	Target     json.RawMessage `json:"target,omitempty"`
	Received   time.Time       `json:"received"`
	Key        string          `json:"key"`
	// Passes is how many stacked rules passed the activity on when it
	// was checked: Process applies the rule that took it.
	Passes int `json:"passes,omitempty"`
}

func (h *Handler) encodeItem(it vocab.Item) (json.RawMessage, error) {
	switch {
	case it == nil:
		return nil, nil
	case it.IsLink():
		return json.Marshal(string(it.GetLink()))
	}
	if col, ok := it.(ap.ItemCollection); ok {
		parts := make([]json.RawMessage, len(col))
		for i, el := range col {
			b, err := h.encodeItem(el)
			if err != nil {
				return nil, err
			}
			parts[i] = b
		}
		return json.Marshal(parts)
	}
	return h.opts.Registry.Encode(it)
}

func (h *Handler) decodeItem(raw json.RawMessage) (vocab.Item, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return ap.IRI(s), nil
	}
	if raw[0] == '[' {
		var parts []json.RawMessage
		if err := json.Unmarshal(raw, &parts); err != nil {
			return nil, err
		}
		col := make(ap.ItemCollection, len(parts))
		for i, p := range parts {
			it, err := h.decodeItem(p)
			if err != nil {
				return nil, err
			}
			col[i] = it
		}
		return col, nil
	}
	return h.opts.Registry.Decode(raw)
}

// enqueue keeps a checked activity for Process, in tx.
func (h *Handler) enqueue(ctx context.Context, tx storage.Store, a *Activity, recipients []*actor.Actor) error {
	env := envelope{Raw: a.Raw, Received: a.Received, Key: a.DedupeKey, Passes: a.passes}
	if a.Signer != nil {
		env.KeyID, env.Owner = a.Signer.KeyID, a.Signer.Owner
	}
	for _, r := range recipients {
		if r == nil {
			env.Recipients = append(env.Recipients, "")
		} else {
			env.Recipients = append(env.Recipients, r.IRI)
		}
	}
	var err error
	if env.Object, err = h.encodeItem(a.Object); err != nil {
		return err
	}
	if env.Target, err = h.encodeItem(a.Target); err != nil {
		return err
	}
	body, err := json.Marshal(env)
	if err != nil {
		return err
	}
	key := a.ObjectIRI()
	if key == "" || storage.CheckIRI("", key) != nil {
		key = a.DedupeKey
	}
	return tx.Queue.Enqueue(ctx, storage.Delivery{Activity: a.DedupeKey, Inbox: QueuedInbox, Body: body, OrderingKey: key})
}

// Process applies an activity that the Handler, with Options.Queue set,
// checked, recorded and enqueued: d is the delivery a worker leased from
// Store.Queue with Inbox QueuedInbox. The effects and the Ack of d are
// one transaction. An *Error with a 4xx code is permanent: give up on d;
// any other error is transient: retry it later.
func (h *Handler) Process(ctx context.Context, d storage.Delivery) error {
	if d.Inbox != QueuedInbox {
		return Reject(http.StatusBadRequest, "not a queued inbound activity")
	}
	var env envelope
	if err := json.Unmarshal(d.Body, &env); err != nil {
		return Reject(http.StatusBadRequest, "malformed queued activity")
	}
	a, e := h.decode(env.Raw)
	if e != nil {
		return e
	}
	a.Received, a.DedupeKey = env.Received, env.Key
	actors := vocab.IRIs(vocab.ActorOf(a.Item))
	if len(actors) != 1 {
		return Reject(http.StatusBadRequest, "malformed queued activity")
	}
	a.Actor = actors[0]
	var err error
	if a.Object, err = h.decodeItem(env.Object); err != nil {
		return Reject(http.StatusBadRequest, "malformed queued object")
	}
	if a.Target, err = h.decodeItem(env.Target); err != nil {
		return Reject(http.StatusBadRequest, "malformed queued target")
	}
	var recipients []*actor.Actor
	for _, r := range env.Recipients {
		if r == "" {
			recipients = append(recipients, nil)
			continue
		}
		rec, err := h.opts.Actors.ByIRI(ctx, r)
		if errors.Is(err, actor.ErrNotFound) || errors.Is(err, actor.ErrGone) {
			continue
		}
		if err != nil {
			return err
		}
		recipients = append(recipients, rec)
	}
	rt, e := h.route(ctx, a)
	if e != nil {
		return e
	}
	for range env.Passes {
		if rt = h.below(rt, a); rt == nil {
			rt = h.defaultFallback()
			break
		}
	}
	err = storage.InTx(ctx, h.opts.Store, func(ctx context.Context, tx storage.Store) error {
		for _, rec := range recipients {
			if err := h.apply(ctx, rt, a.copyFor(rec, tx)); err != nil {
				return err
			}
		}
		return tx.Queue.Ack(ctx, d.Receipt)
	})
	if err != nil {
		return classify(err)
	}
	h.log.InfoContext(ctx, "inbox: applied", "activity", a.DedupeKey, "type", a.Type, "actor", a.Actor, "recipients", len(recipients), "handler", rt.Pattern)
	return nil
}

// DeliverLocal hands an activity of one of our actors to our own inbox
// inbox (a local actor's or the shared one), as a delivery to ourselves
// would, without HTTP or signature: the outbox's worker calls it for
// local recipients. The effects and the Ack of the delivery whose lease
// receipt is given are one transaction (receipt "" acks nothing).
func (h *Handler) DeliverLocal(ctx context.Context, inbox string, body []byte, receipt string) error {
	a, e := h.decode(body)
	if e != nil {
		return e
	}
	actors := vocab.IRIs(vocab.ActorOf(a.Item))
	if len(actors) != 1 || !h.opts.Scheme.IsLocal(actors[0]) {
		return Reject(http.StatusBadRequest, "a local delivery of a remote actor's activity")
	}
	// Our own activity, as our outbox stored it and checked it when it
	// was sent: what it embeds of ours is what we stored, so it is taken
	// as it is, without the checks a peer's activity passes.
	a.Actor, a.Object, a.Target = actors[0], vocab.ObjectOf(a.Item), vocab.TargetOf(a.Item)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, inbox, nil)
	if err != nil {
		return Reject(http.StatusBadRequest, "malformed inbox IRI")
	}
	recipients, e := h.recipients(ctx, req, a)
	if e != nil {
		return e
	}
	var after func(ctx context.Context, tx storage.Store) error
	if receipt != "" {
		after = func(ctx context.Context, tx storage.Store) error { return tx.Queue.Ack(ctx, receipt) }
	}
	fresh, e := h.accept(ctx, a, recipients, after)
	h.observe(ctx, Event{Status: http.StatusAccepted, Activity: a, Recipients: fresh, Err: errOf(e)}, e)
	if e != nil {
		return e
	}
	return nil
}

// Permanent reports whether err, returned by Process or DeliverLocal,
// will fail again however often it is retried.
func Permanent(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Code >= 400 && e.Code < 500
}
