-- The outbox's UNIQUE (event_id) goes (issue 21). Nothing reads an outbox row by its event
-- id: the relay reads by id, an operator's replay by time, and every consumer deduplicates
-- by event id in its own inbox. An event id is unique where it is made (a UUIDv7, from
-- regia_shared.contracts.events.envelope), and the index cost every event twice: once when
-- the row was written and again when the relay marked it published (that UPDATE moves
-- published_at, which the partial index's predicate reads, so it is never a HOT update
-- and every index of the table takes a new entry).
ALTER TABLE outbox DROP CONSTRAINT IF EXISTS outbox_event_id_key;
