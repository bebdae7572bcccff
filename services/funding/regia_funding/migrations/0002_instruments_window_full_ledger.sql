-- Instruments: the budgets and programmes a source institution funds from.
CREATE TABLE instruments (
    instrument_id  text PRIMARY KEY,
    institution_id text NOT NULL,
    name           text NOT NULL,
    kind           text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX instruments_institution ON instruments (institution_id);

-- The objectives that exist, as the objectives service announces them.
CREATE TABLE known_objectives (
    objective_id text PRIMARY KEY,
    title        text NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now()
);

-- The fiscal years open for funding: one row, rolled forward at each year-end.
CREATE TABLE budget_window (
    singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    first_year integer NOT NULL,
    last_year  integer NOT NULL CHECK (last_year >= first_year),
    updated_at timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE funding_lines ADD COLUMN instrument_id text NOT NULL DEFAULT 'unassigned';
ALTER TABLE funding_lines ALTER COLUMN instrument_id DROP DEFAULT;
-- A revocation now withdraws only what is undisbursed, so this holds for every line.
ALTER TABLE funding_lines DROP CONSTRAINT funding_lines_check;
ALTER TABLE funding_lines ADD CONSTRAINT funding_lines_disbursed_within_committed
    CHECK (disbursed_cents <= committed_cents);
CREATE INDEX funding_lines_instrument ON funding_lines (instrument_id, fiscal_year);
CREATE INDEX funding_lines_institution ON funding_lines (institution_id, fiscal_year);

ALTER TABLE ledger_entries ADD COLUMN disbursed_delta_cents bigint NOT NULL DEFAULT 0;
ALTER TABLE ledger_entries ADD COLUMN counterpart_line_id text;
CREATE INDEX ledger_entries_pushed_by ON ledger_entries (pushed_by, entry_id);

-- A key may be limited to some of its institution's instruments (NULL: all of them).
ALTER TABLE api_keys ADD COLUMN instruments text[];
