package actor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/fedi-go/fedi/fetch"
	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/vocab"
)

// DefaultRemoteTTL is how long a cached remote actor is used before it is
// fetched again.
const DefaultRemoteTTL = 24 * time.Hour

// ErrNotAnActor reports a remote document that is not an actor: it has
// no inbox.
var ErrNotAnActor = errors.New("actor: the document is not an actor")

// Remote finds other servers' actors: from the storage.Actors cache while
// they are fresh, fetched through the safe client otherwise, and cached
// again. It is safe for concurrent use.
type Remote struct {
	// Cache keeps what was fetched; required.
	Cache storage.Actors
	// Client fetches; without it only cached actors are found.
	Client *fetch.Client
	// Registry decodes actor documents; required.
	Registry *vocab.Registry
	// TTL is how long a cached actor is fresh; 0 means DefaultRemoteTTL.
	TTL time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

func (r *Remote) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// Get returns the remote actor iri: cached when fresh, fetched (within
// the context's fetch.Budget) and cached otherwise. An actor that answers
// 410 is cached as gone and returned with Gone set. When a fetch fails,
// a stale cached copy is returned rather than nothing.
func (r *Remote) Get(ctx context.Context, iri string) (storage.RemoteActor, error) {
	cached, err := r.Cache.Get(ctx, iri)
	haveCached := err == nil
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return storage.RemoteActor{}, err
	}
	if haveCached && r.usable(cached) {
		return cached, nil
	}
	if r.Client == nil {
		return storage.RemoteActor{}, fmt.Errorf("actor: remote %s is not cached: %w", iri, storage.ErrNotFound)
	}
	fetched, err := r.Fetch(ctx, iri)
	if err != nil {
		if haveCached && !errors.Is(err, ErrNotAnActor) {
			return cached, nil
		}
		return storage.RemoteActor{}, err
	}
	return fetched, nil
}

// usable reports whether Get returns a cached entry as it is: a gone
// actor, a fresh one, or any when there is no client to fetch with.
func (r *Remote) usable(a storage.RemoteActor) bool {
	ttl := r.TTL
	if ttl == 0 {
		ttl = DefaultRemoteTTL
	}
	return !a.Gone.IsZero() || r.now().Sub(a.Fetched) < ttl || r.Client == nil
}

// Addresses returns, keyed by IRI, those of iris whose cached entry Get
// would return as it is (fresh, or gone), read from the cache at once,
// with only their addresses, freshness and gone mark set: for fan-outs,
// which ask Get for the others. It returns nil when the cache is not a
// storage.ActorAddresses.
func (r *Remote) Addresses(ctx context.Context, iris []string) (map[string]storage.RemoteActor, error) {
	aa, ok := r.Cache.(storage.ActorAddresses)
	if !ok {
		return nil, nil
	}
	got, err := aa.Addresses(ctx, iris)
	if err != nil {
		return nil, err
	}
	out := make(map[string]storage.RemoteActor, len(got))
	for _, a := range got {
		if r.usable(a) {
			out[a.IRI] = a
		}
	}
	return out, nil
}

// Fetch fetches iri, caches it, and returns it.
func (r *Remote) Fetch(ctx context.Context, iri string) (storage.RemoteActor, error) {
	doc, err := r.Client.Get(ctx, iri)
	var se *fetch.StatusError
	if errors.As(err, &se) && se.Code == 410 {
		at := r.now()
		if err := r.Cache.MarkGone(ctx, iri, at); err != nil {
			return storage.RemoteActor{}, err
		}
		return storage.RemoteActor{IRI: iri, Gone: at}, nil
	}
	if err != nil {
		return storage.RemoteActor{}, err
	}
	it, err := r.Registry.Decode(doc.Body)
	if err != nil {
		return storage.RemoteActor{}, fmt.Errorf("actor: remote %s: %w", iri, err)
	}
	ra, err := RemoteFromDocument(it, doc.Body)
	if err != nil {
		return storage.RemoteActor{}, err
	}
	ra.Fetched = r.now()
	err = r.Cache.Put(ctx, ra)
	if errors.Is(err, storage.ErrConflict) {
		// A key this actor lists is cached as another's: keep the
		// actor without keys rather than take the key from the other.
		ra.Keys = nil
		err = r.Cache.Put(ctx, ra)
	}
	if errors.Is(err, storage.ErrInvalid) {
		return storage.RemoteActor{}, fmt.Errorf("actor: remote %s cannot be cached: %w", iri, err)
	}
	if err != nil {
		return storage.RemoteActor{}, err
	}
	return ra, nil
}

// RemoteFromDocument reads what the cache keeps of a decoded actor
// document: id, inbox, shared inbox, keys, and the document itself.
//
// An actor whose type has an object's shape, such as an Event that acts,
// keeps these properties among its extra ones; they are read from there,
// as Document writes them.
func RemoteFromDocument(it vocab.Item, raw []byte) (storage.RemoteActor, error) {
	ra := storage.RemoteActor{IRI: string(vocab.IRIOf(it)), Document: raw}
	if o, ok := it.(*vocab.Object); ok {
		return remoteFromExtra(ra, o.Extra)
	}
	a, ok := it.(*vocab.Actor)
	if !ok || a.Inbox == nil || vocab.IRIOf(a.Inbox) == "" {
		return storage.RemoteActor{}, fmt.Errorf("%w: %s", ErrNotAnActor, ra.IRI)
	}
	ra.Inbox = string(vocab.IRIOf(a.Inbox))
	if a.Endpoints != nil && a.Endpoints.SharedInbox != nil {
		ra.SharedInbox = string(vocab.IRIOf(a.Endpoints.SharedInbox))
	}
	if pk := a.PublicKey; pk.ID != "" && pk.PublicKeyPem != "" {
		ra.Keys = []storage.PublicKey{{ID: string(pk.ID), PEM: pk.PublicKeyPem}}
	}
	return ra, nil
}

// DeliveryInbox returns where deliveries to ra go: its shared inbox when
// it has one, its own otherwise.
func DeliveryInbox(ra storage.RemoteActor) string {
	if ra.SharedInbox != "" {
		return ra.SharedInbox
	}
	return ra.Inbox
}

// remoteFromExtra reads the actor properties of a document whose shape
// is an object's from its extra properties.
func remoteFromExtra(ra storage.RemoteActor, extra vocab.Extra) (storage.RemoteActor, error) {
	var inbox string
	if json.Unmarshal(extra["inbox"], &inbox) != nil || Origin(inbox) == "" {
		return storage.RemoteActor{}, fmt.Errorf("%w: %s", ErrNotAnActor, ra.IRI)
	}
	ra.Inbox = inbox
	var endpoints struct {
		SharedInbox string `json:"sharedInbox"`
	}
	if json.Unmarshal(extra["endpoints"], &endpoints) == nil && Origin(endpoints.SharedInbox) != "" {
		ra.SharedInbox = endpoints.SharedInbox
	}
	var key struct {
		ID           string `json:"id"`
		PublicKeyPem string `json:"publicKeyPem"`
	}
	if json.Unmarshal(extra["publicKey"], &key) == nil && key.ID != "" && key.PublicKeyPem != "" {
		ra.Keys = []storage.PublicKey{{ID: key.ID, PEM: key.PublicKeyPem}}
	}
	return ra, nil
}
