// Package fedi is an ActivityPub library for Go applications that must
// federate: with Mastodon, Lemmy, Mobilizon, Communecter, PeerTube and the
// rest of the fediverse.
//
// This package holds only documentation; the library lives in its
// sub-packages:
//
//   - vocab: typed, lossless ActivityStreams 2.0 decoding and encoding over
//     go-ap's struct shapes, with pluggable vocabularies;
//   - vocab/mobilizon, vocab/lemmy, vocab/communecter: the platform
//     vocabularies, with typed views and constructors for the activities
//     each platform sends; vocab/schema holds the schema.org terms they
//     share;
//   - fetch: the one SSRF-safe HTTP client every outgoing request goes
//     through, with its limits, its id check and per-operation fetch
//     budgets;
//   - signature: HTTP signatures, draft-cavage and RFC 9421, signed and
//     verified strictly, a caching key resolver, verification middleware,
//     and double-knocking delivery;
//   - webfinger and nodeinfo: discovery, served and resolved;
//   - storage: small interfaces for objects, collections, inbox dedupe,
//     keys, the delivery queue and the remote-actor cache, with the
//     storage/memory, storage/sqlite and storage/postgres adapters and the
//     storagetest conformance suite;
//   - cmd/fedi: a command-line tool that decodes documents, prints
//     WebFinger answers and looks up actors and objects, signed if asked.
//
// A registry decodes any real-world payload into typed values and encodes
// it back without losing a property:
//
//	reg, err := vocab.NewRegistry(mobilizon.Vocabulary, lemmy.Vocabulary, communecter.Vocabulary)
//	item, err := reg.Decode(body)
//	if ev, ok := mobilizon.EventOf(item); ok && ev.JoinMode == mobilizon.JoinRestricted {
//		// participations wait for the organizer's approval
//	}
//	out, err := reg.Encode(item) // the same document, with one merged @context
//
// The inbox and outbox, a reference server and a conformance kit come
// next; see README.md for the roadmap.
package fedi
