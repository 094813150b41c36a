package storagetest_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/storage/memory"
	"github.com/fedi-go/fedi/storage/storagetest"
)

// tokens is a Queue whose receipts are opaque tokens, as a queue in front
// of a message broker might hand out: any string is a well-formed
// receipt, and one it did not issue is not found. It wraps the memory
// queue, whose receipts it never shows.
type tokens struct {
	storage.Queue
	mu    sync.Mutex
	next  int
	inner map[string]string // token → the memory queue's receipt
	outer map[string]string // the memory queue's receipt → token
}

func (q *tokens) Lease(ctx context.Context, n int, visibility time.Duration) ([]storage.Delivery, error) {
	ds, err := q.Queue.Lease(ctx, n, visibility)
	q.mu.Lock()
	defer q.mu.Unlock()
	for i := range ds {
		q.next++
		tok := fmt.Sprintf("lease/%d", q.next)
		q.inner[tok], q.outer[ds[i].Receipt] = ds[i].Receipt, tok
		ds[i].Receipt = tok
	}
	return ds, err
}

// receipt returns the memory queue's receipt for tok, or the error for a
// token never issued.
func (q *tokens) receipt(op, tok string) (string, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	r, ok := q.inner[tok]
	if !ok {
		return "", fmt.Errorf("tokens: %s: %w", op, &storage.ReceiptError{Receipt: tok, Err: storage.ErrNotFound})
	}
	return r, nil
}

// translate names the tokens in the errors of the memory queue, which
// name its own receipts.
func (q *tokens) translate(op string, err error) error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var errs []error
		for _, e := range j.Unwrap() {
			errs = append(errs, q.translate(op, e))
		}
		return errors.Join(errs...)
	}
	var re *storage.ReceiptError
	if !errors.As(err, &re) {
		return err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	return fmt.Errorf("tokens: %s: %w", op, &storage.ReceiptError{Receipt: q.outer[re.Receipt], Err: re.Err})
}

func (q *tokens) Ack(ctx context.Context, toks ...string) error {
	var (
		rs   []string
		errs []error
	)
	for _, tok := range toks {
		r, err := q.receipt("ack", tok)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		rs = append(rs, r)
	}
	if len(rs) > 0 || len(toks) == 0 {
		errs = append(errs, q.translate("ack", q.Queue.Ack(ctx, rs...)))
	}
	return errors.Join(errs...)
}

func (q *tokens) Retry(ctx context.Context, tok string, at time.Time, lastErr string) error {
	r, err := q.receipt("retry", tok)
	if err != nil {
		return err
	}
	return q.translate("retry", q.Queue.Retry(ctx, r, at, lastErr))
}

func (q *tokens) GiveUp(ctx context.Context, tok string, lastErr string) error {
	r, err := q.receipt("give up", tok)
	if err != nil {
		return err
	}
	return q.translate("give up", q.Queue.GiveUp(ctx, r, lastErr))
}

// TestOpaqueReceipts runs the queue checks against a correct queue whose
// receipts are not in fedi's form: the suite makes no assumption about
// them.
func TestOpaqueReceipts(t *testing.T) {
	storagetest.TestQueue(t, func(t *testing.T) storage.Queue {
		return &tokens{Queue: memory.New().Queue, inner: map[string]string{}, outer: map[string]string{}}
	})
}
