// Package hang has a test that outlives go test's timeout, for
// testreport's tests. It is run only by them.
package hang

import (
	"testing"
	"time"
)

func TestQuick(t *testing.T) {}

func TestHangs(t *testing.T) { time.Sleep(time.Minute) }
