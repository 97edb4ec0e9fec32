-- Incident state per alert group key (store.Queue.Incident): the current
-- incident number and whether the group's last notification was firing.
CREATE TABLE incidents (
	key        text COLLATE "C" PRIMARY KEY,
	number     bigint NOT NULL,
	firing     boolean NOT NULL,
	updated_at timestamptz NOT NULL
);
-- Prune forgets keys not used for the thread retention.
CREATE INDEX incidents_updated ON incidents (updated_at);
