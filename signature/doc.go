// Package signature signs and verifies the HTTP signatures that
// authenticate every server-to-server request in the fediverse: the
// draft-cavage-http-signatures-12 Signature header that Mastodon, Fedify
// and every other peer accept, and RFC 9421 HTTP Message Signatures that
// Mastodon 4.5 and newer Fedify speak.
//
// Signing uses go-fed/httpsig for draft-cavage, with a fresh Date, a
// Digest, and an algorithm label peers accept; RFC 9421 is implemented
// here against the RFC (see the note in rfc9421.go). A Knocker delivers
// by double-knocking: RFC 9421 first, draft-cavage after a 400, 401 or
// 403, remembering per host what worked.
//
// Verification is strict where go-fed/httpsig is not: the covered
// headers must include the request target, the host, a Date or created
// within a window, and the digest of any body; every sha-256 and sha-512
// Digest and Content-Digest is recomputed; the key type decides the
// algorithm; and every failure is an *Error naming the check. Before any
// of that, a Signature or Signature-Input value is refused past
// MaxSignatureHeaderBytes, and its lists past small caps (see
// MaxCavageParams and the limits beside it), so that parsing what an
// unauthenticated client sends is linear and cheap. A Resolver
// fetches keys through the SSRF-safe fetch.Client, checks that owner and
// key list each other, and caches them, refreshing once when a signature
// fails so that key rotation works.
//
// Receiving:
//
//	client, _ := fetch.New(fetch.Options{})
//	keys, _ := signature.NewResolver(signature.ResolverOptions{Client: client})
//	v, _ := signature.NewVerifier(signature.VerifierOptions{Keys: keys})
//	mux.Handle("POST /users/{name}/inbox", v.Middleware(inboxHandler))
//	// in inboxHandler:
//	signer, _ := signature.FromContext(r.Context())
//	if signer.Owner != activity.Actor { ... 401 ... }
//
// Sending:
//
//	k, _ := signature.NewKnocker(signature.KnockerOptions{Client: client, KeyID: actor + "#main-key", Key: priv})
//	knock, err := k.Post(ctx, inboxURL, "application/activity+json", body)
package signature
