package signature

import (
	"errors"
	"strings"
	"testing"
)

// FuzzParseSignature feeds the draft-cavage Signature parser and the RFC
// 9421 Signature-Input/Signature parser. Neither may panic; every error
// must be a malformed-header *Error; what parses must hold its
// invariants, and an RFC 9421 input must serialize to a form that parses
// back to the same thing.
func FuzzParseSignature(f *testing.F) {
	f.Add(`keyId="https://a.example/users/b#main-key",algorithm="rsa-sha256",headers="(request-target) host date digest",signature="AAAA"`,
		`sig1=("@method" "@target-uri" "content-digest");created=1618884473;keyid="https://a.example/users/b#main-key"`,
		`sig1=:AAAA:`)
	f.Add(`keyId="k", algorithm="hs2019", created=1402170695, expires=1402170699, headers="(request-target) (created) (expires) host", signature="YQ=="`,
		`sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519"`,
		`sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:`)
	f.Add(`keyId="a\"b",signature="YQ=="`, `a=("x";y), b=("@method");keyid="k";alg="ed25519";expires=9;nonce="n";tag="t"`, `b=:YQ==:, a=:YQ==:`)
	f.Add(`keyId=,signature=`, `sig1=()`, `sig1=?1`)
	f.Fuzz(func(t *testing.T, cavage, input, sig string) {
		if p, err := ParseCavage(cavage); err != nil {
			checkMalformed(t, err)
		} else if p.KeyID == "" || len(p.Signature) == 0 || len(p.Headers) == 0 {
			t.Fatalf("%q parsed to %+v", cavage, p)
		}

		p, err := ParseHTTPSig(input, sig)
		if err != nil {
			checkMalformed(t, err)
			return
		}
		if p.KeyID == "" || len(p.Signature) == 0 {
			t.Fatalf("parsed without keyid or signature: %+v", p)
		}
		b := string(appendInnerList([]byte(p.Label+"="), p.items, p.params))
		again, err := ParseHTTPSig(b, p.Label+"=:YQ==:")
		if err != nil {
			t.Fatalf("re-serialized %q does not parse: %v", b, err)
		}
		b2 := string(appendInnerList([]byte(again.Label+"="), again.items, again.params))
		if b != b2 || strings.Join(p.Components, " ") != strings.Join(again.Components, " ") ||
			p.KeyID != again.KeyID || p.Created != again.Created || p.Expires != again.Expires || p.Alg != again.Alg {
			t.Fatalf("round trip changed %q into %q", b, b2)
		}
	})
}

func checkMalformed(t *testing.T, err error) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, ErrMalformed) {
		t.Fatalf("untyped error %v", err)
	}
}
