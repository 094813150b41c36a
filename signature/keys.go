package signature

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
)

// minRSABits refuses keys that Go's crypto/rsa refuses too, with our own
// error.
const minRSABits = 1024

// ParsePublicKeyPEM parses a publicKeyPem value: an SPKI "PUBLIC KEY"
// block (RSA, Ed25519 or ECDSA P-256) or a PKCS#1 "RSA PUBLIC KEY" block.
func ParsePublicKeyPEM(text string) (crypto.PublicKey, error) {
	block, _ := pem.Decode([]byte(text))
	if block == nil {
		return nil, &Error{Check: ErrUnsupportedKey, Detail: "publicKeyPem is not PEM"}
	}
	var (
		pub any
		err error
	)
	switch block.Type {
	case "PUBLIC KEY":
		pub, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		pub, err = x509.ParsePKCS1PublicKey(block.Bytes)
	default:
		return nil, &Error{Check: ErrUnsupportedKey, Detail: fmt.Sprintf("PEM block %q", block.Type)}
	}
	if err != nil {
		return nil, &Error{Check: ErrUnsupportedKey, Detail: "publicKeyPem", Cause: err}
	}
	return checkPublicKey(pub)
}

// PublicKeyPEM encodes pub as an SPKI "PUBLIC KEY" block, the form every
// peer reads, for an actor's publicKeyPem.
func PublicKeyPEM(pub crypto.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("signature: encoding the public key: %w", err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), nil
}

// checkPublicKey accepts the key types this package verifies with.
func checkPublicKey(pub any) (crypto.PublicKey, error) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < minRSABits {
			return nil, &Error{Check: ErrUnsupportedKey, Detail: fmt.Sprintf("RSA key of %d bits", k.N.BitLen())}
		}
		return k, nil
	case ed25519.PublicKey:
		if len(k) != ed25519.PublicKeySize {
			return nil, &Error{Check: ErrUnsupportedKey, Detail: "Ed25519 key of the wrong size"}
		}
		return k, nil
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() {
			return nil, &Error{Check: ErrUnsupportedKey, Detail: "ECDSA key not on P-256"}
		}
		return k, nil
	}
	return nil, &Error{Check: ErrUnsupportedKey, Detail: fmt.Sprintf("key type %T", pub)}
}

// Multicodec prefixes of FEP-521a Multikeys (unsigned varints).
var (
	codecEd25519 = []byte{0xed, 0x01}
	codecRSA     = []byte{0x85, 0x24} // 0x1205 rsa-pub, PKCS#1 DER
	codecP256    = []byte{0x80, 0x24} // 0x1200 p256-pub, compressed point
)

// ParseMultikey parses a publicKeyMultibase value (FEP-521a): base58btc
// ("z" prefix) over a multicodec-prefixed Ed25519, RSA (PKCS#1) or P-256
// (compressed) public key.
func ParseMultikey(s string) (crypto.PublicKey, error) {
	if len(s) < 2 || s[0] != 'z' {
		return nil, &Error{Check: ErrUnsupportedKey, Detail: "publicKeyMultibase is not base58btc"}
	}
	raw, err := decodeBase58(s[1:])
	if err != nil {
		return nil, &Error{Check: ErrUnsupportedKey, Detail: "publicKeyMultibase", Cause: err}
	}
	switch {
	case hasPrefix(raw, codecEd25519):
		return checkPublicKey(ed25519.PublicKey(raw[2:]))
	case hasPrefix(raw, codecRSA):
		pub, err := x509.ParsePKCS1PublicKey(raw[2:])
		if err != nil {
			return nil, &Error{Check: ErrUnsupportedKey, Detail: "RSA Multikey", Cause: err}
		}
		return checkPublicKey(pub)
	case hasPrefix(raw, codecP256):
		x, y := elliptic.UnmarshalCompressed(elliptic.P256(), raw[2:])
		if x == nil {
			return nil, &Error{Check: ErrUnsupportedKey, Detail: "P-256 Multikey is not a compressed point"}
		}
		return &ecdsa.PublicKey{Curve: elliptic.P256(), X: x, Y: y}, nil
	}
	return nil, &Error{Check: ErrUnsupportedKey, Detail: "unknown multicodec"}
}

func hasPrefix(b, p []byte) bool { return len(b) > len(p) && string(b[:len(p)]) == string(p) }

const base58Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

var base58Index = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for i := 0; i < len(base58Alphabet); i++ {
		t[base58Alphabet[i]] = int8(i)
	}
	return t
}()

