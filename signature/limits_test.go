package signature_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fedi-go/fedi/signature"
)

// letters returns a distinct name of letters only for each i, as cavage
// parameter names must be.
func letters(i int) string {
	var b []byte
	for i++; i > 0; i /= 26 {
		b = append(b, byte('a'+i%26))
	}
	return string(b)
}

// cavageWith builds a Signature header with n header names and extra
// unknown parameters besides keyId, signature and headers.
func cavageWith(names, extra int) string {
	var b strings.Builder
	b.WriteString(`keyId="k",signature="YQ=="`)
	for i := range extra {
		fmt.Fprintf(&b, ",x%s=1", letters(i))
	}
	b.WriteString(`,headers="`)
	for i := range names {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "h%d", i)
	}
	b.WriteByte('"')
	return b.String()
}

// httpSigWith builds Signature-Input and Signature values with the given
// number of signatures (labels), components per signature and extra
// parameters per signature. A label may be repeated with same.
func httpSigWith(members, components, params int, same bool) (input, sig string) {
	var in, sg strings.Builder
	for m := range members {
		label := fmt.Sprintf("s%d", m)
		if same {
			label = "s"
		}
		if m > 0 {
			in.WriteString(", ")
			sg.WriteString(", ")
		}
		in.WriteString(label + "=(")
		for c := range components {
			if c > 0 {
				in.WriteByte(' ')
			}
			fmt.Fprintf(&in, `"c%d"`, c)
		}
		in.WriteString(`);keyid="k"`)
		for p := range params {
			fmt.Fprintf(&in, ";p%d=1", p)
		}
		sg.WriteString(label + "=:YQ==:")
	}
	return in.String(), sg.String()
}

// pad grows a cavage header to exactly n bytes with an unknown parameter.
func pad(n int) string {
	s := `keyId="k",signature="YQ==",pad=""`
	return s[:len(s)-1] + strings.Repeat("x", n-len(s)) + `"`
}

