-- Escalation timers (store.Escalations): one row per route rule, incident
-- and thread, armed by a firing notification, claimed once when due (an
-- UPDATE … RETURNING, so two replicas never both fire one). delivery is the
-- reply's delivery id, 0 until recorded.
CREATE TABLE escalations (
	id          text COLLATE "C" PRIMARY KEY,
	key         text COLLATE "C" NOT NULL,
	incident    bigint NOT NULL,
	route       text NOT NULL,
	rule        integer NOT NULL,
	space       text NOT NULL,
	thread_key  text NOT NULL,
	text        text NOT NULL,
	stale_after bigint NOT NULL,
	due         timestamptz NOT NULL,
	seen        timestamptz NOT NULL,
	created_at  timestamptz NOT NULL,
	fired       boolean NOT NULL DEFAULT false,
	cancelled   boolean NOT NULL DEFAULT false,
	delivery    bigint NOT NULL DEFAULT 0
);
CREATE INDEX escalations_key ON escalations (key);
CREATE INDEX escalations_due ON escalations (due) WHERE NOT fired AND NOT cancelled;
