-- When the chain of events that caused a delivery started (a funding event's acceptance,
-- carried along as the envelope's origin_at), so a delivered alert can report the whole
-- funding-to-alert delay. Null for digests, which gather many causes, and older rows.
ALTER TABLE deliveries ADD COLUMN origin_at timestamptz;
