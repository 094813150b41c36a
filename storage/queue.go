package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Delivery is one activity to POST to one inbox.
type Delivery struct {
	// ID identifies the delivery in its queue. The store sets it.
	ID string
	// Activity is the IRI of the activity delivered.
	Activity string
	// Inbox is the IRI of the inbox (or shared inbox) to POST to.
	Inbox string
	// Body is the activity document to POST. The worker signs it afresh
	// for every attempt.
	Body json.RawMessage
	// NotBefore is the earliest time the delivery may be attempted: when
	// it was enqueued unless the caller asked for later, then the time the
	// last Retry asked for.
	NotBefore time.Time
	// OrderingKey, when set, orders the deliveries to the same Inbox that
	// share it: one is leased only after every delivery enqueued before it
	// with the same Inbox and OrderingKey has been acked or given up on.
	// The outbox uses the object's id, so that a Delete or Update of an
	// object never reaches an inbox before its Create. A delivery given
	// up on lets the next go; once that one has been leased, the dead
	// letter can no longer be requeued (see DeadLetters.Requeue).
	OrderingKey string
	// Attempts counts the failed attempts recorded by Retry and GiveUp.
	Attempts int
	// Leases counts the times the delivery has been leased, this lease
	// included. Lease sets it, and Dead reports it. A lease that ends
	// without Ack, Retry or GiveUp, because its worker crashed or stalled
	// past the visibility timeout, counts too, and records no attempt:
	// Leases beyond Attempts+1 are leases lost that way. A delivery that
	// crashes or hangs every worker that takes it shows only here, so a
	// worker gives up on one leased more than a bound number of times, as
	// it does past a bound of Attempts, rather than lease it forever.
	Leases int
	// LastError is the error the last failed attempt recorded.
	LastError string
	// Enqueued is when the delivery was enqueued. The store sets it.
	Enqueued time.Time
	// Receipt identifies the lease a worker holds on the delivery, for
	// Ack, Retry and GiveUp. Lease sets it; it is empty otherwise. It is
	// opaque: its form is the store's own.
	Receipt string
	// LeaseExpires is when the lease ends and the delivery becomes
	// available to other workers. Lease sets it.
	LeaseExpires time.Time
	// GaveUp is when the delivery was given up on and kept as a dead
	// letter; zero while it is live.
	GaveUp time.Time
}

// QueueStats describes the health of a queue at one moment.
type QueueStats struct {
	// Ready counts deliveries that may be leased now (or as soon as the
	// deliveries ordered before them are done).
	Ready int64
	// Scheduled counts deliveries waiting for their NotBefore time, such
	// as retries in backoff.
	Scheduled int64
	// Leased counts deliveries held by a worker whose lease has not
	// expired.
	Leased int64
	// Dead counts deliveries given up on.
	Dead int64
	// OldestAge is how long ago the oldest live (not dead) delivery was
	// enqueued; zero when there is none.
	OldestAge time.Duration
}

