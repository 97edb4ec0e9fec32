-- A messageId is unique within a Google space (a lane) while a delivery
-- carries it (store.EnqueueRequest.UniqueMessageID): Enqueue looks it up
-- by lane.
CREATE INDEX deliveries_message_id ON deliveries (lane, message_id) WHERE message_id <> '';
