-- Issue 19, open data: the IATI file (GET /v1/open/iati-activities.xml) is one activity per
-- objective with the ledger's entries as its transactions, so funding keeps of each
-- objective what the objectives service announces in ObjectiveDefined beside its title:
-- its plan, its parent, its kind and its needs per fiscal year (the activity's budget).
-- Objectives announced before this version keep the defaults (no plan, no budget) until
-- the objectives service announces them again (a plan import that changes them, or a
-- definition).
ALTER TABLE known_objectives ADD COLUMN plan_id text;
ALTER TABLE known_objectives ADD COLUMN parent_id text;
ALTER TABLE known_objectives ADD COLUMN kind text NOT NULL DEFAULT 'OBJECTIVE';
ALTER TABLE known_objectives ADD COLUMN needs jsonb NOT NULL DEFAULT '[]';
CREATE INDEX known_objectives_parent ON known_objectives (parent_id);
