package signature

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-fed/httpsig"
)

// SignerOptions configures a Signer. KeyID and Key are required.
type SignerOptions struct {
	// KeyID is the IRI of the public key, usually the actor IRI plus
	// "#main-key".
	KeyID string
	// Key is an *rsa.PrivateKey, an ed25519.PrivateKey or an
	// *ecdsa.PrivateKey on P-256.
	Key crypto.Signer
	// Scheme is the signature format; the zero value is Cavage.
	Scheme Scheme
	// RSAPSS makes RFC 9421 signatures with an RSA key use rsa-pss-sha512
	// instead of rsa-v1_5-sha256 (which Mastodon uses and expects).
	RSAPSS bool
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Signer signs outgoing requests. It implements fetch.RequestSigner and is
// safe for concurrent use: the go-fed/httpsig signer underneath is not, so
// one is made per request (which costs far less than the signature).
//
// A draft-cavage POST signs "(request-target) host date digest" plus
// "content-type" when set, with a fresh Date and "Digest: SHA-256=…" (of
// the empty body when body is nil); a GET signs "(request-target) host
// date" plus "accept" when set. An RSA key is labelled
// algorithm="rsa-sha256" (Mastodon and Fedify reject or ignore "hs2019"
// for RSA); other keys "hs2019".
//
// (request-target) is the method and the path with its query, as the
// draft says. Fedify 1.5 builds it from the path alone, when signing and
// when verifying: a Verifier accepts both forms, but a signed GET with a
// query does not verify at a Fedify server. Signing the path alone would
// break every peer that follows the draft, Mastodon among them, so the
// query stays in.
//
// An RFC 9421 signature is labelled sig1 and covers "@method"
// "@target-uri" "@authority", plus "content-digest" (RFC 9530, sha-256)
// when there is a body, with created, keyid and alg parameters.
type Signer struct {
	opts   SignerOptions
	cavage httpsig.Algorithm
	label  string // the cavage algorithm label
	alg    string // the RFC 9421 alg
}

// NewSigner validates o and builds a Signer.
func NewSigner(o SignerOptions) (*Signer, error) {
	if o.KeyID == "" {
		return nil, errors.New("signature: SignerOptions.KeyID is required")
	}
	if strings.ContainsAny(o.KeyID, "\"\\\r\n") || !isPrintableASCII(o.KeyID) {
		return nil, errors.New("signature: SignerOptions.KeyID must be printable ASCII without quotes or backslashes")
	}
	s := &Signer{opts: o}
	switch k := o.Key.(type) {
	case *rsa.PrivateKey:
		s.cavage, s.label, s.alg = httpsig.RSA_SHA256, "rsa-sha256", AlgRSAv15SHA256
		if o.RSAPSS {
			s.alg = AlgRSAPSSSHA512
		}
	case ed25519.PrivateKey:
		s.cavage, s.label, s.alg = httpsig.ED25519, "hs2019", AlgEd25519
	case *ecdsa.PrivateKey:
		if k.Curve != elliptic.P256() {
			return nil, errors.New("signature: ECDSA keys must be on P-256")
		}
		s.cavage, s.label, s.alg = httpsig.ECDSA_SHA256, "hs2019", AlgECDSAP256SHA256
	case nil:
		return nil, errors.New("signature: SignerOptions.Key is required")
	default:
		return nil, fmt.Errorf("signature: unsupported key type %T", o.Key)
	}
	if o.Scheme != Cavage && o.Scheme != RFC9421 {
		return nil, fmt.Errorf("signature: unknown scheme %d", o.Scheme)
	}
	if s.opts.Now == nil {
		s.opts.Now = time.Now
	}
	return s, nil
}

func isPrintableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// KeyID returns the key id the signer names.
func (s *Signer) KeyID() string { return s.opts.KeyID }

// Scheme returns the signer's format.
func (s *Signer) Scheme() Scheme { return s.opts.Scheme }

// SignRequest signs r, whose body is body (nil for a GET), replacing any
// earlier signature, Date and digest headers, so that a retry can sign
// afresh.
func (s *Signer) SignRequest(r *http.Request, body []byte) error {
	for _, h := range []string{"Signature", "Signature-Input", "Digest", "Content-Digest"} {
		r.Header.Del(h)
	}
	r.Header.Set("Date", s.opts.Now().UTC().Format(http.TimeFormat))
	if s.opts.Scheme == RFC9421 {
		return s.signHTTPSig(r, body)
	}
	return s.signCavage(r, body)
}

func hasBody(r *http.Request, body []byte) bool {
	return len(body) > 0 || (r.Method != http.MethodGet && r.Method != http.MethodHead)
}

func (s *Signer) signCavage(r *http.Request, body []byte) error {
	headers := []string{"(request-target)", "host", "date"}
	if hasBody(r, body) {
		if body == nil {
			// go-fed adds a Digest only for a non-nil body; a POST
			// without one still signs the digest of nothing.
			body = []byte{}
		}
		headers = append(headers, "digest")
		if r.Header.Get("Content-Type") != "" {
			headers = append(headers, "content-type")
		}
	} else if r.Header.Get("Accept") != "" {
		headers = append(headers, "accept")
	}
	gs, _, err := httpsig.NewSigner([]httpsig.Algorithm{s.cavage}, httpsig.DigestSha256, headers, httpsig.Signature, 0)
	if err != nil {
		return fmt.Errorf("signature: %w", err)
	}
	// go-fed reads the request target from URL.Path, which is decoded;
	// peers sign and verify the path as sent, so give it the escaped one.
	// It reads host from the header map, where a client request has none.
	shadow := &http.Request{
		Method: r.Method,
		URL:    &url.URL{Path: r.URL.EscapedPath(), RawQuery: r.URL.RawQuery},
		Header: r.Header.Clone(),
	}
	shadow.Header.Set("Host", requestHost(r))
	var key crypto.PrivateKey = s.opts.Key
	if err := gs.SignRequest(key, s.opts.KeyID, shadow, body); err != nil {
		return fmt.Errorf("signature: signing: %w", err)
	}
	sig := shadow.Header.Get("Signature")
	// go-fed labels every signature "hs2019"; the label is not signed, so
	// it can be corrected afterwards.
	sig = strings.Replace(sig, `,algorithm="hs2019",`, `,algorithm="`+s.label+`",`, 1)
	r.Header.Set("Signature", sig)
	if d := shadow.Header.Get("Digest"); d != "" {
		r.Header.Set("Digest", d)
	}
	return nil
}

func requestHost(r *http.Request) string {
	if r.Host != "" {
		return r.Host
	}
	return r.URL.Host
}

func (s *Signer) signHTTPSig(r *http.Request, body []byte) error {
	components := []string{"@method", "@target-uri", "@authority"}
	if hasBody(r, body) {
		r.Header.Set("Content-Digest", ContentDigest(body))
		components = append(components, "content-digest")
	}
	u := *r.URL
	u.Fragment, u.RawFragment = "", ""
	rf := &requestFacts{
		method:     r.Method,
		scheme:     strings.ToLower(u.Scheme),
		host:       requestHost(r),
		requestURI: u.RequestURI(),
		hdr:        r.Header,
	}
	rf.path, rf.query, _ = strings.Cut(rf.requestURI, "?")
	items := make([]sfItem, len(components))
	for i, c := range components {
		items[i] = sfItem{kind: sfString, str: c}
	}
	params := []sfParam{
		{key: "created", val: sfItem{kind: sfInteger, num: s.opts.Now().Unix()}},
		{key: "keyid", val: sfItem{kind: sfString, str: s.opts.KeyID}},
		{key: "alg", val: sfItem{kind: sfString, str: s.alg}},
	}
	p := &HTTPSigParams{Components: components, items: items, params: params}
	base, err := signatureBase(make([]byte, 0, 512), p, rf)
	if err != nil {
		return fmt.Errorf("signature: %w", err)
	}
	sig, err := s.signBase(base)
	if err != nil {
		return fmt.Errorf("signature: signing: %w", err)
	}
	r.Header.Set("Signature-Input", string(appendInnerList([]byte("sig1="), items, params)))
	r.Header.Set("Signature", "sig1=:"+base64.StdEncoding.EncodeToString(sig)+":")
	return nil
}

func (s *Signer) signBase(base []byte) ([]byte, error) {
	switch s.alg {
	case AlgRSAv15SHA256:
		h := sha256.Sum256(base)
		return rsa.SignPKCS1v15(rand.Reader, s.opts.Key.(*rsa.PrivateKey), crypto.SHA256, h[:])
	case AlgRSAPSSSHA512:
		h := sha512.Sum512(base)
		return rsa.SignPSS(rand.Reader, s.opts.Key.(*rsa.PrivateKey), crypto.SHA512, h[:], pssOptions)
	case AlgEd25519:
		return ed25519.Sign(s.opts.Key.(ed25519.PrivateKey), base), nil
	case AlgECDSAP256SHA256:
		h := sha256.Sum256(base)
		r, sv, err := ecdsa.Sign(rand.Reader, s.opts.Key.(*ecdsa.PrivateKey), h[:])
		if err != nil {
			return nil, err
		}
		out := make([]byte, 64)
		r.FillBytes(out[:32])
		sv.FillBytes(out[32:])
		return out, nil
	}
	return nil, fmt.Errorf("unknown algorithm %q", s.alg)
}
