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
	// The sums are computed at most once each, on first need, and kept
	// on the stack.
	var s256 [sha256.Size]byte
	var s512 [sha512.Size]byte
	var have256, have512 bool
	for hi, name := range [...]string{"Digest", "Content-Digest"} {
		lines := h[name]
		for _, line := range lines {
			for rest := line; rest != ""; {
				var part string
				part, rest, _ = strings.Cut(rest, ",")
				if part = strings.TrimSpace(part); part == "" {
					continue
				}
				alg, val, ok := strings.Cut(part, "=")
				alg = strings.TrimSpace(alg)
				val = strings.TrimSpace(val)
				if !ok || alg == "" {
					return checked, &Error{Check: ErrMalformed, Detail: fmt.Sprintf("%s member %q", name, part)}
				}
				var want []byte
				switch {
				case strings.EqualFold(alg, "sha-256"):
					if !have256 {
						s256, have256 = sha256.Sum256(body), true
					}
					want = s256[:]
				case strings.EqualFold(alg, "sha-512"):
					if !have512 {
						s512, have512 = sha512.Sum512(body), true
					}
					want = s512[:]
				default:
					continue
				}
				alg = strings.ToLower(alg)
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
				// Room for a sha-512 value with padding and line breaks,
				// on the stack; a longer one cannot match any sum.
				var src [128]byte
				var buf [96]byte
				if len(val) > len(src) {
					return checked, &Error{Check: ErrDigestMismatch, Detail: fmt.Sprintf("%s %s value is too long", name, alg)}
				}
				n, err := base64.StdEncoding.Decode(buf[:], src[:copy(src[:], val)])
				if err != nil {
					return checked, &Error{Check: ErrMalformed, Detail: fmt.Sprintf("%s %s value is not base64", name, alg), Cause: err}
				}
				if subtle.ConstantTimeCompare(buf[:n], want) != 1 {
					return checked, &Error{Check: ErrDigestMismatch, Detail: fmt.Sprintf("%s %s", name, alg)}
				}
				checked[hi]++
			}
		}
	}
	return checked, nil
}
