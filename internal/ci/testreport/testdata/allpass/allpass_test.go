// Package allpass has tests that pass or skip as expected, for
// testreport's tests. It is run only by them.
package allpass

import "testing"

func TestPass(t *testing.T) {}

func TestSkipExpected(t *testing.T) { t.Skip("no tmpfs here") }

func TestBusy(t *testing.T) {
	t.Run("a", func(t *testing.T) { t.Skip("inconclusive, this machine is too busy") })
	t.Run("b", func(t *testing.T) {})
}
