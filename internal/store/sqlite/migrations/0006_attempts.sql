-- Each delivery's attempt history (store.Attempt): one row per claim whose
-- outcome Finish recorded, or that a rescue returned to the queue. Rows go
-- with their delivery (Delete, Prune) and are kept across Replay. The key
-- is the delivery's: the next n is one index seek, and the rows of one
-- delivery lie together.
CREATE TABLE attempts (
	delivery_id    INTEGER NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
	n              INTEGER NOT NULL,
	try            INTEGER NOT NULL,
	started_at     INTEGER NOT NULL,
	ended_at       INTEGER NOT NULL,
	duration_ns    INTEGER NOT NULL,
	owner          TEXT NOT NULL,
	request_id     TEXT NOT NULL,
	state          TEXT NOT NULL,
	status         INTEGER NOT NULL,
	error          TEXT NOT NULL,
	google_message TEXT NOT NULL,
	rescued        INTEGER NOT NULL,
	PRIMARY KEY (delivery_id, n)
) STRICT, WITHOUT ROWID;

-- The dead-letter gauge counts dead deliveries by relay space
-- (store.Admin.DeadLetters) from this index alone, without reading the
-- rows; only dead letters are in it, so no other write pays for it.
CREATE INDEX deliveries_dead ON deliveries (space) WHERE state = 'dead' AND is_batch = 0;
