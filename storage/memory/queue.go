package memory

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/storage/internal/dbutil"
)

// The optional capabilities of a Queue that the adapter has. Inside a
// transaction, the Queue is only a LeaseExtender.
var (
	_ storage.DeadLetters   = (*outerQueue)(nil)
	_ storage.LeaseExtender = (*queue)(nil)
)

// queueState keeps the deliveries that may be leased in a heap ordered by
// the time they become visible, so that a lease costs O(log n) however
// long the queue is. A delivery held back by an earlier one with the same
// inbox and ordering key waits in its chain, outside the heap, until it
// reaches the chain's head.
type queueState struct {
	mu     sync.Mutex
	lastID int64
	items  map[int64]*item
	chains map[chainKey][]*item // live ordered deliveries, by id
	dead   map[chainKey][]*item // ordered dead letters not yet overtaken
	due    dueHeap
	j      *queueJournal // during a transaction
}

type chainKey struct{ inbox, key string }

type item struct {
	d       storage.Delivery // ID, Receipt and LeaseExpires are filled in on the way out
	id      int64
	visible time.Time // when it may be leased: NotBefore, or when its lease ends
	leases  int64     // leases so far; the current lease's fencing token
	held    bool      // a lease is in force (it may have expired)
	index   int       // position in due, or -1
	// overtaken marks a dead letter after which a later delivery of its
	// chain was leased: requeueing it would deliver it out of order.
	overtaken bool
}

// queueJournal keeps what a transaction changed as it was before: every
// delivery it changed or moved in or out of the heap, and every chain and
// list of dead letters it changed. A delivery moves in or out of the heap
// only as itself or as a member of a chain that changes, so keeping the
// members of each chain it changes keeps every move.
type queueJournal struct {
	items  map[*item]itemWas
	chains map[chainKey]chainWas
	dead   map[chainKey]chainWas
}

type itemWas struct {
	it      item
	present bool // in items
	inHeap  bool
}

type chainWas struct {
	list    []*item
	present bool
}

func newQueue() *queueState {
	return &queueState{items: make(map[int64]*item), chains: make(map[chainKey][]*item), dead: make(map[chainKey][]*item)}
}

func newQueueJournal() *queueJournal {
	return &queueJournal{items: make(map[*item]itemWas), chains: make(map[chainKey]chainWas), dead: make(map[chainKey]chainWas)}
}

// touch keeps it as it is, the first time a transaction changes it.
func (q *queueState) touch(it *item) {
	if q.j == nil {
		return
	}
	if _, ok := q.j.items[it]; ok {
		return
	}
	q.j.items[it] = itemWas{it: *it, present: q.items[it.id] == it, inHeap: it.index >= 0}
}

// touchChain keeps the chain ck and its members as they are, the first
// time a transaction changes it.
func (q *queueState) touchChain(ck chainKey) {
	if q.j == nil {
		return
	}
	if _, ok := q.j.chains[ck]; ok {
		return
	}
	c, ok := q.chains[ck]
	q.j.chains[ck] = chainWas{slices.Clone(c), ok}
	for _, it := range c {
		q.touch(it)
	}
}

// touchDead keeps the dead letters of chain ck as they are, the first
// time a transaction changes them.
func (q *queueState) touchDead(ck chainKey) {
	if q.j == nil {
		return
	}
	if _, ok := q.j.dead[ck]; ok {
		return
	}
	d, ok := q.dead[ck]
	q.j.dead[ck] = chainWas{slices.Clone(d), ok}
	for _, it := range d {
		q.touch(it)
	}
}

// rollback puts back what the journal kept. The deliveries it changed
// leave the heap, take back their old state, and return to the heap if
// they were in it; the others, unchanged, keep their places.
func (q *queueState) rollback() {
	j := q.j
	for it := range j.items {
		if it.index >= 0 {
			heap.Remove(&q.due, it.index)
		}
	}
	for it, w := range j.items {
		*it = w.it
		it.index = -1
		if w.present {
			q.items[it.id] = it
		} else {
			delete(q.items, it.id)
		}
	}
	for ck, w := range j.chains {
		if w.present {
			q.chains[ck] = w.list
		} else {
			delete(q.chains, ck)
		}
	}
	for ck, w := range j.dead {
		if w.present {
			q.dead[ck] = w.list
		} else {
			delete(q.dead, ck)
		}
	}
	for it, w := range j.items {
		if w.inHeap {
			heap.Push(&q.due, it)
		}
	}
}

