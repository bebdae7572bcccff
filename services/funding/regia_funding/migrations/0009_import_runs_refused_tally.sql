-- Issue 19: an import run also keeps, per label (e.g. per source column), the cents of the
-- submissions the service refused, written in the same transaction as the results. A CLI
-- killed and started again skips the rows an earlier attempt sent; without this it could
-- only count that attempt's refusals, not say which columns' cents they held, so a resumed
-- run with refusals could not reconcile the file to the cent. Runs recorded before this
-- version keep '{}' (their refusals were counted in `refused`, never in cents).
ALTER TABLE import_runs ADD COLUMN refused_tally jsonb NOT NULL DEFAULT '{}'::jsonb;
