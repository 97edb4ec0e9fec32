-- Incident state per alert group key (store.Queue.Incident): the current
-- incident number and whether the group's last notification was firing.
CREATE TABLE incidents (
	key        TEXT PRIMARY KEY,
	number     INTEGER NOT NULL,
	firing     INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
) STRICT;
