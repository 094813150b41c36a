// Package dbutil holds the small encodings the storage adapters share:
// receipts, cursors, times and limits.
package dbutil

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/fedi-go/fedi/storage"
)

// Receipt encodes a lease on delivery id: the delivery and the count of
// leases it has had, which fences off a worker whose lease was taken over.
func Receipt(id, lease int64) string {
	return strconv.FormatInt(id, 10) + "." + strconv.FormatInt(lease, 10)
}

// ParseReceipt decodes a receipt made by Receipt. It reports one that is
// not as a *storage.ReceiptError wrapping storage.ErrInvalid.
func ParseReceipt(pkg, receipt string) (id, lease int64, err error) {
	a, b, ok := strings.Cut(receipt, ".")
	if ok {
		id, err = strconv.ParseInt(a, 10, 64)
		if err == nil {
			lease, err = strconv.ParseInt(b, 10, 64)
		}
	}
	if !ok || err != nil || id <= 0 || lease <= 0 {
		return 0, 0, fmt.Errorf("%s: %w", pkg, &storage.ReceiptError{Receipt: receipt, Err: fmt.Errorf("malformed: %w", storage.ErrInvalid)})
	}
	return id, lease, nil
}

// LeaseGone reports, as adapter pkg, that operation op found the delivery
// of receipt gone: acked, given up on or discarded.
func LeaseGone(pkg, op, receipt string) error {
	return fmt.Errorf("%s: %s: %w", pkg, op, &storage.ReceiptError{Receipt: receipt, Err: storage.ErrNotFound})
}

// LeaseLost reports, as adapter pkg, that operation op found the lease of
// receipt no longer in force: ended by Retry, or expired and taken over by
// another worker.
func LeaseLost(pkg, op, receipt string) error {
	return fmt.Errorf("%s: %s: %w", pkg, op, &storage.ReceiptError{Receipt: receipt, Err: fmt.Errorf("lease lost: %w", storage.ErrConflict)})
}

// ID formats a delivery id.
func ID(id int64) string { return strconv.FormatInt(id, 10) }

// ParseID parses a delivery id made by ID.
func ParseID(pkg, s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("%s: malformed delivery id %q: %w", pkg, s, storage.ErrInvalid)
	}
	return id, nil
}

// Cursor encodes the position after which the next page of a collection
// starts.
func Cursor(seq int64) string { return strconv.FormatInt(seq, 10) }

// ParseCursor decodes a Cursor; the empty cursor is the first page, which
// starts below every position.
func ParseCursor(pkg, c string) (int64, error) {
	if c == "" {
		return 1<<63 - 1, nil
	}
	seq, err := strconv.ParseInt(c, 10, 64)
	if err != nil || seq <= 0 {
		return 0, fmt.Errorf("%s: malformed cursor %q: %w", pkg, c, storage.ErrInvalid)
	}
	return seq, nil
}

// DeadCursor encodes the position of a dead letter in the list of dead
// letters, which is ordered by the time it was given up on, then by id.
func DeadCursor(gaveUp time.Time, id int64) string {
	return strconv.FormatInt(gaveUp.UnixMicro(), 10) + "." + strconv.FormatInt(id, 10)
}

// ParseDeadCursor decodes a DeadCursor; the empty cursor starts at the
// newest dead letter.
func ParseDeadCursor(pkg, c string) (gaveUp time.Time, id int64, err error) {
	if c == "" {
		return time.UnixMicro(1<<63 - 1), 1<<63 - 1, nil
	}
	a, b, ok := strings.Cut(c, ".")
	var us int64
	if ok {
		us, err = strconv.ParseInt(a, 10, 64)
		if err == nil {
			id, err = strconv.ParseInt(b, 10, 64)
		}
	}
	if !ok || err != nil {
		return time.Time{}, 0, fmt.Errorf("%s: malformed cursor %q: %w", pkg, c, storage.ErrInvalid)
	}
	return time.UnixMicro(us), id, nil
}

// Limit applies the page-size rules of storage.PageOptions.
func Limit(n int) int {
	switch {
	case n <= 0:
		return storage.DefaultPageLimit
	case n > storage.MaxPageLimit:
		return storage.MaxPageLimit
	}
	return n
}

// Now is the current time at the precision every adapter stores,
// microseconds, without a monotonic reading, so that times compare equal
// after a round trip.
func Now() time.Time { return Micro(time.Now()) }

// Micro truncates t to microseconds and drops its monotonic reading and
// location, as a round trip through a database would.
func Micro(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return time.UnixMicro(t.UnixMicro())
}

