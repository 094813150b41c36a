package vocab

import (
	"unicode/utf8"

	ap "github.com/go-ap/activitypub"
)

// PublicIRI is the special collection that addresses everyone.
const PublicIRI ap.IRI = "https://www.w3.org/ns/activitystreams#Public"

// IsPublic reports whether iri names the Public collection in any of the
// forms peers send: the full IRI (https or http), the compact "as:Public",
// or the bare term "Public".
func IsPublic(iri ap.IRI) bool {
	switch iri {
	case PublicIRI, "http://www.w3.org/ns/activitystreams#Public", "as:Public", "Public":
		return true
	}
	return false
}

// checkIRI reports why s cannot be an IRI reference (RFC 3987), or "" when
// it can. It rejects what no IRI may contain: controls, spaces, the
// delimiters "<>\"{}|\\^`", malformed percent-encoding, and the Unicode
// bidirectional and line-separator characters used to spoof text.
func checkIRI(s string) string {
	if s == "" {
		return "empty IRI"
	}
	for i := 0; i < len(s); {
		for i < len(s) && plainIRIByte[s[i]] {
			i++
		}
		if i == len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c <= ' ' || c == 0x7f:
				return "contains a control character or space"
			case c == '"' || c == '<' || c == '>' || c == '\\' || c == '^' || c == '`' || c == '{' || c == '|' || c == '}':
				return "contains " + quoteByte(c)
			case c == '%':
				if i+2 >= len(s) || !isHexByte(s[i+1]) || !isHexByte(s[i+2]) {
					return "contains a malformed percent-encoding"
				}
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			return "contains invalid UTF-8"
		case r >= 0x80 && r <= 0x9f:
			return "contains a control character"
		case r == 0x200e || r == 0x200f || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069):
			return "contains a bidirectional formatting character"
		case r == 0x2028 || r == 0x2029:
			return "contains a line separator"
		}
		i += size
	}
	return ""
}

// plainIRIByte marks the ASCII bytes an IRI may hold with no further check.
var plainIRIByte = func() (t [256]bool) {
	for c := 0x21; c < 0x7f; c++ {
		switch c {
		case '"', '<', '>', '\\', '^', '`', '{', '|', '}', '%':
		default:
			t[c] = true
		}
	}
	return t
}()

func isHexByte(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// IsAbsoluteIRI reports whether s starts with a scheme, as an absolute IRI
// (or a compact IRI such as "as:Public") does.
func IsAbsoluteIRI(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		case i > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.'):
		case i > 0 && c == ':':
			return true
		default:
			return false
		}
	}
	return false
}