// queue is the Queue of a store or of one of its transactions.
type queue struct {
	view
	*queueState
}

// outerQueue is the store's Queue, which is also its DeadLetters: dead
// letters are an operator's business, not a transaction's.
type outerQueue struct{ *queue }

func (it *item) chain() chainKey { return chainKey{it.d.Inbox, it.d.OrderingKey} }

func (q *queue) Enqueue(ctx context.Context, ds ...storage.Delivery) error {
	if err := q.begin(ctx, "enqueue"); err != nil {
		return err
	}
	defer q.end()
	for i := range ds {
		if err := dbutil.CheckDelivery("memory", &ds[i]); err != nil {
			return err
		}
	}
	now := dbutil.Now()
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, d := range ds {
		q.lastID++
		nb := dbutil.Micro(d.NotBefore)
		if nb.IsZero() {
			nb = now
		}
		it := &item{
			d: storage.Delivery{
				Activity:    d.Activity,
				Inbox:       d.Inbox,
				Body:        clone(d.Body),
				NotBefore:   nb,
				OrderingKey: d.OrderingKey,
				Enqueued:    now,
			},
			id:      q.lastID,
			visible: nb,
			index:   -1,
		}
		q.touch(it) // as not there
		q.items[it.id] = it
		if it.d.OrderingKey != "" {
			ck := it.chain()
			q.touchChain(ck)
			q.chains[ck] = append(q.chains[ck], it)
			if len(q.chains[ck]) > 1 {
				continue // held back by the chain's head
			}
		}
		heap.Push(&q.due, it)
	}
	return nil
}

func (q *queue) Lease(ctx context.Context, n int, visibility time.Duration) ([]storage.Delivery, error) {
	if err := q.begin(ctx, "lease"); err != nil {
		return nil, err
	}
	defer q.end()
	if err := dbutil.CheckLease("memory", n, visibility); err != nil {
		return nil, err
	}
	now := dbutil.Now()
	until := dbutil.Micro(now.Add(visibility))
	q.mu.Lock()
	defer q.mu.Unlock()
	out := []storage.Delivery{}
	for len(out) < n && len(q.due) > 0 && !q.due[0].visible.After(now) {
		it := q.due[0]
		q.touch(it)
		it.visible = until
		it.leases++
		it.held = true
		heap.Fix(&q.due, 0)
		q.overtake(it)
		d := it.d
		d.Body = clone(d.Body)
		d.ID = dbutil.ID(it.id)
		d.Receipt = dbutil.Receipt(it.id, it.leases)
		d.Leases = int(it.leases)
		d.LeaseExpires = until
		out = append(out, d)
	}
	return out, nil
}

// overtake marks the dead letters enqueued before it in its chain, now
// that it is leased.
func (q *queueState) overtake(it *item) {
	if it.d.OrderingKey == "" {
		return
	}
	ck := it.chain()
	dead := q.dead[ck]
	if len(dead) == 0 {
		return
	}
	q.touchDead(ck)
	kept := dead[:0]
	for _, d := range dead {
		if d.id < it.id {
			d.overtaken = true
			continue
		}
		kept = append(kept, d)
	}
	clear(dead[len(kept):])
	if len(kept) == 0 {
		delete(q.dead, ck)
		return
	}
	q.dead[ck] = kept
}

// forgetDead takes the dead letter it out of the ones that may be
// overtaken.
func (q *queueState) forgetDead(it *item) {
	if it.d.OrderingKey == "" || it.overtaken {
		return
	}
	ck := it.chain()
	q.touchDead(ck)
	dead := slices.DeleteFunc(q.dead[ck], func(d *item) bool { return d == it })
	if len(dead) == 0 {
		delete(q.dead, ck)
		return
	}
	q.dead[ck] = dead
}

// leased finds the delivery a receipt names and checks that the receipt's
// lease is still the one in force.
func (q *queueState) leased(op, receipt string) (*item, error) {
	id, lease, err := dbutil.ParseReceipt("memory", receipt)
	if err != nil {
		return nil, err
	}
	it := q.items[id]
	if it == nil || !it.d.GaveUp.IsZero() {
		return nil, dbutil.LeaseGone("memory", op, receipt)
	}
	if it.leases != lease || !it.held {
		return nil, dbutil.LeaseLost("memory", op, receipt)
	}
	return it, nil
}

