package signature

import (
	"net"
	"net/http"
	"strings"
)

// requestFacts are the parts of a request a signature can cover, as the
// sender saw them: behind a trusted proxy, the host and scheme the proxy
// was asked for.
type requestFacts struct {
	method     string
	scheme     string // "http" or "https"
	host       string // the Host the client sent, with its port
	requestURI string // the path and query, as received
	path       string
	query      string // without '?'
	hdr        http.Header
}

func factsOf(r *http.Request, trustProxy bool) requestFacts {
	rf := requestFacts{method: r.Method, host: r.Host, hdr: r.Header, scheme: "http"}
	if r.TLS != nil {
		rf.scheme = "https"
	}
	if r.Host == "" && r.URL != nil {
		rf.host = r.URL.Host // a request built by hand, as in tests
	}
	if trustProxy {
		if h := lastValue(r.Header.Values("X-Forwarded-Host")); h != "" {
			rf.host = h
		}
		if p := strings.ToLower(lastValue(r.Header.Values("X-Forwarded-Proto"))); p == "http" || p == "https" {
			rf.scheme = p
		}
	}
	rf.requestURI = r.RequestURI
	if rf.requestURI == "" || !strings.HasPrefix(rf.requestURI, "/") {
		rf.requestURI = r.URL.RequestURI()
	}
	rf.path, rf.query, _ = strings.Cut(rf.requestURI, "?")
	return rf
}

// lastValue returns the last member of a comma-separated header that may
// span several field lines: the one the nearest proxy appended. Members
// before it came from further away, the client included, and prove
// nothing.
func lastValue(lines []string) string {
	if len(lines) == 0 {
		return ""
	}
	last := lines[len(lines)-1]
	if i := strings.LastIndexByte(last, ','); i >= 0 {
		last = last[i+1:]
	}
	return strings.TrimSpace(last)
}

// appendHeader appends the value a signature covers for a header: every
// field line trimmed and joined with ", ". Host comes from the request (Go
// moves it out of the header map).
func (rf *requestFacts) appendHeader(b []byte, name string) ([]byte, bool) {
	if name == "host" {
		return append(b, rf.host...), rf.host != ""
	}
	vs := rf.values(name)
	if len(vs) == 0 {
		return b, false
	}
	for i, v := range vs {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, strings.TrimSpace(v)...)
	}
	return b, true
}

// values returns the field lines of a header named in lower case, as
// signatures name them. The names signatures usually cover are looked up
// under their canonical spelling directly, since http.Header.Values would
// build that spelling anew for every look-up.
func (rf *requestFacts) values(name string) []string {
	var key string
	switch name {
	case "date":
		key = "Date"
	case "digest":
		key = "Digest"
	case "content-digest":
		key = "Content-Digest"
	case "content-type":
		key = "Content-Type"
	case "content-length":
		key = "Content-Length"
	case "accept":
		key = "Accept"
	default:
		return rf.hdr.Values(name)
	}
	return rf.hdr[key]
}

// appendAuthority appends @authority: the host in lower case without a
// default port.
func appendAuthority(b []byte, scheme, host string) []byte {
	return append(b, normalizeAuthority(scheme, host)...)
}

func normalizeAuthority(scheme, host string) string {
	host = strings.ToLower(host)
	if strings.IndexByte(host, ':') < 0 {
		return host // no port (and no error for SplitHostPort to build)
	}
	if h, port, err := net.SplitHostPort(host); err == nil {
		if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
			if strings.Contains(h, ":") {
				return "[" + h + "]"
			}
			return h
		}
	}
	return host
}

// appendTargetURI appends @target-uri: the absolute URL of the request.
func (rf *requestFacts) appendTargetURI(b []byte) []byte {
	b = append(b, rf.scheme...)
	b = append(b, "://"...)
	b = appendAuthority(b, rf.scheme, rf.host)
	return append(b, rf.requestURI...)
}
