package signature_test

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fedi-go/fedi/signature"
)

// benchBody is a 2 KB activity, the size the speed target is set for.
var benchBody = []byte(`{"@context":"https://www.w3.org/ns/activitystreams","type":"Create","actor":"https://remote.example/users/bob","object":{"type":"Note","content":"` +
	strings.Repeat("x", 2048-170) + `"}}`)

// benchString is the length of a typical draft-cavage signing string, for
// the bare crypto baselines.
var benchString = []byte("(request-target): post /users/alice/inbox\nhost: local.example\ndate: Sun, 22 Nov 2026 10:39:12 GMT\n" +
	"digest: SHA-256=Ea6s1rF5jWLGHgWMylAFvflL7RrGIUykEtOGb2gBMSc=\ncontent-type: application/activity+json")

// The bare operations are the baseline the package's costs are compared
// with: a hash of the signing string and the signature, nothing else.
func BenchmarkBare(b *testing.B) {
	rk := testKeys()["rsa"].(*rsa.PrivateKey)
	ek := testKeys()["ed25519"].(ed25519.PrivateKey)
	h := sha256.Sum256(benchString)
	rsaSig, _ := rsa.SignPKCS1v15(rand.Reader, rk, crypto.SHA256, h[:])
	edSig := ed25519.Sign(ek, benchString)
	b.Run("rsa2048-sign", func(b *testing.B) {
		for b.Loop() {
			h := sha256.Sum256(benchString)
			_, _ = rsa.SignPKCS1v15(rand.Reader, rk, crypto.SHA256, h[:])
		}
	})
	b.Run("rsa2048-verify", func(b *testing.B) {
		for b.Loop() {
			h := sha256.Sum256(benchString)
			if rsa.VerifyPKCS1v15(&rk.PublicKey, crypto.SHA256, h[:], rsaSig) != nil {
				b.Fatal("bad signature")
			}
		}
	})
	b.Run("ed25519-sign", func(b *testing.B) {
		for b.Loop() {
			_ = ed25519.Sign(ek, benchString)
		}
	})
	b.Run("ed25519-verify", func(b *testing.B) {
		for b.Loop() {
			if !ed25519.Verify(ek.Public().(ed25519.PublicKey), benchString, edSig) {
				b.Fatal("bad signature")
			}
		}
	})
}

var benchCases = []struct {
	name   string
	key    string
	scheme signature.Scheme
}{
	{"rsa2048-cavage", "rsa", signature.Cavage},
	{"rsa2048-rfc9421", "rsa", signature.RFC9421},
	{"ed25519-cavage", "ed25519", signature.Cavage},
	{"ed25519-rfc9421", "ed25519", signature.RFC9421},
}

