-- The relay route that made a delivery ('' for none): its settings may
-- override the space's.
ALTER TABLE deliveries ADD COLUMN route TEXT NOT NULL DEFAULT '';
