-- A claim counts the calls under way to each webhook endpoint (its SENDING rows, whichever
-- replica holds them) to keep a slow endpoint to its own few sending slots; this keeps that
-- count off the due index, which also holds every PENDING row of a backlog.
CREATE INDEX deliveries_webhooks_sending ON deliveries (recipient)
    WHERE status = 'SENDING' AND channel = 'webhook';
