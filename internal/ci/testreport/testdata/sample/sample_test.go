// Package sample has tests that pass, fail and skip, for testreport's
// tests. It is run only by them.
package sample

import "testing"

func TestPass(t *testing.T) {}

func TestFail(t *testing.T) {
	t.Log("some context")
	t.Error("the answer is 41, want 42")
}

func TestSkipExpected(t *testing.T) { t.Skip("no tmpfs here") }

func TestSkipUnexpected(t *testing.T) { t.Skip("the service is not running") }

func TestSub(t *testing.T) {
	t.Run("ok", func(t *testing.T) {})
	t.Run("busy", func(t *testing.T) { t.Skip("inconclusive, this machine is too busy") })
	t.Run("fails", func(t *testing.T) { t.Fatal("the subtest failed") })
}
