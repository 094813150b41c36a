// Package testpayload loads the representative payloads bundled in the
// repository's testdata/payloads for the tests of any package.
package testpayload

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/fedi-go/fedi/vocab"
)

// Dir returns the absolute path of testdata/payloads.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata", "payloads")
}

// Read returns the bytes of a bundled payload.
func Read(tb testing.TB, name string) []byte {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join(Dir(), name))
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// Decode decodes a bundled payload with reg.
func Decode(tb testing.TB, reg *vocab.Registry, name string) vocab.Item {
	tb.Helper()
	it, err := reg.Decode(Read(tb, name))
	if err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	return it
}
