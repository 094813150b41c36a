package outbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"slices"
	"time"

	ap "github.com/go-ap/activitypub"

	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/vocab"
)

// DefaultClientMaxBytes caps the body of a client's POST: 1 MiB.
const DefaultClientMaxBytes = 1 << 20

// ClientOptions configures a ClientHandler. Authenticate is required.
type ClientOptions struct {
	// Authenticate returns the IRI of the local actor the request speaks
	// for, from the application's session, token or OAuth grant. An error
	// answers 401.
	Authenticate func(r *http.Request) (actorIRI string, err error)
	// MaxBodyBytes caps the body; 0 means DefaultClientMaxBytes.
	MaxBodyBytes int64
	// Logger receives the failures that are ours; nil means the outbox's.
	Logger *slog.Logger
}

// ClientHandler takes client-to-server POSTs to a local actor's outbox
// (ActivityPub §6) and sends them. It applies what §6 asks of a server:
// it assigns the ids; a bare object is wrapped in a Create, the two
// sharing their addressing; an Update changes only the top-level
// properties it gives of the stored object (null removes one), and only
// its owner's; a Delete leaves a Tombstone; Follow, Like, Announce, Block
// and Undo keep the actor's collections in step. It answers 201 Created
// with the activity's id in Location.
//
//	h, _ := outbox.NewClientHandler(out, outbox.ClientOptions{Authenticate: session})
//	mux.Handle("POST /users/{name}/outbox", h)
//
// It is safe for concurrent use.
type ClientHandler struct {
	out  *Outbox
	opts ClientOptions
	log  *slog.Logger
}

// NewClientHandler validates o and builds a ClientHandler for out.
func NewClientHandler(out *Outbox, o ClientOptions) (*ClientHandler, error) {
	switch {
	case out == nil:
		return nil, errors.New("outbox: NewClientHandler needs an Outbox")
	case o.Authenticate == nil:
		return nil, errors.New("outbox: ClientOptions.Authenticate is required")
	case o.MaxBodyBytes < 0:
		return nil, errors.New("outbox: negative ClientOptions.MaxBodyBytes")
	}
	if o.MaxBodyBytes == 0 {
		o.MaxBodyBytes = DefaultClientMaxBytes
	}
	if o.Logger == nil {
		o.Logger = out.log
	}
	return &ClientHandler{out: out, opts: o, log: o.Logger}, nil
}

// clientError is an answer to a client: a status and a message safe to
// show it.
type clientError struct {
	status int
	msg    string
}

func refuse(status int, format string, args ...any) *clientError {
	return &clientError{status: status, msg: fmt.Sprintf(format, args...)}
}

// ServeHTTP implements http.Handler.
func (h *ClientHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id, ce := h.serve(r.Context(), w, r)
	if ce != nil {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(ce.status)
		_, _ = io.WriteString(w, ce.msg+"\n")
		return
	}
	w.Header().Set("Location", id)
	w.WriteHeader(http.StatusCreated)
}

func (h *ClientHandler) serve(ctx context.Context, w http.ResponseWriter, r *http.Request) (string, *clientError) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return "", refuse(http.StatusMethodNotAllowed, "only POST")
	}
	s := h.out.opts.Scheme
	owner, name, ok := s.ParseCollection(s.Origin + r.URL.EscapedPath())
	if !ok || name != actor.Outbox {
		return "", refuse(http.StatusNotFound, "no such outbox")
	}
	switch _, err := h.out.opts.Actors.ByIRI(ctx, owner); {
	case errors.Is(err, actor.ErrNotFound):
		return "", refuse(http.StatusNotFound, "no such outbox")
	case errors.Is(err, actor.ErrGone):
		return "", refuse(http.StatusGone, "the actor was deleted")
	case err != nil:
		return "", h.internal(ctx, "actor", err)
	}
	who, err := h.opts.Authenticate(r)
	if err != nil || who == "" {
		return "", refuse(http.StatusUnauthorized, "authenticate to post to an outbox")
	}
	if who != owner {
		return "", refuse(http.StatusForbidden, "this outbox is not yours")
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/activity+json" && mt != "application/ld+json" && mt != "application/json") {
			return "", refuse(http.StatusUnsupportedMediaType, "post application/activity+json")
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.opts.MaxBodyBytes))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return "", refuse(http.StatusRequestEntityTooLarge, "the body is larger than %d bytes", h.opts.MaxBodyBytes)
	}
	if err != nil {
		return "", refuse(http.StatusBadRequest, "the body could not be read")
	}
	act, ce := h.activity(ctx, owner, body)
	if ce != nil {
		return "", ce
	}
	id, err := h.out.Send(ctx, act)
	switch {
	case err == nil:
		return id, nil
	case errors.Is(err, ErrNotOwner):
		return "", refuse(http.StatusForbidden, "%s", err.Error())
	case errors.Is(err, ErrNotLocal):
		return "", refuse(http.StatusForbidden, "%s", err.Error())
	case errors.Is(err, ErrInvalid), errors.Is(err, ErrNotActivity), errors.Is(err, storage.ErrInvalid):
		return "", refuse(http.StatusBadRequest, "%s", err.Error())
	}
	return "", h.internal(ctx, "send", err)
}

