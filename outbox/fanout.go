package outbox

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"time"

	ap "github.com/go-ap/activitypub"

	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/fetch"
	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/vocab"
)

// maxRemoteItems caps the members read from one remote collection.
const maxRemoteItems = 5000

// maxFlushed caps the inboxes a fan-out remembers having enqueued to, so
// that its memory stays bounded whatever the number of followers.
const maxFlushed = 8192

// fanOut expands the fan-out d into one delivery per inbox and returns
// how many it enqueued. It streams the followers a page at a time and
// enqueues each batch in a transaction that also records, per inbox,
// that the activity was enqueued to it: a fan-out taken over after a
// crash skips the inboxes already done, and memory does not grow with
// the number of followers. The last batch acks d.
func (w *Worker) fanOut(ctx context.Context, d storage.Delivery) (int, error) {
	out := w.out
	it, err := out.opts.Registry.Decode(d.Body)
	if err != nil {
		return 0, fmt.Errorf("outbox: fan-out of %s: %w: %w", d.Activity, err, ErrPermanent)
	}
	base := vocab.Base(it)
	if base == nil {
		return 0, fmt.Errorf("outbox: fan-out of %s: not an activity: %w", d.Activity, ErrPermanent)
	}
	sender := vocab.IRIs(vocab.ActorOf(it))
	if len(sender) != 1 {
		return 0, fmt.Errorf("outbox: fan-out of %s: no actor: %w", d.Activity, ErrPermanent)
	}
	from := sender[0]
	var targets []string
	seen := map[string]bool{}
	for _, col := range []ap.ItemCollection{base.To, base.CC, base.Bto, base.BCC, base.Audience} {
		for _, el := range col {
			iri := string(vocab.IRIOf(el))
			if iri == "" || vocab.IsPublic(ap.IRI(iri)) || seen[iri] || iri == from {
				continue
			}
			seen[iri] = true
			targets = append(targets, iri)
		}
	}
	// What is delivered carries no bto or bcc.
	base.Bto, base.BCC = nil, nil
	body, err := out.opts.Registry.Encode(it)
	if err != nil {
		return 0, fmt.Errorf("outbox: fan-out of %s: %w: %w", d.Activity, err, ErrPermanent)
	}
	ctx = fetch.WithBudget(ctx, w.opts.FanoutBudget)
	f := &fanout{w: w, d: d, body: body, from: from, batch: map[string]bool{}, flushed: map[string]bool{}}
	if err := f.readBlocks(ctx); err != nil {
		return 0, err
	}
	for _, t := range targets {
		if err := f.target(ctx, t); err != nil {
			return f.enqueued, err
		}
	}
	if err := f.flush(ctx, true); err != nil {
		return f.enqueued, err
	}
	w.log.InfoContext(ctx, "outbox: fan-out", "activity", d.Activity, "deliveries", f.enqueued, "skipped", f.skipped)
	return f.enqueued, nil
}

// fanout is one fan-out in progress.
type fanout struct {
	w     *Worker
	d     storage.Delivery
	body  []byte
	from  string
	batch map[string]bool // the inboxes of the batch being gathered
	// flushed are inboxes that earlier batches of this run took care of,
	// up to maxFlushed of them: the shared inboxes that most followers
	// share, so that each is recorded once rather than once per batch.
	// Past the bound, the per-inbox records alone skip repeats.
	flushed  map[string]bool
	order    []string
	enqueued int
	flushes  int // batches enqueued so far
	skipped  int
	extended time.Time
	// blocks are the sender's block lists that hold anyone, read once:
	// most senders block no one, and their fan-outs ask nothing per
	// recipient.
	blocks []string
}

// target adds the inboxes one addressed IRI stands for: a local actor's,
// a local collection's members', a remote actor's, or a remote
// collection's members'.
func (f *fanout) target(ctx context.Context, iri string) error {
	s := f.w.out.opts.Scheme
	if s.IsLocal(iri) {
		if _, err := f.w.out.opts.Actors.ByIRI(ctx, iri); err == nil {
			return f.add(ctx, s.Collection(iri, actor.Inbox))
		}
		ours, err := f.sendersCollection(ctx, iri)
		if err != nil {
			return err
		}
		if !ours {
			f.w.log.WarnContext(ctx, "outbox: a local collection that is not the sender's is not expanded", "activity", f.d.Activity, "collection", iri)
			f.skipped++
			return nil
		}
		return f.localCollection(ctx, iri)
	}
	return f.remote(ctx, iri, true)
}

// sendersCollection reports whether iri is a collection of the sender's,
// or of an object the sender owns: an actor may write to its own
// followers, not to another local actor's.
func (f *fanout) sendersCollection(ctx context.Context, iri string) (bool, error) {
	owner, _, ok := f.w.out.opts.Scheme.ParseCollection(iri)
	if !ok {
		return false, nil
	}
	if owner == f.from {
		return true, nil
	}
	by, err := f.w.out.opts.Store.Objects.Owner(ctx, owner)
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	return err == nil && by == f.from, err
}

