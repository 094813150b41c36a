// Package signature signs and verifies the HTTP signatures that
// authenticate every server-to-server request in the fediverse: the
// draft-cavage-http-signatures-12 Signature header that Mastodon, Fedify
// and every other peer accept, and RFC 9421 HTTP Message Signatures that
// Mastodon 4.5 and newer Fedify speak.
//
// Signing uses go-fed/httpsig for draft-cavage, with a fresh Date, a
// Digest, and an algorithm label peers accept; RFC 9421 is implemented
// here against the RFC (see the note in rfc9421.go). A Knocker delivers
// by double-knocking: draft-cavage first, except at hosts known to verify
// RFC 9421 (a Verifier verified their RFC 9421 signatures), which get RFC
// 9421 first and draft-cavage after a 400, 401 or 403. It does not trust
// a 2xx to an RFC 9421 knock, because Mobilizon and Pleroma answer 200 to
// signatures they cannot verify. KnockerOptions.FirstKnock = RFC9421
// knocks with RFC 9421 first everywhere.
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
//	v, _ := signature.NewVerifier(signature.VerifierOptions{Keys: keys, Observer: knocker})
//	mux.Handle("POST /users/{name}/inbox", v.Middleware(inboxHandler))
//	// in inboxHandler:
//	signer, _ := signature.FromContext(r.Context())
//	if signer.Owner != activity.Actor { ... 401 ... }
//
// Sending, with the Knocker the Verifier above reports to:
//
//	knocker, _ := signature.NewKnocker(signature.KnockerOptions{Client: client, KeyID: actor + "#main-key", Key: priv})
//	knock, err := knocker.Post(ctx, inboxURL, "application/activity+json", body)
package signature
