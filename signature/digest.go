package signature

import (
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
)

// Digest returns the RFC 3230 Digest header value of body, as Mastodon
// and Fedify send it: "SHA-256=<base64>".
func Digest(body []byte) string {
	sum := sha256.Sum256(body)
	return "SHA-256=" + base64.StdEncoding.EncodeToString(sum[:])
}

// ContentDigest returns the RFC 9530 Content-Digest header value of body:
// "sha-256=:<base64>:".
func ContentDigest(body []byte) string {
	sum := sha256.Sum256(body)
	return "sha-256=:" + base64.StdEncoding.EncodeToString(sum[:]) + ":"
}

// checkDigests recomputes every sha-256 and sha-512 value of the Digest
// and Content-Digest headers and compares it with body. Algorithm tokens
// are matched case-insensitively; other algorithms are ignored. It
// returns the number of values checked in each header, so that the caller
// can tell whether a signed header was among them. A header that is
// present but cannot be parsed is malformed.
func checkDigests(h http.Header, body []byte) (checked [2]int, err error) {
	var sums struct {
		s256, s512 []byte
	}
	sum := func(alg string) []byte {
		switch alg {
		case "sha-256":
			if sums.s256 == nil {
				s := sha256.Sum256(body)
				sums.s256 = s[:]
			}
			return sums.s256
		case "sha-512":
			if sums.s512 == nil {
				s := sha512.Sum512(body)
				sums.s512 = s[:]
			}
			return sums.s512
		}
		return nil
	}
	for hi, name := range [...]string{"Digest", "Content-Digest"} {
		lines := h.Values(name)
		if len(lines) == 0 {
			continue
		}
		joined := lines[0]
		if len(lines) > 1 {
			joined = strings.Join(lines, ",")
		}
		for _, part := range splitList(joined) {
			alg, val, ok := strings.Cut(part, "=")
			alg = strings.ToLower(strings.TrimSpace(alg))
			val = strings.TrimSpace(val)
			if !ok || alg == "" {
				return checked, &Error{Check: ErrMalformed, Detail: fmt.Sprintf("%s member %q", name, part)}
			}
			want := sum(alg)
			if want == nil {
				continue
			}
			if name == "Content-Digest" {
				// A structured-field byte sequence, possibly with
				// parameters, which carry nothing we use.
				if i := strings.IndexByte(val, ';'); i >= 0 {
					val = val[:i]
				}
				if len(val) < 2 || val[0] != ':' || val[len(val)-1] != ':' {
					return checked, &Error{Check: ErrMalformed, Detail: fmt.Sprintf("Content-Digest %s value is not a byte sequence", alg)}
				}
				val = val[1 : len(val)-1]
			}
			got, err := base64.StdEncoding.DecodeString(val)
			if err != nil {
				return checked, &Error{Check: ErrMalformed, Detail: fmt.Sprintf("%s %s value is not base64", name, alg), Cause: err}
			}
			if subtle.ConstantTimeCompare(got, want) != 1 {
				return checked, &Error{Check: ErrDigestMismatch, Detail: fmt.Sprintf("%s %s", name, alg)}
			}
			checked[hi]++
		}
	}
	return checked, nil
}

// splitList splits a comma-separated header value, dropping empty members.
func splitList(s string) []string {
	parts := strings.Split(s, ",")
	out := parts[:0]
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