// localCollection adds the inboxes of the accepted members of a local
// collection, such as the sender's followers, a page at a time.
func (f *fanout) localCollection(ctx context.Context, iri string) error {
	cols := f.w.out.opts.Store.Collections
	cursor, limit := "", firstBatch
	for {
		p, err := cols.Page(ctx, iri, storage.PageOptions{Cursor: cursor, Limit: limit})
		limit = storage.MaxPageLimit // a small first page, for the first batch
		if err != nil {
			return err
		}
		if err := f.members(ctx, p.Members); err != nil {
			return err
		}
		if p.Next == "" {
			return nil
		}
		cursor = p.Next
	}
}

// members adds the inboxes of a page of a collection's members. The
// remote ones that the cache holds fresh (or gone) are read from it at
// once; the others go through member, one at a time.
func (f *fanout) members(ctx context.Context, ms []storage.Member) error {
	s := f.w.out.opts.Scheme
	remote := make([]string, 0, len(ms))
	for _, m := range ms {
		if !s.IsLocal(m.IRI) {
			remote = append(remote, m.IRI)
		}
	}
	cached, err := f.w.opts.Remote.Addresses(ctx, remote)
	if err != nil {
		return err
	}
	for _, m := range ms {
		ra, ok := cached[m.IRI]
		switch {
		case !ok:
			if err := f.member(ctx, m.IRI); err != nil {
				return err
			}
		case !ra.Gone.IsZero() || f.blocked(ctx, m.IRI):
			f.skipped++
		default:
			if err := f.add(ctx, actor.DeliveryInbox(ra)); err != nil {
				return err
			}
		}
	}
	return nil
}

// member adds the inbox of one member of a collection: an actor, ours or
// another server's.
func (f *fanout) member(ctx context.Context, iri string) error {
	s := f.w.out.opts.Scheme
	if s.IsLocal(iri) {
		if _, err := f.w.out.opts.Actors.ByIRI(ctx, iri); err == nil {
			return f.add(ctx, s.Collection(iri, actor.Inbox))
		}
		f.skipped++
		return nil
	}
	return f.remote(ctx, iri, false)
}

// remote adds the inbox of a remote actor, or, when iri is a remote
// collection and expand is set, of its members.
func (f *fanout) remote(ctx context.Context, iri string, expand bool) error {
	if f.blocked(ctx, iri) {
		f.skipped++
		return nil
	}
	ra, err := f.w.opts.Remote.Get(ctx, iri)
	switch {
	case err == nil && !ra.Gone.IsZero():
		f.skipped++
		return nil
	case err == nil:
		return f.add(ctx, actor.DeliveryInbox(ra))
	case errors.Is(err, actor.ErrNotAnActor) && expand:
		return f.remoteCollection(ctx, iri)
	case isStorageFailure(err):
		return err
	}
	f.w.log.WarnContext(ctx, "outbox: a recipient is skipped", "activity", f.d.Activity, "recipient", iri, "err", err)
	f.skipped++
	return nil
}

