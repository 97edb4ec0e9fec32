-- A lane's pending deliveries in id order, the oldest first, as the
-- dispatcher lists them before it coalesces a thread's backlog: without
-- this index that list sorts the lane's whole backlog each time.
CREATE INDEX deliveries_lane_pending ON deliveries (lane, id) WHERE state IN ('queued', 'sending');
