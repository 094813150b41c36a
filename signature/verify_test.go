package signature_test

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fedi-go/fedi/fetch"
	"github.com/fedi-go/fedi/signature"
)

var activity = []byte(`{"@context":"https://www.w3.org/ns/activitystreams","type":"Follow","actor":"https://remote.example/users/bob","object":"https://local.example/users/alice"}`)

func TestSignVerifyRoundTrip(t *testing.T) {
	for _, keyName := range []string{"rsa", "ed25519", "p256"} {
		for _, scheme := range []signature.Scheme{signature.Cavage, signature.RFC9421} {
			for _, method := range []string{http.MethodPost, http.MethodGet} {
				t.Run(fmt.Sprintf("%s/%s/%s", keyName, scheme, method), func(t *testing.T) {
					key := testKeys()[keyName]
					s := newSigner(t, key, scheme)
					var body []byte
					target := testInbox + "?page=1"
					if method == http.MethodPost {
						body = activity
					}
					r := signed(t, s, method, target, body)
					res, err := newVerifier(t, keysOf(testKeyID, key), signature.VerifierOptions{}).Verify(context.Background(), r, body)
					require.NoError(t, err)
					assert.Equal(t, testKeyID, res.KeyID)
					assert.Equal(t, testActor, res.Owner)
					assert.Equal(t, scheme, res.Scheme)
				})
			}
		}
	}
}

func TestRSAPSS(t *testing.T) {
	key := testKeys()["rsa"]
	s, err := signature.NewSigner(signature.SignerOptions{KeyID: testKeyID, Key: key, Scheme: signature.RFC9421, RSAPSS: true})
	require.NoError(t, err)
	r := signed(t, s, http.MethodPost, testInbox, activity)
	assert.Contains(t, r.Header.Get("Signature-Input"), `alg="rsa-pss-sha512"`)
	res, err := newVerifier(t, keysOf(testKeyID, key), signature.VerifierOptions{}).Verify(context.Background(), r, activity)
	require.NoError(t, err)
	assert.Equal(t, signature.AlgRSAPSSSHA512, res.Algorithm)
}

// TestCavageOutput pins what a draft-cavage POST looks like on the wire,
// since peers reject us over one wrong header.
func TestCavageOutput(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 39, 12, 0, time.UTC)
	s, err := signature.NewSigner(signature.SignerOptions{KeyID: testKeyID, Key: testKeys()["rsa"], Now: func() time.Time { return now }})
	require.NoError(t, err)
	cr, _ := http.NewRequest(http.MethodPost, "https://local.example/users/alice/inbox", strings.NewReader(string(activity)))
	cr.Header.Set("Content-Type", "application/activity+json")
	require.NoError(t, s.SignRequest(cr, activity))

	sum := sha256.Sum256(activity)
	assert.Equal(t, "SHA-256="+base64.StdEncoding.EncodeToString(sum[:]), cr.Header.Get("Digest"))
	assert.Equal(t, "Sun, 22 Nov 2026 10:39:12 GMT", cr.Header.Get("Date"))
	assert.Empty(t, cr.Header.Get("Host"), "the Host header is the transport's business")
	p, err := signature.ParseCavage(cr.Header.Get("Signature"))
	require.NoError(t, err)
	assert.Equal(t, testKeyID, p.KeyID)
	assert.Equal(t, "rsa-sha256", p.Algorithm)
	assert.Equal(t, []string{"(request-target)", "host", "date", "digest", "content-type"}, p.Headers)

	// The signature is over the string every peer builds.
	want := "(request-target): post /users/alice/inbox\nhost: local.example\ndate: Sun, 22 Nov 2026 10:39:12 GMT\n" +
		"digest: " + cr.Header.Get("Digest") + "\ncontent-type: application/activity+json"
	h := sha256.Sum256([]byte(want))
	assert.NoError(t, rsa.VerifyPKCS1v15(testKeys()["rsa"].Public().(*rsa.PublicKey), crypto.SHA256, h[:], p.Signature))

	// A GET signs accept instead of digest, and has no Digest.
	g, _ := http.NewRequest(http.MethodGet, "https://remote.example/users/bob", nil)
	g.Header.Set("Accept", "application/activity+json")
	require.NoError(t, s.SignRequest(g, nil))
	p, err = signature.ParseCavage(g.Header.Get("Signature"))
	require.NoError(t, err)
	assert.Equal(t, []string{"(request-target)", "host", "date", "accept"}, p.Headers)
	assert.Empty(t, g.Header.Get("Digest"))
}

