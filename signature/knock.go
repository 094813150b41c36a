package signature

import (
	"container/list"
	"context"
	"crypto"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/fedi-go/fedi/fetch"
)

// Defaults of a Knocker.
const (
	DefaultKnockMemory   = 24 * time.Hour
	DefaultKnockMaxHosts = 10000
)

// KnockerOptions configures a Knocker. Client is required. KeyID and
// Key are the key Post signs with; a Knocker that signs for many actors,
// as an outbox's delivery worker does, leaves them empty and calls PostAs.
type KnockerOptions struct {
	Client *fetch.Client
	KeyID  string
	Key    crypto.Signer
	// RSAPSS signs RFC 9421 with rsa-pss-sha512 (see SignerOptions).
	RSAPSS bool
	// FirstKnock is the scheme of the first knock at a host the knocker
	// knows nothing of. The zero value, Cavage, knocks with RFC 9421 first
	// only at hosts known to verify it (see Knocker). RFC9421 knocks with
	// RFC 9421 first at every host not remembered as refusing it: the
	// strict double-knock, which loses deliveries to peers that answer
	// 2xx to signatures they cannot verify.
	FirstKnock Scheme
	// Memory is how long what the knocker learnt of a host is
	// remembered: that it verifies RFC 9421 (Observe), or that it refused
	// it.
	Memory time.Duration
	// MaxHosts bounds the hosts remembered; the least recently used is
	// forgotten first.
	MaxHosts int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Knocker delivers signed POSTs by double-knocking: it signs with one
// scheme, and when the server answers 400, 401 or 403 it signs afresh
// with the other and tries once more. It does not retry otherwise:
// retries belong to the outbox. It is safe for concurrent use.
//
// Which scheme knocks first matters because a 2xx does not prove that a
// signature was verified. Mobilizon answers 200 with the body "error" to
// a request whose signature it cannot verify, and Pleroma answers 200 to
// a relayed Create it could not verify and then drops it; an RFC 9421
// knock at either is lost without a fallback. So by default the first
// knock is draft-cavage, which every peer verifies, and RFC 9421 knocks
// first only at hosts known to verify it: hosts reported through Observe
// because a Verifier verified an RFC 9421 signature of theirs (set
// VerifierOptions.Observer to the Knocker). A 2xx to an RFC 9421 knock
// never by itself makes a host known.
//
// A host that refuses an RFC 9421 knock with 400, 401 or 403 and accepts
// the draft-cavage retry is remembered as refusing RFC 9421: later
// deliveries knock with draft-cavage first, whatever Observe reports,
// until the memory expires. KnockerOptions.FirstKnock = RFC9421 restores
// the strict double-knock, RFC 9421 first at every other host.
type Knocker struct {
	client      *fetch.Client
	cavage, rfc *Signer // nil without KnockerOptions.Key
	rsaPSS      bool
	first       Scheme
	memory      time.Duration
	maxHosts    int
	now         func() time.Time
	mu          sync.Mutex
	hosts       map[string]*list.Element // host → *knockEntry
	lru         *list.List
}

// knockEntry is what the knocker knows of a host: RFC9421 when the host
// was observed to verify it, Cavage when it refused an RFC 9421 knock.
type knockEntry struct {
	host   string
	scheme Scheme
	at     time.Time
}

// NewKnocker validates o and builds a Knocker.
func NewKnocker(o KnockerOptions) (*Knocker, error) {
	if o.Client == nil {
		return nil, errors.New("signature: KnockerOptions.Client is required")
	}
	if o.Memory < 0 || o.MaxHosts < 0 {
		return nil, errors.New("signature: negative limit in KnockerOptions")
	}
	if o.Memory == 0 {
		o.Memory = DefaultKnockMemory
	}
	if o.MaxHosts == 0 {
		o.MaxHosts = DefaultKnockMaxHosts
	}
	if o.FirstKnock != Cavage && o.FirstKnock != RFC9421 {
		return nil, fmt.Errorf("signature: KnockerOptions.FirstKnock: unknown scheme %d", o.FirstKnock)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	k := &Knocker{client: o.Client, rsaPSS: o.RSAPSS, first: o.FirstKnock, memory: o.Memory, maxHosts: o.MaxHosts,
		now: o.Now, hosts: map[string]*list.Element{}, lru: list.New()}
	if o.KeyID == "" && o.Key == nil {
		return k, nil
	}
	var err error
	if k.cavage, k.rfc, err = k.signers(o.KeyID, o.Key); err != nil {
		return nil, err
	}
	return k, nil
}

// signers builds the two signers of a key.
func (k *Knocker) signers(keyID string, key crypto.Signer) (cavage, rfc *Signer, err error) {
	cavage, err = NewSigner(SignerOptions{KeyID: keyID, Key: key, Scheme: Cavage, Now: k.now})
	if err != nil {
		return nil, nil, err
	}
	rfc, err = NewSigner(SignerOptions{KeyID: keyID, Key: key, Scheme: RFC9421, RSAPSS: k.rsaPSS, Now: k.now})
	if err != nil {
		return nil, nil, err
	}
	return cavage, rfc, nil
}

// Knock is what one delivery did: the response that counts and the
// schemes tried, in order.
type Knock struct {
	Response *fetch.Response
	Tried    []Scheme
}

// Post delivers body to inbox. It returns the last response whatever its
// status, and an error only when the request could not be made.
func (k *Knocker) Post(ctx context.Context, inbox, contentType string, body []byte) (*Knock, error) {
	if k.cavage == nil {
		return nil, errors.New("signature: Knocker.Post: the knocker has no key; use PostAs")
	}
	return k.post(ctx, k.cavage, k.rfc, inbox, contentType, body)
}

// PostAs is Post signed with the key keyID, for a knocker that delivers
// for many actors. What it learns of the host serves every key.
func (k *Knocker) PostAs(ctx context.Context, keyID string, key crypto.Signer, inbox, contentType string, body []byte) (*Knock, error) {
	cavage, rfc, err := k.signers(keyID, key)
	if err != nil {
		return nil, err
	}
	return k.post(ctx, cavage, rfc, inbox, contentType, body)
}

func (k *Knocker) post(ctx context.Context, cavage, rfc *Signer, inbox, contentType string, body []byte) (*Knock, error) {
	signer := func(s Scheme) *Signer {
		if s == Cavage {
			return cavage
		}
		return rfc
	}
	host := hostOf(inbox)
	first := k.Preferred(host)
	resp, err := k.client.Post(ctx, inbox, contentType, body, signer(first))
	if err != nil {
		return nil, err
	}
	knock := &Knock{Response: resp, Tried: []Scheme{first}}
	if !refused(resp.StatusCode) {
		return knock, nil
	}
	second := Cavage
	if first == Cavage {
		second = RFC9421
	}
	resp, err = k.client.Post(ctx, inbox, contentType, body, signer(second))
	if err != nil {
		return nil, err
	}
	knock.Response = resp
	knock.Tried = append(knock.Tried, second)
	// A refused RFC 9421 knock and an accepted draft-cavage one say that
	// the host does not verify RFC 9421. The converse is not learnt here:
	// a 2xx to RFC 9421 may come from a peer that verified nothing.
	if first == RFC9421 && is2xx(resp.StatusCode) {
		k.remember(host, Cavage)
	}
	return knock, nil
}

func refused(code int) bool {
	return code == http.StatusBadRequest || code == http.StatusUnauthorized || code == http.StatusForbidden
}

func is2xx(code int) bool { return code >= 200 && code <= 299 }

// Observe reports that a request signed by a peer at host with scheme s
// was verified: host is the authority of the signer's actor, in lower
// case, with its port unless it is the default. A peer that signs with
// RFC 9421 is taken to verify it, so deliveries to host knock with RFC
// 9421 first until the memory expires, unless the host was remembered as
// refusing RFC 9421 (which stands until it expires). Observing Cavage
// changes nothing: peers that verify RFC 9421 still sign with
// draft-cavage. A Verifier calls Observe itself when the Knocker is its
// VerifierOptions.Observer.
func (k *Knocker) Observe(host string, s Scheme) {
	if s != RFC9421 || host == "" {
		return
	}
	host = strings.ToLower(host)
	k.mu.Lock()
	defer k.mu.Unlock()
	if e := k.lookup(host); e != nil && e.scheme == Cavage {
		return
	}
	k.set(host, RFC9421)
}

// Preferred returns the scheme the next delivery to host knocks with
// first: draft-cavage for a host remembered as refusing RFC 9421, RFC
// 9421 for a host observed to verify it, and KnockerOptions.FirstKnock
// for any other.
func (k *Knocker) Preferred(host string) Scheme {
	host = strings.ToLower(host)
	k.mu.Lock()
	defer k.mu.Unlock()
	if e := k.lookup(host); e != nil {
		return e.scheme
	}
	return k.first
}

func (k *Knocker) remember(host string, s Scheme) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.set(host, s)
}

// lookup returns the unexpired entry of host, forgetting an expired one.
// k.mu is held.
func (k *Knocker) lookup(host string) *knockEntry {
	el, ok := k.hosts[host]
	if !ok {
		return nil
	}
	e := el.Value.(*knockEntry)
	if k.now().Sub(e.at) > k.memory {
		k.lru.Remove(el)
		delete(k.hosts, host)
		return nil
	}
	return e
}

// set records s for host, most recently used, within MaxHosts. k.mu is
// held.
func (k *Knocker) set(host string, s Scheme) {
	e := &knockEntry{host: host, scheme: s, at: k.now()}
	if el, ok := k.hosts[host]; ok {
		el.Value = e
		k.lru.MoveToFront(el)
		return
	}
	k.hosts[host] = k.lru.PushFront(e)
	for k.lru.Len() > k.maxHosts {
		old := k.lru.Back()
		k.lru.Remove(old)
		delete(k.hosts, old.Value.(*knockEntry).host)
	}
}

// hostOf returns the authority of a URL in lower case, without a default
// port: the key under which the knocker remembers a host.
func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return ""
	}
	return normalizeAuthority(strings.ToLower(u.Scheme), u.Host)
}