// remoteCollection adds the inboxes of the members of a remote
// collection, read page by page within the fan-out's fetch budget.
func (f *fanout) remoteCollection(ctx context.Context, iri string) error {
	reg := f.w.out.opts.Registry
	next, n := iri, 0
	for next != "" && n < maxRemoteItems {
		doc, err := f.w.opts.Client.Get(ctx, next)
		if err != nil {
			f.w.log.WarnContext(ctx, "outbox: a remote collection is not read in full", "collection", iri, "err", err)
			return nil
		}
		it, err := reg.Decode(doc.Body)
		if err != nil {
			return nil
		}
		var members ap.ItemCollection
		next = ""
		switch c := it.(type) {
		case *vocab.OrderedCollection:
			members, next = c.OrderedItems, string(vocab.IRIOf(c.First))
			if p, ok := c.First.(*vocab.OrderedCollectionPage); ok {
				members, next = p.OrderedItems, string(vocab.IRIOf(p.Next))
			}
		case *vocab.Collection:
			members, next = c.Items, string(vocab.IRIOf(c.First))
			if p, ok := c.First.(*vocab.CollectionPage); ok {
				members, next = p.Items, string(vocab.IRIOf(p.Next))
			}
		case *vocab.OrderedCollectionPage:
			members, next = c.OrderedItems, string(vocab.IRIOf(c.Next))
		case *vocab.CollectionPage:
			members, next = c.Items, string(vocab.IRIOf(c.Next))
		default:
			f.w.log.WarnContext(ctx, "outbox: a recipient is neither an actor nor a collection", "recipient", iri)
			f.skipped++
			return nil
		}
		if next == doc.URL {
			next = ""
		}
		for _, m := range members {
			if m := string(vocab.IRIOf(m)); m != "" {
				n++
				if err := f.member(ctx, m); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// blocked reports whether the sender blocked iri, or iri blocked the
// sender.
func (f *fanout) blocked(ctx context.Context, iri string) bool {
	cols := f.w.out.opts.Store.Collections
	for _, coll := range f.blocks {
		if _, err := cols.Contains(ctx, coll, iri); err == nil {
			return true
		}
	}
	return false
}

// readBlocks notes which of the sender's block lists are not empty.
func (f *fanout) readBlocks(ctx context.Context) error {
	s := f.w.out.opts.Scheme
	for _, name := range []string{actor.Blocked, actor.BlockedBy} {
		coll := s.Collection(f.from, name)
		n, err := f.w.out.opts.Store.Collections.Count(ctx, coll, storage.Accepted)
		if err != nil {
			return err
		}
		if n > 0 {
			f.blocks = append(f.blocks, coll)
		}
	}
	return nil
}

// firstBatch is the size of a fan-out's first batch; each batch after
// is twice the one before, up to DefaultBatch: the first deliveries go
// out soon, and the rest in batches that cost fewer transactions.
const firstBatch = 32

// batchSize is the size of the batch being gathered.
func (f *fanout) batchSize() int {
	n := firstBatch << min(f.flushes, 8)
	return min(n, DefaultBatch)
}

// add adds an inbox to the batch, flushing a full one.
func (f *fanout) add(ctx context.Context, inbox string) error {
	if inbox == "" || storage.CheckIRI("inbox", inbox) != nil {
		f.skipped++
		return nil
	}
	if f.batch[inbox] || f.flushed[inbox] {
		return nil
	}
	f.batch[inbox] = true
	f.order = append(f.order, inbox)
	if len(f.order) >= f.batchSize() {
		return f.flush(ctx, false)
	}
	return nil
}

// flush enqueues the batch in one transaction, skipping the inboxes an
// earlier run of this fan-out already enqueued to; the last flush acks
// the fan-out in the same transaction.
func (f *fanout) flush(ctx context.Context, last bool) error {
	q := f.w.out.opts.Store.Queue
	if ext, ok := q.(storage.LeaseExtender); ok && time.Since(f.extended) > f.w.opts.Visibility/4 && !last {
		if err := ext.Extend(ctx, f.d.Receipt, f.w.opts.Visibility); err != nil {
			return fmt.Errorf("outbox: fan-out of %s: extending its lease: %w", f.d.Activity, err)
		}
		f.extended = time.Now()
	}
	sort.Strings(f.order) // a stable order, so that concurrent fan-outs lock rows alike
	n := 0
	err := storage.InTx(ctx, f.w.out.opts.Store, func(ctx context.Context, tx storage.Store) error {
		n = 0
		ds := make([]storage.Delivery, 0, len(f.order))
		for _, inbox := range f.order {
			first, err := tx.Dedupe.Record(ctx, f.d.Activity, fanoutKey(inbox))
			if err != nil {
				return err
			}
			if first {
				ds = append(ds, storage.Delivery{Activity: f.d.Activity, Inbox: inbox, Body: f.body, OrderingKey: f.d.OrderingKey})
			}
		}
		if len(ds) > 0 {
			if err := tx.Queue.Enqueue(ctx, ds...); err != nil {
				return err
			}
		}
		n = len(ds)
		if last {
			return tx.Queue.Ack(ctx, f.d.Receipt)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("outbox: fan-out of %s: %w", f.d.Activity, err)
	}
	f.enqueued += n
	f.flushes++
	for _, inbox := range f.order {
		if len(f.flushed) >= maxFlushed {
			break
		}
		f.flushed[inbox] = true
	}
	clear(f.batch)
	f.order = f.order[:0]
	if n > 0 {
		f.w.Wake()
	}
	return nil
}

// fanoutKey is what a fan-out records, per activity, for each inbox it
// enqueued to: a digest, so that it stays within storage.MaxIRI whatever
// the inbox.
func fanoutKey(inbox string) string {
	sum := sha256.Sum256([]byte(inbox))
	return "urn:fedi:fanout:" + hex.EncodeToString(sum[:])
}

// isStorageFailure reports an error that is ours and may pass, for which
// the whole fan-out is retried, rather than the recipient's, which skips
// it. A recipient whose document no store can keep (ErrInvalid: an inbox
// longer than storage.MaxIRI) or whose cached row is corrupt is the
// recipient's: retrying cannot help, and the other recipients must not
// wait for it.
func isStorageFailure(err error) bool {
	var ce *storage.CorruptError
	if errors.As(err, &ce) {
		return false
	}
	return !errors.Is(err, storage.ErrNotFound) && !errors.Is(err, storage.ErrInvalid) && !isFetchError(err) &&
		!errors.Is(err, actor.ErrNotAnActor) && !isDecodeError(err)
}

func isFetchError(err error) bool {
	var fe *fetch.Error
	return errors.As(err, &fe)
}

func isDecodeError(err error) bool {
	var de *vocab.DecodeError
	return errors.As(err, &de)
}

func sortHosts(hs []HostHealth) {
	sort.Slice(hs, func(i, j int) bool {
		if (hs[i].Failures > 0) != (hs[j].Failures > 0) {
			return hs[i].Failures > 0
		}
		return hs[i].Host < hs[j].Host
	})
}