func TestHTTPSigOutput(t *testing.T) {
	now := time.Unix(1700000000, 0)
	s, err := signature.NewSigner(signature.SignerOptions{KeyID: testKeyID, Key: testKeys()["ed25519"], Scheme: signature.RFC9421, Now: func() time.Time { return now }})
	require.NoError(t, err)
	cr, _ := http.NewRequest(http.MethodPost, "https://local.example/users/alice/inbox", strings.NewReader(string(activity)))
	require.NoError(t, s.SignRequest(cr, activity))
	assert.Equal(t, `sig1=("@method" "@target-uri" "@authority" "content-digest");created=1700000000;keyid="`+testKeyID+`";alg="ed25519"`, cr.Header.Get("Signature-Input"))
	assert.Equal(t, signature.ContentDigest(activity), cr.Header.Get("Content-Digest"))
	assert.Regexp(t, `^sig1=:[A-Za-z0-9+/]+=*:$`, cr.Header.Get("Signature"))
}

// cavageRequest builds a server-side request with a hand-made cavage
// signature over the given headers, so that each bad input can be made
// exactly. The signing string is built here independently of the
// package.
func cavageRequest(t *testing.T, key crypto.Signer, alg string, headers []string, mutate func(r *http.Request)) (*http.Request, []byte) {
	t.Helper()
	body := activity
	cr, _ := http.NewRequest(http.MethodPost, testInbox, strings.NewReader(string(body)))
	cr.Header.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	cr.Header.Set("Digest", signature.Digest(body))
	cr.Header.Set("Content-Type", "application/activity+json")
	r := serverSide(cr, body)
	if mutate != nil {
		mutate(r)
	}
	var lines []string
	for _, h := range headers {
		switch h {
		case "(request-target)":
			lines = append(lines, h+": post /users/alice/inbox")
		case "host":
			lines = append(lines, h+": "+r.Host)
		default:
			lines = append(lines, h+": "+r.Header.Get(h))
		}
	}
	sig := signBytes(t, key, []byte(strings.Join(lines, "\n")))
	r.Header.Set("Signature", fmt.Sprintf(`keyId="%s",algorithm="%s",headers="%s",signature="%s"`,
		testKeyID, alg, strings.Join(headers, " "), base64.StdEncoding.EncodeToString(sig)))
	return r, body
}

func signBytes(t *testing.T, key crypto.Signer, msg []byte) []byte {
	t.Helper()
	if rk, ok := key.(*rsa.PrivateKey); ok {
		h := sha256.Sum256(msg)
		sig, err := rsa.SignPKCS1v15(nil, rk, crypto.SHA256, h[:])
		require.NoError(t, err)
		return sig
	}
	sig, err := key.Sign(nil, msg, crypto.Hash(0))
	require.NoError(t, err)
	return sig
}

