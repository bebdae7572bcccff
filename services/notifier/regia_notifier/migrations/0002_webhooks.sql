-- Webhook endpoints of partners (or of one of their contacts), owned here until the
-- partners service owns subscriptions. The signing secret is kept encrypted (Fernet,
-- REGIA_NOTIFIER_SECRETS_KEY): a database dump alone cannot sign a forged alert.
CREATE TABLE webhook_endpoints (
    webhook_id       text PRIMARY KEY,
    partner_id       text NOT NULL,
    contact_id       text,
    url              text NOT NULL CHECK (url ~ '^https?://'),
    secret_encrypted text NOT NULL,
    active           boolean NOT NULL DEFAULT true,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_endpoints_partner ON webhook_endpoints (partner_id) WHERE active;
