package actor

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// The names of the collections fedi keeps for an actor or an object, as
// Scheme.Collection takes them.
const (
	Inbox     = "inbox"     // an actor's inbox: what it received that no handler took
	Outbox    = "outbox"    // an actor's outbox: the activities it sent
	Followers = "followers" // an actor's followers, with pending requests
	Following = "following" // the actors an actor follows, with pending requests
	Liked     = "liked"     // the objects an actor liked
	Blocked   = "blocked"   // the actors an actor blocked
	BlockedBy = "blockedBy" // the remote actors that blocked an actor: nothing is delivered to them
	Likes     = "likes"     // an object's likes: the actors who liked it, with their Like
	Shares    = "shares"    // an object's shares: the actors who announced it, with their Announce
	Replies   = "replies"   // an object's replies
)

// Scheme is an application's IRI scheme: where its actors, their
// collections and new objects live. It is a handful of functions so that
// an application keeps its own URLs; the zero value of every field but
// Origin has a default (see NewScheme).
type Scheme struct {
	// Origin is the scheme and authority of every local IRI, such as
	// "https://example.com". IRIs on any other origin are remote.
	Origin string
	// Actor returns the IRI of the local actor named name. The default is
	// Origin + "/users/" + name.
	Actor func(name string) string
	// Collection returns the IRI of the collection called name (one of
	// the constants of this package, or a platform's own) of owner, a
	// local actor or object. The default is owner + "/" + name.
	Collection func(owner, name string) string
	// ParseCollection is the inverse of Collection: the owner and name of
	// a collection IRI, or false. The default splits the last path
	// segment off; set it whenever Collection is set.
	ParseCollection func(iri string) (owner, name string, ok bool)
	// SharedInbox is the IRI of the shared inbox. The default is
	// Origin + "/inbox".
	SharedInbox string
	// NewID returns a fresh IRI for an object or activity of type typ
	// made by the local actor owner. The default is
	// owner + "/" + lower-case typ + "/" + 16 random hex digits.
	NewID func(owner, typ string) string
}

// NewScheme returns the default scheme for origin: actors at
// /users/{name}, their collections below them, the shared inbox at /inbox.
func NewScheme(origin string) (Scheme, error) {
	return Scheme{Origin: origin}.Complete()
}

// Complete checks s and fills in the defaults of its unset fields.
func (s Scheme) Complete() (Scheme, error) {
	u, err := url.Parse(s.Origin)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || (u.Path != "" && u.Path != "/") ||
		u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return Scheme{}, fmt.Errorf("actor: origin %q must be a scheme and a host, such as https://example.com", s.Origin)
	}
	s.Origin = Origin(s.Origin)
	if s.Actor == nil {
		origin := s.Origin
		s.Actor = func(name string) string { return origin + "/users/" + url.PathEscape(name) }
	}
	if s.Collection == nil {
		if s.ParseCollection != nil {
			return Scheme{}, errors.New("actor: Scheme.ParseCollection set without Collection")
		}
		s.Collection = func(owner, name string) string { return owner + "/" + name }
		s.ParseCollection = func(iri string) (string, string, bool) {
			i := strings.LastIndexByte(iri, '/')
			if i <= 0 || i == len(iri)-1 {
				return "", "", false
			}
			return iri[:i], iri[i+1:], true
		}
	} else if s.ParseCollection == nil {
		return Scheme{}, errors.New("actor: Scheme.Collection set without ParseCollection")
	}
	if s.SharedInbox == "" {
		s.SharedInbox = s.Origin + "/inbox"
	}
	if s.NewID == nil {
		s.NewID = func(owner, typ string) string {
			return owner + "/" + strings.ToLower(url.PathEscape(typ)) + "/" + RandomID()
		}
	}
	return s, nil
}

// IsLocal reports whether iri is on the scheme's origin.
func (s Scheme) IsLocal(iri string) bool {
	return iri != "" && Origin(iri) == s.Origin
}

// RandomID returns 16 random hex digits, for the last segment of a new
// IRI.
func RandomID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Origin returns the scheme and authority of iri in lower case, such as
// "https://example.com", or "" when iri is not an absolute http(s) IRI.
// Two IRIs share an origin when Origin returns the same for both.
func Origin(iri string) string {
	u, err := url.Parse(iri)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return ""
	}
	host := strings.ToLower(u.Host)
	switch {
	case u.Scheme == "https" && strings.HasSuffix(host, ":443"):
		host = strings.TrimSuffix(host, ":443")
	case u.Scheme == "http" && strings.HasSuffix(host, ":80"):
		host = strings.TrimSuffix(host, ":80")
	}
	return u.Scheme + "://" + host
}

// SameOrigin reports whether two IRIs share an origin.
func SameOrigin(a, b string) bool {
	o := Origin(a)
	return o != "" && o == Origin(b)
}
