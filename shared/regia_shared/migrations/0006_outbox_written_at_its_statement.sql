-- An outbox row's created_at is when the statement that wrote it began, not when its
-- transaction did (issue 21). The two differ by whatever the transaction did first: in
-- funding's group commit, the requests' reads and the decision, during which each event's
-- origin (its acceptance, `Envelope.origin_at`) is stamped. The benchmark's first hop,
-- origin to "funding outbox written", therefore came out negative (p50 -1 to -3 ms), and
-- an outbox's backlog age counted the time before the row existed. statement_timestamp()
-- is taken once per statement, like now(), and is never earlier than anything the writer
-- stamped before sending the statement.
ALTER TABLE outbox ALTER COLUMN created_at SET DEFAULT statement_timestamp();
