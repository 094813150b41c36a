package signature

import (
	"fmt"
	"hash/maphash"
)

// Limits on what the signature parsers accept. They sit far above what
// any fediverse server sends (a Mastodon Signature header is about 600
// bytes with 5 parameters and 5 headers; an RFC 9421 request carries one
// or two signatures over a handful of components), and they bound the
// work an unauthenticated request can cause before any key is fetched:
// every parser runs in time linear in an input of at most
// MaxSignatureHeaderBytes, and every repeat check scans a set of at most
// the cap below.
const (
	// MaxSignatureHeaderBytes caps the value of a Signature or
	// Signature-Input header, all its field lines together.
	MaxSignatureHeaderBytes = 8 << 10
	// MaxCavageParams caps the parameters of a draft-cavage Signature
	// header (keyId, algorithm, headers, signature, created, expires and
	// unknown ones).
	MaxCavageParams = 16
	// MaxCoveredComponents caps the names in a draft-cavage headers=
	// list and the components an RFC 9421 signature covers.
	MaxCoveredComponents = 32
	// MaxSignatures caps the members of a Signature-Input or Signature
	// dictionary: the labelled signatures one request carries.
	MaxSignatures = 8
	// MaxSignatureParams caps the parameters of one RFC 9421 signature
	// (created, keyid, alg, expires, nonce, tag and unknown ones) and of
	// one component.
	MaxSignatureParams = 16
)

// tooLong is the error of a header value beyond MaxSignatureHeaderBytes.
func tooLong(header string, n int) *Error {
	return fail(ErrMalformed, fmt.Sprintf("%s header is %d bytes; the limit is MaxSignatureHeaderBytes (%d)", header, n, MaxSignatureHeaderBytes))
}

// joinField combines the field lines of a Signature or Signature-Input
// header as RFC 9110 §5.3 does, refusing values beyond
// MaxSignatureHeaderBytes before copying anything.
func joinField(header string, lines []string) (string, error) {
	n := 2 * (len(lines) - 1)
	for _, l := range lines {
		n += len(l)
	}
	if n > MaxSignatureHeaderBytes {
		return "", tooLong(header, n)
	}
	if len(lines) == 1 {
		return lines[0], nil
	}
	b := make([]byte, 0, n)
	for i, l := range lines {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, l...)
	}
	return string(b), nil
}

// nameSeed seeds nameSet's hash, so that no sender can choose names that
// collide.
var nameSeed = maphash.MakeSeed()

// nameSet is a set of at most MaxCoveredComponents non-empty names, kept
// on the stack: an open-addressed table twice that size, so that the
// repeat check of a covered-component list costs one hash and nearly
// always one comparison per name, however the names look.
type nameSet struct {
	slots [2 * MaxCoveredComponents]string
}

// add adds name and reports whether it was new. The caller keeps the
// set within MaxCoveredComponents names, so a free slot always exists.
func (s *nameSet) add(name string) bool {
	const mask = len(s.slots) - 1
	for i := int(maphash.String(nameSeed, name)) & mask; ; i = (i + 1) & mask {
		switch s.slots[i] {
		case "":
			s.slots[i] = name
			return true
		case name:
			return false
		}
	}
}
