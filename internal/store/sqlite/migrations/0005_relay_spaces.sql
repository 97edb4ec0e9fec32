-- Thread groups, the pending bound and the pauses of a webhook (403, 404)
-- belong to the relay space; pacing and leases stay with the lane (the
-- Google space). spaces holds each relay space's pending count, kept by
-- the triggers below like lanes.pending, and its own pause; lane is the
-- lane its last pause was recorded in.
CREATE TABLE spaces (
	space        TEXT PRIMARY KEY,
	lane         TEXT NOT NULL DEFAULT '',
	paused_until INTEGER NOT NULL DEFAULT 0,
	pause_reason TEXT NOT NULL DEFAULT '',
	pending      INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX spaces_lane ON spaces (lane) WHERE pause_reason <> '';

INSERT INTO spaces (space, pending)
SELECT space, sum(state IN ('queued', 'sending')) FROM deliveries GROUP BY space;

-- A group's head is looked up by relay space and group within the lane.
DROP INDEX deliveries_pending;
CREATE INDEX deliveries_pending ON deliveries (lane, space, grp, seq) WHERE state IN ('queued', 'sending');

CREATE TRIGGER deliveries_space_pending_insert AFTER INSERT ON deliveries
WHEN NEW.state IN ('queued', 'sending')
BEGIN
	UPDATE spaces SET pending = pending + 1 WHERE space = NEW.space;
END;

CREATE TRIGGER deliveries_space_pending_delete AFTER DELETE ON deliveries
WHEN OLD.state IN ('queued', 'sending')
BEGIN
	UPDATE spaces SET pending = pending - 1 WHERE space = OLD.space;
END;

CREATE TRIGGER deliveries_space_pending_update AFTER UPDATE OF state ON deliveries
WHEN (OLD.state IN ('queued', 'sending')) <> (NEW.state IN ('queued', 'sending'))
BEGIN
	UPDATE spaces
	SET pending = pending + (NEW.state IN ('queued', 'sending')) - (OLD.state IN ('queued', 'sending'))
	WHERE space = NEW.space;
END;
