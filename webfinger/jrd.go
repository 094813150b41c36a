package webfinger

// JRD is a JSON Resource Descriptor (RFC 7033 §4.4).
type JRD struct {
	Subject    string             `json:"subject"`
	Aliases    []string           `json:"aliases,omitempty"`
	Properties map[string]*string `json:"properties,omitempty"`
	Links      []Link             `json:"links,omitempty"`
}

// Link is a link of a JRD.
type Link struct {
	Rel        string             `json:"rel"`
	Type       string             `json:"type,omitempty"`
	Href       string             `json:"href,omitempty"`
	Template   string             `json:"template,omitempty"`
	Titles     map[string]string  `json:"titles,omitempty"`
	Properties map[string]*string `json:"properties,omitempty"`
}

// Link relations and types used by ActivityPub servers.
const (
	RelSelf        = "self"
	RelProfilePage = "http://webfinger.net/rel/profile-page"
	TypeActivity   = "application/activity+json"
	TypeLDActivity = `application/ld+json; profile="https://www.w3.org/ns/activitystreams"`
)

// ActorIRI returns the href of the first self link whose type is an
// ActivityStreams type, as Mastodon and Fedify look for it.
func (j *JRD) ActorIRI() (string, bool) {
	for _, l := range j.Links {
		if l.Rel == RelSelf && isActivityType(l.Type) && l.Href != "" {
			return l.Href, true
		}
	}
	return "", false
}

func isActivityType(t string) bool {
	switch t {
	case TypeActivity, TypeLDActivity, `application/ld+json;profile="https://www.w3.org/ns/activitystreams"`:
		return true
	}
	return false
}
