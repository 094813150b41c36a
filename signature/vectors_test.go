package signature

import (
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The test request, key and expected values of RFC 9421 Appendix B.2.6
// ("Signing a Request Using ed25519"); Ed25519 is deterministic, so both
// the signature base and the signature must match byte for byte.
const (
	rfcEd25519Private = `-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF
-----END PRIVATE KEY-----`
	rfcB26Input = `sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519"`
	rfcB26Sig   = `sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:`
	rfcB26Base  = `"date": Tue, 20 Apr 2021 02:07:55 GMT
"@method": POST
"@path": /foo
"@authority": example.com
"content-type": application/json
"content-length": 18
"@signature-params": ("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519"`
)

func rfcTestRequest() *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/foo?param=Value&Pet=dog", strings.NewReader(`{"hello": "world"}`))
	r.Host = "example.com"
	r.Header.Set("Date", "Tue, 20 Apr 2021 02:07:55 GMT")
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Content-Digest", "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:")
	r.Header.Set("Content-Length", "18")
	return r
}

func TestRFC9421VectorB26(t *testing.T) {
	block, _ := pem.Decode([]byte(rfcEd25519Private))
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	priv := k.(ed25519.PrivateKey)

	p, err := ParseHTTPSig(rfcB26Input, rfcB26Sig)
	if err != nil {
		t.Fatal(err)
	}
	r := rfcTestRequest()
	rf := factsOf(r, false)
	base, err := signatureBase(nil, p, &rf)
	if err != nil {
		t.Fatal(err)
	}
	if string(base) != rfcB26Base {
		t.Fatalf("signature base:\n%s\nwant:\n%s", base, rfcB26Base)
	}
	if got := base64.StdEncoding.EncodeToString(ed25519.Sign(priv, base)); "sig-b26=:"+got+":" != rfcB26Sig {
		t.Fatalf("signature %s, want %s", got, rfcB26Sig)
	}
	if !verifyHTTPSig(priv.Public(), AlgEd25519, base, p.Signature) {
		t.Fatal("the RFC's signature does not verify")
	}
	// The body's sha-512 Content-Digest is the RFC's too.
	if n, err := checkDigests(r.Header, []byte(`{"hello": "world"}`)); err != nil || n[1] != 1 {
		t.Fatalf("Content-Digest: %v, %v", n, err)
	}
}

func TestStructuredFieldRoundTrip(t *testing.T) {
	tests := []struct{ in, want string }{
		{`sig1=("@method" "@target-uri");created=1;keyid="k"`, `("@method" "@target-uri");created=1;keyid="k"`},
		{`sig1=( "a"  "b" );x;y=?0;z=tok/en`, `("a" "b");x;y=?0;z=tok/en`},
		{`sig1=("a\"b\\c");n=-5;b=:AQID:`, `("a\"b\\c");n=-5;b=:AQID:`},
		{`sig1=()`, `()`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			d, err := parseDictionary(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if got := string(appendInnerList(nil, d[0].list, d[0].params)); got != tt.want {
				t.Fatalf("got %s, want %s", got, tt.want)
			}
		})
	}
	for _, bad := range []string{``, `Sig=()`, `a=(`, `a=("x)`, `a=1.5`, `a=:!!:`, `a=b,`, `a=?2`, `a=("x"a)`, `a="\x01"`, `a=1234567890123456`} {
		if _, err := parseDictionary(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestBase58(t *testing.T) {
	for _, b := range [][]byte{nil, {0}, {0, 0, 1}, {0xed, 0x01, 0xff}, []byte("hello world")} {
		got, err := decodeBase58(encodeBase58(b))
		if err != nil || string(got) != string(b) {
			t.Errorf("%x → %q → %x, %v", b, encodeBase58(b), got, err)
		}
	}
	if encodeBase58([]byte("hello world")) != "StV1DL6CwTryKyV" {
		t.Errorf("hello world → %s", encodeBase58([]byte("hello world")))
	}
	if _, err := decodeBase58("0OIl"); err == nil {
		t.Error("invalid alphabet accepted")
	}
}
