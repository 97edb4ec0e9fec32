-- Escalation timers (store.Escalations): one row per route rule, incident
-- and thread, armed by a firing notification, claimed once when due.
-- Times are Unix nanoseconds; delivery is the reply's delivery id, 0 until
-- recorded.
CREATE TABLE escalations (
	id          TEXT PRIMARY KEY,
	key         TEXT NOT NULL,
	incident    INTEGER NOT NULL,
	route       TEXT NOT NULL,
	rule        INTEGER NOT NULL,
	space       TEXT NOT NULL,
	thread_key  TEXT NOT NULL,
	text        TEXT NOT NULL,
	stale_after INTEGER NOT NULL,
	due         INTEGER NOT NULL,
	seen        INTEGER NOT NULL,
	created_at  INTEGER NOT NULL,
	fired       INTEGER NOT NULL DEFAULT 0,
	cancelled   INTEGER NOT NULL DEFAULT 0,
	delivery    INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX escalations_key ON escalations (key);
CREATE INDEX escalations_due ON escalations (due) WHERE NOT fired AND NOT cancelled;