// decodeBase58 decodes the Bitcoin base58 alphabet. Keys are at most a few
// hundred bytes, so the quadratic algorithm is fine; the length cap keeps
// it so.
func decodeBase58(s string) ([]byte, error) {
	if len(s) > 2048 {
		return nil, errors.New("base58 value too long")
	}
	zeros := 0
	for zeros < len(s) && s[zeros] == '1' {
		zeros++
	}
	out := make([]byte, 0, len(s))
	for i := zeros; i < len(s); i++ {
		d := base58Index[s[i]]
		if d < 0 {
			return nil, fmt.Errorf("invalid base58 character %q", s[i])
		}
		carry := int(d)
		for j := range out {
			carry += int(out[j]) * 58
			out[j] = byte(carry)
			carry >>= 8
		}
		for carry > 0 {
			out = append(out, byte(carry))
			carry >>= 8
		}
	}
	for i := 0; i < zeros; i++ {
		out = append(out, 0)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, nil
}

// encodeBase58 is the inverse of decodeBase58, for Multikey tests and for
// publishing our own keys.
func encodeBase58(b []byte) string {
	zeros := 0
	for zeros < len(b) && b[zeros] == 0 {
		zeros++
	}
	digits := make([]byte, 0, len(b)*138/100+1)
	for _, c := range b[zeros:] {
		carry := int(c)
		for j := range digits {
			carry += int(digits[j]) << 8
			digits[j] = byte(carry % 58)
			carry /= 58
		}
		for carry > 0 {
			digits = append(digits, byte(carry%58))
			carry /= 58
		}
	}
	out := make([]byte, 0, zeros+len(digits))
	for i := 0; i < zeros; i++ {
		out = append(out, '1')
	}
	for i := len(digits) - 1; i >= 0; i-- {
		out = append(out, base58Alphabet[digits[i]])
	}
	return string(out)
}

// Multikey encodes an Ed25519, RSA or P-256 public key as a FEP-521a
// publicKeyMultibase value.
func Multikey(pub crypto.PublicKey) (string, error) {
	var raw []byte
	switch k := pub.(type) {
	case ed25519.PublicKey:
		raw = append(append(raw, codecEd25519...), k...)
	case *rsa.PublicKey:
		raw = append(append(raw, codecRSA...), x509.MarshalPKCS1PublicKey(k)...)
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() {
			return "", errors.New("signature: Multikey: ECDSA key not on P-256")
		}
		raw = append(append(raw, codecP256...), elliptic.MarshalCompressed(k.Curve, k.X, k.Y)...)
	default:
		return "", fmt.Errorf("signature: Multikey: unsupported key type %T", pub)
	}
	return "z" + encodeBase58(raw), nil
}

// cavageAlgorithm checks a draft-cavage algorithm label against the key
// and returns the name of the algorithm the key decides. An absent label
// and "hs2019" defer to the key; any other label must name the key's own
// algorithm.
func cavageAlgorithm(pub crypto.PublicKey, label string) (string, error) {
	var want string
	switch pub.(type) {
	case *rsa.PublicKey:
		want = "rsa-sha256"
	case ed25519.PublicKey:
		want = "ed25519"
	case *ecdsa.PublicKey:
		want = "ecdsa-sha256"
	default:
		return "", fail(ErrUnsupportedKey, fmt.Sprintf("key type %T", pub))
	}
	if label == "" || label == "hs2019" || label == want {
		return want, nil
	}
	return "", fail(ErrAlgorithm, fmt.Sprintf("algorithm %q with a %s key", label, want))
}

// verifyCavage verifies sig over the signing string with the algorithm
// the key decides.
func verifyCavage(pub crypto.PublicKey, msg, sig []byte) bool {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		h := sha256.Sum256(msg)
		return rsa.VerifyPKCS1v15(k, crypto.SHA256, h[:], sig) == nil
	case ed25519.PublicKey:
		return ed25519.Verify(k, msg, sig)
	case *ecdsa.PublicKey:
		h := sha256.Sum256(msg)
		return ecdsa.VerifyASN1(k, h[:], sig)
	}
	return false
}

// RFC 9421 algorithm names.
const (
	AlgRSAv15SHA256    = "rsa-v1_5-sha256"
	AlgRSAPSSSHA512    = "rsa-pss-sha512"
	AlgECDSAP256SHA256 = "ecdsa-p256-sha256"
	AlgEd25519         = "ed25519"
)

// httpsigAlgorithm checks an RFC 9421 alg parameter against the key. The
// key type decides the family; for RSA the label may choose between the
// PKCS#1 v1.5 and PSS paddings, and defaults to v1.5 (Mastodon's).
func httpsigAlgorithm(pub crypto.PublicKey, alg string) (string, error) {
	switch pub.(type) {
	case *rsa.PublicKey:
		switch alg {
		case "", AlgRSAv15SHA256:
			return AlgRSAv15SHA256, nil
		case AlgRSAPSSSHA512:
			return AlgRSAPSSSHA512, nil
		}
		return "", fail(ErrAlgorithm, fmt.Sprintf("alg %q with an RSA key", alg))
	case ed25519.PublicKey:
		if alg == "" || alg == AlgEd25519 {
			return AlgEd25519, nil
		}
		return "", fail(ErrAlgorithm, fmt.Sprintf("alg %q with an Ed25519 key", alg))
	case *ecdsa.PublicKey:
		if alg == "" || alg == AlgECDSAP256SHA256 {
			return AlgECDSAP256SHA256, nil
		}
		return "", fail(ErrAlgorithm, fmt.Sprintf("alg %q with a P-256 key", alg))
	}
	return "", fail(ErrUnsupportedKey, fmt.Sprintf("key type %T", pub))
}

var pssOptions = &rsa.PSSOptions{SaltLength: 64, Hash: crypto.SHA512}

// verifyHTTPSig verifies an RFC 9421 signature over base.
func verifyHTTPSig(pub crypto.PublicKey, alg string, base, sig []byte) bool {
	switch alg {
	case AlgRSAv15SHA256:
		h := sha256.Sum256(base)
		return rsa.VerifyPKCS1v15(pub.(*rsa.PublicKey), crypto.SHA256, h[:], sig) == nil
	case AlgRSAPSSSHA512:
		h := sha512.Sum512(base)
		return rsa.VerifyPSS(pub.(*rsa.PublicKey), crypto.SHA512, h[:], sig, pssOptions) == nil
	case AlgEd25519:
		return ed25519.Verify(pub.(ed25519.PublicKey), base, sig)
	case AlgECDSAP256SHA256:
		if len(sig) != 64 {
			return false
		}
		h := sha256.Sum256(base)
		r := new(big.Int).SetBytes(sig[:32])
		s := new(big.Int).SetBytes(sig[32:])
		return ecdsa.Verify(pub.(*ecdsa.PublicKey), h[:], r, s)
	}
	return false
}