// unchain takes it out of its ordering chain and lets the next delivery of
// the chain into the heap.
func (q *queueState) unchain(it *item) {
	if it.d.OrderingKey == "" {
		return
	}
	ck := it.chain()
	c := q.chains[ck]
	i := slices.Index(c, it)
	if i < 0 {
		return
	}
	q.touchChain(ck)
	c = slices.Delete(c, i, i+1)
	if len(c) == 0 {
		delete(q.chains, ck)
		return
	}
	q.chains[ck] = c
	if i == 0 && c[0].index < 0 {
		heap.Push(&q.due, c[0])
	}
}

func (q *queue) Ack(ctx context.Context, receipts ...string) error {
	if err := q.begin(ctx, "ack"); err != nil {
		return err
	}
	defer q.end()
	for _, r := range receipts {
		if _, _, err := dbutil.ParseReceipt("memory", r); err != nil {
			return err
		}
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	var errs []error
	for _, r := range receipts {
		it, err := q.leased("ack", r)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		q.touch(it)
		if it.index >= 0 {
			heap.Remove(&q.due, it.index)
		}
		delete(q.items, it.id)
		q.unchain(it)
	}
	return errors.Join(errs...)
}

func (q *queue) Retry(ctx context.Context, receipt string, at time.Time, lastErr string) error {
	if err := q.begin(ctx, "retry"); err != nil {
		return err
	}
	defer q.end()
	q.mu.Lock()
	defer q.mu.Unlock()
	it, err := q.leased("retry", receipt)
	if err != nil {
		return err
	}
	q.touch(it)
	it.held = false
	it.d.Attempts++
	it.d.LastError = dbutil.CleanError(lastErr)
	it.d.NotBefore = dbutil.Micro(at)
	it.visible = it.d.NotBefore
	if it.index >= 0 {
		heap.Fix(&q.due, it.index)
	}
	return nil
}

func (q *queue) GiveUp(ctx context.Context, receipt string, lastErr string) error {
	if err := q.begin(ctx, "give up"); err != nil {
		return err
	}
	defer q.end()
	q.mu.Lock()
	defer q.mu.Unlock()
	it, err := q.leased("give up", receipt)
	if err != nil {
		return err
	}
	q.touch(it)
	it.held = false
	it.d.Attempts++
	it.d.LastError = dbutil.CleanError(lastErr)
	it.d.GaveUp = dbutil.Now()
	if it.index >= 0 {
		heap.Remove(&q.due, it.index)
	}
	q.unchain(it)
	if it.d.OrderingKey != "" {
		ck := it.chain()
		q.touchDead(ck)
		q.dead[ck] = append(q.dead[ck], it)
	}
	return nil
}

// Extend implements storage.LeaseExtender.
func (q *queue) Extend(ctx context.Context, receipt string, visibility time.Duration) error {
	if err := q.begin(ctx, "extend"); err != nil {
		return err
	}
	defer q.end()
	if err := dbutil.CheckVisibility("memory", "extend", visibility); err != nil {
		return err
	}
	until := dbutil.Micro(dbutil.Now().Add(visibility))
	q.mu.Lock()
	defer q.mu.Unlock()
	it, err := q.leased("extend", receipt)
	if err != nil {
		return err
	}
	q.touch(it)
	it.visible = until
	if it.index >= 0 {
		heap.Fix(&q.due, it.index)
	}
	return nil
}

func (q *queue) Stats(ctx context.Context) (storage.QueueStats, error) {
	if err := q.begin(ctx, "stats"); err != nil {
		return storage.QueueStats{}, err
	}
	defer q.end()
	now := dbutil.Now()
	q.mu.Lock()
	defer q.mu.Unlock()
	var (
		st     storage.QueueStats
		oldest time.Time
	)
	for _, it := range q.items {
		switch {
		case !it.d.GaveUp.IsZero():
			st.Dead++
			continue
		case it.held && it.visible.After(now):
			st.Leased++
		case it.visible.After(now):
			st.Scheduled++
		default:
			st.Ready++
		}
		if oldest.IsZero() || it.d.Enqueued.Before(oldest) {
			oldest = it.d.Enqueued
		}
	}
	if !oldest.IsZero() {
		st.OldestAge = now.Sub(oldest)
	}
	return st, nil
}

// Dead, Requeue and Discard implement storage.DeadLetters.

func (q *outerQueue) Dead(ctx context.Context, cursor string, limit int) ([]storage.Delivery, string, error) {
	if err := q.begin(ctx, "dead letters"); err != nil {
		return nil, "", err
	}
	defer q.end()
	at, id, err := dbutil.ParseDeadCursor("memory", cursor)
	if err != nil {
		return nil, "", err
	}
	limit = dbutil.Limit(limit)
	q.mu.Lock()
	var dead []*item
	for _, it := range q.items {
		if g := it.d.GaveUp; !g.IsZero() && (g.Before(at) || g.Equal(at) && it.id < id) {
			dead = append(dead, it)
		}
	}
	sort.Slice(dead, func(i, j int) bool {
		a, b := dead[i], dead[j]
		if !a.d.GaveUp.Equal(b.d.GaveUp) {
			return a.d.GaveUp.After(b.d.GaveUp)
		}
		return a.id > b.id
	})
	next := ""
	if len(dead) > limit {
		dead = dead[:limit]
		last := dead[limit-1]
		next = dbutil.DeadCursor(last.d.GaveUp, last.id)
	}
	out := make([]storage.Delivery, len(dead))
	for i, it := range dead {
		out[i] = it.d
		out[i].Body = clone(it.d.Body)
		out[i].ID = dbutil.ID(it.id)
		out[i].Leases = int(it.leases)
	}
	q.mu.Unlock()
	return out, next, nil
}

// deadItem finds the dead letter id.
func (q *queueState) deadItem(op, id string) (*item, error) {
	n, err := dbutil.ParseID("memory", id)
	if err != nil {
		return nil, err
	}
	it := q.items[n]
	if it == nil || it.d.GaveUp.IsZero() {
		return nil, fmt.Errorf("memory: %s %s: no such dead letter: %w", op, id, storage.ErrNotFound)
	}
	return it, nil
}

func (q *outerQueue) Requeue(ctx context.Context, id string, at time.Time) error {
	if err := q.begin(ctx, "requeue"); err != nil {
		return err
	}
	defer q.end()
	q.mu.Lock()
	defer q.mu.Unlock()
	it, err := q.deadItem("requeue", id)
	if err != nil {
		return err
	}
	if it.overtaken {
		return fmt.Errorf("memory: requeue %s: a later delivery of its ordering key to %q was leased: %w", id, it.d.Inbox, storage.ErrConflict)
	}
	q.touch(it)
	q.forgetDead(it)
	it.d.GaveUp = time.Time{}
	it.d.NotBefore = dbutil.Micro(at)
	it.visible = it.d.NotBefore
	if it.d.OrderingKey == "" {
		heap.Push(&q.due, it)
		return nil
	}
	// Back into its chain, in id order. If it becomes the head, the old
	// head waits behind it again: it was never leased, or this dead letter
	// would have been overtaken.
	ck := it.chain()
	q.touchChain(ck)
	c := q.chains[ck]
	i := sort.Search(len(c), func(i int) bool { return c[i].id > it.id })
	c = slices.Insert(c, i, it)
	q.chains[ck] = c
	if i == 0 {
		if len(c) > 1 && c[1].index >= 0 {
			heap.Remove(&q.due, c[1].index)
		}
		heap.Push(&q.due, it)
	}
	return nil
}

func (q *outerQueue) Discard(ctx context.Context, id string) error {
	if err := q.begin(ctx, "discard"); err != nil {
		return err
	}
	defer q.end()
	q.mu.Lock()
	defer q.mu.Unlock()
	it, err := q.deadItem("discard", id)
	if err != nil {
		return err
	}
	q.touch(it)
	q.forgetDead(it)
	delete(q.items, it.id)
	return nil
}

// dueHeap orders deliveries by visibility, then by id.
type dueHeap []*item

func (h dueHeap) Len() int { return len(h) }
func (h dueHeap) Less(i, j int) bool {
	if !h[i].visible.Equal(h[j].visible) {
		return h[i].visible.Before(h[j].visible)
	}
	return h[i].id < h[j].id
}
func (h dueHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}
func (h *dueHeap) Push(x any) {
	it := x.(*item)
	it.index = len(*h)
	*h = append(*h, it)
}
func (h *dueHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	old[len(old)-1] = nil
	it.index = -1
	*h = old[:len(old)-1]
	return it
}
