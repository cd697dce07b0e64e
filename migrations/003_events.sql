-- 003: event delivery. published_seq numbers events in the order they were published; it is assigned
-- under an advisory lock, so its values become visible in order and readers (the event stream, SSE
-- resume with Last-Event-ID) can follow it with a cursor without missing anything.

CREATE SEQUENCE outbox_published_seq;
ALTER TABLE outbox ADD COLUMN published_seq bigint;
CREATE UNIQUE INDEX outbox_by_published_seq ON outbox (published_seq) WHERE published_seq IS NOT NULL;
CREATE INDEX outbox_claimed_by ON outbox (claimed_by) WHERE claimed_by IS NOT NULL AND published_at IS NULL;
