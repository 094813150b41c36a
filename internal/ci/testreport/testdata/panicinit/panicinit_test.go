// Package panicinit fails before any test runs, for testreport's tests.
// It is run only by them.
package panicinit

import "testing"

func init() { panic("the package cannot start") }

func TestNeverRuns(t *testing.T) {}
