-- Concurrent writers of coverage waited on the summary's rows, as definitions waited on the
-- objective counts before 0014: coverage_summary and coverage_summary_levels hold one row
-- per scope, year and status (or level), and plan_versions one per plan, and every write of
-- coverage updates them in its own transaction (the triggers of 0008), holding them until it
-- commits. Two objectives replicas consuming different partitions, a definition beside the
-- projection, or a plan import beside either, ran one after the other whenever their
-- objectives shared a scope and year: every standalone objective shares scope ''.
-- Each of these rows is now kept in slots, one per backend (its pid modulo 64), as
-- objective_counts is: two writers meet on a row only when their backends share a slot, and
-- the reads sum a key's rows (adapters.reads, adapters.plans: a plan's coverage version is
-- the sum of its slots, which every bump still moves by one, so a tree cached under a
-- version is never served for a later state). Within one transaction the slot is the same
-- for every key, so locks are still taken in key order and two writers on one slot queue
-- rather than deadlock. The functions are those of 0008 (with 0013's setting), each row
-- written with the writer's slot.
ALTER TABLE coverage_summary ADD COLUMN slot smallint NOT NULL DEFAULT 0;
ALTER TABLE coverage_summary DROP CONSTRAINT coverage_summary_pkey;
ALTER TABLE coverage_summary ADD PRIMARY KEY (scope, fiscal_year, status, slot);
ALTER TABLE coverage_summary_levels ADD COLUMN slot smallint NOT NULL DEFAULT 0;
ALTER TABLE coverage_summary_levels DROP CONSTRAINT coverage_summary_levels_pkey;
ALTER TABLE coverage_summary_levels ADD PRIMARY KEY (scope, fiscal_year, level, slot);
ALTER TABLE plan_versions ADD COLUMN slot smallint NOT NULL DEFAULT 0;
ALTER TABLE plan_versions DROP CONSTRAINT plan_versions_pkey;
ALTER TABLE plan_versions ADD PRIMARY KEY (plan_id, slot);

CREATE OR REPLACE FUNCTION plan_versions_bump(plan_ids text[]) RETURNS void LANGUAGE sql AS $$
    INSERT INTO plan_versions AS v (plan_id, slot, version)
    SELECT DISTINCT p, (pg_backend_pid() % 64)::smallint, 1 FROM unnest(plan_ids) AS p WHERE p IS NOT NULL ORDER BY 1
    ON CONFLICT (plan_id, slot) DO UPDATE SET version = v.version + 1;
$$;

CREATE OR REPLACE FUNCTION coverage_summary_apply() RETURNS trigger LANGUAGE plpgsql SET enable_nestloop = off AS $$
DECLARE
    mine smallint := pg_backend_pid() % 64;
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO coverage_summary AS s (scope, fiscal_year, status, slot, objective_years, need_cents, committed_cents, counted_cents, disbursed_cents)
        SELECT coalesce(o.plan_id, ''), d.fiscal_year, d.status, mine, count(*),
               coalesce(sum(d.need_cents) FILTER (WHERE o.parent_id IS NULL), 0),
               coalesce(sum(d.committed_cents) FILTER (WHERE o.parent_id IS NULL), 0),
               coalesce(sum(least(coalesce(d.counted_cents, d.committed_cents), d.need_cents))
                        FILTER (WHERE o.parent_id IS NULL), 0),
               coalesce(sum(d.disbursed_cents) FILTER (WHERE o.parent_id IS NULL), 0)
        FROM new_rows d CROSS JOIN LATERAL (SELECT x.plan_id, x.parent_id FROM objectives x WHERE x.objective_id = d.objective_id OFFSET 0) o
        GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        ON CONFLICT (scope, fiscal_year, status, slot) DO UPDATE SET
            objective_years = s.objective_years + EXCLUDED.objective_years,
            need_cents = s.need_cents + EXCLUDED.need_cents,
            committed_cents = s.committed_cents + EXCLUDED.committed_cents,
            counted_cents = s.counted_cents + EXCLUDED.counted_cents,
            disbursed_cents = s.disbursed_cents + EXCLUDED.disbursed_cents;
        INSERT INTO coverage_summary_levels AS s (scope, fiscal_year, level, slot, committed_cents)
        SELECT coalesce(o.plan_id, ''), d.fiscal_year, l.key, mine, sum(l.value::numeric)
        FROM new_rows d CROSS JOIN LATERAL (SELECT x.plan_id, x.parent_id FROM objectives x WHERE x.objective_id = d.objective_id OFFSET 0) o, jsonb_each_text(d.committed_by_level) l
        WHERE o.parent_id IS NULL
        GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        ON CONFLICT (scope, fiscal_year, level, slot) DO UPDATE SET committed_cents = s.committed_cents + EXCLUDED.committed_cents;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO coverage_summary AS s (scope, fiscal_year, status, slot, objective_years, need_cents, committed_cents, counted_cents, disbursed_cents)
        SELECT coalesce(o.plan_id, ''), d.fiscal_year, d.status, mine, -count(*),
               -coalesce(sum(d.need_cents) FILTER (WHERE o.parent_id IS NULL), 0),
               -coalesce(sum(d.committed_cents) FILTER (WHERE o.parent_id IS NULL), 0),
               -coalesce(sum(least(coalesce(d.counted_cents, d.committed_cents), d.need_cents))
                         FILTER (WHERE o.parent_id IS NULL), 0),
               -coalesce(sum(d.disbursed_cents) FILTER (WHERE o.parent_id IS NULL), 0)
        FROM old_rows d CROSS JOIN LATERAL (SELECT x.plan_id, x.parent_id FROM objectives x WHERE x.objective_id = d.objective_id OFFSET 0) o
        GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        ON CONFLICT (scope, fiscal_year, status, slot) DO UPDATE SET
            objective_years = s.objective_years + EXCLUDED.objective_years,
            need_cents = s.need_cents + EXCLUDED.need_cents,
            committed_cents = s.committed_cents + EXCLUDED.committed_cents,
            counted_cents = s.counted_cents + EXCLUDED.counted_cents,
            disbursed_cents = s.disbursed_cents + EXCLUDED.disbursed_cents;
        INSERT INTO coverage_summary_levels AS s (scope, fiscal_year, level, slot, committed_cents)
        SELECT coalesce(o.plan_id, ''), d.fiscal_year, l.key, mine, -sum(l.value::numeric)
        FROM old_rows d CROSS JOIN LATERAL (SELECT x.plan_id, x.parent_id FROM objectives x WHERE x.objective_id = d.objective_id OFFSET 0) o, jsonb_each_text(d.committed_by_level) l
        WHERE o.parent_id IS NULL
        GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        ON CONFLICT (scope, fiscal_year, level, slot) DO UPDATE SET committed_cents = s.committed_cents + EXCLUDED.committed_cents;
    ELSE
        -- An update: each row's new figures minus its old, for the rows whose figures
        -- moved, each node looked up once; the plan's version moves with them (the tree
        -- shows coverage_bp and the single-level warning too). Rows whose figures did not
        -- move, and keys whose totals did not, are left alone, so they are not locked.
        WITH moved AS (
            SELECT coalesce(o.plan_id, '') AS scope, o.parent_id IS NULL AS top, n.fiscal_year,
                   n.status AS n_status, p.status AS p_status,
                   n.need_cents AS n_need, p.need_cents AS p_need,
                   n.committed_cents AS n_committed, p.committed_cents AS p_committed,
                   least(coalesce(n.counted_cents, n.committed_cents), n.need_cents) AS n_counted,
                   least(coalesce(p.counted_cents, p.committed_cents), p.need_cents) AS p_counted,
                   n.disbursed_cents AS n_disbursed, p.disbursed_cents AS p_disbursed,
                   n.committed_by_level AS n_levels, p.committed_by_level AS p_levels
            FROM new_rows n JOIN old_rows p USING (objective_id, fiscal_year)
            CROSS JOIN LATERAL (SELECT x.plan_id, x.parent_id FROM objectives x
                                WHERE x.objective_id = n.objective_id OFFSET 0) o
            WHERE (n.status, n.need_cents, n.committed_cents, n.counted_cents, n.disbursed_cents,
                   n.committed_by_level, n.coverage_bp, n.dominant_level)
                  IS DISTINCT FROM (p.status, p.need_cents, p.committed_cents, p.counted_cents,
                   p.disbursed_cents, p.committed_by_level, p.coverage_bp, p.dominant_level)
        ), versions AS (
            INSERT INTO plan_versions AS v (plan_id, slot, version)
            SELECT DISTINCT scope, mine, 1 FROM moved WHERE scope <> '' ORDER BY 1
            ON CONFLICT (plan_id, slot) DO UPDATE SET version = v.version + 1
        ), totals AS (
            INSERT INTO coverage_summary AS s (scope, fiscal_year, status, slot, objective_years, need_cents, committed_cents, counted_cents, disbursed_cents)
            SELECT scope, fiscal_year, status, mine, sum(n), sum(need), sum(committed), sum(counted), sum(disbursed)
            FROM (
                SELECT scope, fiscal_year, n_status AS status, 1 AS n,
                       CASE WHEN top THEN n_need ELSE 0 END AS need,
                       CASE WHEN top THEN n_committed ELSE 0 END AS committed,
                       CASE WHEN top THEN n_counted ELSE 0 END AS counted,
                       CASE WHEN top THEN n_disbursed ELSE 0 END AS disbursed
                FROM moved
                UNION ALL
                SELECT scope, fiscal_year, p_status, -1,
                       CASE WHEN top THEN -p_need ELSE 0 END, CASE WHEN top THEN -p_committed ELSE 0 END,
                       CASE WHEN top THEN -p_counted ELSE 0 END, CASE WHEN top THEN -p_disbursed ELSE 0 END
                FROM moved
            ) x
            GROUP BY 1, 2, 3
            HAVING sum(n) <> 0 OR sum(need) <> 0 OR sum(committed) <> 0 OR sum(counted) <> 0 OR sum(disbursed) <> 0
            ORDER BY 1, 2, 3
            ON CONFLICT (scope, fiscal_year, status, slot) DO UPDATE SET
                objective_years = s.objective_years + EXCLUDED.objective_years,
                need_cents = s.need_cents + EXCLUDED.need_cents,
                committed_cents = s.committed_cents + EXCLUDED.committed_cents,
                counted_cents = s.counted_cents + EXCLUDED.counted_cents,
                disbursed_cents = s.disbursed_cents + EXCLUDED.disbursed_cents
        )
        INSERT INTO coverage_summary_levels AS s (scope, fiscal_year, level, slot, committed_cents)
        SELECT m.scope, m.fiscal_year, l.key, mine, sum(m.sign * l.value::numeric)
        FROM (
            SELECT scope, fiscal_year, 1 AS sign, n_levels AS levels FROM moved WHERE top AND n_levels IS DISTINCT FROM p_levels
            UNION ALL
            SELECT scope, fiscal_year, -1, p_levels FROM moved WHERE top AND n_levels IS DISTINCT FROM p_levels
        ) m, jsonb_each_text(m.levels) l
        GROUP BY 1, 2, 3 HAVING sum(m.sign * l.value::numeric) <> 0 ORDER BY 1, 2, 3
        ON CONFLICT (scope, fiscal_year, level, slot) DO UPDATE SET committed_cents = s.committed_cents + EXCLUDED.committed_cents;
    END IF;
    RETURN NULL;
