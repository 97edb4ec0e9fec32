-- 0001: deliveries, lanes, threads. Shipped migrations are never edited; a
-- change is a new numbered file.
--
-- Times are INTEGER Unix nanoseconds (0 = none); ids are INTEGER and shown as
-- "d" + 16 digits. Tables are STRICT so a wrong type is an error, not a cast.

-- counters hands out ids and sequence numbers: one source for both, so a
-- replay can take a Seq after every id ever given (never reused, unlike a
-- rowid after its maximum row is deleted).
CREATE TABLE counters (
	name  TEXT PRIMARY KEY,
	value INTEGER NOT NULL
) STRICT;
INSERT INTO counters (name, value) VALUES ('delivery', 0);

-- lanes: one row per Google space id, created at its first enqueue, lease or
-- pause. pending is kept by the triggers below (queued + sending), so the
-- queue bound costs one row read instead of a count.
CREATE TABLE lanes (
	lane         TEXT PRIMARY KEY,
	owner        TEXT NOT NULL DEFAULT '',
	token        INTEGER NOT NULL DEFAULT 0,
	lease_until  INTEGER NOT NULL DEFAULT 0,
	last_send    INTEGER NOT NULL DEFAULT 0,
	paused_until INTEGER NOT NULL DEFAULT 0,
	pause_reason TEXT NOT NULL DEFAULT '',
	pending      INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE deliveries (
	id                INTEGER PRIMARY KEY,
	seq               INTEGER NOT NULL,
	space             TEXT NOT NULL,
	lane              TEXT NOT NULL REFERENCES lanes (lane),
	grp               TEXT NOT NULL,
	message           BLOB NOT NULL,
	reply             TEXT NOT NULL,
	message_id        TEXT NOT NULL,
	request_id        TEXT NOT NULL,
	caller_request_id TEXT NOT NULL,
	dedup_key         TEXT NOT NULL,
	relay_thread      TEXT NOT NULL,
	state             TEXT NOT NULL CHECK (state IN ('queued', 'sending', 'batched', 'done', 'dead', 'dropped')),
	attempts          INTEGER NOT NULL DEFAULT 0,
	next_attempt_at   INTEGER NOT NULL,
	last_status       INTEGER NOT NULL DEFAULT 0,
	last_error        TEXT NOT NULL DEFAULT '',
	created_at        INTEGER NOT NULL,
	updated_at        INTEGER NOT NULL,
	queued_at         INTEGER NOT NULL,
	done_at           INTEGER NOT NULL DEFAULT 0,
	google_message    TEXT NOT NULL DEFAULT '',
	google_thread     TEXT NOT NULL DEFAULT '',
	is_batch          INTEGER NOT NULL DEFAULT 0,
	-- Members go with their batch (Delete of a batch, Prune).
	batch_id          INTEGER REFERENCES deliveries (id) ON DELETE CASCADE
) STRICT;

-- Claim: the head of each group among pending rows of a lane.
CREATE INDEX deliveries_pending ON deliveries (lane, grp, seq) WHERE state IN ('queued', 'sending');
-- Ingest dedup.
CREATE INDEX deliveries_caller_request ON deliveries (space, caller_request_id) WHERE caller_request_id <> '';
CREATE INDEX deliveries_dedup ON deliveries (space, dedup_key) WHERE dedup_key <> '';
-- Batch members; also serves the ON DELETE CASCADE lookup.
CREATE INDEX deliveries_batch ON deliveries (batch_id) WHERE batch_id IS NOT NULL;
-- Prune and the dead-letter list.
CREATE INDEX deliveries_state ON deliveries (state, done_at);
-- Thread pruning: is a thread still referred to?
CREATE INDEX deliveries_relay_thread ON deliveries (relay_thread) WHERE relay_thread <> '';

CREATE TRIGGER deliveries_pending_insert AFTER INSERT ON deliveries
WHEN NEW.state IN ('queued', 'sending')
BEGIN
	UPDATE lanes SET pending = pending + 1 WHERE lane = NEW.lane;
END;

CREATE TRIGGER deliveries_pending_delete AFTER DELETE ON deliveries
WHEN OLD.state IN ('queued', 'sending')
BEGIN
	UPDATE lanes SET pending = pending - 1 WHERE lane = OLD.lane;
END;

CREATE TRIGGER deliveries_pending_update AFTER UPDATE OF state ON deliveries
WHEN (OLD.state IN ('queued', 'sending')) <> (NEW.state IN ('queued', 'sending'))
BEGIN
	UPDATE lanes
	SET pending = pending + (NEW.state IN ('queued', 'sending')) - (OLD.state IN ('queued', 'sending'))
	WHERE lane = NEW.lane;
END;

CREATE TABLE threads (
	relay_name  TEXT PRIMARY KEY,
	lane        TEXT NOT NULL,
	google_name TEXT NOT NULL DEFAULT '',
	created_at  INTEGER NOT NULL,
	updated_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX threads_updated ON threads (updated_at);
