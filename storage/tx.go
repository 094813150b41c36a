package storage

import "context"

// Transactor is implemented by stores that can apply several changes as
// one: all of them or none.
type Transactor interface {
	// InTx calls fn with a Store bound to one transaction and commits it
	// when fn returns nil; when fn fails, nothing it wrote is kept and
	// InTx returns fn's error.
	InTx(ctx context.Context, fn func(ctx context.Context, tx Store) error) error
}

// InTx runs fn in a transaction of st when st.Tx is set, and directly
// against st otherwise, without atomicity.
func InTx(ctx context.Context, st Store, fn func(ctx context.Context, tx Store) error) error {
	if st.Tx != nil {
		return st.Tx.InTx(ctx, fn)
	}
	return fn(ctx, st)
}

// Memberships is implemented by Collections that can list the
// collections a member belongs to, so that a Delete of an actor can
// remove it from every local collection. Callers discover it by type
// assertion.
type Memberships interface {
	// CollectionsOf returns a page of the collections that hold member in
	// opts.State, most recently added first; each Member of the page has
	// IRI set to the collection's IRI, and the member's State, Activity
	// and Added there.
	CollectionsOf(ctx context.Context, member string, opts PageOptions) (Page, error)
}
