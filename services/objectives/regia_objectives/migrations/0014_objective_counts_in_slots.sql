-- Concurrent definitions waited on one row: objective_counts held one count per scope, and
-- every new standalone objective (scope '') updated the same row from its INSERT until its
-- transaction committed, so definitions sent together ran one after the other (the
-- benchmark's 800, sixteen at a time: 73 ms a definition, nearly all of it this wait).
-- Each scope's count is now kept in slots, one per backend (its pid modulo 64): two
-- writers meet on a row only when their backends share a slot (a pool's ten connections
-- rarely do), and the reads already sum the rows of a scope (adapters.reads). Within one
-- transaction the slot is the same for every scope, so locks are still taken in scope
-- order and two writers on one slot queue rather than deadlock.
ALTER TABLE objective_counts ADD COLUMN slot smallint NOT NULL DEFAULT 0;
ALTER TABLE objective_counts DROP CONSTRAINT objective_counts_pkey;
ALTER TABLE objective_counts ADD PRIMARY KEY (scope, slot);

CREATE OR REPLACE FUNCTION objective_counts_apply() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    mine smallint := pg_backend_pid() % 64;
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO objective_counts AS s (scope, slot, objectives)
        SELECT coalesce(plan_id, ''), mine, count(*) FROM new_rows GROUP BY 1 ORDER BY 1
        ON CONFLICT (scope, slot) DO UPDATE SET objectives = s.objectives + EXCLUDED.objectives;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO objective_counts AS s (scope, slot, objectives)
        SELECT coalesce(plan_id, ''), mine, -count(*) FROM old_rows GROUP BY 1 ORDER BY 1
        ON CONFLICT (scope, slot) DO UPDATE SET objectives = s.objectives + EXCLUDED.objectives;
    ELSE
        INSERT INTO objective_counts AS s (scope, slot, objectives)
        SELECT scope, mine, sum(n) FROM (
            SELECT coalesce(plan_id, '') AS scope, 1 AS n FROM new_rows
            UNION ALL SELECT coalesce(plan_id, ''), -1 FROM old_rows
        ) d GROUP BY scope HAVING sum(n) <> 0 ORDER BY scope
        ON CONFLICT (scope, slot) DO UPDATE SET objectives = s.objectives + EXCLUDED.objectives;
    END IF;
    RETURN NULL;
END $$;