// FromMicro is the inverse of time.Time.UnixMicro that keeps 0 as the zero
// time, which is how the SQLite adapter stores "never".
func FromMicro(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us)
}

// ToMicro is time.Time.UnixMicro with the zero time stored as 0.
func ToMicro(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// Unstorable reports whether key fails storage.CheckIRI: no store holds
// such a key, so a lookup of it finds nothing, and the database need not
// be asked (PostgreSQL would refuse a NUL or invalid UTF-8 with an error
// of its own).
func Unstorable(key string) bool { return storage.CheckIRI("key", key) != nil }

// Storable returns the keys of keys that are not Unstorable, for a look-up
// of many at once.
func Storable(keys []string) []string {
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		if !Unstorable(k) {
			out = append(out, k)
		}
	}
	return out
}

// CheckLease validates the arguments of Queue.Lease.
func CheckLease(pkg string, n int, visibility time.Duration) error {
	if n < 0 {
		return fmt.Errorf("%s: lease: negative batch size %d: %w", pkg, n, storage.ErrInvalid)
	}
	return CheckVisibility(pkg, "lease", visibility)
}

// CheckVisibility validates the visibility timeout of operation op.
func CheckVisibility(pkg, op string, visibility time.Duration) error {
	if visibility <= 0 {
		return fmt.Errorf("%s: %s: visibility timeout %v is not positive: %w", pkg, op, visibility, storage.ErrInvalid)
	}
	return nil
}

// CheckDelivery validates a delivery for Queue.Enqueue.
func CheckDelivery(pkg string, d *storage.Delivery) error {
	if err := storage.CheckIRI("activity", d.Activity); err != nil {
		return fmt.Errorf("%s: enqueue: %w", pkg, err)
	}
	if err := storage.CheckIRI("inbox", d.Inbox); err != nil {
		return fmt.Errorf("%s: enqueue: %w", pkg, err)
	}
	if d.OrderingKey != "" {
		if err := storage.CheckIRI("ordering key", d.OrderingKey); err != nil {
			return fmt.Errorf("%s: enqueue: %w", pkg, err)
		}
	}
	if err := storage.CheckJSON("delivery body", d.Body); err != nil {
		return fmt.Errorf("%s: enqueue %q: %w", pkg, d.Activity, err)
	}
	return nil
}

// maxError bounds the last error kept with a delivery: enough to diagnose,
// too little for a hostile server's error page to bloat the queue.
const maxError = 2048

// CleanError makes an attempt's error text storable anywhere: valid UTF-8
// without NUL, at most 2 KiB.
func CleanError(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\x00", "")
	if len(s) > maxError {
		s = strings.ToValidUTF8(s[:maxError], "")
	}
	return s
}

// CheckState validates a collection state given to Count or Page.
func CheckState(pkg, op string, st storage.State) error {
	if st != storage.Accepted && st != storage.Pending {
		return fmt.Errorf("%s: %s: unknown state %d: %w", pkg, op, st, storage.ErrInvalid)
	}
	return nil
}

// Leased is a delivery as a lease statement returned it, with the row's
// id and lease count.
type Leased struct {
	storage.Delivery
	Row, Leases int64
}

// FinishLease puts the leased rows in the order Lease promises, oldest
// due first, fills in their ids and receipts, and sets apart the ones
// whose body no longer parses, with the reason, for the adapter to
// dead-letter: returning an error from Lease would leave such a delivery
// at the head of the queue, failing every lease after.
func FinishLease(rows []Leased) (ok, corrupt []storage.Delivery, causes []error) {
	sort.Slice(rows, func(i, j int) bool {
		if !rows[i].NotBefore.Equal(rows[j].NotBefore) {
			return rows[i].NotBefore.Before(rows[j].NotBefore)
		}
		return rows[i].Row < rows[j].Row
	})
	ok = make([]storage.Delivery, 0, len(rows))
	for _, r := range rows {
		d := r.Delivery
		d.ID = ID(r.Row)
		d.Receipt = Receipt(r.Row, r.Leases)
		d.Leases = int(r.Leases)
		d.NotBefore, d.Enqueued, d.LeaseExpires = Micro(d.NotBefore), Micro(d.Enqueued), Micro(d.LeaseExpires)
		if err := storage.CheckStored("delivery", d.Activity, d.Body); err != nil {
			corrupt, causes = append(corrupt, d), append(causes, err)
			continue
		}
		ok = append(ok, d)
	}
	return ok, corrupt, causes
}
