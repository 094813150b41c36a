package signature

import (
	"container/list"
	"context"
	"crypto"
	"errors"
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

// KnockerOptions configures a Knocker. Client, KeyID and Key are
// required.
type KnockerOptions struct {
	Client *fetch.Client
	KeyID  string
	Key    crypto.Signer
	// RSAPSS signs RFC 9421 with rsa-pss-sha512 (see SignerOptions).
	RSAPSS bool
	// Memory is how long the scheme that worked for a host is
	// remembered.
	Memory time.Duration
	// MaxHosts bounds the hosts remembered; the least recently used is
	// forgotten first.
	MaxHosts int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Knocker delivers signed POSTs by double-knocking: it signs with RFC 9421
// first; when the server answers 400, 401 or 403 it signs afresh with
// draft-cavage and tries once more. It remembers per host which scheme
// was accepted and knocks with that one first next time. It does not
// retry otherwise: retries belong to the outbox. It is safe for concurrent
// use.
type Knocker struct {
	client      *fetch.Client
	cavage, rfc *Signer
	memory      time.Duration
	maxHosts    int
	now         func() time.Time
	mu          sync.Mutex
	hosts       map[string]*list.Element // host → *knockEntry
	lru         *list.List
}

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
	if o.Now == nil {
		o.Now = time.Now
	}
	cav, err := NewSigner(SignerOptions{KeyID: o.KeyID, Key: o.Key, Scheme: Cavage, Now: o.Now})
	if err != nil {
		return nil, err
	}
	rfc, err := NewSigner(SignerOptions{KeyID: o.KeyID, Key: o.Key, Scheme: RFC9421, RSAPSS: o.RSAPSS, Now: o.Now})
	if err != nil {
		return nil, err
	}
	return &Knocker{client: o.Client, cavage: cav, rfc: rfc, memory: o.Memory, maxHosts: o.MaxHosts,
		now: o.Now, hosts: map[string]*list.Element{}, lru: list.New()}, nil
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
	host := hostOf(inbox)
	first := k.Preferred(host)
	resp, err := k.client.Post(ctx, inbox, contentType, body, k.signer(first))
	if err != nil {
		return nil, err
	}
	knock := &Knock{Response: resp, Tried: []Scheme{first}}
	switch resp.StatusCode {
	case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden:
		second := Cavage
		if first == Cavage {
			second = RFC9421
		}
		resp, err = k.client.Post(ctx, inbox, contentType, body, k.signer(second))
		if err != nil {
			return nil, err
		}
		knock.Response = resp
		knock.Tried = append(knock.Tried, second)
		if is2xx(resp.StatusCode) {
			k.remember(host, second)
		}
	default:
		if is2xx(resp.StatusCode) {
			k.remember(host, first)
		}
	}
	return knock, nil
}

func is2xx(code int) bool { return code >= 200 && code <= 299 }

func (k *Knocker) signer(s Scheme) *Signer {
	if s == Cavage {
		return k.cavage
	}
	return k.rfc
}

// Preferred returns the scheme the next delivery to host knocks with
// first: the one last accepted, or RFC 9421.
func (k *Knocker) Preferred(host string) Scheme {
	k.mu.Lock()
	defer k.mu.Unlock()
	el, ok := k.hosts[host]
	if !ok {
		return RFC9421
	}
	e := el.Value.(*knockEntry)
	if k.now().Sub(e.at) > k.memory {
		k.lru.Remove(el)
		delete(k.hosts, host)
		return RFC9421
	}
	return e.scheme
}

func (k *Knocker) remember(host string, s Scheme) {
	k.mu.Lock()
	defer k.mu.Unlock()
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

func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Host)
}
