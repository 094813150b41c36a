package signature

import (
	"container/list"
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/fedi-go/fedi/fetch"
)

// Key is a verified public key and the actor that owns it.
type Key struct {
	ID     string           // the keyId, as the signature named it
	Owner  string           // the IRI of the actor that owns the key
	Public crypto.PublicKey // *rsa.PublicKey, ed25519.PublicKey or *ecdsa.PublicKey (P-256)
}

// KeyResolver turns a keyId into a public key and its owner. Resolver is
// the implementation that fetches; a test or an application with its own
// key store can supply another.
type KeyResolver interface {
	ResolveKey(ctx context.Context, keyID string) (*Key, error)
}

// KeyRefresher is implemented by resolvers that cache. The verifier calls
// RefreshKey once when a signature fails against a resolved key, so that
// a rotated key is picked up; it returns the same *Key when it did not
// fetch again.
type KeyRefresher interface {
	RefreshKey(ctx context.Context, keyID string) (*Key, error)
}

// KeyResolverFunc adapts a function to KeyResolver.
type KeyResolverFunc func(ctx context.Context, keyID string) (*Key, error)

// ResolveKey calls f.
func (f KeyResolverFunc) ResolveKey(ctx context.Context, keyID string) (*Key, error) {
	return f(ctx, keyID)
}

// Defaults of a Resolver.
const (
	DefaultKeyTTL        = time.Hour
	DefaultMaxKeys       = 10000
	DefaultMinRefresh    = 10 * time.Second
	DefaultMaxKeyDocSize = 256 << 10
	// DefaultFetchTimeout bounds one key look-up, the detour to the
	// actor and the owner's document included.
	DefaultFetchTimeout = 30 * time.Second
)

