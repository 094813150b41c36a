-- The first schema. Times are Unix microseconds, 0 for "never"; documents
-- are the JSON bytes exactly as written.

CREATE TABLE fedi_objects (
	iri     TEXT    NOT NULL PRIMARY KEY,
	type    TEXT    NOT NULL,
	owner   TEXT    NOT NULL,
	data    BLOB    NOT NULL,
	updated INTEGER NOT NULL,
	deleted INTEGER NOT NULL DEFAULT 0
) STRICT;

-- seq orders a collection: AUTOINCREMENT never reuses a value, so a
-- cursor keeps its meaning while members come and go.
CREATE TABLE fedi_members (
	seq        INTEGER PRIMARY KEY AUTOINCREMENT,
	collection TEXT    NOT NULL,
	member     TEXT    NOT NULL,
	state      INTEGER NOT NULL,
	activity   TEXT    NOT NULL,
	added      INTEGER NOT NULL,
	UNIQUE (collection, member)
) STRICT;
CREATE INDEX fedi_members_page ON fedi_members (collection, state, seq);

CREATE TABLE fedi_seen (
	activity  TEXT    NOT NULL,
	recipient TEXT    NOT NULL,
	seen      INTEGER NOT NULL,
	PRIMARY KEY (activity, recipient)
) STRICT, WITHOUT ROWID;
CREATE INDEX fedi_seen_time ON fedi_seen (seen);

CREATE TABLE fedi_keys (
	id      TEXT    NOT NULL PRIMARY KEY,
	owner   TEXT    NOT NULL,
	pem     BLOB    NOT NULL,
	created INTEGER NOT NULL
) STRICT;
CREATE INDEX fedi_keys_owner ON fedi_keys (owner, created);

-- A delivery may be leased when it is live (gave_up = 0), visible <= now,
-- and no earlier live delivery shares its inbox and ordering key. visible
-- is not_before until a lease moves it to the lease's end, so leased
-- deliveries leave the front of fedi_deliveries_due.
CREATE TABLE fedi_deliveries (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	activity     TEXT    NOT NULL,
	inbox        TEXT    NOT NULL,
	body         BLOB    NOT NULL,
	ordering_key TEXT    NOT NULL,
	not_before   INTEGER NOT NULL,
	visible      INTEGER NOT NULL,
	lease_until  INTEGER NOT NULL DEFAULT 0,
	leases       INTEGER NOT NULL DEFAULT 0,
	attempts     INTEGER NOT NULL DEFAULT 0,
	last_error   TEXT    NOT NULL DEFAULT '',
	enqueued     INTEGER NOT NULL,
	gave_up      INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX fedi_deliveries_due ON fedi_deliveries (visible, id) WHERE gave_up = 0;
CREATE INDEX fedi_deliveries_chain ON fedi_deliveries (inbox, ordering_key, id) WHERE gave_up = 0 AND ordering_key <> '';
CREATE INDEX fedi_deliveries_dead ON fedi_deliveries (gave_up, id) WHERE gave_up <> 0;

CREATE TABLE fedi_actors (
	iri          TEXT    NOT NULL PRIMARY KEY,
	inbox        TEXT    NOT NULL,
	shared_inbox TEXT    NOT NULL,
	document     BLOB,
	fetched      INTEGER NOT NULL,
	gone         INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE fedi_actor_keys (
	key_id TEXT    NOT NULL PRIMARY KEY,
	actor  TEXT    NOT NULL REFERENCES fedi_actors (iri) ON DELETE CASCADE,
	pos    INTEGER NOT NULL,
	pem    TEXT    NOT NULL
) STRICT;
CREATE INDEX fedi_actor_keys_actor ON fedi_actor_keys (actor, pos);
