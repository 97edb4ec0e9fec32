-- The pending counts of an insert are kept per statement, not per row: an
-- Enqueue group inserts all its deliveries in one statement, and a trigger
-- per row rewrote the same lanes and spaces rows twice per delivery (a new
-- row version each, under the lane's lock). Now one UPDATE per lane and
-- one per relay space per statement, from the transition table of the
-- inserted rows.
--
-- Lock order: lanes, then spaces, each in the order of its key ("C"
-- collation, byte order, as Enqueue sorts them in Go), as Enqueue locks
-- them; an Enqueue holds them all by then.
--
-- Updates and deletes keep the row triggers of 0001 and 0004: PostgreSQL
-- takes transition tables neither with a column list (UPDATE OF state)
-- nor with a WHEN clause, so a statement trigger would run, and capture
-- every changed row (message included), on each claim, retry and finish,
-- and on each Prune of finished rows, where the row triggers' WHEN skips
-- all but the changes that cross the pending boundary.
CREATE FUNCTION deliveries_count_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	r record;
BEGIN
	FOR r IN SELECT lane, count(*) AS n FROM inserted WHERE state IN ('queued', 'sending')
		GROUP BY lane ORDER BY lane
	LOOP
		UPDATE lanes SET pending = pending + r.n WHERE lane = r.lane;
	END LOOP;
	FOR r IN SELECT space, count(*) AS n FROM inserted WHERE state IN ('queued', 'sending')
		GROUP BY space ORDER BY space
	LOOP
		UPDATE spaces SET pending = pending + r.n WHERE space = r.space;
	END LOOP;
	RETURN NULL;
END
$$;

DROP TRIGGER deliveries_pending_insert ON deliveries;

CREATE TRIGGER deliveries_pending_insert AFTER INSERT ON deliveries
REFERENCING NEW TABLE AS inserted
FOR EACH STATEMENT EXECUTE FUNCTION deliveries_count_inserted();
