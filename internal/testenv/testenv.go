// Package testenv decides what a test does when something it needs from
// outside the repository is missing: the shared payload corpus, the
// Fedify peer, node. On a developer's machine the test skips with a
// message; in CI, where everything must be there, it fails, so that a run
// cannot pass while tests did not run.
package testenv

import (
	"os"
	"testing"
)

// InCI reports whether the tests run in CI: the environment variable CI
// is "true", as .ci/run and most CI services set it.
func InCI() bool { return os.Getenv("CI") == "true" }

// Missing reports that something t needs is missing. In CI it fails t;
// elsewhere it skips t. Either way t stops here, with the message.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	if InCI() {
		t.Fatalf(format+" (CI=true: what a test needs must be there, so this fails instead of skipping)", args...)
	}
	t.Skipf(format, args...)
}
