-- Issue 19: money of closed fiscal years that funding recorded as history (an
-- administrator's `history` import, FundingLineChanged.history). It counts in coverage like
-- any money, and is shown apart so every read says which part of a year is history.
--
-- A line's flag, as funding published it; lines projected before were never history.
ALTER TABLE line_allocations ADD COLUMN history boolean NOT NULL DEFAULT false;
-- The part of a coverage row's committed money that is history (its subtree's, on a parent,
-- as committed_cents is). Rows written before held none.
ALTER TABLE coverage ADD COLUMN history_cents bigint NOT NULL DEFAULT 0;
-- A closed review keeps the history part of each node's money, frozen with the rest.
-- Adding a column fires no row trigger: reviews closed before keep their figures and read 0.
ALTER TABLE review_items ADD COLUMN history_cents bigint NOT NULL DEFAULT 0;
