package webfinger

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// ErrBadResource reports a resource or handle that cannot be parsed.
var ErrBadResource = errors.New("webfinger: malformed resource")

// Resource is a parsed WebFinger resource: an acct: URI or an actor IRI.
type Resource struct {
	// User and Host are set for acct: resources; Host keeps its port and
	// is lower-cased.
	User, Host string
	// IRI is set for http and https resources.
	IRI string
}

// IsAcct reports whether r is an acct: resource.
func (r Resource) IsAcct() bool { return r.IRI == "" }

// String returns the resource as a URI.
func (r Resource) String() string {
	if r.IsAcct() {
		return "acct:" + r.User + "@" + r.Host
	}
	return r.IRI
}

// ParseResource parses the resource parameter of a WebFinger request:
// "acct:user@host[:port]" or an absolute http or https IRI. A bare
// "user@host" is refused, as RFC 7033 asks for a URI.
func ParseResource(s string) (Resource, error) {
	switch {
	case len(s) > 2048:
		return Resource{}, fmt.Errorf("%w: too long", ErrBadResource)
	case strings.HasPrefix(strings.ToLower(s), "acct:"):
		user, host, err := splitHandle(s[len("acct:"):])
		if err != nil {
			return Resource{}, err
		}
		return Resource{User: user, Host: host}, nil
	case strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://"):
		u, err := url.Parse(s)
		if err != nil || u.Host == "" || u.User != nil || !validHost(u.Host) {
			return Resource{}, fmt.Errorf("%w: %q is not an absolute IRI", ErrBadResource, s)
		}
		if strings.ContainsAny(s, " \t\r\n\"<>\\") {
			return Resource{}, fmt.Errorf("%w: %q has characters an IRI cannot", ErrBadResource, s)
		}
		return Resource{IRI: s}, nil
	}
	return Resource{}, fmt.Errorf("%w: %q is neither acct: nor an http(s) IRI", ErrBadResource, s)
}

// ParseHandle parses a handle as people write it: "@user@host",
// "user@host" or "acct:user@host".
func ParseHandle(s string) (user, host string, err error) {
	s = strings.TrimSpace(s)
	if len(s) > 2048 {
		return "", "", fmt.Errorf("%w: too long", ErrBadResource)
	}
	if strings.HasPrefix(strings.ToLower(s), "acct:") {
		s = s[len("acct:"):]
	}
	s = strings.TrimPrefix(s, "@")
	return splitHandle(s)
}

// splitHandle splits user@host and checks both halves.
func splitHandle(s string) (user, host string, err error) {
	i := strings.LastIndexByte(s, '@')
	if i <= 0 || i == len(s)-1 {
		return "", "", fmt.Errorf("%w: %q is not user@host", ErrBadResource, s)
	}
	user, host = s[:i], strings.ToLower(s[i+1:])
	for j := 0; j < len(user); j++ {
		c := user[j]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`@/?#[]"<>\^{|}`+"`", c) >= 0 {
			return "", "", fmt.Errorf("%w: user %q has a character %q", ErrBadResource, user, c)
		}
	}
	if !validHost(host) {
		return "", "", fmt.Errorf("%w: %q is not a host", ErrBadResource, host)
	}
	return user, host, nil
}

// validHost accepts a DNS name or IP literal with an optional port.
func validHost(host string) bool {
	u, err := url.Parse("https://" + host)
	if err != nil || u.Host != host || u.Hostname() == "" || u.Path != "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return false
	}
	if p := u.Port(); p != "" {
		if len(p) > 5 {
			return false
		}
		for _, c := range p {
			if c < '0' || c > '9' {
				return false
			}
		}
	} else if strings.HasSuffix(host, ":") {
		return false
	}
	name := u.Hostname()
	if strings.HasPrefix(host, "[") {
		return true // an IPv6 literal, which url.Parse checked
	}
	for _, label := range strings.Split(name, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return len(name) <= 253
}
