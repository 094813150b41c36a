package storagetest_test

import (
	"testing"

	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/storage/memory"
	"github.com/fedi-go/fedi/storage/storagetest"
)

// An adapter's test runs the suite against fresh, empty stores. Here the
// adapter is storage/memory; yours would open a database, clean it, and
// close it with t.Cleanup.
func ExampleRun() {
	// In a _test.go file of the adapter's package:
	_ = func(t *testing.T) {
		storagetest.Run(t, func(t *testing.T) storage.Store {
			return memory.New()
		})
	}
}

// An adapter that implements only a queue checks just that.
func ExampleTestQueue() {
	_ = func(t *testing.T) {
		storagetest.TestQueue(t, func(t *testing.T) storage.Queue {
			return memory.New().Queue
		})
	}
}
