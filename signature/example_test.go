package signature_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/fedi-go/fedi/fetch"
	"github.com/fedi-go/fedi/signature"
)

// Example signs a delivery and verifies it as the receiving inbox would,
// with a key resolver that knows the key (a real server uses a
// *signature.Resolver, which fetches it).
func Example() {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	const keyID = "https://example.com/users/alice#main-key"

	signer, _ := signature.NewSigner(signature.SignerOptions{KeyID: keyID, Key: priv})
	body := []byte(`{"type":"Follow","actor":"https://example.com/users/alice","object":"https://example.org/users/bob"}`)
	req, _ := http.NewRequest(http.MethodPost, "https://example.org/users/bob/inbox", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/activity+json")
	if err := signer.SignRequest(req, body); err != nil {
		panic(err)
	}

	keys := signature.KeyResolverFunc(func(ctx context.Context, id string) (*signature.Key, error) {
		return &signature.Key{ID: id, Owner: "https://example.com/users/alice", Public: pub}, nil
	})
	verifier, _ := signature.NewVerifier(signature.VerifierOptions{Keys: keys})

	// What the inbox receives.
	in := httptest.NewRequest(http.MethodPost, "/users/bob/inbox", strings.NewReader(string(body)))
	in.Host = "example.org"
	in.TLS = httptestTLS
	for k, v := range req.Header {
		in.Header[k] = v
	}
	res, err := verifier.Verify(context.Background(), in, body)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.Scheme, res.Owner)
	// Output: cavage https://example.com/users/alice
}

// ExampleVerifier_Middleware guards an inbox: the handler runs only for
// verified requests and finds the signer in the context.
func ExampleVerifier_Middleware() {
	keys := signature.KeyResolverFunc(func(ctx context.Context, id string) (*signature.Key, error) {
		return nil, &signature.Error{Check: signature.ErrUnknownKey, Detail: id}
	})
	verifier, _ := signature.NewVerifier(signature.VerifierOptions{Keys: keys})
	inbox := verifier.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		signer, _ := signature.FromContext(r.Context())
		fmt.Fprintln(w, "accepted from", signer.Owner)
	}))
	w := httptest.NewRecorder()
	inbox.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/inbox", strings.NewReader("{}")))
	fmt.Print(w.Code, " ", w.Body.String())
	// Output: 401 signature: request is not signed
}

// ExampleKnocker wires a Knocker to the Verifier of the inbox: once a
// host's RFC 9421 signature has been verified, deliveries to that host
// knock with RFC 9421 first; every other host gets draft-cavage first.
func ExampleKnocker() {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	client, _ := fetch.New(fetch.Options{})
	knocker, _ := signature.NewKnocker(signature.KnockerOptions{Client: client, KeyID: "https://example.org/users/bob#main-key", Key: priv})
	keys := signature.KeyResolverFunc(func(ctx context.Context, id string) (*signature.Key, error) {
		return &signature.Key{ID: id, Owner: "https://example.com/users/alice", Public: pub}, nil
	})
	verifier, _ := signature.NewVerifier(signature.VerifierOptions{Keys: keys, Observer: knocker})

	fmt.Println("before:", knocker.Preferred("example.com"))
	// alice's server signs a delivery to us with RFC 9421.
	signer, _ := signature.NewSigner(signature.SignerOptions{KeyID: "https://example.com/users/alice#main-key", Key: priv, Scheme: signature.RFC9421})
	body := []byte(`{"type":"Follow"}`)
	req, _ := http.NewRequest(http.MethodPost, "https://example.org/users/bob/inbox", strings.NewReader(string(body)))
	_ = signer.SignRequest(req, body)
	in := httptest.NewRequest(http.MethodPost, "/users/bob/inbox", strings.NewReader(string(body)))
	in.Host, in.TLS, in.Header = "example.org", httptestTLS, req.Header
	if _, err := verifier.Verify(context.Background(), in, body); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("after:", knocker.Preferred("example.com"))
	fmt.Println("elsewhere:", knocker.Preferred("example.net"))
	// Output:
	// before: cavage
	// after: rfc9421
	// elsewhere: cavage
}
