// Package storage defines the small interfaces that fedi keeps its state
// behind, and the types they exchange.
//
// An application embeds fedi in its own server, so it chooses where the
// state lives. Each concern is its own interface of a few methods, in the
// spirit of database/sql/driver:
//
//   - [Objects]: objects and activities by IRI, with their owner, and
//     tombstones that keep answering 410 Gone;
//   - [Collections]: followers, following, outbox, inbox, likes, shares,
//     participants, members and badge holders, paged newest first, with a
//     pending state for Follow and Join requests awaiting approval, and
//     ([Memberships]) the collections a member is in;
//   - [Dedupe]: "have we already processed this activity for this
//     recipient?", answered atomically, and forgotten again when the
//     processing failed;
//   - [KeySource] (and [KeyStore]): our own actors' private keys;
//   - [Queue]: the persistent delivery queue, with leases, retries, ordering
//     keys and dead letters;
//   - [Actors]: the cache of remote actors, their inboxes and public keys.
//
// [Store] gathers one implementation of each, and a [Transactor] that
// applies changes to several of them as one. The adapters fedi ships fill
// all of it:
//
//   - storage/memory: in process, for tests and examples;
//   - storage/sqlite: the embedded default, one file, zero configuration;
//   - storage/postgres: several processes sharing one database.
//
// An application may mix them, for instance SQLite for everything but keys,
// which come from its KMS through its own [KeySource]. Optional capabilities
// are found by type assertion, as with database/sql/driver: a [Queue] that
// also implements [DeadLetters] lets an operator list and requeue the
// deliveries it gave up on, one that implements [LeaseExtender] lets a
// slow worker keep its lease, a [KeySource] that also implements
// [KeyStore] can be written to, and [Collections] that implement
// [Memberships] list the collections a member belongs to, so that a Delete
// of an actor can take it out of every one.
//
// Every adapter, including one an application writes for its own database,
// checks itself against the same contract by calling
// storagetest.Run from its tests.
//
// # Raw JSON, not vocab types
//
// The stores take and return documents as [encoding/json.RawMessage] (the
// bytes vocab.Registry.Encode produced) next to the few fields they index:
// the IRI, the type and the owner. They do not import vocab. A store only
// needs those fields to answer its queries; keeping the document opaque
// means a round trip through storage is byte-for-byte lossless whatever
// vocabularies the application registered, an adapter never needs a
// registry to read a row, and the storage packages stay below vocab in the
// import graph. The caller decodes with its own registry.
//
// Stores check that documents are well-formed JSON when they are written
// ([ErrInvalid] otherwise) and again when they are read, so that a row
// damaged outside fedi is reported as a [*CorruptError] naming its IRI
// instead of travelling on as a RawMessage that fails later.
//
// # Errors
//
// Methods report a missing row with an error wrapping [ErrNotFound], a
// write that contradicts what is stored (another owner, a tombstoned IRI, a
// lease that another worker now holds) with [ErrConflict], and malformed
// arguments with [ErrInvalid]. Test them with [errors.Is]. A lookup of a
// key that no store can hold, one that fails [CheckIRI], finds nothing and
// reports ErrNotFound, as in every adapter; writing one is ErrInvalid. A
// cancelled context stops a call with an error wrapping the context's
// error, and a write that reports it had no effect: whenever its context
// ends, a write either reports success or changes nothing, so that a
// caller told it failed may safely do it again.
//
// # Transactions
//
// An inbox must apply an activity's side effects all or nothing, so that a
// failure halfway can answer 500 with nothing applied; an outbox enqueues
// a fan-out and acks the job that asked for it at once. [InTx] runs a
// function with a Store bound to one transaction of Store.Tx, and commits
// it when the function returns nil:
//
//	err := storage.InTx(ctx, st, func(ctx context.Context, tx storage.Store) error {
//		first, err := tx.Dedupe.Record(ctx, activity, recipient)
//		if err != nil || !first {
//			return err
//		}
//		if err := tx.Collections.Add(ctx, followers, storage.Member{IRI: actor, Activity: activity}); err != nil {
//			return err // nothing stays, the record included: the retry starts clean
//		}
//		return tx.Queue.Enqueue(ctx, accept)
//	})
//
// The function sees its own writes and nobody else does before the
// commit; an error it returns discards them all and comes back as InTx's
// error; an operation that fails inside it has no effect and leaves the
// transaction usable; a context that ends leaves success or nothing.
// Dedupe.Record is first once among the transactions that commit. Keys
// stay outside transactions, and dead letters are not handled in one.
// The function must use the transaction's Store, not the outer one, must
// not keep it, and should do no network I/O: others may wait for it. On
// a Store without Tx, InTx calls the function with the store itself,
// without atomicity. [Transactor] states the whole contract.
//
// The adapters differ in how: storage/memory holds the whole store for
// the transaction and puts back what it changed if it fails;
// storage/postgres runs a PostgreSQL transaction, each operation in a
// savepoint, and any number of processes may run them at once;
// storage/sqlite, whose one writer writes for all, groups the
// transactions of concurrent callers into one SQLite transaction, each
// function in a savepoint of its own, and commits them at once (group
// commit), so that an inbox under load pays for one commit per batch
// rather than one per write.
//
// # Example
//
// The happy path of an outbox, with the SQLite adapter:
//
//	db, err := sqlite.Open(ctx, filepath.Join(dataDir, "fedi.db"), sqlite.Options{})
//	if err != nil {
//		return err
//	}
//	defer db.Close()
//	st := db.Store()
//
//	// Persist the activity so that GET of its id works, and list it.
//	err = st.Objects.Put(ctx, storage.Object{IRI: create.ID, Type: "Create", Owner: alice, Data: data})
//	err = st.Collections.Add(ctx, alice+"/outbox", storage.Member{IRI: create.ID})
//
//	// One delivery per inbox; the object id orders a later Delete after it.
//	err = st.Queue.Enqueue(ctx, storage.Delivery{Activity: create.ID, Inbox: inbox, Body: data, OrderingKey: note.ID})
//
//	// A worker: lease a batch, POST each, ack the delivered ones at once.
//	batch, err := st.Queue.Lease(ctx, 16, time.Minute)
//	var delivered []string
//	for _, d := range batch {
//		if d.Leases > maxLeases { // it crashed or hung the workers before
//			st.Queue.GiveUp(ctx, d.Receipt, "leased too often")
//			continue
//		}
//		if err := post(ctx, d); err != nil {
//			st.Queue.Retry(ctx, d.Receipt, time.Now().Add(backoff(d.Attempts)), err.Error())
//			continue
//		}
//		delivered = append(delivered, d.Receipt)
//	}
//	err = st.Queue.Ack(ctx, delivered...)
package storage
