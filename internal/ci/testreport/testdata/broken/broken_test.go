// Package broken does not compile, for testreport's tests. It is run only
// by them.
package broken

import "testing"

func TestBroken(t *testing.T) {
	var n int = "not a number"
	_ = n
}
