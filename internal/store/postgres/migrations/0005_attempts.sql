-- Each delivery's attempt history (store.Attempt): one row per claim whose
-- outcome Finish recorded, or that a rescue returned to the queue. Rows go
-- with their delivery (Delete, Prune) and are kept across Replay. Every
-- write of a delivery's attempts holds its lane's lock, so the next n
-- (max + 1, one seek in the primary key) never collides.
CREATE TABLE attempts (
	delivery_id    bigint NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
	n              integer NOT NULL,
	try            integer NOT NULL,
	started_at     timestamptz NOT NULL,
	ended_at       timestamptz NOT NULL,
	duration       interval NOT NULL,
	owner          text NOT NULL,
	request_id     text NOT NULL,
	state          text NOT NULL,
	status         integer NOT NULL,
	error          text NOT NULL,
	google_message text NOT NULL,
	rescued        boolean NOT NULL,
	PRIMARY KEY (delivery_id, n)
);

-- The dead-letter gauge counts dead deliveries by relay space
-- (store.Admin.DeadLetters) from this index (an index-only scan once the
-- table is vacuumed); only dead letters are in it, so no other write pays
-- for it.
CREATE INDEX deliveries_dead ON deliveries (space) WHERE state = 'dead' AND NOT is_batch;
