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

func factsOf(r *http.Request, trustProxy bool) *requestFacts {
	rf := &requestFacts{method: r.Method, host: r.Host, hdr: r.Header, scheme: "http"}
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

// header returns the value a signature covers for a header: every field
// line trimmed and joined with ", ". Host comes from the request (Go moves
// it out of the header map).
func (rf *requestFacts) header(name string) (string, bool) {
	if name == "host" {
		return rf.host, rf.host != ""
	}
	vs := rf.hdr.Values(name)
	if len(vs) == 0 {
		return "", false
	}
	if len(vs) == 1 {
		return strings.TrimSpace(vs[0]), true
	}
	var b strings.Builder
	for i, v := range vs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strings.TrimSpace(v))
	}
	return b.String(), true
}

// appendHeader appends what header returns, without building it apart.
func (rf *requestFacts) appendHeader(b []byte, name string) ([]byte, bool) {
	if name == "host" {
		return append(b, rf.host...), rf.host != ""
	}
	vs := rf.hdr.Values(name)
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

// authority is @authority: the host in lower case without a default port.
func (rf *requestFacts) authority() string {
	return normalizeAuthority(rf.scheme, rf.host)
}

func normalizeAuthority(scheme, host string) string {
	host = strings.ToLower(host)
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

// targetURI is @target-uri: the absolute URL of the request.
func (rf *requestFacts) targetURI() string {
	return rf.scheme + "://" + rf.authority() + rf.requestURI
}
