package signature_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fedi-go/fedi/signature"
)

// httpSig describes an RFC 9421 signature made by hand, so that each test
// can cover exactly the components it wants and label the algorithm as it
// likes. The signature base is built here, independently of the package.
type httpSig struct {
	components []string
	created    bool   // add created=now
	alg        string // the alg parameter; "" for none
	signAs     string // the algorithm actually used; "" means the key's usual one
}

// httpSigRequest signs a POST of activity to target as described and
// returns the request as the server sees it.
func httpSigRequest(t *testing.T, key crypto.Signer, target string, s httpSig) *http.Request {
	t.Helper()
	u, err := url.Parse(target)
	require.NoError(t, err)
	cr, err := http.NewRequest(http.MethodPost, target, strings.NewReader(string(activity)))
	require.NoError(t, err)
	cr.Header.Set("Content-Type", "application/activity+json")
	cr.Header.Set("Content-Digest", signature.ContentDigest(activity))
	cr.Header.Set("Date", time.Now().UTC().Format(http.TimeFormat))

	quoted := make([]string, len(s.components))
	var base strings.Builder
	for i, c := range s.components {
		quoted[i] = `"` + c + `"`
		var v string
		switch c {
		case "@method":
			v = cr.Method
		case "@target-uri":
			v = target
		case "@authority", "host":
			v = u.Host
		case "@scheme":
			v = u.Scheme
		case "@path":
			v = u.EscapedPath()
		case "@query":
			v = "?" + u.RawQuery
		case "@request-target":
			v = u.RequestURI()
		default:
			v = cr.Header.Get(c)
		}
		fmt.Fprintf(&base, "%q: %s\n", c, v)
	}
	params := "(" + strings.Join(quoted, " ") + ")"
	if s.created {
		params += fmt.Sprintf(";created=%d", time.Now().Unix())
	}
	params += fmt.Sprintf(";keyid=%q", testKeyID)
	if s.alg != "" {
		params += fmt.Sprintf(";alg=%q", s.alg)
	}
	fmt.Fprintf(&base, "%q: %s", "@signature-params", params)

	signAs := s.signAs
	if signAs == "" {
		switch key.(type) {
		case *rsa.PrivateKey:
			signAs = signature.AlgRSAv15SHA256
		case ed25519.PrivateKey:
			signAs = signature.AlgEd25519
		case *ecdsa.PrivateKey:
			signAs = signature.AlgECDSAP256SHA256
		}
	}
	sig := signWith(t, key, signAs, []byte(base.String()))
	cr.Header.Set("Signature-Input", "sig1="+params)
	cr.Header.Set("Signature", "sig1=:"+base64.StdEncoding.EncodeToString(sig)+":")
	return serverSide(cr, activity)
}

func signWith(t *testing.T, key crypto.Signer, alg string, msg []byte) []byte {
	t.Helper()
	var sig []byte
	var err error
	switch alg {
	case signature.AlgRSAv15SHA256:
		h := sha256.Sum256(msg)
		sig, err = rsa.SignPKCS1v15(nil, key.(*rsa.PrivateKey), crypto.SHA256, h[:])
	case signature.AlgRSAPSSSHA512:
		h := sha512.Sum512(msg)
		sig, err = rsa.SignPSS(rand.Reader, key.(*rsa.PrivateKey), crypto.SHA512, h[:], &rsa.PSSOptions{SaltLength: 64})
	case signature.AlgEd25519:
		sig = ed25519.Sign(key.(ed25519.PrivateKey), msg)
	case signature.AlgECDSAP256SHA256:
		h := sha256.Sum256(msg)
		r, s, e := ecdsa.Sign(rand.Reader, key.(*ecdsa.PrivateKey), h[:])
		err = e
		sig = append(r.FillBytes(make([]byte, 32)), s.FillBytes(make([]byte, 32))...)
	default:
		t.Fatalf("cannot sign with %q", alg)
	}
	require.NoError(t, err)
	return sig
}

