-- 0001: deliveries, lanes, threads. Shipped migrations are never edited; a
-- change is a new numbered file.
--
-- Times are timestamptz (microseconds; NULL = none). Keys that are compared or
-- sorted (lane, space, group, dedup keys, thread names) use the "C" collation:
-- byte order, whatever the database's default collation, so that LaneStates
-- sorts lanes as the contract says and the indexes compare bytes.

-- delivery_ids hands out ids and sequence numbers: one source for both, as in
-- the SQLite backend, so that a replay takes a Seq after every id ever given.
-- Values are taken while the lane's row is locked (see Enqueue), so within a
-- lane they follow commit order.
CREATE SEQUENCE delivery_ids AS bigint;

-- lanes: one row per Google space id, created at its first enqueue, lease or
-- pause. Its row lock is the lane's mutex: every write that touches the lane's
-- pending deliveries or its lease takes it first (SELECT ... FOR NO KEY
-- UPDATE). pending is kept by the trigger below (queued + sending), so the
-- queue bound costs one row read instead of a count.
CREATE TABLE lanes (
	lane         text COLLATE "C" PRIMARY KEY,
	owner        text NOT NULL DEFAULT '',
	token        bigint NOT NULL DEFAULT 0,
	lease_until  timestamptz,
	last_send    timestamptz,
	paused_until timestamptz,
	pause_reason text NOT NULL DEFAULT '',
	pending      integer NOT NULL DEFAULT 0 CHECK (pending >= 0)
);

CREATE TABLE deliveries (
	id                bigint PRIMARY KEY,
	seq               bigint NOT NULL,
	space             text COLLATE "C" NOT NULL,
	lane              text COLLATE "C" NOT NULL REFERENCES lanes (lane),
	grp               text COLLATE "C" NOT NULL,
	-- The exact bytes to send: bytea, not jsonb (which would reformat them).
	message           bytea NOT NULL,
	reply             text NOT NULL,
	message_id        text NOT NULL,
	request_id        text NOT NULL,
	caller_request_id text COLLATE "C" NOT NULL,
	dedup_key         text COLLATE "C" NOT NULL,
	relay_thread      text COLLATE "C" NOT NULL,
	state             text NOT NULL CHECK (state IN ('queued', 'sending', 'batched', 'done', 'dead', 'dropped')),
	attempts          integer NOT NULL DEFAULT 0,
	next_attempt_at   timestamptz NOT NULL,
	last_status       integer NOT NULL DEFAULT 0,
	last_error        text NOT NULL DEFAULT '',
	created_at        timestamptz NOT NULL,
	updated_at        timestamptz NOT NULL,
	queued_at         timestamptz NOT NULL,
	done_at           timestamptz,
	google_message    text NOT NULL DEFAULT '',
	google_thread     text NOT NULL DEFAULT '',
	is_batch          boolean NOT NULL DEFAULT false,
	-- Members go with their batch (Delete of a batch, Prune).
	batch_id          bigint REFERENCES deliveries (id) ON DELETE CASCADE
);

-- Claim: the head of each group among pending rows of a lane.
CREATE INDEX deliveries_pending ON deliveries (lane, grp, seq) WHERE state IN ('queued', 'sending');
-- Ingest dedup.
CREATE INDEX deliveries_caller_request ON deliveries (space, caller_request_id) WHERE caller_request_id <> '';
CREATE INDEX deliveries_dedup ON deliveries (space, dedup_key, created_at) WHERE dedup_key <> '';
-- Batch members; also serves the ON DELETE CASCADE lookup.
CREATE INDEX deliveries_batch ON deliveries (batch_id) WHERE batch_id IS NOT NULL;
-- Prune and the dead-letter list.
CREATE INDEX deliveries_state ON deliveries (state, done_at);
-- No index on relay_thread: only Prune asks whether a thread is still
-- referred to, and one hash anti-join over the deliveries answers it, while
-- an index would cost every threaded Enqueue an insert at a random leaf.

-- Keeps lanes.pending equal to the lane's queued and sending deliveries. The
-- WHEN clauses of the triggers skip every change that does not cross the
-- pending boundary (a claim, a retry), so those cost nothing here.
CREATE FUNCTION deliveries_count_pending() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		UPDATE lanes SET pending = pending + 1 WHERE lane = NEW.lane;
	ELSIF TG_OP = 'DELETE' THEN
		UPDATE lanes SET pending = pending - 1 WHERE lane = OLD.lane;
	ELSIF NEW.state IN ('queued', 'sending') THEN
		UPDATE lanes SET pending = pending + 1 WHERE lane = NEW.lane;
	ELSE
		UPDATE lanes SET pending = pending - 1 WHERE lane = NEW.lane;
	END IF;
	RETURN NULL;
END
$$;

CREATE TRIGGER deliveries_pending_insert AFTER INSERT ON deliveries
FOR EACH ROW WHEN (NEW.state IN ('queued', 'sending'))
EXECUTE FUNCTION deliveries_count_pending();

CREATE TRIGGER deliveries_pending_delete AFTER DELETE ON deliveries
FOR EACH ROW WHEN (OLD.state IN ('queued', 'sending'))
EXECUTE FUNCTION deliveries_count_pending();

-- A delivery never changes lane, so only its state matters.
CREATE TRIGGER deliveries_pending_update AFTER UPDATE OF state ON deliveries
FOR EACH ROW WHEN ((OLD.state IN ('queued', 'sending')) <> (NEW.state IN ('queued', 'sending')))
EXECUTE FUNCTION deliveries_count_pending();

CREATE TABLE threads (
	relay_name  text COLLATE "C" PRIMARY KEY,
	lane        text COLLATE "C" NOT NULL,
	google_name text NOT NULL DEFAULT '',
	created_at  timestamptz NOT NULL,
	updated_at  timestamptz NOT NULL
);
CREATE INDEX threads_updated ON threads (updated_at);
