package signature

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// CavageParams is a parsed draft-cavage-http-signatures-12 Signature
// header.
type CavageParams struct {
	KeyID     string
	Algorithm string   // the label as sent; the key decides the real one
	Headers   []string // lower-cased, in signing order
	Signature []byte
	Created   int64 // 0 when absent
	Expires   int64 // 0 when absent
}

// ParseCavage parses the value of a draft-cavage Signature header. It is
// strict where go-fed/httpsig is lenient: parameters are name="value"
// pairs separated by commas (optional whitespace around them, as Fedify
// and others send), quoted strings may escape '"' and '\', created and
// expires are integers, no parameter may repeat, keyId and signature are
// required, and the headers list may not be empty or repeat a name.
// Unknown parameters are ignored, as the draft says. The value may be at
// most MaxSignatureHeaderBytes long, with at most MaxCavageParams
// parameters and MaxCoveredComponents header names.
func ParseCavage(s string) (*CavageParams, error) {
	if len(s) > MaxSignatureHeaderBytes {
		return nil, tooLong("Signature", len(s))
	}
	p := &CavageParams{}
	// Parameters are refused past MaxCavageParams, so the repeat check
	// scans a small fixed set.
	var seen [MaxCavageParams]string
	nseen := 0
	i := 0
	skipWS := func() {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
	}
	bad := func(format string, args ...any) error {
		return &Error{Check: ErrMalformed, Detail: fmt.Sprintf("Signature header at offset %d: ", i) + fmt.Sprintf(format, args...)}
	}
	skipWS()
	if i == len(s) {
		return nil, bad("empty")
	}
	for i < len(s) {
		start := i
		for i < len(s) && (s[i] >= 'a' && s[i] <= 'z' || s[i] >= 'A' && s[i] <= 'Z') {
			i++
		}
		name := s[start:i]
		if name == "" {
			return nil, bad("expected a parameter name")
		}
		if i == len(s) || s[i] != '=' {
			return nil, bad("expected '=' after %q", name)
		}
		i++
		var val string
		quoted := i < len(s) && s[i] == '"'
		if quoted {
			i++
			n, escaped, msg := scanQuoted(s[i:])
			if msg != "" {
				i += n
				return nil, bad("%s in the value of %q", msg, name)
			}
			val = s[i : i+n]
			i += n + 1 // the value and the closing quote
			if escaped {
				var b strings.Builder
				for j := 0; j < len(val); j++ {
					if val[j] == '\\' && j+1 < len(val) {
						j++
					}
					b.WriteByte(val[j])
				}
				val = b.String()
			}
		} else {
			start := i
			for i < len(s) && s[i] >= '0' && s[i] <= '9' {
				i++
			}
			val = s[start:i]
			if val == "" {
				return nil, bad("value of %q is neither quoted nor a number", name)
			}
		}
		for _, prev := range seen[:nseen] {
			if prev == name {
				return nil, bad("parameter %q repeated", name)
			}
		}
		if nseen == MaxCavageParams {
			return nil, bad("more than MaxCavageParams (%d) parameters", MaxCavageParams)
		}
		seen[nseen] = name
		nseen++
		var err error
		switch name {
		case "keyId":
			p.KeyID = val
		case "algorithm":
			p.Algorithm = strings.ToLower(val)
		case "headers":
			if p.Headers, err = parseHeaderList(val); err != nil {
				return nil, bad("%s", err.Error())
			}
		case "signature":
			if p.Signature, err = base64.StdEncoding.DecodeString(val); err != nil || len(p.Signature) == 0 {
				return nil, bad("signature is not base64")
			}
		case "created":
			if p.Created, err = strconv.ParseInt(val, 10, 64); err != nil || p.Created <= 0 {
				return nil, bad("created is not a positive integer")
			}
		case "expires":
			if p.Expires, err = strconv.ParseInt(val, 10, 64); err != nil || p.Expires <= 0 {
				return nil, bad("expires is not a positive integer")
			}
		}
		skipWS()
		if i == len(s) {
			break
		}
		if s[i] != ',' {
			return nil, bad("expected ','")
		}
		i++
		skipWS()
		if i == len(s) {
			return nil, bad("trailing ','")
		}
	}
	switch {
	case p.KeyID == "":
		return nil, bad("no keyId")
	case p.Signature == nil:
		return nil, bad("no signature")
	case p.Headers == nil:
		// The draft's default is "(created)", which covers nothing this
		// package requires; say so rather than pretend.
		p.Headers = []string{"(created)"}
	}
	return p, nil
}