// ResolverOptions configures a Resolver. Client is required; the zero
// value of every other field is its default.
type ResolverOptions struct {
	// Client fetches key documents and owners.
	Client *fetch.Client
	// TTL is how long a key is trusted without fetching it again.
	TTL time.Duration
	// MaxKeys bounds the cache; the least recently used key goes first.
	MaxKeys int
	// MinRefresh is the least time between two fetches of one key, so
	// that a flood of bad signatures naming a real key cannot make us
	// fetch it again for each.
	MinRefresh time.Duration
	// MaxDocumentBytes caps a key or owner document.
	MaxDocumentBytes int64
	// FetchTimeout bounds one key look-up, all its fetches together. A
	// look-up is shared by the callers that want the same key, so it runs
	// under a deadline of its own rather than under any one caller's.
	FetchTimeout time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Resolver is the KeyResolver that fetches keys through a fetch.Client.
// It dereferences the keyId (the fragment is stripped on the wire): a
// standalone key document (a CryptographicKey with owner, or a Multikey
// with controller), whose owner is then fetched and must list the key
// back; or an actor whose publicKey (an object or an array) or
// assertionMethod (FEP-521a Multikeys) holds the key, whose owner or
// controller, when given, must be that actor. A keyId whose document has
// another id (GoToSocial's …/main-key serves the actor) is followed to
// that id, fetched strictly, and accepted only if that actor lists the
// keyId: two fetches from the context's fetch.Budget. PEM keys may be
// SPKI or PKCS#1. Keys are cached with a TTL and a size bound. It is safe
// for concurrent use.
//
// Concurrent look-ups of one key share one fetch, which runs under a
// context of its own: it keeps the values of the context of the caller
// that started it, whose fetch.Budget it draws on (the callers that join
// it spend nothing of theirs), but not that caller's cancellation or
// deadline; it is bounded by FetchTimeout instead. Each caller, the first
// included, stops waiting when its own context ends, and the fetch goes
// on for the others; when every caller has stopped waiting, it is
// cancelled.
type Resolver struct {
	opts ResolverOptions

	mu       sync.Mutex
	entries  map[string]*list.Element // keyID → *cacheEntry
	lru      *list.List
	inflight map[string]*call
}

type cacheEntry struct {
	keyID   string
	key     *Key
	fetched time.Time
}

// call is a look-up in flight. waiters and cancel are guarded by the
// Resolver's mu; key and err are written before done is closed.
type call struct {
	done    chan struct{}
	key     *Key
	err     error
	waiters int
	cancel  context.CancelFunc
}

// NewResolver validates o and builds a Resolver.
func NewResolver(o ResolverOptions) (*Resolver, error) {
	if o.Client == nil {
		return nil, errors.New("signature: ResolverOptions.Client is required")
	}
	if o.TTL < 0 || o.MaxKeys < 0 || o.MinRefresh < 0 || o.MaxDocumentBytes < 0 || o.FetchTimeout < 0 {
		return nil, errors.New("signature: negative limit in ResolverOptions")
	}
	if o.TTL == 0 {
		o.TTL = DefaultKeyTTL
	}
	if o.MaxKeys == 0 {
		o.MaxKeys = DefaultMaxKeys
	}
	if o.MinRefresh == 0 {
		o.MinRefresh = DefaultMinRefresh
	}
	if o.MaxDocumentBytes == 0 {
		o.MaxDocumentBytes = DefaultMaxKeyDocSize
	}
	if o.FetchTimeout == 0 {
		o.FetchTimeout = DefaultFetchTimeout
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Resolver{opts: o, entries: map[string]*list.Element{}, lru: list.New(), inflight: map[string]*call{}}, nil
}

// ResolveKey returns the cached key if it is younger than the TTL, and
// fetches it otherwise.
func (r *Resolver) ResolveKey(ctx context.Context, keyID string) (*Key, error) {
	if e := r.cached(keyID); e != nil && r.opts.Now().Sub(e.fetched) < r.opts.TTL {
		return e.key, nil
	}
	return r.load(ctx, keyID)
}

// RefreshKey fetches the key again unless it was fetched less than
// MinRefresh ago, in which case it returns the cached key.
func (r *Resolver) RefreshKey(ctx context.Context, keyID string) (*Key, error) {
	if e := r.cached(keyID); e != nil && r.opts.Now().Sub(e.fetched) < r.opts.MinRefresh {
		return e.key, nil
	}
	return r.load(ctx, keyID)
}

// Forget drops a key from the cache, for an application that learns of a
// rotation (an Update of the actor) before a signature fails.
func (r *Resolver) Forget(keyID string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if el, ok := r.entries[keyID]; ok {
		r.lru.Remove(el)
		delete(r.entries, keyID)
	}
}

func (r *Resolver) cached(keyID string) *cacheEntry {
	r.mu.Lock()
	defer r.mu.Unlock()
	el, ok := r.entries[keyID]
	if !ok {
		return nil
	}
	r.lru.MoveToFront(el)
	return el.Value.(*cacheEntry)
}

// load fetches a key, sharing the fetch with concurrent callers: see the
// Resolver's doc for the context the fetch runs under.
func (r *Resolver) load(ctx context.Context, keyID string) (*Key, error) {
	r.mu.Lock()
	c, ok := r.inflight[keyID]
	if !ok {
		if err := ctx.Err(); err != nil {
			r.mu.Unlock()
			return nil, &Error{Check: ErrKeyFetch, Detail: keyID, Cause: err}
		}
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.opts.FetchTimeout)
		c = &call{done: make(chan struct{}), cancel: cancel}
		r.inflight[keyID] = c
		go r.fetchShared(fctx, keyID, c)
	}
	c.waiters++
	r.mu.Unlock()

	select {
	case <-c.done:
		return c.key, c.err
	case <-ctx.Done():
	}
	select {
	case <-c.done: // both at once: the key is there, take it
		return c.key, c.err
	default:
	}
	r.mu.Lock()
	c.waiters--
	if c.waiters == 0 && r.inflight[keyID] == c {
		// Nobody is left to use the key: stop fetching it, and let the
		// next caller start afresh rather than join a cancelled fetch.
		delete(r.inflight, keyID)
		c.cancel()
	}
	r.mu.Unlock()
	return nil, &Error{Check: ErrKeyFetch, Detail: keyID, Cause: ctx.Err()}
}

// fetchShared runs the fetch of call c and publishes its result.
func (r *Resolver) fetchShared(ctx context.Context, keyID string, c *call) {
	defer c.cancel()
	key, err := r.fetchKey(ctx, keyID)
	r.mu.Lock()
	c.key, c.err = key, err
	if r.inflight[keyID] == c {
		delete(r.inflight, keyID)
	}
	if err == nil {
		r.store(keyID, key)
	}
	r.mu.Unlock()
	close(c.done)
}

func (r *Resolver) store(keyID string, k *Key) {
	e := &cacheEntry{keyID: keyID, key: k, fetched: r.opts.Now()}
	if el, ok := r.entries[keyID]; ok {
		el.Value = e
		r.lru.MoveToFront(el)
		return
	}
	r.entries[keyID] = r.lru.PushFront(e)
	for r.lru.Len() > r.opts.MaxKeys {
		old := r.lru.Back()
		r.lru.Remove(old)
		delete(r.entries, old.Value.(*cacheEntry).keyID)
	}
}

// keyDoc is the part of a key or actor document the resolver reads.
type keyDoc struct {
	ID                 string          `json:"id"`
	Owner              string          `json:"owner"`
	Controller         string          `json:"controller"`
	PublicKeyPem       string          `json:"publicKeyPem"`
	PublicKeyMultibase string          `json:"publicKeyMultibase"`
	PublicKey          json.RawMessage `json:"publicKey"`
	AssertionMethod    json.RawMessage `json:"assertionMethod"`
}

// keyEntry is one key listed by an actor.
type keyEntry struct {
	ID                 string `json:"id"`
	Owner              string `json:"owner"`
	Controller         string `json:"controller"`
	PublicKeyPem       string `json:"publicKeyPem"`
	PublicKeyMultibase string `json:"publicKeyMultibase"`
}

func (d *keyDoc) isKey() bool { return d.PublicKeyPem != "" || d.PublicKeyMultibase != "" }

// keys lists the keys an actor document carries: publicKey entries first,
// then assertionMethod Multikeys. Entries that are bare IRIs are listed
// with only their id, which is enough for an owner to list a key back.
func (d *keyDoc) keys() []keyEntry {
	var out []keyEntry
	for _, raw := range []json.RawMessage{d.PublicKey, d.AssertionMethod} {
		out = append(out, entries(raw)...)
	}
	return out
}

func entries(raw json.RawMessage) []keyEntry {
	if len(raw) == 0 {
		return nil
	}
	var many []json.RawMessage
	if err := json.Unmarshal(raw, &many); err != nil {
		many = []json.RawMessage{raw}
	}
	var out []keyEntry
	for _, m := range many {
		var e keyEntry
		if err := json.Unmarshal(m, &e); err == nil {
			out = append(out, e)
			continue
		}
		var iri string
		if err := json.Unmarshal(m, &iri); err == nil {
			out = append(out, keyEntry{ID: iri})
		}
	}
	return out
}

// get fetches a key, actor or owner document. A loose fetch accepts a
// document whose id is not its URL (fetch.GetOptions.SkipIDCheck) and
// reports whether it was; the caller must then trust nothing in it but
// that id.
func (r *Resolver) get(ctx context.Context, iri, what string, loose bool) (d *keyDoc, idIsURL bool, err error) {
	doc, err := r.opts.Client.GetWith(ctx, iri, fetch.GetOptions{MaxBytes: r.opts.MaxDocumentBytes, SkipIDCheck: loose})
	if err != nil {
		var se *fetch.StatusError
		if errors.As(err, &se) && (se.Code == http.StatusNotFound || se.Code == http.StatusGone) {
			return nil, false, &Error{Check: ErrUnknownKey, Detail: fmt.Sprintf("%s %s answered %d", what, iri, se.Code), Cause: err}
		}
		return nil, false, &Error{Check: ErrKeyFetch, Detail: what + " " + iri, Cause: err}
	}
	d = &keyDoc{}
	if err := json.Unmarshal(doc.Body, d); err != nil {
		return nil, false, &Error{Check: ErrUnknownKey, Detail: what + " " + iri + " is not a key or actor document", Cause: err}
	}
	// The fetch client read the id; keep the one it compared, so that
	// the two can never disagree.
	d.ID = doc.ID
	return d, doc.IDIsURL(), nil
}

// fetchKey dereferences keyID. Usually the document at keyID (fragment
// stripped) has the id it was fetched from, and is either the key or the
// actor that lists it. Some servers serve a document with another id:
// GoToSocial's keyId …/users/x/main-key returns the actor …/users/x, and
// BookWyrm's …/user/x/#main-key fetches …/user/x/, whose id is …/user/x.
// As Mastodon does, such a document is read for its id only; that id is
// fetched strictly (its id must be its URL), and the key is accepted only
// if that actor lists a key whose id is keyID, with the usual owner
// checks. Trust comes from the strictly fetched actor alone, and the
// detour costs one fetch more, two in all.
func (r *Resolver) fetchKey(ctx context.Context, keyID string) (*Key, error) {
	d, idIsURL, err := r.get(ctx, keyID, "key", true)
	if err != nil {
		return nil, err
	}
	if !idIsURL {
		actor, _, err := r.get(ctx, d.ID, "actor", false)
		if err != nil {
			return nil, err
		}
		if actor.isKey() {
			return nil, fail(ErrUnknownKey, fmt.Sprintf("key %s served a document with id %s, which is a key, not an actor listing it", keyID, d.ID))
		}
		return actorKey(keyID, actor, false)
	}
	if d.isKey() {
		return r.standaloneKey(ctx, keyID, d)
	}
	return actorKey(keyID, d, true)
}

// actorKey finds keyID among the keys an actor lists, and checks that the
// key, when it names an owner, names that actor. When bare is set, a
// keyId equal to the actor's id names its only key with material.
func actorKey(keyID string, d *keyDoc, bare bool) (*Key, error) {
	all := d.keys()
	var found *keyEntry
	for i := range all {
		if all[i].ID == keyID {
			found = &all[i]
			break
		}
	}
	if found == nil && bare && keyID == d.ID {
		// A keyId without a fragment names the actor; that is
		// unambiguous only when the actor has one key with material.
		var withMaterial []keyEntry
		for _, e := range all {
			if e.PublicKeyPem != "" || e.PublicKeyMultibase != "" {
				withMaterial = append(withMaterial, e)
			}
		}
		if len(withMaterial) == 1 {
			found = &withMaterial[0]
		}
	}
	if found == nil || (found.PublicKeyPem == "" && found.PublicKeyMultibase == "") {
		return nil, fail(ErrUnknownKey, fmt.Sprintf("%s does not list key %s", d.ID, keyID))
	}
	owner := found.Owner
	if owner == "" {
		owner = found.Controller
	}
	if owner != "" && owner != d.ID {
		return nil, fail(ErrKeyOwner, fmt.Sprintf("key %s, listed by %s, names %s as its owner", keyID, d.ID, owner))
	}
	pub, err := parseMaterial(found.PublicKeyPem, found.PublicKeyMultibase)
	if err != nil {
		return nil, err
	}
	return &Key{ID: keyID, Owner: d.ID, Public: pub}, nil
}

// standaloneKey checks a key document against its owner, which must list
// the key back: otherwise anyone could publish a key naming any actor.
func (r *Resolver) standaloneKey(ctx context.Context, keyID string, d *keyDoc) (*Key, error) {
	owner := d.Owner
	if owner == "" {
		owner = d.Controller
	}
	if owner == "" {
		return nil, fail(ErrKeyOwner, fmt.Sprintf("key document %s names no owner", keyID))
	}
	pub, err := parseMaterial(d.PublicKeyPem, d.PublicKeyMultibase)
	if err != nil {
		return nil, err
	}
	od, _, err := r.get(ctx, owner, "owner", false)
	if err != nil {
		return nil, err
	}
	if od.ID != stripFragment(owner) && od.ID != owner {
		return nil, fail(ErrOwnerKey, fmt.Sprintf("owner %s is not an actor document", owner))
	}
	for _, e := range od.keys() {
		if e.ID == keyID || (d.ID != "" && e.ID == d.ID) {
			return &Key{ID: keyID, Owner: od.ID, Public: pub}, nil
		}
	}
	return nil, fail(ErrOwnerKey, fmt.Sprintf("owner %s does not list key %s", owner, keyID))
}

func parseMaterial(pemText, multibase string) (crypto.PublicKey, error) {
	if pemText != "" {
		return ParsePublicKeyPEM(pemText)
	}
	return ParseMultikey(multibase)
}

func stripFragment(iri string) string {
	if i := strings.IndexByte(iri, '#'); i >= 0 {
		return iri[:i]
	}
	return iri
}
