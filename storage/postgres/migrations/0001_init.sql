-- The first schema. IRIs compare byte for byte (COLLATE "C"), as in every
-- fedi store; documents are bytea, the JSON bytes exactly as written.

CREATE TABLE fedi_objects (
	iri     text COLLATE "C" PRIMARY KEY,
	type    text NOT NULL,
	owner   text COLLATE "C" NOT NULL,
	data    bytea NOT NULL,
	updated timestamptz NOT NULL,
	deleted timestamptz
);

-- seq orders a collection. A member that changes state draws a new value,
-- so that it moves to the front.
CREATE SEQUENCE fedi_members_seq;
CREATE TABLE fedi_members (
	seq        bigint PRIMARY KEY DEFAULT nextval('fedi_members_seq'),
	collection text COLLATE "C" NOT NULL,
	member     text COLLATE "C" NOT NULL,
	state      smallint NOT NULL,
	activity   text COLLATE "C" NOT NULL,
	added      timestamptz NOT NULL,
	UNIQUE (collection, member)
);
CREATE INDEX fedi_members_page ON fedi_members (collection, state, seq);

CREATE TABLE fedi_seen (
	activity  text COLLATE "C" NOT NULL,
	recipient text COLLATE "C" NOT NULL,
	seen      timestamptz NOT NULL,
	PRIMARY KEY (activity, recipient)
);
CREATE INDEX fedi_seen_time ON fedi_seen (seen);

CREATE TABLE fedi_keys (
	id      text COLLATE "C" PRIMARY KEY,
	owner   text COLLATE "C" NOT NULL,
	pem     bytea NOT NULL,
	created timestamptz NOT NULL
);
CREATE INDEX fedi_keys_owner ON fedi_keys (owner, created);

-- A delivery may be leased when it is live (gave_up IS NULL), visible <=
-- now(), and no earlier live delivery shares its inbox and ordering key.
-- visible is not_before until a lease moves it to the lease's end, so
-- leased deliveries leave the front of fedi_deliveries_due.
CREATE TABLE fedi_deliveries (
	id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	activity     text COLLATE "C" NOT NULL,
	inbox        text COLLATE "C" NOT NULL,
	body         bytea NOT NULL,
	ordering_key text COLLATE "C" NOT NULL,
	not_before   timestamptz NOT NULL,
	visible      timestamptz NOT NULL,
	lease_until  timestamptz,
	leases       bigint NOT NULL DEFAULT 0,
	attempts     integer NOT NULL DEFAULT 0,
	last_error   text NOT NULL DEFAULT '',
	enqueued     timestamptz NOT NULL,
	gave_up      timestamptz
);
CREATE INDEX fedi_deliveries_due ON fedi_deliveries (visible, id) WHERE gave_up IS NULL;
CREATE INDEX fedi_deliveries_chain ON fedi_deliveries (inbox, ordering_key, id) WHERE gave_up IS NULL AND ordering_key <> '';
CREATE INDEX fedi_deliveries_dead ON fedi_deliveries (gave_up, id) WHERE gave_up IS NOT NULL;
-- Every delivery is inserted, updated at least once and deleted: vacuum
-- the table long before the default 20% of it is dead, so that leases do
-- not wade through dead rows. (This needs autovacuum on, the default.)
ALTER TABLE fedi_deliveries SET (autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_threshold = 1000, autovacuum_analyze_scale_factor = 0.02);

CREATE TABLE fedi_actors (
	iri          text COLLATE "C" PRIMARY KEY,
	inbox        text NOT NULL,
	shared_inbox text NOT NULL,
	document     bytea,
	fetched      timestamptz,
	gone         timestamptz
);

CREATE TABLE fedi_actor_keys (
	key_id text COLLATE "C" PRIMARY KEY,
	actor  text COLLATE "C" NOT NULL REFERENCES fedi_actors (iri) ON DELETE CASCADE,
	pos    integer NOT NULL,
	pem    text NOT NULL
);
CREATE INDEX fedi_actor_keys_actor ON fedi_actor_keys (actor, pos);