func TestVerifyBadInput(t *testing.T) {
	rsaKey, edKey := testKeys()["rsa"], testKeys()["ed25519"]
	full := []string{"(request-target)", "host", "date", "digest", "content-type"}
	old := time.Now().Add(-13 * time.Hour).UTC().Format(http.TimeFormat)
	tests := []struct {
		name    string
		key     crypto.Signer // the key the resolver returns
		signKey crypto.Signer
		alg     string
		headers []string
		mutate  func(r *http.Request)    // before signing
		after   func(r *http.Request)    // after signing
		body    func(body []byte) []byte // the body the server reads
		opts    signature.VerifierOptions
		want    error
	}{
		{name: "valid", want: nil},
		{name: "valid with hs2019", alg: "hs2019"},
		{name: "valid with sha-256 and SHA-512 tokens", mutate: func(r *http.Request) {
			r.Header.Set("Digest", "sha-256="+strings.TrimPrefix(signature.Digest(activity), "SHA-256=")+",SHA-512="+sha512b64(activity))
		}},
		{name: "valid with a date 11 h old", mutate: setDate(time.Now().Add(-11 * time.Hour))},
		{name: "garbage Signature header", after: setHeader("Signature", `keyId=mainkey,,signature=="`), want: signature.ErrMalformed},
		{name: "Signature header of bytes", after: setHeader("Signature", "\x00\xff garbage"), want: signature.ErrMalformed},
		{name: "no signature", after: func(r *http.Request) { r.Header.Del("Signature") }, want: signature.ErrNoSignature},
		{name: "host not signed", headers: []string{"(request-target)", "date", "digest"}, want: signature.ErrNotCovered},
		{name: "request-target not signed", headers: []string{"host", "date", "digest"}, want: signature.ErrNotCovered},
		{name: "date not signed", headers: []string{"(request-target)", "host", "digest"}, want: signature.ErrNotCovered},
		{name: "digest not signed", headers: []string{"(request-target)", "host", "date"}, want: signature.ErrNotCovered},
		{name: "signed header missing", headers: []string{"(request-target)", "host", "date", "digest", "x-custom"}, want: signature.ErrMissingHeader},
		{name: "Date header missing", after: func(r *http.Request) { r.Header.Del("Date") }, want: signature.ErrMissingHeader},
		{name: "stale Date", mutate: func(r *http.Request) { r.Header.Set("Date", old) }, want: signature.ErrStale},
		{name: "Date from the future", mutate: setDate(time.Now().Add(13 * time.Hour)), want: signature.ErrStale},
		{name: "narrow window", mutate: setDate(time.Now().Add(-2 * time.Hour)), opts: signature.VerifierOptions{Window: time.Hour}, want: signature.ErrStale},
		{name: "unparsable Date", mutate: func(r *http.Request) { r.Header.Set("Date", "yesterday") }, want: signature.ErrMalformed},
		{name: "digest mismatch", body: func(b []byte) []byte { return append([]byte(nil), strings.Replace(string(b), "Follow", "Block", 1)...) }, want: signature.ErrDigestMismatch},
		{name: "content-digest mismatch", mutate: func(r *http.Request) {
			r.Header.Set("Content-Digest", "sha-256=:"+base64.StdEncoding.EncodeToString(make([]byte, 32))+":")
		}, want: signature.ErrDigestMismatch},
		{name: "digest with no supported algorithm", mutate: func(r *http.Request) { r.Header.Set("Digest", "MD5=AAAA") }, want: signature.ErrDigestUnsupported},
		{name: "over-long digest value", mutate: setHeader("Digest", "SHA-256="+strings.Repeat("A", 200)), want: signature.ErrDigestMismatch},
		{name: "digest value not base64", mutate: setHeader("Digest", "SHA-256=!!!!"), want: signature.ErrMalformed},
		{name: "unsigned digest cannot stand in for the signed one", mutate: func(r *http.Request) {
			r.Header.Set("Digest", "MD5=AAAA")
			r.Header.Set("Content-Digest", signature.ContentDigest(activity))
		}, want: signature.ErrDigestUnsupported},
		{name: "hmac label with a public key", alg: "hmac-sha256", want: signature.ErrAlgorithm},
		{name: "rsa label with an Ed25519 key", key: edKey, signKey: edKey, alg: "rsa-sha256", want: signature.ErrAlgorithm},
		{name: "rsa-sha512 label", alg: "rsa-sha512", want: signature.ErrAlgorithm},
		{name: "Ed25519 with hs2019", key: edKey, signKey: edKey, alg: "hs2019"},
		{name: "wrong key", key: testKeys()["rsa2"], want: signature.ErrBadSignature},
		{name: "tampered header", after: setHeader("Content-Type", "text/plain"), want: signature.ErrBadSignature},
		{name: "other host", after: func(r *http.Request) { r.Host = "evil.example" }, want: signature.ErrBadSignature},
		{name: "forwarded host ignored without TrustProxy", after: func(r *http.Request) {
			r.Host = "internal:8080"
			r.Header.Set("X-Forwarded-Host", "local.example")
		}, want: signature.ErrBadSignature},
		{name: "forwarded host honoured with TrustProxy", opts: signature.VerifierOptions{TrustProxy: true}, after: func(r *http.Request) {
			r.Host = "internal:8080"
			r.Header.Set("X-Forwarded-Host", "local.example")
		}},
		{name: "unknown key", after: func(r *http.Request) {
			r.Header.Set("Signature", strings.Replace(r.Header.Get("Signature"), "#main-key", "#other", 1))
		}, want: signature.ErrUnknownKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, signKey, alg, headers := rsaKey, rsaKey, "rsa-sha256", full
			if tt.key != nil {
				key = tt.key
			}
			if tt.signKey != nil {
				signKey = tt.signKey
			}
			if tt.alg != "" {
				alg = tt.alg
			}
			if tt.headers != nil {
				headers = tt.headers
			}
			r, body := cavageRequest(t, signKey, alg, headers, tt.mutate)
			if tt.after != nil {
				tt.after(r)
			}
			if tt.body != nil {
				body = tt.body(body)
			}
			_, err := newVerifier(t, keysOf(testKeyID, key), tt.opts).Verify(context.Background(), r, body)
			if tt.want == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tt.want)
			var e *signature.Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, tt.want.Error(), e.Safe())
			assert.True(t, strings.HasPrefix(err.Error(), "signature: "), err.Error())
		})
	}
}

