-- Every e-mail alert now waits before it is sent: for its person's grouping window (a few
-- seconds of quiet, REGIA_NOTIFIER_GROUP_WAIT_S), or for their daily or weekly digest.
-- The daily digests' queue becomes the queue of every waiting alert, and a waiting alert
-- keeps its occurrence (`occurrence`, JSON), so the message that carries it is written
-- when it goes, from the net change of all it carries. Rows queued before keep their
-- rendered section and are shown as they were.
ALTER TABLE digest_items RENAME TO waiting_alerts;
ALTER TABLE waiting_alerts RENAME CONSTRAINT digest_items_pkey TO waiting_alerts_pkey;
ALTER INDEX digest_items_due RENAME TO waiting_alerts_due;
-- The message (a delivery) that carried it, once sent on its way.
ALTER TABLE waiting_alerts RENAME COLUMN digest_id TO message_id;
ALTER TABLE waiting_alerts
    ADD COLUMN cadence text NOT NULL DEFAULT 'daily_digest'
        CHECK (cadence IN ('immediate', 'daily_digest', 'weekly_digest')),
    ADD COLUMN occurrence jsonb,
    -- When the chain that caused it started (a funding event's acceptance), for the
    -- funding-to-alert histogram of the message that carries it.
    ADD COLUMN origin_at timestamptz,
    -- Carried by no message: its changes and later ones cancelled out.
    ADD COLUMN settled boolean NOT NULL DEFAULT false;
-- The open groups, looked at every few seconds: by person, among alerts not yet carried.
CREATE INDEX waiting_alerts_open ON waiting_alerts (cadence, lower(email), created_at) WHERE message_id IS NULL;

-- Wake the job that puts messages together as soon as an alert is queued (the window may
-- be 0: send at once).
CREATE FUNCTION waiting_alerts_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify(TG_TABLE_SCHEMA || '_waiting_alerts', '');
    RETURN NULL;
END $$;
CREATE TRIGGER waiting_alerts_queued AFTER INSERT ON waiting_alerts
    FOR EACH STATEMENT EXECUTE FUNCTION waiting_alerts_notify();