// Queue is the persistent delivery queue. Any number of workers, in any
// number of processes where the adapter allows, share it.
// Implementations are safe for concurrent use.
//
// A worker leases a batch for a visibility timeout, attempts each
// delivery, and then acks it (alone or with others of the batch),
// schedules a retry, or gives up on it. A lease that expires, because its
// worker crashed or stalled, makes the delivery available again, so every
// delivery is attempted at least once until acked or given up on; its
// Leases count tells the next worker, which gives up on a delivery that
// has been leased too often. A worker whose lease expired and was taken
// over learns it from ErrConflict when it acks; the receiving inbox
// deduplicates by activity id, which makes the rare second POST
// harmless.
type Queue interface {
	// Enqueue adds the deliveries, all of them or none. ID, Enqueued,
	// Receipt, LeaseExpires and GaveUp are ignored, as are Attempts,
	// Leases and LastError; a zero NotBefore means now.
	Enqueue(ctx context.Context, ds ...Delivery) error

	// Lease leases up to n deliveries that are due, oldest due first, for
	// the visibility timeout. It returns an empty slice when nothing is
	// due. No two unexpired leases ever cover the same delivery.
	Lease(ctx context.Context, n int, visibility time.Duration) ([]Delivery, error)

	// Ack removes delivered deliveries, one per receipt, in one round
	// trip: a worker that acks a batch at once pays for one commit
	// instead of one per delivery. A receipt whose lease expired and was
	// taken over by another worker fails with ErrConflict, one whose
	// delivery is gone with ErrNotFound (as is a receipt repeated in the
	// call, after the first); the other receipts are acked regardless,
	// and the error joins one *ReceiptError per failed receipt. A
	// receipt the store can tell it never issued may instead fail the
	// call with ErrInvalid, again as a *ReceiptError, before anything is
	// acked.
	Ack(ctx context.Context, receipts ...string) error

	// Retry ends the lease, records a failed attempt and lastErr, and
	// makes the delivery due again at the given time. It fails like Ack
	// does for one receipt.
	Retry(ctx context.Context, receipt string, at time.Time, lastErr string) error

	// GiveUp ends the lease, records a failed attempt and lastErr, and
	// keeps the delivery as a dead letter for inspection: it is never
	// leased again, and no longer holds back the deliveries ordered after
	// it. It fails like Ack does for one receipt.
	GiveUp(ctx context.Context, receipt string, lastErr string) error

	// Stats counts the deliveries by state. It may scan the queue, so call
	// it for monitoring, not per delivery.
	Stats(ctx context.Context) (QueueStats, error)
}

// LeaseExtender is implemented by a Queue whose leases can be extended, so
// that a worker whose batch takes longer than planned keeps it instead of
// letting another worker take it over and deliver it a second time.
// Callers discover it by type assertion.
type LeaseExtender interface {
	// Extend moves the end of the lease that receipt names to visibility
	// from now, and the receipt stays valid. It fails like Ack does for
	// one receipt: ErrConflict once the lease was ended by Retry or taken
	// over by another worker, ErrNotFound once the delivery is gone. A
	// lease that expired but that no other worker took is extended.
	Extend(ctx context.Context, receipt string, visibility time.Duration) error
}

// ReceiptError reports what became of one receipt given to a Queue: its
// lease was taken over or ended (ErrConflict), its delivery is gone
// (ErrNotFound), or the store cannot read it (ErrInvalid). Ack joins one
// per failed receipt, so that a worker that acked a batch learns which
// receipts failed, and why, with errors.As and errors.Is rather than by
// reading messages; Retry, GiveUp and Extend return one too.
type ReceiptError struct {
	// Receipt is the receipt as the caller gave it.
	Receipt string
	// Err is what happened to it, wrapping one of the sentinels.
	Err error
}

// Error implements error.
func (e *ReceiptError) Error() string { return fmt.Sprintf("receipt %q: %v", e.Receipt, e.Err) }

// Unwrap returns the cause.
func (e *ReceiptError) Unwrap() error { return e.Err }

// DeadLetters is implemented by a Queue that lets an operator inspect the
// deliveries it gave up on. Callers discover it by type assertion.
type DeadLetters interface {
	// Dead returns up to limit dead letters, the most recently given up
	// first, starting after cursor (empty for the first page), and the
	// cursor of the next page, empty after the last.
	Dead(ctx context.Context, cursor string, limit int) ([]Delivery, string, error)

	// Requeue makes the dead letter id live again, due at the given time,
	// keeping its attempts and last error, and back in its place in its
	// ordering chain. It fails with ErrNotFound when id is not a dead
	// letter, and with ErrConflict when the dead letter has an
	// OrderingKey and a later delivery with the same Inbox and
	// OrderingKey has been leased since it was given up on: that one may
	// have been delivered, and requeueing would deliver out of order, a
	// Create after its Delete. A deliberate resend is a new Enqueue.
	// This holds against leases in flight too: a Requeue may wait for
	// them to finish, and a lease that began before the Requeue
	// committed must not take a later delivery of the chain once it
	// returned nil.
	Requeue(ctx context.Context, id string, at time.Time) error

	// Discard deletes the dead letter id, or fails with ErrNotFound.
	Discard(ctx context.Context, id string) error
}
