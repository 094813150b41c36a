package webfinger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"

	"github.com/fedi-go/fedi/fetch"
)

// Client errors, besides ErrBadResource and the fetch errors it wraps.
var (
	// ErrBadJRD reports a response that is not a JRD.
	ErrBadJRD = errors.New("webfinger: malformed JRD")
	// ErrNoActor reports a JRD without an ActivityStreams self link.
	ErrNoActor = errors.New("webfinger: no ActivityPub actor in the JRD")
)

// Client resolves handles through a fetch.Client, so every look-up gets
// the SSRF guard, the timeouts and the size cap.
type Client struct {
	fetch *fetch.Client
}

// NewClient builds a Client on f.
func NewClient(f *fetch.Client) (*Client, error) {
	if f == nil {
		return nil, errors.New("webfinger: NewClient needs a fetch.Client")
	}
	return &Client{fetch: f}, nil
}

// Lookup fetches the JRD of a handle ("@user@host", "user@host" or
// "acct:user@host"). It asks https://host/.well-known/webfinger, or http
// when host is a loopback host and the fetch.Client allows loopback.
func (c *Client) Lookup(ctx context.Context, handle string) (*JRD, error) {
	user, host, err := ParseHandle(handle)
	if err != nil {
		return nil, err
	}
	scheme := "https"
	if c.fetch.AllowsLoopback() && fetch.IsLoopbackHost(hostname(host)) {
		scheme = "http"
	}
	u := scheme + "://" + host + "/.well-known/webfinger?resource=" + url.QueryEscape("acct:"+user+"@"+host)
	resp, err := c.fetch.GetJSON(ctx, u, "application/jrd+json, application/json")
	if err != nil {
		return nil, fmt.Errorf("webfinger: looking up %s@%s: %w", user, host, err)
	}
	var jrd JRD
	if err := json.Unmarshal(resp.Body, &jrd); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrBadJRD, u, err)
	}
	return &jrd, nil
}

// Resolve returns the actor IRI of a handle: the href of the JRD's self
// link of type application/activity+json (or the ld+json profile form).
func (c *Client) Resolve(ctx context.Context, handle string) (string, error) {
	jrd, err := c.Lookup(ctx, handle)
	if err != nil {
		return "", err
	}
	iri, ok := jrd.ActorIRI()
	if !ok {
		return "", fmt.Errorf("%w: %s", ErrNoActor, handle)
	}
	if u, err := url.Parse(iri); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", fmt.Errorf("%w: self link %q is not an absolute http(s) IRI", ErrBadJRD, iri)
	}
	return iri, nil
}

func hostname(hostport string) string {
	u, err := url.Parse("https://" + hostport)
	if err != nil {
		return hostport
	}
	return u.Hostname()
}