func setHeader(k, v string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set(k, v) }
}

func setDate(t time.Time) func(*http.Request) {
	return setHeader("Date", t.UTC().Format(http.TimeFormat))
}

func TestVerifyHTTPSigBadInput(t *testing.T) {
	key := testKeys()["ed25519"]
	now := time.Now()
	sign := func(t *testing.T, at time.Time) (*http.Request, *signature.Signer) {
		s, err := signature.NewSigner(signature.SignerOptions{KeyID: testKeyID, Key: key, Scheme: signature.RFC9421, Now: func() time.Time { return at }})
		require.NoError(t, err)
		return signed(t, s, http.MethodPost, testInbox, activity), s
	}
	tests := []struct {
		name  string
		at    time.Time
		after func(r *http.Request)
		body  []byte
		key   crypto.Signer
		want  error
	}{
		{name: "valid", at: now},
		{name: "stale created", at: now.Add(-13 * time.Hour), want: signature.ErrStale},
		{name: "expired", at: now, after: func(r *http.Request) {
			r.Header.Set("Signature-Input", strings.Replace(r.Header.Get("Signature-Input"), ";keyid", fmt.Sprintf(";expires=%d;keyid", now.Add(-time.Minute).Unix()), 1))
		}, want: signature.ErrExpired},
		{name: "garbage Signature-Input", at: now, after: setHeader("Signature-Input", `sig1=("@method"`), want: signature.ErrMalformed},
		{name: "label mismatch", at: now, after: setHeader("Signature", `other=:AAAA:`), want: signature.ErrMalformed},
		{name: "Signature-Input without Signature", at: now, after: func(r *http.Request) { r.Header.Del("Signature") }, want: signature.ErrMalformed},
		{name: "no keyid", at: now, after: func(r *http.Request) {
			r.Header.Set("Signature-Input", strings.Replace(r.Header.Get("Signature-Input"), `;keyid="`+testKeyID+`"`, "", 1))
		}, want: signature.ErrMalformed},
		{name: "component parameter", at: now, after: func(r *http.Request) {
			r.Header.Set("Signature-Input", strings.Replace(r.Header.Get("Signature-Input"), `"@authority"`, `"@authority";sf`, 1))
		}, want: signature.ErrMalformed},
		{name: "content-digest not covered", at: now, after: func(r *http.Request) {
			r.Header.Set("Signature-Input", strings.Replace(r.Header.Get("Signature-Input"), ` "content-digest"`, "", 1))
		}, want: signature.ErrNotCovered},
		{name: "method not covered", at: now, after: func(r *http.Request) {
			r.Header.Set("Signature-Input", strings.Replace(r.Header.Get("Signature-Input"), `"@method" `, "", 1))
		}, want: signature.ErrNotCovered},
		{name: "content-digest missing", at: now, after: func(r *http.Request) { r.Header.Del("Content-Digest") }, want: signature.ErrMissingHeader},
		{name: "body changed", at: now, body: []byte(`{"type":"Delete"}`), want: signature.ErrDigestMismatch},
		{name: "alg of another family", at: now, after: func(r *http.Request) {
			r.Header.Set("Signature-Input", strings.Replace(r.Header.Get("Signature-Input"), `alg="ed25519"`, `alg="hmac-sha256"`, 1))
		}, want: signature.ErrAlgorithm},
		{name: "wrong key", at: now, key: testKeys()["p256"], want: signature.ErrAlgorithm},
		{name: "other target", at: now, after: func(r *http.Request) { r.URL.RawQuery = "x=1"; r.RequestURI += "?x=1" }, want: signature.ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := sign(t, tt.at)
			if tt.after != nil {
				tt.after(r)
			}
			body := activity
			if tt.body != nil {
				body = tt.body
			}
			k := key
			if tt.key != nil {
				k = tt.key
			}
			_, err := newVerifier(t, keysOf(testKeyID, k), signature.VerifierOptions{}).Verify(context.Background(), r, body)
			if tt.want == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tt.want)
		})
	}
}

