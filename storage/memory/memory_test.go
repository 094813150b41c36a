package memory_test

import (
	"testing"

	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/storage/internal/txtest"
	"github.com/fedi-go/fedi/storage/memory"
	"github.com/fedi-go/fedi/storage/storagetest"
)

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(*testing.T) storage.Store { return memory.New() })
}

func BenchmarkStore(b *testing.B) {
	storagetest.Benchmark(b, func(*testing.B) storage.Store { return memory.New() })
}

// BenchmarkLeaseAck is the queue's lease+ack throughput alone, with and
// without ordering keys.
func BenchmarkLeaseAck(b *testing.B) {
	storagetest.BenchmarkLeaseAck(b, func(*testing.B) storage.Queue { return memory.New().Queue })
}

func TestTxMisuse(t *testing.T) { txtest.Misuse(t, memory.New()) }

// BenchmarkTx compares transactions of an inbox's writes with the same
// writes made one by one.
func BenchmarkTx(b *testing.B) {
	storagetest.BenchmarkTx(b, func(*testing.B) storage.Store { return memory.New() })
}