// TestParseLimits checks every cap at its value and one past it, and the
// shapes of the inputs that made the parsers quadratic before the caps:
// each is refused as malformed, naming the limit.
func TestParseLimits(t *testing.T) {
	in32, sig32 := httpSigWith(1, 32, 0, false)
	in33, sig33 := httpSigWith(1, 33, 0, false)
	in8, sig8 := httpSigWith(8, 1, 0, false)
	in9, sig9 := httpSigWith(9, 1, 0, false)
	inSame, sigSame := httpSigWith(9, 1, 0, true)
	inP, sigP := httpSigWith(1, 1, 15, false) // keyid and 15 more
	inP1, sigP1 := httpSigWith(1, 1, 16, false)
	inLong, sigLong := httpSigWith(1, 1, 0, false)
	inLong += ";nonce=\"" + strings.Repeat("n", signature.MaxSignatureHeaderBytes) + `"`
	tests := []struct {
		name        string
		cavage      string // parsed with ParseCavage when set
		input, sig  string // parsed with ParseHTTPSig otherwise
		wantLimit   string // "" means it parses
		wantHeaders int
	}{
		{name: "cavage at MaxSignatureHeaderBytes", cavage: pad(signature.MaxSignatureHeaderBytes), wantHeaders: 1},
		{name: "cavage past MaxSignatureHeaderBytes", cavage: pad(signature.MaxSignatureHeaderBytes + 1), wantLimit: "MaxSignatureHeaderBytes"},
		{name: "cavage with MaxCavageParams", cavage: cavageWith(1, signature.MaxCavageParams-3), wantHeaders: 1},
		{name: "cavage past MaxCavageParams", cavage: cavageWith(1, signature.MaxCavageParams-2), wantLimit: "MaxCavageParams"},
		{name: "cavage with MaxCoveredComponents headers", cavage: cavageWith(32, 0), wantHeaders: 32},
		{name: "cavage past MaxCoveredComponents headers", cavage: cavageWith(33, 0), wantLimit: "MaxCoveredComponents"},
		{name: "cavage: thousands of parameters", cavage: cavageWith(1, 1000), wantLimit: "MaxCavageParams"},
		{name: "cavage: thousands of header names", cavage: cavageWith(1500, 0), wantLimit: "MaxCoveredComponents"},
		{name: "cavage: 40000 header names", cavage: cavageWith(40000, 0), wantLimit: "MaxSignatureHeaderBytes"},
		{name: "rfc9421 with MaxCoveredComponents", input: in32, sig: sig32},
		{name: "rfc9421 past MaxCoveredComponents", input: in33, sig: sig33, wantLimit: "MaxCoveredComponents"},
		{name: "rfc9421 with MaxSignatures", input: in8, sig: sig8},
		{name: "rfc9421 past MaxSignatures", input: in9, sig: sig9, wantLimit: "MaxSignatures"},
		{name: "rfc9421 past MaxSignatures by repeating a label", input: inSame, sig: sigSame, wantLimit: "MaxSignatures"},
		{name: "rfc9421 past MaxSignatures in Signature", input: in8, sig: sig9, wantLimit: "MaxSignatures"},
		{name: "rfc9421 with MaxSignatureParams", input: inP, sig: sigP},
		{name: "rfc9421 past MaxSignatureParams", input: inP1, sig: sigP1, wantLimit: "MaxSignatureParams"},
		{name: "rfc9421 Signature-Input past MaxSignatureHeaderBytes", input: inLong, sig: sigLong, wantLimit: "MaxSignatureHeaderBytes"},
		{name: "rfc9421 Signature past MaxSignatureHeaderBytes", input: in8, sig: sig8 + strings.Repeat(" ", signature.MaxSignatureHeaderBytes), wantLimit: "MaxSignatureHeaderBytes"},
		{name: "rfc9421: thousands of labels", input: strings.Repeat("a=(), ", 1300) + "a=()", sig: "a=:YQ==:", wantLimit: "MaxSignatures"},
		{name: "rfc9421: thousands of components", input: "a=(" + strings.Repeat(`"x" `, 2000) + ")", sig: "a=:YQ==:", wantLimit: "MaxCoveredComponents"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			if tt.cavage != "" {
				var p *signature.CavageParams
				p, err = signature.ParseCavage(tt.cavage)
				if tt.wantLimit == "" {
					require.NoError(t, err)
					assert.Len(t, p.Headers, tt.wantHeaders)
					return
				}
			} else {
				var p *signature.HTTPSigParams
				p, err = signature.ParseHTTPSig(tt.input, tt.sig)
				if tt.wantLimit == "" {
					require.NoError(t, err)
					assert.Equal(t, "k", p.KeyID)
					return
				}
			}
			require.ErrorIs(t, err, signature.ErrMalformed)
			var e *signature.Error
			require.ErrorAs(t, err, &e)
			assert.Contains(t, err.Error(), tt.wantLimit, "the error names the limit")
		})
	}
}

// TestVerifyRefusesLongHeaders: the field lines of Signature-Input and
// Signature are measured together before they are joined, and an over-long
// header is refused before any key is looked up.
func TestVerifyRefusesLongHeaders(t *testing.T) {
	keys := signature.KeyResolverFunc(func(context.Context, string) (*signature.Key, error) {
		t.Error("a key was looked up for an over-long header")
		return nil, nil
	})
	v := newVerifier(t, keys, signature.VerifierOptions{})
	line := "a=(), " + strings.Repeat(" ", signature.MaxSignatureHeaderBytes/4)
	tests := []struct {
		name   string
		header map[string][]string
	}{
		{"Signature-Input in several lines", map[string][]string{"Signature-Input": {line, line, line, line, "a=()"}, "Signature": {"a=:YQ==:"}}},
		{"Signature in several lines", map[string][]string{"Signature-Input": {`a=("@method");keyid="k"`}, "Signature": {line, line, line, line, "a=:YQ==:"}}},
		{"cavage Signature", map[string][]string{"Signature": {cavageWith(40000, 0)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/users/alice/outbox", nil)
			for k, vs := range tt.header {
				r.Header[k] = vs
			}
			_, err := v.Verify(context.Background(), r, nil)
			require.ErrorIs(t, err, signature.ErrMalformed)
			assert.Contains(t, err.Error(), "MaxSignatureHeaderBytes")
		})
	}
	t.Run("middleware answers 401 to a huge unauthenticated header", func(t *testing.T) {
		srv := httptest.NewServer(v.Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
			t.Error("the handler ran")
		})))
		defer srv.Close()
		req, err := http.NewRequest(http.MethodPost, srv.URL+"/inbox", strings.NewReader("{}"))
		require.NoError(t, err)
		req.Header.Set("Signature", cavageWith(40000, 0))
		resp, err := srv.Client().Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	})
}