// BenchmarkSign signs a POST with a 2 KB body: Date, digest, signature.
func BenchmarkSign(b *testing.B) {
	for _, c := range benchCases {
		b.Run(c.name, func(b *testing.B) {
			s := newSigner(b, testKeys()[c.key], c.scheme)
			r, _ := http.NewRequest(http.MethodPost, testInbox, nil)
			r.Header.Set("Content-Type", "application/activity+json")
			b.ReportAllocs()
			for b.Loop() {
				if err := s.SignRequest(r, benchBody); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerify verifies a signed POST with a 2 KB body: header
// parsing, coverage and time checks, digest recomputation, key look-up
// (in memory) and the signature.
func BenchmarkVerify(b *testing.B) {
	for _, c := range benchCases {
		b.Run(c.name, func(b *testing.B) {
			key := testKeys()[c.key]
			r := signed(b, newSigner(b, key, c.scheme), http.MethodPost, testInbox, benchBody)
			v := newVerifier(b, keysOf(testKeyID, key), signature.VerifierOptions{})
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Verify(ctx, r, benchBody); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerifyRatio interleaves the full verification of a 2 KB POST
// with the bare crypto verify of the same signature algorithm, one of
// each per iteration, and reports their ratio as "x-bare". Interleaving
// makes the ratio robust on a shared, noisy machine, where two separate
// benchmarks can run under different loads. It also times a bare
// SHA-256 of the body, to show how much of the overhead the digest is.
func BenchmarkVerifyRatio(b *testing.B) {
	for _, c := range benchCases {
		b.Run(c.name, func(b *testing.B) {
			key := testKeys()[c.key]
			r := signed(b, newSigner(b, key, c.scheme), http.MethodPost, testInbox, benchBody)
			v := newVerifier(b, keysOf(testKeyID, key), signature.VerifierOptions{})
			bare := bareVerifier(b, key)
			ctx := context.Background()
			var full, base, digest time.Duration
			for b.Loop() {
				t0 := time.Now()
				bare()
				t1 := time.Now()
				if _, err := v.Verify(ctx, r, benchBody); err != nil {
					b.Fatal(err)
				}
				t2 := time.Now()
				_ = sha256.Sum256(benchBody)
				t3 := time.Now()
				base += t1.Sub(t0)
				full += t2.Sub(t1)
				digest += t3.Sub(t2)
			}
			b.ReportMetric(float64(full)/float64(base), "x-bare")
			// The share of the body's SHA-256, which the Digest check
			// cannot avoid: on a CPU without SHA extensions it is most
			// of the overhead.
			b.ReportMetric(float64(digest)/float64(base), "sha256-2KB-x-bare")
			b.ReportMetric(float64(base.Nanoseconds())/float64(b.N), "bare-ns/op")
		})
	}
}

// bareVerifier returns one bare crypto verification: a SHA-256 of a
// signing string and the RSA or Ed25519 verify.
func bareVerifier(b *testing.B, key crypto.Signer) func() {
	switch k := key.(type) {
	case *rsa.PrivateKey:
		h := sha256.Sum256(benchString)
		sig, _ := rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, h[:])
		return func() {
			h := sha256.Sum256(benchString)
			if rsa.VerifyPKCS1v15(&k.PublicKey, crypto.SHA256, h[:], sig) != nil {
				b.Fatal("bad signature")
			}
		}
	case ed25519.PrivateKey:
		sig := ed25519.Sign(k, benchString)
		pub := k.Public().(ed25519.PublicKey)
		return func() {
			if !ed25519.Verify(pub, benchString, sig) {
				b.Fatal("bad signature")
			}
		}
	}
	b.Fatalf("no bare verifier for %T", key)
	return nil
}

// BenchmarkParseNearCaps parses headers at, just past and far past each
// cap. Time grows with the list up to the cap and then stays flat: a
// list past its cap is refused when the cap is reached, and a value past
// MaxSignatureHeaderBytes before it is read at all.
func BenchmarkParseNearCaps(b *testing.B) {
	type parse func() error
	cavage := func(s string) parse {
		return func() error { _, err := signature.ParseCavage(s); return err }
	}
	httpSig := func(in, sig string) parse {
		return func() error { _, err := signature.ParseHTTPSig(in, sig); return err }
	}
	cases := []struct {
		name string
		run  parse
	}{
		{"cavage-headers=8", cavage(cavageWith(8, 0))},
		{"cavage-headers=32", cavage(cavageWith(32, 0))},
		{"cavage-headers=33", cavage(cavageWith(33, 0))},
		{"cavage-headers=1500", cavage(cavageWith(1500, 0))},
		{"cavage-headers=40000", cavage(cavageWith(40000, 0))},
		{"cavage-params=16", cavage(cavageWith(1, signature.MaxCavageParams-3))},
		{"cavage-params=17", cavage(cavageWith(1, signature.MaxCavageParams-2))},
		{"cavage-params=1000", cavage(cavageWith(1, 1000))},
	}
	for _, n := range []int{8, 32, 33, 1500} {
		in, sig := httpSigWith(1, n, 0, false)
		cases = append(cases, struct {
			name string
			run  parse
		}{fmt.Sprintf("rfc9421-components=%d", n), httpSig(in, sig)})
	}
	for _, n := range []int{1, 8, 9, 500} {
		in, sig := httpSigWith(n, 1, 0, false)
		cases = append(cases, struct {
			name string
			run  parse
		}{fmt.Sprintf("rfc9421-labels=%d", n), httpSig(in, sig)})
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = c.run()
			}
		})
	}
}
