-- Institutions as the funding service knows them: a projection of partner events.
CREATE TABLE institutions (
    institution_id text PRIMARY KEY,
    name           text NOT NULL,
    level          text NOT NULL,
    updated_at     timestamptz NOT NULL DEFAULT now()
);

-- Per-institution API keys; only the SHA-256 of a key is kept.
CREATE TABLE api_keys (
    key_id         text PRIMARY KEY,
    institution_id text NOT NULL,
    key_sha256     text NOT NULL,
    label          text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    revoked_at     timestamptz
);
CREATE INDEX api_keys_institution ON api_keys (institution_id);

CREATE TABLE funding_lines (
    line_id         text PRIMARY KEY,
    institution_id  text    NOT NULL,
    level           text    NOT NULL,
    objective_id    text    NOT NULL,
    fiscal_year     integer NOT NULL,
    committed_cents bigint  NOT NULL CHECK (committed_cents >= 0),
    disbursed_cents bigint  NOT NULL CHECK (disbursed_cents >= 0),
    version         integer NOT NULL CHECK (version >= 1),
    status          text    NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CHECK (disbursed_cents <= committed_cents OR status = 'REVOKED')
);
CREATE INDEX funding_lines_objective ON funding_lines (objective_id, fiscal_year);

-- The ledger is append-only: a correction is a new entry, never an edit.
CREATE TABLE ledger_entries (
    entry_id        bigserial PRIMARY KEY,
    line_id         text    NOT NULL REFERENCES funding_lines (line_id),
    line_version    integer NOT NULL,
    kind            text    NOT NULL,
    delta_cents     bigint  NOT NULL,
    committed_after bigint  NOT NULL,
    disbursed_after bigint  NOT NULL,
    reason          text,
    pushed_by       text    NOT NULL,
    key_id          text,
    channel         text    NOT NULL,
    event_id        uuid    NOT NULL UNIQUE,
    correlation_id  text    NOT NULL,
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (line_id, line_version)
);

CREATE FUNCTION ledger_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger_entries is append-only: % refused', TG_OP;
END $$;
CREATE TRIGGER ledger_append_only BEFORE UPDATE OR DELETE ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION ledger_is_append_only();

-- Idempotency-Key records, written in the same transaction as the effect they protect.
CREATE TABLE idempotency_keys (
    institution_id  text NOT NULL,
    idempotency_key text NOT NULL,
    request_sha256  text NOT NULL,
    status_code     integer NOT NULL,
    response        jsonb NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (institution_id, idempotency_key)
);