func (h *ClientHandler) internal(ctx context.Context, what string, err error) *clientError {
	h.log.ErrorContext(ctx, "outbox: client POST: "+what, "err", err)
	return refuse(http.StatusInternalServerError, "internal error")
}

// activity decodes what the client posted and turns it into the activity
// to send as owner.
func (h *ClientHandler) activity(ctx context.Context, owner string, body []byte) (vocab.Item, *clientError) {
	it, err := h.out.opts.Registry.Decode(body)
	if err != nil {
		return nil, refuse(http.StatusBadRequest, "malformed: %v", err)
	}
	if it.IsLink() || vocab.Base(it) == nil {
		return nil, refuse(http.StatusBadRequest, "post an activity or an object")
	}
	switch it.(type) {
	case *vocab.Activity, *vocab.IntransitiveActivity:
	default:
		// ActivityPub §6.2.1: a bare object is the object of a Create,
		// which takes its addressing.
		obj := vocab.Base(it)
		create := vocab.NewActivity("Create", "", ap.IRI(owner), it)
		create.To, create.CC, create.Bto, create.BCC, create.Audience = obj.To, obj.CC, obj.Bto, obj.BCC, obj.Audience
		it = create
	}
	base := vocab.Base(it)
	base.ID = "" // §6: the server assigns the ids
	switch actors := vocab.IRIs(vocab.ActorOf(it)); {
	case len(actors) == 0:
		setActor(it, ap.IRI(owner))
	case len(actors) != 1 || actors[0] != owner:
		return nil, refuse(http.StatusForbidden, "the activity's actor must be %s", owner)
	}
	a, ok := it.(*vocab.Activity)
	if !ok {
		return it, nil
	}
	switch {
	case vocab.HasType(a, "Create"):
		obj := vocab.Base(a.Object)
		if obj == nil || a.Object.IsLink() {
			return nil, refuse(http.StatusBadRequest, "a Create embeds the object it creates")
		}
		obj.ID = ""
		if by := vocab.AttributedTo(a.Object); len(by) > 0 && (len(by) != 1 || string(by[0]) != owner) {
			return nil, refuse(http.StatusForbidden, "the object must be attributed to %s", owner)
		}
	case vocab.HasType(a, "Update"):
		merged, ce := h.merge(ctx, owner, body)
		if ce != nil {
			return nil, ce
		}
		a.Object = merged
	}
	return it, nil
}

// setActor sets the actor of an activity.
func setActor(it vocab.Item, who ap.IRI) {
	switch a := it.(type) {
	case *vocab.Activity:
		a.Actor = who
	case *vocab.IntransitiveActivity:
		a.Actor = who
	}
}

// merge applies the object of a posted Update to the stored object it
// names (ActivityPub §6.3.1): each top-level property given replaces the
// stored one, null removes it, and the others stay. id, type and
// attributedTo do not change.
func (h *ClientHandler) merge(ctx context.Context, owner string, body []byte) (vocab.Item, *clientError) {
	var act struct {
		Object json.RawMessage `json:"object"`
	}
	var given map[string]json.RawMessage
	if json.Unmarshal(body, &act) != nil || json.Unmarshal(act.Object, &given) != nil {
		return nil, refuse(http.StatusBadRequest, "an Update embeds the properties it changes, with the object's id")
	}
	var id string
	if json.Unmarshal(given["id"], &id) != nil || id == "" {
		return nil, refuse(http.StatusBadRequest, "an Update embeds the properties it changes, with the object's id")
	}
	if id == owner {
		return nil, refuse(http.StatusForbidden, "an actor's own document is updated through the application")
	}
	stored, err := h.out.opts.Store.Objects.Get(ctx, id)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return nil, refuse(http.StatusNotFound, "no such object")
	case err != nil:
		return nil, h.internal(ctx, "update", err)
	case !stored.Deleted.IsZero():
		return nil, refuse(http.StatusGone, "the object was deleted")
	case stored.Owner != owner:
		return nil, refuse(http.StatusForbidden, "the object is not yours")
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(stored.Data, &doc); err != nil {
		return nil, h.internal(ctx, "update", fmt.Errorf("stored %s: %w", id, err))
	}
	for k, v := range given {
		if slices.Contains([]string{"@context", "id", "type", "attributedTo"}, k) {
			continue
		}
		if bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
			delete(doc, k)
			continue
		}
		doc[k] = v
	}
	doc["updated"], _ = json.Marshal(h.out.opts.Now().UTC().Truncate(time.Second).Format(time.RFC3339))
	data, err := json.Marshal(doc)
	if err != nil {
		return nil, h.internal(ctx, "update", err)
	}
	merged, err := h.out.opts.Registry.Decode(data)
	if err != nil {
		return nil, refuse(http.StatusBadRequest, "the updated object is malformed: %v", err)
	}
	return merged, nil
}
