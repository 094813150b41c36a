// Package fetch is the one HTTP client through which every outgoing
// request of fedi goes: WebFinger look-ups, key and object fetches, and
// inbox deliveries.
//
// It is a public package, not an internal one, because an application
// builds exactly one Client and hands it to everything that talks to other
// servers: the signature.Resolver that fetches keys, the webfinger.Client,
// the outbox that delivers, and the application's own code that
// dereferences objects (a reply's inReplyTo, an Announce's object). If the
// client were internal, every such caller would need its own, and each
// would be one more place where the SSRF guard or the size cap could be
// forgotten.
//
// A Client:
//   - refuses, after DNS resolution and in the dialer's Control hook (so
//     before any packet is sent), loopback, private, link-local, CGNAT,
//     multicast, unspecified and reserved addresses, the IPv6 forms that
//     embed or translate to IPv4 (mapped, compatible, NAT64, 6to4 of
//     those; SIIT and Teredo outright); Options.AllowLoopback lets loopback through, for tests and
//     for a local reference server, and nothing else;
//   - speaks https, and plain http only to loopback hosts when
//     AllowLoopback is set;
//   - bounds connect, response-header and whole-request time, response
//     size (1 MiB by default) and redirects (5, never https → http, loops
//     detected);
//   - checks content types, and that a fetched document's id is the URL it
//     was fetched from (Mastodon's rule);
//   - signs GETs (authorized fetch) when given a RequestSigner, per
//     instance or per request;
//   - draws every request, each redirect hop included, from a
//     per-operation Budget carried by the context, so that one inbound
//     activity cannot trigger unbounded fetches.
//
// The happy path:
//
//	c, err := fetch.New(fetch.Options{})
//	if err != nil { ... }
//	ctx = fetch.WithBudget(ctx, 10)
//	doc, err := c.Get(ctx, "https://example.com/users/alice")
//	if err != nil { ... } // errors.Is(err, fetch.ErrRefused), fetch.ErrTooLarge, ...
//	actor, err := registry.Decode(doc.Body)
package fetch
