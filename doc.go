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
//   - cmd/fedi: a command-line tool that decodes documents.
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
// Signatures, WebFinger, storage, the inbox and outbox, a reference server
// and a conformance kit build on it; see README.md for the roadmap.
package fedi
