package storage

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// State is a member's standing in a collection.
type State uint8

// The states of a member. The zero value, Accepted, is what most
// collections hold; Pending is for requests awaiting approval.
const (
	// Accepted members are in the collection proper: counted, listed and
	// found by Contains.
	Accepted State = iota
	// Pending members asked to join (a Follow of a locked account, a Join
	// of a restricted event or group) and wait for an Accept or Reject.
	Pending
)

// String returns "accepted" or "pending".
func (s State) String() string {
	switch s {
	case Accepted:
		return "accepted"
	case Pending:
		return "pending"
	}
	return "State(" + strconv.Itoa(int(s)) + ")"
}

// Member is one entry of a collection.
type Member struct {
	// IRI is the member: an actor for followers or participants, an
	// activity for an outbox, a Like for likes.
	IRI string
	// State is Accepted or Pending.
	State State
	// Activity is the IRI of the activity that asked for the membership,
	// such as the Follow or Join, so that an Accept or Undo can refer to
	// it. It may be empty.
	Activity string
	// Added is when the member entered its current state. The store sets
	// it.
	Added time.Time
}

// Page limits.
const (
	// DefaultPageLimit is the page size when PageOptions.Limit is zero.
	DefaultPageLimit = 20
	// MaxPageLimit caps PageOptions.Limit.
	MaxPageLimit = 1000
)

// PageOptions selects a page of a collection.
type PageOptions struct {
	// State selects accepted members (the zero value) or pending requests.
	State State
	// Cursor is the Next of the previous page; empty for the first page.
	Cursor string
	// Limit is the page size: 0 means DefaultPageLimit, and values above
	// MaxPageLimit are lowered to it.
	Limit int
}

// Page is a page of a collection, newest first.
type Page struct {
	// Members are the page's members, the most recently added first.
	Members []Member
	// Next is the cursor of the following (older) page, or empty when this
	// is the last page.
	Next string
}

// Collections stores collections of IRIs by the collection's IRI:
// followers, following, outbox, inbox, likes, shares, participants,
// members and badge holders alike. Implementations are safe for
// concurrent use.
//
// Paging is newest first and stable under concurrent writes: the cursor
// is a position, not an offset, so a member added while a client pages
// through lands before the page the client is on (or, committed in a
// race with the walk, may be missed), and walking the pages never repeats
// a member and never skips one that was there when the walk began and
// stayed.
type Collections interface {
	// Add puts m into collection, or updates it when it is already there.
	// Adding a member in the state it already has keeps its place (and
	// replaces Activity when m.Activity is set); changing its state, as
	// accepting a pending Follow does, moves it to the front as if it were
	// new.
	Add(ctx context.Context, collection string, m Member) error

	// Remove takes member out of collection, whatever its state, or fails
	// with ErrNotFound.
	Remove(ctx context.Context, collection, member string) error

	// Contains returns the entry of member in collection, in either
	// state, or an error wrapping ErrNotFound.
	Contains(ctx context.Context, collection, member string) (Member, error)

	// Count returns the number of members of collection in state. An
	// unknown collection has none.
	Count(ctx context.Context, collection string, state State) (int, error)

	// Page returns a page of the members of collection in opts.State,
	// newest first. A malformed cursor fails with ErrInvalid.
	Page(ctx context.Context, collection string, opts PageOptions) (Page, error)
}

// Memberships is implemented by Collections that can list the
// collections a member belongs to, so that a Delete of an actor can remove
// it from every local collection. Callers discover it by type assertion.
type Memberships interface {
	// CollectionsOf returns a page of the collections that hold member in
	// opts.State, those it entered most recently first. Each Member of the
	// page describes one collection: its IRI is the collection's, and its
	// State, Activity and Added are the member's there. Paging is stable as
	// Collections.Page's is, and a malformed cursor fails with ErrInvalid.
	CollectionsOf(ctx context.Context, member string, opts PageOptions) (Page, error)
}

// CheckMember reports whether m can be added to collection by
// Collections.Add: the IRIs pass CheckIRI and the state is known. The
// error wraps ErrInvalid.
func CheckMember(collection string, m Member) error {
	if err := CheckIRI("collection IRI", collection); err != nil {
		return err
	}
	if err := CheckIRI("member IRI", m.IRI); err != nil {
		return err
	}
	if m.Activity != "" {
		if err := CheckIRI("activity IRI", m.Activity); err != nil {
			return err
		}
	}
	if m.State != Accepted && m.State != Pending {
		return fmt.Errorf("storage: member %q: unknown state %d: %w", m.IRI, m.State, ErrInvalid)
	}
	return nil
}
