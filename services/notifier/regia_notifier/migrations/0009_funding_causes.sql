-- Why an objective's money moved: every funding event (regia.funding.v1), as the cause of
-- the alerts its objectives events bring, found by the envelope's correlation_id, which the
-- objectives service passes on. One row per event: recorded with the event's inbox record,
-- and the event id is the key, so a redelivery or a replay records nothing twice.
-- before_cents and after_cents are the line's commitment on either side of the event
-- (committed_cents - delta_cents, committed_cents). The institution's name is not copied:
-- it is read from `partners` when the cause is told, so a partner registered later still
-- gets its name.
--
-- Kept, as the inbox is (one row per funding event, a few hundred bytes): a cause is looked
-- up again when a grouped message or a digest is composed, and when an objectives event is
-- replayed from the dead letters, days later. An operator may delete old rows by
-- `recorded_at`; alerts about events replayed after that only lose their cause sentence.
CREATE TABLE funding_causes (
    event_id              uuid PRIMARY KEY,
    correlation_id        text NOT NULL,
    kind                  text NOT NULL
                          CHECK (kind IN ('committed', 'revised', 'revoked', 'disbursed', 'reallocated', 'rolled_over')),
    institution_id        text NOT NULL,
    level                 text NOT NULL,
    line_id               text NOT NULL,
    objective_id          text NOT NULL,
    fiscal_year           integer NOT NULL,
    before_cents          bigint NOT NULL,
    after_cents           bigint NOT NULL,
    disbursed_delta_cents bigint NOT NULL DEFAULT 0,
    counterpart_line_id   text,
    reason                text,
    occurred_at           timestamptz NOT NULL,
    recorded_at           timestamptz NOT NULL DEFAULT now()
);
-- Causes are read by correlation id, the latest first (of_correlations keeps the newest of
-- a correlation id that a client reuses on every request): a backward scan of this index.
CREATE INDEX funding_causes_correlation ON funding_causes (correlation_id, occurred_at, event_id);
