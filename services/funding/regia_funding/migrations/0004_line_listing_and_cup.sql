-- Issue 18: the paged list of funding lines (GET /v1/funding-lines) and the CUP.
--
-- The CUP (Codice Unico di Progetto) a commitment may name: 15 characters, capitals and
-- digits. Nullable: lines opened before, and most lines, have none.
ALTER TABLE funding_lines ADD COLUMN cup text CONSTRAINT funding_lines_cup_format CHECK (cup ~ '^[A-Z0-9]{15}$');
CREATE INDEX funding_lines_cup ON funding_lines (cup) WHERE cup IS NOT NULL;

-- One index per (scope, sort) the list serves, so that a page is read in index order and
-- stops after `limit + 1` rows, whatever the size: the keyset predicate of a later page is
-- a row comparison on the same columns, which starts the scan where the last page ended.
-- Scopes: none (an administrator's whole instance), one objective (88,000 lines on one
-- objective after an OpenCoesione import), one institution (what an institution's key is
-- forced to). Sorts: line_id, committed (both directions: an index is read backwards as
-- fast), and updated_at. Narrower filters (year, level, status, instrument) are checked on
-- the rows the scan meets. The plans are in docs/performance.md.
CREATE INDEX funding_lines_objective_line ON funding_lines (objective_id, line_id);
CREATE INDEX funding_lines_objective_committed ON funding_lines (objective_id, committed_cents, line_id);
CREATE INDEX funding_lines_objective_updated ON funding_lines (objective_id, updated_at, line_id);
CREATE INDEX funding_lines_institution_line ON funding_lines (institution_id, line_id);
CREATE INDEX funding_lines_institution_committed ON funding_lines (institution_id, committed_cents, line_id);
CREATE INDEX funding_lines_institution_updated ON funding_lines (institution_id, updated_at, line_id);
CREATE INDEX funding_lines_committed ON funding_lines (committed_cents, line_id);
CREATE INDEX funding_lines_updated ON funding_lines (updated_at, line_id);