// scanQuoted scans a quoted value whose opening quote is already read. It
// returns the length of the value up to the closing quote and whether it
// has escapes, or what is wrong and where. It is apart from ParseCavage so
// that its loop, which may run over a whole header, keeps its index in a
// register.
func scanQuoted(s string) (n int, escaped bool, msg string) {
	// The common case, a value without escapes, is found with one
	// IndexByte for each of the quote and the backslash, and a check of
	// the bytes in between.
	if q := strings.IndexByte(s, '"'); q >= 0 && strings.IndexByte(s[:q], '\\') < 0 {
		for j := 0; j < q; j++ {
			if c := s[j]; c < 0x20 || c == 0x7f {
				return j, false, "control character"
			}
		}
		return q, false, ""
	}
	for j := 0; j < len(s); j++ {
		switch c := s[j]; {
		case c == '"':
			return j, escaped, ""
		case c == '\\' && j+1 < len(s):
			escaped = true
			j++
		case c < 0x20 || c == 0x7f:
			return j, false, "control character"
		}
	}
	return len(s), false, "unterminated value"
}

// parseHeaderList splits a headers= value on spaces, lower-cases the
// names, and refuses an empty list, a repeated name, and more than
// MaxCoveredComponents names.
func parseHeaderList(val string) ([]string, error) {
	var out []string
	var seen nameSet
	for rest := val; rest != ""; {
		var h string
		h, rest, _ = strings.Cut(rest, " ")
		if h == "" {
			continue
		}
		if len(out) == MaxCoveredComponents {
			return nil, fmt.Errorf("more than MaxCoveredComponents (%d) names in headers", MaxCoveredComponents)
		}
		h = strings.ToLower(h)
		if !seen.add(h) {
			return nil, fmt.Errorf("header %q listed twice", h)
		}
		if out == nil {
			out = make([]string, 0, 8)
		}
		out = append(out, h)
	}
	if len(out) == 0 {
		return nil, errors.New("empty headers list")
	}
	return out, nil
}

// cavageSigningString appends to b the string a draft-cavage signature
// covers, with target as the (request-target) path: the path and query
// as received, or the path alone for peers that sign that.
func cavageSigningString(b []byte, p *CavageParams, rf *requestFacts, target string) ([]byte, error) {
	for i, h := range p.Headers {
		if i > 0 {
			b = append(b, '\n')
		}
		b = append(b, h...)
		b = append(b, ": "...)
		switch h {
		case "(request-target)":
			b = appendLower(b, rf.method)
			b = append(b, ' ')
			b = append(b, target...)
		case "(created)":
			if p.Created == 0 {
				return nil, fail(ErrMalformed, "(created) is signed but the created parameter is missing")
			}
			b = strconv.AppendInt(b, p.Created, 10)
		case "(expires)":
			if p.Expires == 0 {
				return nil, fail(ErrMalformed, "(expires) is signed but the expires parameter is missing")
			}
			b = strconv.AppendInt(b, p.Expires, 10)
		default:
			var ok bool
			if b, ok = rf.appendHeader(b, h); !ok {
				return nil, fail(ErrMissingHeader, h)
			}
		}
	}
	return b, nil
}

// appendLower appends s in ASCII lower case.
func appendLower(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b = append(b, c)
	}
	return b
}
