package storage

import (
	"context"
	"time"
)

// Dedupe remembers which activities have been received for which
// recipient, so that a redelivered activity has its effects once.
// Implementations are safe for concurrent use.
type Dedupe interface {
	// Record notes that activity was received for recipient and reports
	// whether this is the first time. It is one atomic operation: when
	// the same pair is recorded concurrently, exactly one call returns
	// true. Recipient is the local actor, or the shared inbox's IRI.
	Record(ctx context.Context, activity, recipient string) (first bool, err error)

	// Forget undoes the Record of activity for recipient, so that the
	// next Record of the pair is the first again. An inbox that recorded
	// an activity and then failed to process it forgets it, so that the
	// peer's retry is processed instead of deduplicated away. It fails
	// with ErrNotFound when the pair is not recorded.
	Forget(ctx context.Context, activity, recipient string) error

	// Prune forgets the pairs first recorded before the given time and
	// returns how many it forgot. Peers stop retrying after a few days, so
	// records need not live forever.
	Prune(ctx context.Context, before time.Time) (int64, error)
}
