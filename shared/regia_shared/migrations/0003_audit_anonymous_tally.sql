-- Anonymous requests beyond the per-address throttle (issue 22) are counted, not written
-- one row each: one row per client address per REGIA_AUDIT_ANONYMOUS_WINDOW_S holds how
-- many there were (`repeats`) and when the last came (`last_at`; `at` is the first). The
-- audit middleware (regia_shared.audit) upserts that row by `tally_key` (window start and
-- address); every other row keeps repeats = 1, tally_key and last_at NULL.
ALTER TABLE audit_log ADD COLUMN repeats integer NOT NULL DEFAULT 1 CHECK (repeats >= 1);
ALTER TABLE audit_log ADD COLUMN last_at timestamptz;
ALTER TABLE audit_log ADD COLUMN tally_key text;
CREATE UNIQUE INDEX audit_log_tally ON audit_log (tally_key) WHERE tally_key IS NOT NULL;
