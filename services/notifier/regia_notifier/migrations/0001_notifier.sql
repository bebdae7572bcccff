-- Projections of partner events: who leads an objective and whom to tell. No foreign keys
-- between them: events of different keys (a partner, an objective) arrive in any order.
CREATE TABLE partners (
    partner_id text PRIMARY KEY,
    name       text NOT NULL,
    kind       text NOT NULL,
    level      text,
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE contacts (
    contact_id text PRIMARY KEY,
    partner_id text NOT NULL,
    name       text NOT NULL,
    email      text NOT NULL,
    language   text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX contacts_partner ON contacts (partner_id);

-- assigned_at is the event's occurred_at: an older assignment never overwrites a newer one.
CREATE TABLE objective_leads (
    objective_id text PRIMARY KEY,
    partner_id   text NOT NULL,
    assigned_at  timestamptz NOT NULL,
    event_id     uuid NOT NULL
);

-- One row per (cause event, channel, recipient): the unique key is what guarantees that a
-- person never gets the same alert twice, whatever the broker redelivers.
CREATE TABLE deliveries (
    delivery_id     uuid PRIMARY KEY,
    cause_event_id  uuid NOT NULL,
    correlation_id  text NOT NULL,
    objective_id    text NOT NULL,
    channel         text NOT NULL CHECK (channel IN ('email', 'webhook')),
    recipient       text NOT NULL,
    recipient_name  text NOT NULL,
    contact_id      text,
    partner_id      text,
    language        text NOT NULL,
    subject         text NOT NULL,
    body            text NOT NULL,
    status          text NOT NULL DEFAULT 'PENDING'
                    CHECK (status IN ('PENDING', 'SENDING', 'DELIVERED', 'DEAD')),
    attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    -- PENDING: when the next attempt is due; SENDING: when the claim expires.
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz,
    UNIQUE (cause_event_id, channel, recipient)
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status IN ('PENDING', 'SENDING');
CREATE INDEX deliveries_objective ON deliveries (objective_id, created_at);

CREATE TABLE delivery_attempts (
    delivery_id uuid NOT NULL REFERENCES deliveries (delivery_id),
    attempt     integer NOT NULL CHECK (attempt >= 1),
    at          timestamptz NOT NULL,
    duration_ms integer,
    outcome     text NOT NULL CHECK (outcome IN ('SENT', 'FAILED', 'ABANDONED')),
    error       text,
    PRIMARY KEY (delivery_id, attempt)
);

-- Wake the dispatchers at commit time; polling is only the fallback.
CREATE FUNCTION deliveries_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify(TG_TABLE_SCHEMA || '_deliveries', '');
    RETURN NULL;
END $$;
CREATE TRIGGER deliveries_inserted AFTER INSERT ON deliveries
    FOR EACH STATEMENT EXECUTE FUNCTION deliveries_notify();
