-- The console lists dead letters newest first: a partial index on the dead
-- deliveries by id gives a page without sorting every dead letter (with
-- state first, so that the planner prefers it to deliveries_state for
-- state = 'dead' even without statistics). Only
-- deliveries that die are written to it, so ingest does not pay for it.
-- (List writes known states as literals so that the planner matches this
-- WHERE in a generic plan too.)
CREATE INDEX deliveries_dead_list ON deliveries (state, id) WHERE state = 'dead';
