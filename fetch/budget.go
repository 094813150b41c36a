package fetch

import (
	"context"
	"sync/atomic"
)

// Budget bounds the fetches one operation may make, such as the handling
// of one inbound activity: its key fetch, its actor fetch, the objects it
// refers to. Every request sent spends one unit: a GET that follows two
// redirects spends three, and a POST one. A Budget is shared by every
// goroutine of the operation and is safe for concurrent use.
type Budget struct {
	left atomic.Int64
}

// NewBudget returns a budget of n fetches.
func NewBudget(n int) *Budget {
	b := &Budget{}
	b.left.Store(int64(n))
	return b
}

// Remaining returns the fetches left.
func (b *Budget) Remaining() int {
	if n := b.left.Load(); n > 0 {
		return int(n)
	}
	return 0
}

// take spends one fetch; it reports false when none is left.
func (b *Budget) take() bool { return b.left.Add(-1) >= 0 }

type budgetKey struct{}

// WithBudget returns a context whose fetches draw from a new budget of n.
// A context that already carries a budget keeps it: an inner operation
// cannot grant itself more than the outer one has left.
func WithBudget(ctx context.Context, n int) context.Context {
	if _, ok := BudgetFrom(ctx); ok {
		return ctx
	}
	return context.WithValue(ctx, budgetKey{}, NewBudget(n))
}

// BudgetFrom returns the context's budget, if it has one.
func BudgetFrom(ctx context.Context) (*Budget, bool) {
	b, ok := ctx.Value(budgetKey{}).(*Budget)
	return b, ok
}