END $$;


CREATE OR REPLACE FUNCTION coverage_summary_node_moved() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    mine smallint := pg_backend_pid() % 64;
BEGIN
    INSERT INTO coverage_summary AS s (scope, fiscal_year, status, slot, objective_years, need_cents, committed_cents, counted_cents, disbursed_cents)
    SELECT k.scope, c.fiscal_year, c.status, mine, k.sign * count(*),
           k.sign * coalesce(sum(c.need_cents) FILTER (WHERE k.top), 0),
           k.sign * coalesce(sum(c.committed_cents) FILTER (WHERE k.top), 0),
           k.sign * coalesce(sum(least(coalesce(c.counted_cents, c.committed_cents), c.need_cents)) FILTER (WHERE k.top), 0),
           k.sign * coalesce(sum(c.disbursed_cents) FILTER (WHERE k.top), 0)
    FROM coverage c,
         (VALUES (-1, coalesce(OLD.plan_id, ''), OLD.parent_id IS NULL),
                 (1, coalesce(NEW.plan_id, ''), NEW.parent_id IS NULL)) AS k(sign, scope, top)
    WHERE c.objective_id = NEW.objective_id
    GROUP BY k.sign, k.scope, c.fiscal_year, c.status ORDER BY 1, 2, 3
    ON CONFLICT (scope, fiscal_year, status, slot) DO UPDATE SET
        objective_years = s.objective_years + EXCLUDED.objective_years,
        need_cents = s.need_cents + EXCLUDED.need_cents,
        committed_cents = s.committed_cents + EXCLUDED.committed_cents,
        counted_cents = s.counted_cents + EXCLUDED.counted_cents,
        disbursed_cents = s.disbursed_cents + EXCLUDED.disbursed_cents;
    INSERT INTO coverage_summary_levels AS s (scope, fiscal_year, level, slot, committed_cents)
    SELECT k.scope, c.fiscal_year, l.key, mine, sum(k.sign * l.value::numeric)
    FROM coverage c, jsonb_each_text(c.committed_by_level) l,
         (VALUES (-1, coalesce(OLD.plan_id, ''), OLD.parent_id IS NULL),
                 (1, coalesce(NEW.plan_id, ''), NEW.parent_id IS NULL)) AS k(sign, scope, top)
    WHERE c.objective_id = NEW.objective_id AND k.top
    GROUP BY k.scope, c.fiscal_year, l.key ORDER BY 1, 2, 3
    ON CONFLICT (scope, fiscal_year, level, slot) DO UPDATE SET committed_cents = s.committed_cents + EXCLUDED.committed_cents;
    RETURN NULL;
END $$;
