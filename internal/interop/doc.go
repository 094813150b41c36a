// Package interop holds the integration tests that run fedi's signature,
// WebFinger and fetch packages against a live Fedify peer on loopback.
// It has no code of its own; see fedify_test.go.
package interop
