-- The console charts each relay space's sends and 429s over the last hour
-- (store.Admin.Activity): the attempts of a window, by start, without
-- reading the whole history. Each recorded attempt writes one more index
-- entry.
CREATE INDEX attempts_started ON attempts (started_at);
