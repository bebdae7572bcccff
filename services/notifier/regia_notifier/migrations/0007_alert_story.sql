-- The story an alert tells: where the objective sits in its plan (its parent and kind,
-- from ObjectiveDefined), its at-risk threshold (for the gap of a funding drop, whose
-- event does not carry it), and the committed money by level of government of each
-- objective-year (from ObjectiveCoverageChanged). Null where not known yet.
ALTER TABLE objectives
    ADD COLUMN parent_id             text,
    ADD COLUMN kind                  text,
    ADD COLUMN at_risk_threshold_pct integer;

ALTER TABLE objective_commitments ADD COLUMN committed_by_level jsonb;