// TestMastodonStyle verifies an RFC 9421 signature in Mastodon 4.5's
// shape: created, @method, @target-uri and a signed Content-Digest, no
// alg, label sig1.
func TestMastodonStyle(t *testing.T) {
	key := testKeys()["rsa"].(*rsa.PrivateKey)
	created := time.Now().Unix()
	input := fmt.Sprintf(`("@method" "@target-uri" "content-digest");created=%d;keyid="%s"`, created, testKeyID)
	base := fmt.Sprintf("\"@method\": POST\n\"@target-uri\": %s\n\"content-digest\": %s\n\"@signature-params\": %s",
		testInbox, signature.ContentDigest(activity), input)
	h := sha256.Sum256([]byte(base))
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, h[:])
	require.NoError(t, err)
	cr, _ := http.NewRequest(http.MethodPost, testInbox, strings.NewReader(string(activity)))
	cr.Header.Set("Content-Digest", signature.ContentDigest(activity))
	cr.Header.Set("Signature-Input", "sig1="+input)
	cr.Header.Set("Signature", "sig1=:"+base64.StdEncoding.EncodeToString(sig)+":")
	res, err := newVerifier(t, keysOf(testKeyID, key), signature.VerifierOptions{}).Verify(context.Background(), serverSide(cr, activity), activity)
	require.NoError(t, err)
	assert.Equal(t, signature.AlgRSAv15SHA256, res.Algorithm)
}

func TestSignerConcurrent(t *testing.T) {
	for _, scheme := range []signature.Scheme{signature.Cavage, signature.RFC9421} {
		s := newSigner(t, testKeys()["ed25519"], scheme)
		v := newVerifier(t, keysOf(testKeyID, testKeys()["ed25519"]), signature.VerifierOptions{})
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				body := []byte(fmt.Sprintf(`{"n":%d}`, i))
				for range 20 {
					r := signed(t, s, http.MethodPost, testInbox, body)
					if _, err := v.Verify(context.Background(), r, body); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
	}
}

func TestNewSignerValidates(t *testing.T) {
	_, err := signature.NewSigner(signature.SignerOptions{Key: testKeys()["rsa"]})
	assert.Error(t, err)
	_, err = signature.NewSigner(signature.SignerOptions{KeyID: `a"b`, Key: testKeys()["rsa"]})
	assert.Error(t, err)
	_, err = signature.NewSigner(signature.SignerOptions{KeyID: "k"})
	assert.Error(t, err)
	_, err = signature.NewVerifier(signature.VerifierOptions{})
	assert.Error(t, err)
}

func sha512b64(b []byte) string {
	h := sha512.Sum512(b)
	return base64.StdEncoding.EncodeToString(h[:])
}

// TestVerifyNilBody: a nil body stands for "no body", so a request that
// has one cannot be verified without it, whatever its signature covers.
func TestVerifyNilBody(t *testing.T) {
	key := testKeys()["rsa"]
	noDigest := []string{"(request-target)", "host", "date"}
	tests := []struct {
		name string
		req  func(t *testing.T) *http.Request
		body []byte
		want error
	}{
		{name: "POST with a body and no signed digest", req: func(t *testing.T) *http.Request {
			r, _ := cavageRequest(t, key, "rsa-sha256", noDigest, nil)
			return r
		}, want: signature.ErrNoBody},
		{name: "POST with a body and a signed digest", req: func(t *testing.T) *http.Request {
			r, _ := cavageRequest(t, key, "rsa-sha256", []string{"(request-target)", "host", "date", "digest"}, nil)
			return r
		}, want: signature.ErrNoBody},
		{name: "chunked POST, length unknown", req: func(t *testing.T) *http.Request {
			r, _ := cavageRequest(t, key, "rsa-sha256", noDigest, nil)
			r.ContentLength = -1
			return r
		}, want: signature.ErrNoBody},
		{name: "chunked POST with its body given", req: func(t *testing.T) *http.Request {
			r := signed(t, newSigner(t, key, signature.Cavage), http.MethodPost, testInbox, activity)
			r.ContentLength = -1
			return r
		}, body: activity},
		{name: "GET without a body", req: func(t *testing.T) *http.Request {
			return signed(t, newSigner(t, key, signature.Cavage), http.MethodGet, testInbox, nil)
		}},
		{name: "POST with an empty body", req: func(t *testing.T) *http.Request {
			return signed(t, newSigner(t, key, signature.Cavage), http.MethodPost, testInbox, nil)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := newVerifier(t, keysOf(testKeyID, key), signature.VerifierOptions{}).Verify(context.Background(), tt.req(t), tt.body)
			if tt.want == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tt.want)
			assert.Contains(t, err.Error(), "the caller must read r.Body")
		})
	}
}

