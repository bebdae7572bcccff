-- The slots of 0014 and 0015 would otherwise only multiply: a backend's slot is its pid
-- modulo 64, the pool's connections are replaced over the months, and a key's rows spread
-- over up to 64 slots. The reads sum them, so the summary of a region's plans over every
-- year would read 64 times the rows it needs. summary_slots_fold() adds every slot's
-- figures into slot 0 and deletes the others, in one statement per table, so what any
-- reader sums is unchanged (a plan's coverage version too: the tree cache keyed by it stays
-- valid). The objectives service calls it every REGIA_SUMMARY_FOLD_S seconds.
-- A writer holding a slot row makes the fold wait for its commit and then fold what it
-- wrote (the lock re-reads the row); a writer arriving after the fold deleted its row waits
-- for the fold to commit and writes a new one. A writer locks only its own slot's rows, in
-- key order; the fold locks the rows it deletes in key order too, then slot 0's in key
-- order, and no writer of slot 0 wants another slot's row: so they cannot wait on each
-- other in a cycle.
CREATE FUNCTION summary_slots_fold() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    folded bigint := 0;
    n bigint;
BEGIN
    WITH locked AS MATERIALIZED (
        SELECT scope, fiscal_year, status, slot FROM coverage_summary WHERE slot <> 0 ORDER BY 1, 2, 3, 4 FOR UPDATE
    ), gone AS (
        DELETE FROM coverage_summary x USING locked l
        WHERE (x.scope, x.fiscal_year, x.status, x.slot) = (l.scope, l.fiscal_year, l.status, l.slot)
        RETURNING x.scope, x.fiscal_year, x.status, x.objective_years, x.need_cents, x.committed_cents,
                  x.counted_cents, x.disbursed_cents
    ), added AS (
        INSERT INTO coverage_summary AS s (scope, fiscal_year, status, slot, objective_years, need_cents,
                                           committed_cents, counted_cents, disbursed_cents)
        SELECT scope, fiscal_year, status, 0, sum(objective_years), sum(need_cents), sum(committed_cents),
               sum(counted_cents), sum(disbursed_cents)
        FROM gone GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        ON CONFLICT (scope, fiscal_year, status, slot) DO UPDATE SET
            objective_years = s.objective_years + EXCLUDED.objective_years,
            need_cents = s.need_cents + EXCLUDED.need_cents,
            committed_cents = s.committed_cents + EXCLUDED.committed_cents,
            counted_cents = s.counted_cents + EXCLUDED.counted_cents,
            disbursed_cents = s.disbursed_cents + EXCLUDED.disbursed_cents
        RETURNING 1
    )
    SELECT count(*) INTO n FROM gone;
    folded := folded + n;

    WITH locked AS MATERIALIZED (
        SELECT scope, fiscal_year, level, slot FROM coverage_summary_levels WHERE slot <> 0 ORDER BY 1, 2, 3, 4 FOR UPDATE
    ), gone AS (
        DELETE FROM coverage_summary_levels x USING locked l
        WHERE (x.scope, x.fiscal_year, x.level, x.slot) = (l.scope, l.fiscal_year, l.level, l.slot)
        RETURNING x.scope, x.fiscal_year, x.level, x.committed_cents
    ), added AS (
        INSERT INTO coverage_summary_levels AS s (scope, fiscal_year, level, slot, committed_cents)
        SELECT scope, fiscal_year, level, 0, sum(committed_cents) FROM gone GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        ON CONFLICT (scope, fiscal_year, level, slot) DO UPDATE SET committed_cents = s.committed_cents + EXCLUDED.committed_cents
        RETURNING 1
    )
    SELECT count(*) INTO n FROM gone;
    folded := folded + n;

    WITH locked AS MATERIALIZED (
        SELECT plan_id, slot FROM plan_versions WHERE slot <> 0 ORDER BY 1, 2 FOR UPDATE
    ), gone AS (
        DELETE FROM plan_versions x USING locked l WHERE (x.plan_id, x.slot) = (l.plan_id, l.slot)
        RETURNING x.plan_id, x.version
    ), added AS (
        INSERT INTO plan_versions AS v (plan_id, slot, version)
        SELECT plan_id, 0, sum(version) FROM gone GROUP BY 1 ORDER BY 1
        ON CONFLICT (plan_id, slot) DO UPDATE SET version = v.version + EXCLUDED.version
        RETURNING 1
    )
    SELECT count(*) INTO n FROM gone;
    folded := folded + n;

    WITH locked AS MATERIALIZED (
        SELECT scope, slot FROM objective_counts WHERE slot <> 0 ORDER BY 1, 2 FOR UPDATE
    ), gone AS (
        DELETE FROM objective_counts x USING locked l WHERE (x.scope, x.slot) = (l.scope, l.slot)
        RETURNING x.scope, x.objectives
    ), added AS (
        INSERT INTO objective_counts AS c (scope, slot, objectives)
        SELECT scope, 0, sum(objectives) FROM gone GROUP BY 1 ORDER BY 1
        ON CONFLICT (scope, slot) DO UPDATE SET objectives = c.objectives + EXCLUDED.objectives
        RETURNING 1
    )
    SELECT count(*) INTO n FROM gone;
    RETURN folded + n;
END $$;
