package signature

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
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

// FuzzParseKey feeds the two key parsers that read what a remote key or
// actor document carries: publicKeyPem and publicKeyMultibase. Neither
// may panic; every error must be an unsupported-key *Error; and a key
// that parses must encode, in both forms, to text that parses back to the
// same key.
func FuzzParseKey(f *testing.F) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		f.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	edKey := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	for _, k := range []crypto.Signer{rsaKey, ecKey, edKey} {
		pemText, err := PublicKeyPEM(k.Public())
		if err != nil {
			f.Fatal(err)
		}
		mk, err := Multikey(k.Public())
		if err != nil {
			f.Fatal(err)
		}
		f.Add(pemText)
		f.Add(mk)
	}
	f.Add("z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2")
	f.Add("-----BEGIN RSA PUBLIC KEY-----\nMAA=\n-----END RSA PUBLIC KEY-----\n")
	f.Add("z1111")
	f.Fuzz(func(t *testing.T, s string) {
		for _, parse := range []func(string) (crypto.PublicKey, error){ParsePublicKeyPEM, ParseMultikey} {
			pub, err := parse(s)
			if err != nil {
				var e *Error
				if !errors.As(err, &e) || !errors.Is(err, ErrUnsupportedKey) {
					t.Fatalf("untyped error %v", err)
				}
				continue
			}
			type equaler interface{ Equal(crypto.PublicKey) bool }
			pemText, err := PublicKeyPEM(pub)
			if err != nil {
				t.Fatalf("%T parsed from %q does not encode as PEM: %v", pub, s, err)
			}
			again, err := ParsePublicKeyPEM(pemText)
			if err != nil || !again.(equaler).Equal(pub) {
				t.Fatalf("PEM round trip of %q: %v", s, err)
			}
			mk, err := Multikey(pub)
			if err != nil {
				t.Fatalf("%T parsed from %q does not encode as a Multikey: %v", pub, s, err)
			}
			again, err = ParseMultikey(mk)
			if err != nil || !again.(equaler).Equal(pub) {
				t.Fatalf("Multikey round trip of %q: %v", s, err)
			}
		}
	})
}