// TestRequestTargetWithoutQuery: Fedify signs (request-target) with the
// path alone; a request with a query verifies over either form, and
// nothing else is loosened.
func TestRequestTargetWithoutQuery(t *testing.T) {
	rsaKey := testKeys()["rsa"]
	const target = "https://local.example/users/alice/outbox?page=1"
	tests := []struct {
		name     string
		method   string
		signed   string // the (request-target) path the signature covers
		url      string // the request's URL
		verifyBy crypto.Signer
		want     error
	}{
		{name: "GET, path and query", method: http.MethodGet, signed: "/users/alice/outbox?page=1", url: target},
		{name: "GET, path alone", method: http.MethodGet, signed: "/users/alice/outbox", url: target},
		{name: "POST, path alone", method: http.MethodPost, signed: "/users/alice/outbox", url: target},
		{name: "no query, path alone", method: http.MethodGet, signed: "/users/alice/outbox", url: "https://local.example/users/alice/outbox"},
		{name: "other query", method: http.MethodGet, signed: "/users/alice/outbox?page=2", url: target, want: signature.ErrBadSignature},
		{name: "other path", method: http.MethodGet, signed: "/users/bob/outbox", url: target, want: signature.ErrBadSignature},
		{name: "path alone, wrong key", method: http.MethodGet, signed: "/users/alice/outbox", url: target, verifyBy: testKeys()["rsa2"], want: signature.ErrBadSignature},
		{name: "empty query, path alone", method: http.MethodGet, signed: "/users/alice/outbox", url: "https://local.example/users/alice/outbox?"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body []byte
			if tt.method == http.MethodPost {
				body = activity
			}
			date := time.Now().UTC().Format(http.TimeFormat)
			lines := []string{"(request-target): " + strings.ToLower(tt.method) + " " + tt.signed, "host: local.example", "date: " + date}
			headers := "(request-target) host date"
			cr, _ := http.NewRequest(tt.method, tt.url, strings.NewReader(string(body)))
			cr.Header.Set("Date", date)
			if body != nil {
				cr.Header.Set("Digest", signature.Digest(body))
				lines = append(lines, "digest: "+signature.Digest(body))
				headers += " digest"
			}
			sig := signBytes(t, rsaKey, []byte(strings.Join(lines, "\n")))
			cr.Header.Set("Signature", fmt.Sprintf(`keyId="%s",algorithm="rsa-sha256",headers="%s",signature="%s"`,
				testKeyID, headers, base64.StdEncoding.EncodeToString(sig)))
			verifyBy := rsaKey
			if tt.verifyBy != nil {
				verifyBy = tt.verifyBy
			}
			_, err := newVerifier(t, keysOf(testKeyID, verifyBy), signature.VerifierOptions{}).Verify(context.Background(), serverSide(cr, body), body)
			if tt.want == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tt.want)
		})
	}
	t.Run("the signer keeps the query", func(t *testing.T) {
		s := newSigner(t, rsaKey, signature.Cavage)
		cr, _ := http.NewRequest(http.MethodGet, target, nil)
		require.NoError(t, s.SignRequest(cr, nil))
		p, err := signature.ParseCavage(cr.Header.Get("Signature"))
		require.NoError(t, err)
		str := "(request-target): get /users/alice/outbox?page=1\nhost: local.example\ndate: " + cr.Header.Get("Date")
		h := sha256.Sum256([]byte(str))
		assert.NoError(t, rsa.VerifyPKCS1v15(rsaKey.Public().(*rsa.PublicKey), crypto.SHA256, h[:], p.Signature))
	})
}

