-- members: the relay replicas alive now (store.Lanes Heartbeat and Leave),
-- one row per owner name, as in lanes.owner. A replica upserts its row every
-- poll interval with until = now + TTL; the dispatchers share the lanes out
-- among the rows whose until is still ahead. Expired rows are deleted by the
-- next heartbeat of any replica.
CREATE TABLE members (
	owner text COLLATE "C" PRIMARY KEY,
	until timestamptz NOT NULL
);
