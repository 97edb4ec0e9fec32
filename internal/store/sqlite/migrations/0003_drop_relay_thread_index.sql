-- Thread pruning scans the deliveries once instead (admin.go): the index cost
-- every Enqueue a page write at a random place.
DROP INDEX deliveries_relay_thread;
