-- Thread groups, the pending bound and the pauses of a webhook (403, 404)
-- belong to the relay space; pacing and leases stay with the lane (the
-- Google space). spaces holds each relay space's pending count, kept by
-- deliveries_count_pending like lanes.pending, and its own pause; lane is
-- the lane its last pause was recorded in.
CREATE TABLE spaces (
	space        text COLLATE "C" PRIMARY KEY,
	lane         text COLLATE "C" NOT NULL DEFAULT '',
	paused_until timestamptz,
	pause_reason text NOT NULL DEFAULT '',
	pending      integer NOT NULL DEFAULT 0 CHECK (pending >= 0)
);
CREATE INDEX spaces_lane ON spaces (lane) WHERE pause_reason <> '';

INSERT INTO spaces (space, pending)
SELECT space, count(*) FILTER (WHERE state IN ('queued', 'sending')) FROM deliveries GROUP BY space;

-- A group's head is looked up by relay space and group within the lane.
DROP INDEX deliveries_pending;
CREATE INDEX deliveries_pending ON deliveries (lane, space, grp, seq) WHERE state IN ('queued', 'sending');

-- The lane's row first, then the space's, as Enqueue locks them.
CREATE OR REPLACE FUNCTION deliveries_count_pending() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		UPDATE lanes SET pending = pending + 1 WHERE lane = NEW.lane;
		UPDATE spaces SET pending = pending + 1 WHERE space = NEW.space;
	ELSIF TG_OP = 'DELETE' THEN
		UPDATE lanes SET pending = pending - 1 WHERE lane = OLD.lane;
		UPDATE spaces SET pending = pending - 1 WHERE space = OLD.space;
	ELSIF NEW.state IN ('queued', 'sending') THEN
		UPDATE lanes SET pending = pending + 1 WHERE lane = NEW.lane;
		UPDATE spaces SET pending = pending + 1 WHERE space = NEW.space;
	ELSE
		UPDATE lanes SET pending = pending - 1 WHERE lane = NEW.lane;
		UPDATE spaces SET pending = pending - 1 WHERE space = NEW.space;
	END IF;
	RETURN NULL;
END
$$;