// TestTrustProxy: behind a trusted proxy the last X-Forwarded-Host and
// X-Forwarded-Proto values count, those the proxy added; and an RFC 9421
// signature over an https @target-uri verifies behind a TLS-terminating
// proxy only with TrustProxy.
func TestTrustProxy(t *testing.T) {
	key := testKeys()["ed25519"]
	tests := []struct {
		name   string
		scheme signature.Scheme
		trust  bool
		host   []string // X-Forwarded-Host field lines
		proto  []string // X-Forwarded-Proto field lines
		want   error
	}{
		{name: "one value", scheme: signature.Cavage, trust: true, host: []string{"local.example"}},
		{name: "the proxy appended the last value", scheme: signature.Cavage, trust: true, host: []string{"evil.example, local.example"}},
		{name: "the client's value comes first", scheme: signature.Cavage, trust: true, host: []string{"local.example, evil.example"}, want: signature.ErrBadSignature},
		{name: "last of several lines", scheme: signature.Cavage, trust: true, host: []string{"evil.example", "local.example"}},
		{name: "first of several lines", scheme: signature.Cavage, trust: true, host: []string{"local.example", "evil.example"}, want: signature.ErrBadSignature},
		{name: "ignored without TrustProxy", scheme: signature.Cavage, host: []string{"local.example"}, want: signature.ErrBadSignature},
		{name: "RFC 9421 behind TLS termination", scheme: signature.RFC9421, trust: true, host: []string{"local.example"}, proto: []string{"https"}},
		{name: "RFC 9421, the proxy's proto last", scheme: signature.RFC9421, trust: true, host: []string{"local.example"}, proto: []string{"http, https"}},
		{name: "RFC 9421, the client's proto last", scheme: signature.RFC9421, trust: true, host: []string{"local.example"}, proto: []string{"https, http"}, want: signature.ErrBadSignature},
		{name: "RFC 9421 behind TLS termination without TrustProxy", scheme: signature.RFC9421, host: []string{"local.example"}, proto: []string{"https"}, want: signature.ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := signed(t, newSigner(t, key, tt.scheme), http.MethodPost, testInbox, activity)
			// As the app behind the proxy sees it: plain http to an
			// internal address.
			r.TLS, r.Host = nil, "app.internal:8080"
			r.Header["X-Forwarded-Host"] = tt.host
			r.Header["X-Forwarded-Proto"] = tt.proto
			_, err := newVerifier(t, keysOf(testKeyID, key), signature.VerifierOptions{TrustProxy: tt.trust}).Verify(context.Background(), r, activity)
			if tt.want == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tt.want)
		})
	}
}

// TestPostWithoutBody: a POST with a nil body still signs a digest, of the
// empty body, and verifies at a server that reads that empty body.
func TestPostWithoutBody(t *testing.T) {
	key := testKeys()["rsa"]
	v := newVerifier(t, keysOf(testKeyID, key), signature.VerifierOptions{})
	type seen struct {
		digest, contentDigest string
		err                   error
	}
	got := make(chan seen, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		_, err := v.Verify(r.Context(), r, body)
		got <- seen{r.Header.Get("Digest"), r.Header.Get("Content-Digest"), err}
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(srv.Close)
	c, err := fetch.New(fetch.Options{AllowLoopback: true})
	require.NoError(t, err)
	t.Cleanup(c.Close)
	tests := []struct {
		scheme            signature.Scheme
		wantDigest        string
		wantContentDigest string
	}{
		{signature.Cavage, signature.Digest(nil), ""},
		{signature.RFC9421, "", signature.ContentDigest(nil)},
	}
	for _, tt := range tests {
		t.Run(tt.scheme.String(), func(t *testing.T) {
			resp, err := c.Post(context.Background(), srv.URL+"/users/alice/inbox", "application/activity+json", nil, newSigner(t, key, tt.scheme))
			require.NoError(t, err)
			assert.Equal(t, http.StatusAccepted, resp.StatusCode)
			s := <-got
			require.NoError(t, s.err)
			assert.Equal(t, tt.wantDigest, s.digest)
			assert.Equal(t, tt.wantContentDigest, s.contentDigest)
		})
	}
}
