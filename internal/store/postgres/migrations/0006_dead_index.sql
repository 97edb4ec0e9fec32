-- The console lists dead letters newest first: a partial index on the ids
-- of dead deliveries gives a page without sorting every dead letter. Only
-- deliveries that die are written to it, so ingest does not pay for it.
-- (List writes known states as literals so that the planner matches this
-- WHERE in a generic plan too.)
CREATE INDEX deliveries_dead ON deliveries (id) WHERE state = 'dead';
