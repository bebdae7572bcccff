-- Single requests and batches are two Idempotency-Key spaces (issue 22): the same key
-- string sent to POST /v1/funding-events and to /v1/funding-events/batch names two
-- independent requests. Before, they shared one record, so the second was refused as a
-- reuse, or answered with the other's body. A Kafka inbound message is a single request.
-- Keys recorded before keep their meaning: a batch's answer is {"results": [...]}, a
-- single request's never holds that field. ADD COLUMN with a constant default rewrites
-- nothing; only the batch records are updated.
ALTER TABLE idempotency_keys ADD COLUMN space text NOT NULL DEFAULT 'single'
    CHECK (space IN ('single', 'batch'));
UPDATE idempotency_keys SET space = 'batch' WHERE response ? 'results';
ALTER TABLE idempotency_keys ALTER COLUMN space DROP DEFAULT;
ALTER TABLE idempotency_keys DROP CONSTRAINT idempotency_keys_pkey;
ALTER TABLE idempotency_keys ADD PRIMARY KEY (institution_id, space, idempotency_key);