// TestHTTPSigCoverage: an RFC 9421 signature must cover the method, the
// authority, the target, created or Date, the digest of a body, and the
// query of a request that has one. Every signature below is valid over
// what it covers, so that a requirement dropped from the verifier makes
// its row verify.
func TestHTTPSigCoverage(t *testing.T) {
	const (
		inbox     = testInbox
		withQuery = testInbox + "?page=2"
	)
	tests := []struct {
		name       string
		target     string
		components string
		created    bool
		want       error
	}{
		{name: "Mastodon's set", target: inbox, components: "@method @target-uri content-digest", created: true},
		{name: "authority and path", target: inbox, components: "@method @authority @path content-digest", created: true},
		{name: "host and request-target", target: inbox, components: "@method host @request-target content-digest", created: true},
		{name: "Date instead of created", target: inbox, components: "@method @target-uri content-digest date"},
		{name: "method not covered", target: inbox, components: "@target-uri content-digest", created: true, want: signature.ErrNotCovered},
		{name: "authority not covered", target: inbox, components: "@method @path content-digest", created: true, want: signature.ErrNotCovered},
		{name: "target not covered", target: inbox, components: "@method @authority content-digest", created: true, want: signature.ErrNotCovered},
		{name: "target not covered, scheme is not enough", target: inbox, components: "@method @authority @scheme content-digest", created: true, want: signature.ErrNotCovered},
		{name: "neither created nor Date", target: inbox, components: "@method @target-uri content-digest", want: signature.ErrNotCovered},
		{name: "digest not covered", target: inbox, components: "@method @target-uri", created: true, want: signature.ErrNotCovered},

		// A query added to a request signed over @path alone would
		// verify if the query were not required.
		{name: "query, path alone", target: withQuery, components: "@method @authority @path content-digest", created: true, want: signature.ErrNotCovered},
		{name: "query, path and query", target: withQuery, components: "@method @authority @path @query content-digest", created: true},
		{name: "query, target-uri", target: withQuery, components: "@method @target-uri content-digest", created: true},
		{name: "query, request-target", target: withQuery, components: "@method @authority @request-target content-digest", created: true},
	}
	key := testKeys()["ed25519"]
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httpSigRequest(t, key, tt.target, httpSig{components: strings.Fields(tt.components), created: tt.created})
			_, err := newVerifier(t, keysOf(testKeyID, key), signature.VerifierOptions{}).Verify(context.Background(), r, activity)
			if tt.want == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tt.want)
		})
	}
}

// TestHTTPSigAlgMatchesKey: the key's type decides the algorithm, and an
// alg parameter that names another one is refused, whatever the key. Each
// refused signature is made with the algorithm the key would use by
// default, so that a verifier that ignored a mismatched alg would accept
// it.
func TestHTTPSigAlgMatchesKey(t *testing.T) {
	rsaKey, edKey, ecKey := testKeys()["rsa"], testKeys()["ed25519"], testKeys()["p256"]
	tests := []struct {
		name    string
		key     crypto.Signer
		alg     string
		signAs  string
		wantAlg string
		want    error
	}{
		{name: "RSA without alg", key: rsaKey, wantAlg: signature.AlgRSAv15SHA256},
		{name: "RSA, rsa-v1_5-sha256", key: rsaKey, alg: "rsa-v1_5-sha256", wantAlg: signature.AlgRSAv15SHA256},
		{name: "RSA, rsa-pss-sha512", key: rsaKey, alg: "rsa-pss-sha512", signAs: signature.AlgRSAPSSSHA512, wantAlg: signature.AlgRSAPSSSHA512},
		{name: "RSA labelled ed25519", key: rsaKey, alg: "ed25519", want: signature.ErrAlgorithm},
		{name: "RSA labelled ecdsa-p256-sha256", key: rsaKey, alg: "ecdsa-p256-sha256", want: signature.ErrAlgorithm},
		{name: "RSA labelled hmac-sha256", key: rsaKey, alg: "hmac-sha256", want: signature.ErrAlgorithm},
		{name: "RSA labelled rsa-sha256", key: rsaKey, alg: "rsa-sha256", want: signature.ErrAlgorithm},
		{name: "RSA labelled PSS, signed v1.5", key: rsaKey, alg: "rsa-pss-sha512", want: signature.ErrBadSignature},
		{name: "RSA labelled v1.5, signed PSS", key: rsaKey, alg: "rsa-v1_5-sha256", signAs: signature.AlgRSAPSSSHA512, want: signature.ErrBadSignature},
		{name: "Ed25519 without alg", key: edKey, wantAlg: signature.AlgEd25519},
		{name: "Ed25519 labelled rsa-v1_5-sha256", key: edKey, alg: "rsa-v1_5-sha256", want: signature.ErrAlgorithm},
		{name: "Ed25519 labelled ecdsa-p256-sha256", key: edKey, alg: "ecdsa-p256-sha256", want: signature.ErrAlgorithm},
		{name: "P-256, ecdsa-p256-sha256", key: ecKey, alg: "ecdsa-p256-sha256", wantAlg: signature.AlgECDSAP256SHA256},
		{name: "P-256 labelled ed25519", key: ecKey, alg: "ed25519", want: signature.ErrAlgorithm},
		{name: "P-256 labelled rsa-v1_5-sha256", key: ecKey, alg: "rsa-v1_5-sha256", want: signature.ErrAlgorithm},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httpSigRequest(t, tt.key, testInbox, httpSig{
				components: []string{"@method", "@target-uri", "content-digest"}, created: true, alg: tt.alg, signAs: tt.signAs})
			res, err := newVerifier(t, keysOf(testKeyID, tt.key), signature.VerifierOptions{}).Verify(context.Background(), r, activity)
			if tt.want == nil {
				require.NoError(t, err)
				assert.Equal(t, tt.wantAlg, res.Algorithm)
				return
			}
			require.ErrorIs(t, err, tt.want)
		})
	}
}
