-- Coverage reads its money from institution_totals, not from the lines (issue 21).
--
-- Every batch of funding events recomputed each objective-year it moved by summing all of
-- that year's lines in line_allocations: an objective with forty lines cost forty rows
-- read, one with 88,000 (the largest of the region in docs/performance.md) 88,000 rows
-- for every batch that touched it. institution_totals already holds the same sums per
-- (objective, year, institution, level), kept by the statement that upserts the lines,
-- in the same transaction; what coverage needs besides is the part of the money that is
-- history. So that part is kept there too, and `allocations.for_keys` reads a few rows
-- per objective-year however many lines it has.
--
-- The history part moves by the line's committed money before and after, each counted
-- if the line was history then: `history_before` keeps the flag a line had before its
-- last upsert, as committed_before_cents keeps its money.
ALTER TABLE line_allocations ADD COLUMN history_before boolean NOT NULL DEFAULT false;
ALTER TABLE institution_totals ADD COLUMN history_cents bigint NOT NULL DEFAULT 0;

-- Recomputed from the lines, as a coverage rebuild does: coverage now depends on these
-- sums, so they start exact whatever came before.
DELETE FROM institution_totals;
INSERT INTO institution_totals (objective_id, fiscal_year, institution_id, level, committed_cents, disbursed_cents,
                                line_count, history_cents)
SELECT objective_id, fiscal_year, institution_id, level, sum(committed_cents), sum(disbursed_cents), count(*),
       coalesce(sum(committed_cents) FILTER (WHERE history), 0)
FROM line_allocations GROUP BY objective_id, fiscal_year, institution_id, level;
