-- Issue 19: an import run's record, written in the same transaction as the rows it
-- records (POST /v1/imports/funding-events/bulk), so that what it says the run has
-- recorded is exactly what the ledger holds: a killed CLI reads it back to know where to
-- resume (`through`) and what has been recorded per source column (`tally`).
--
-- `through` only moves forward (GREATEST in the upsert): a request replayed after a kill
-- never moves a run back. `tally` is label -> cents, summed over the submissions accepted
-- or replayed, e.g. {"FINANZ_UE": 60000000, "TOT_PAGAMENTI": 33333333}.
CREATE TABLE import_runs (
    run_id text PRIMARY KEY CONSTRAINT import_runs_id_length CHECK (length(run_id) BETWEEN 1 AND 100),
    channel text NOT NULL,
    source text NOT NULL,
    through bigint NOT NULL DEFAULT 0 CONSTRAINT import_runs_through_not_negative CHECK (through >= 0),
    accepted bigint NOT NULL DEFAULT 0,
    replayed bigint NOT NULL DEFAULT 0,
    refused bigint NOT NULL DEFAULT 0,
    tally jsonb NOT NULL DEFAULT '{}'::jsonb,
    started_by text NOT NULL,
    started_at timestamptz NOT NULL DEFAULT now(),
    updated_by text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
-- The listing (GET /v1/imports/runs): newest first, keyset on (started_at, run_id).
CREATE INDEX import_runs_started ON import_runs (started_at DESC, run_id DESC);
