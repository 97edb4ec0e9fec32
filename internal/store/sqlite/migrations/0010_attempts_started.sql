-- The console charts each relay space's sends and 429s over the last hour
-- (store.Admin.Activity): the attempts of a window, by start, with what
-- the chart counts, so that it reads this index alone (the table's key,
-- delivery_id and n, is in every index of a WITHOUT ROWID table). Each
-- recorded attempt writes one more index entry.
CREATE INDEX attempts_started ON attempts (started_at, state, status, duration_ns, rescued);
