-- The order alerts were queued in. Alerts queued by one transaction (one consumer batch:
-- an objective's status going PARTIALLY_FUNDED → AT_RISK → UNFUNDED) share their
-- created_at, and a message states the net change from the first to the last: it must
-- read them in the order their events came, not by their ids.
ALTER TABLE waiting_alerts ADD COLUMN seq bigint GENERATED ALWAYS AS IDENTITY;
