package outbox

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/fedi-go/fedi/storage"
)

// ackBatch and ackDelay bound how many acks wait, and how long, before
// they go to the queue in one round trip.
const (
	ackBatch = 64
	ackDelay = 5 * time.Millisecond
)

// acker gathers the receipts of delivered deliveries and acks them in
// batches: one commit for many.
type acker struct {
	q    storage.Queue
	log  *slog.Logger
	mu   sync.Mutex
	buf  []string
	kick chan struct{}
	quit chan struct{}
	once sync.Once
}

func newAcker(q storage.Queue, log *slog.Logger) *acker {
	return &acker{q: q, log: log, kick: make(chan struct{}, 1), quit: make(chan struct{})}
}

func (a *acker) ack(receipt string) {
	a.mu.Lock()
	a.buf = append(a.buf, receipt)
	full := len(a.buf) >= ackBatch
	a.mu.Unlock()
	if full {
		select {
		case a.kick <- struct{}{}:
		default:
		}
	}
}

// run acks what gathers until stop; the acks go out even once ctx has
// ended, since the deliveries were made.
func (a *acker) run(ctx context.Context) {
	t := time.NewTicker(ackDelay)
	defer t.Stop()
	for {
		select {
		case <-a.quit:
			a.flush()
			return
		case <-t.C:
		case <-a.kick:
		}
		a.flush()
	}
}

func (a *acker) flush() {
	a.mu.Lock()
	batch := slices.Clone(a.buf)
	a.buf = a.buf[:0]
	a.mu.Unlock()
	if len(batch) == 0 {
		return
	}
	if err := a.q.Ack(context.Background(), batch...); err != nil {
		a.log.Warn("outbox: ack", "deliveries", len(batch), "err", err)
	}
}

func (a *acker) stop() { a.once.Do(func() { close(a.quit) }) }
