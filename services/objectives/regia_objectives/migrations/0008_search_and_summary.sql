-- Issue 18: an index behind the list's `q=` search, and the overview's counts and money
-- kept as they change, so neither reads every objective (200,000 of them in a region).

-- Search. A trigram index (pg_trgm) would keep `q` a substring match, but in production
-- each service's role owns its schema and may not CREATE EXTENSION (it lacks CREATE on
-- the database: deploy/postgres/init/10-regia-roles.sh), and a migration must run under
-- that role. So `q` matches word prefixes instead: every word of it begins a word of the
-- objective's id or title, case and accents ignored ("miglio bl" finds "Il Miglio Blu",
-- "citta" finds "Città"). Words are PostgreSQL's own text-search words (config `simple`:
-- no stemming, no stop words) of the folded text, on both sides, so the query splits a
-- hyphenated id exactly as the index did. Accents are folded by hand, upper case too:
-- lower() of "À" depends on the database's locale (under C it is left as it is), and so
-- does which letters the text-search parser knows, so the folded text is plain ASCII
-- wherever Italian needs it. A hyphen before a digit becomes a space: the parser reads
-- "-2027" in "wf-2027-001" as a negative number, which "2027" would not find.
CREATE FUNCTION objectives_fold(t text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN lower(translate(regexp_replace(t, '-([0-9])', ' \1', 'g'),
                           'àáâãäåāèéêëēìíîïīòóôõöōùúûüūçñÀÁÂÃÄÅĀÈÉÊËĒÌÍÎÏĪÒÓÔÕÖŌÙÚÛÜŪÇÑ',
                           'aaaaaaaeeeeeiiiiioooooouuuuucnAAAAAAAEEEEEIIIIIOOOOOOUUUUUCN'));

-- The query for `q`: each of its words as a prefix, all required; no word at all (`%`)
-- gives an empty query, which matches nothing. The parts of a hyphenated word ("rs" and
-- "s1000" of "rs-s1000") are left out when the whole is there: the whole implies them,
-- and a part as common as "rs" would read the index entries of every objective.
CREATE FUNCTION objectives_search_query(q text) RETURNS tsquery LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN coalesce(
        (SELECT string_agg(quote_literal(w.lexeme) || ':*', ' & ')
           FROM unnest(to_tsvector('simple'::regconfig, objectives_fold(q))) AS w
          WHERE NOT EXISTS (SELECT 1 FROM unnest(to_tsvector('simple'::regconfig, objectives_fold(q))) AS whole
                             WHERE whole.lexeme LIKE '%-%' AND whole.lexeme <> w.lexeme
                               AND w.lexeme = ANY(string_to_array(whole.lexeme, '-')))),
        '')::tsquery;

ALTER TABLE objectives ADD COLUMN search tsvector GENERATED ALWAYS AS (
    to_tsvector('simple'::regconfig, objectives_fold(objective_id || ' ' || title))
) STORED;
CREATE INDEX objectives_search ON objectives USING gin (search);

-- The overview (GET /v1/summary): per scope (a plan's id, '' for standalone objectives),
-- year and status, the number of objective-years and the money of the top-level ones
-- (standalone objectives and plan roots, whose figures already hold their subtree's, so
-- each euro is counted once); and per scope, year and level the committed money of the
-- same. Counting this over coverage on each read took 65-170 ms at 600,000 rows; these
-- tables hold a few rows per plan and year. Kept by the statement triggers below, in the
-- transaction of whatever writes coverage (the projection, a rebuild, a plan import), so
-- they never disagree with it; the upserts go in key order, so two batches touching the
-- same rows queue rather than deadlock.
CREATE TABLE coverage_summary (
    scope           text    NOT NULL,
    fiscal_year     integer NOT NULL,
    status          text    NOT NULL,
    objective_years bigint  NOT NULL,
    need_cents      numeric NOT NULL,
    committed_cents numeric NOT NULL,
    counted_cents   numeric NOT NULL,
    disbursed_cents numeric NOT NULL,
    PRIMARY KEY (scope, fiscal_year, status)
);
CREATE TABLE coverage_summary_levels (
    scope           text    NOT NULL,
    fiscal_year     integer NOT NULL,
    level           text    NOT NULL,
    committed_cents numeric NOT NULL,
    PRIMARY KEY (scope, fiscal_year, level)
);

CREATE FUNCTION coverage_summary_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO coverage_summary AS s
        SELECT coalesce(o.plan_id, ''), d.fiscal_year, d.status, count(*),
               coalesce(sum(d.need_cents) FILTER (WHERE o.parent_id IS NULL), 0),
               coalesce(sum(d.committed_cents) FILTER (WHERE o.parent_id IS NULL), 0),
               coalesce(sum(least(coalesce(d.counted_cents, d.committed_cents), d.need_cents))
                        FILTER (WHERE o.parent_id IS NULL), 0),
               coalesce(sum(d.disbursed_cents) FILTER (WHERE o.parent_id IS NULL), 0)
        FROM new_rows d CROSS JOIN LATERAL (SELECT x.plan_id, x.parent_id FROM objectives x WHERE x.objective_id = d.objective_id OFFSET 0) o
        GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        ON CONFLICT (scope, fiscal_year, status) DO UPDATE SET
            objective_years = s.objective_years + EXCLUDED.objective_years,
            need_cents = s.need_cents + EXCLUDED.need_cents,
            committed_cents = s.committed_cents + EXCLUDED.committed_cents,
            counted_cents = s.counted_cents + EXCLUDED.counted_cents,
            disbursed_cents = s.disbursed_cents + EXCLUDED.disbursed_cents;
        INSERT INTO coverage_summary_levels AS s
        SELECT coalesce(o.plan_id, ''), d.fiscal_year, l.key, sum(l.value::numeric)
        FROM new_rows d CROSS JOIN LATERAL (SELECT x.plan_id, x.parent_id FROM objectives x WHERE x.objective_id = d.objective_id OFFSET 0) o, jsonb_each_text(d.committed_by_level) l
        WHERE o.parent_id IS NULL
        GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        ON CONFLICT (scope, fiscal_year, level) DO UPDATE SET committed_cents = s.committed_cents + EXCLUDED.committed_cents;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO coverage_summary AS s
        SELECT coalesce(o.plan_id, ''), d.fiscal_year, d.status, -count(*),
               -coalesce(sum(d.need_cents) FILTER (WHERE o.parent_id IS NULL), 0),
               -coalesce(sum(d.committed_cents) FILTER (WHERE o.parent_id IS NULL), 0),
               -coalesce(sum(least(coalesce(d.counted_cents, d.committed_cents), d.need_cents))
                         FILTER (WHERE o.parent_id IS NULL), 0),
               -coalesce(sum(d.disbursed_cents) FILTER (WHERE o.parent_id IS NULL), 0)
        FROM old_rows d CROSS JOIN LATERAL (SELECT x.plan_id, x.parent_id FROM objectives x WHERE x.objective_id = d.objective_id OFFSET 0) o
        GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        ON CONFLICT (scope, fiscal_year, status) DO UPDATE SET
            objective_years = s.objective_years + EXCLUDED.objective_years,
            need_cents = s.need_cents + EXCLUDED.need_cents,
            committed_cents = s.committed_cents + EXCLUDED.committed_cents,
            counted_cents = s.counted_cents + EXCLUDED.counted_cents,
            disbursed_cents = s.disbursed_cents + EXCLUDED.disbursed_cents;
        INSERT INTO coverage_summary_levels AS s
        SELECT coalesce(o.plan_id, ''), d.fiscal_year, l.key, -sum(l.value::numeric)
        FROM old_rows d CROSS JOIN LATERAL (SELECT x.plan_id, x.parent_id FROM objectives x WHERE x.objective_id = d.objective_id OFFSET 0) o, jsonb_each_text(d.committed_by_level) l
        WHERE o.parent_id IS NULL
        GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        ON CONFLICT (scope, fiscal_year, level) DO UPDATE SET committed_cents = s.committed_cents + EXCLUDED.committed_cents;
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
            INSERT INTO plan_versions AS v
            SELECT DISTINCT scope, 1 FROM moved WHERE scope <> '' ORDER BY 1
            ON CONFLICT (plan_id) DO UPDATE SET version = v.version + 1
        ), totals AS (
            INSERT INTO coverage_summary AS s
            SELECT scope, fiscal_year, status, sum(n), sum(need), sum(committed), sum(counted), sum(disbursed)
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
            ON CONFLICT (scope, fiscal_year, status) DO UPDATE SET
                objective_years = s.objective_years + EXCLUDED.objective_years,
                need_cents = s.need_cents + EXCLUDED.need_cents,
                committed_cents = s.committed_cents + EXCLUDED.committed_cents,
                counted_cents = s.counted_cents + EXCLUDED.counted_cents,
                disbursed_cents = s.disbursed_cents + EXCLUDED.disbursed_cents
        )
        INSERT INTO coverage_summary_levels AS s
        SELECT m.scope, m.fiscal_year, l.key, sum(m.sign * l.value::numeric)
        FROM (
            SELECT scope, fiscal_year, 1 AS sign, n_levels AS levels FROM moved WHERE top AND n_levels IS DISTINCT FROM p_levels
            UNION ALL
            SELECT scope, fiscal_year, -1, p_levels FROM moved WHERE top AND n_levels IS DISTINCT FROM p_levels
        ) m, jsonb_each_text(m.levels) l
        GROUP BY 1, 2, 3 HAVING sum(m.sign * l.value::numeric) <> 0 ORDER BY 1, 2, 3
        ON CONFLICT (scope, fiscal_year, level) DO UPDATE SET committed_cents = s.committed_cents + EXCLUDED.committed_cents;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER coverage_summary_insert AFTER INSERT ON coverage
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION coverage_summary_apply();
CREATE TRIGGER coverage_summary_update AFTER UPDATE ON coverage
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION coverage_summary_apply();
CREATE TRIGGER coverage_summary_delete AFTER DELETE ON coverage
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION coverage_summary_apply();

-- A node moved into another plan, or between root and child: its coverage rows count
-- under its new place. (A node is deleted only after its coverage rows, by the FK.)
CREATE FUNCTION coverage_summary_node_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO coverage_summary AS s
    SELECT k.scope, c.fiscal_year, c.status, k.sign * count(*),
           k.sign * coalesce(sum(c.need_cents) FILTER (WHERE k.top), 0),
           k.sign * coalesce(sum(c.committed_cents) FILTER (WHERE k.top), 0),
           k.sign * coalesce(sum(least(coalesce(c.counted_cents, c.committed_cents), c.need_cents)) FILTER (WHERE k.top), 0),
           k.sign * coalesce(sum(c.disbursed_cents) FILTER (WHERE k.top), 0)
    FROM coverage c,
         (VALUES (-1, coalesce(OLD.plan_id, ''), OLD.parent_id IS NULL),
                 (1, coalesce(NEW.plan_id, ''), NEW.parent_id IS NULL)) AS k(sign, scope, top)
    WHERE c.objective_id = NEW.objective_id
    GROUP BY k.sign, k.scope, c.fiscal_year, c.status ORDER BY 1, 2, 3
    ON CONFLICT (scope, fiscal_year, status) DO UPDATE SET
        objective_years = s.objective_years + EXCLUDED.objective_years,
        need_cents = s.need_cents + EXCLUDED.need_cents,
        committed_cents = s.committed_cents + EXCLUDED.committed_cents,
        counted_cents = s.counted_cents + EXCLUDED.counted_cents,
        disbursed_cents = s.disbursed_cents + EXCLUDED.disbursed_cents;
    INSERT INTO coverage_summary_levels AS s
    SELECT k.scope, c.fiscal_year, l.key, sum(k.sign * l.value::numeric)
    FROM coverage c, jsonb_each_text(c.committed_by_level) l,
         (VALUES (-1, coalesce(OLD.plan_id, ''), OLD.parent_id IS NULL),
                 (1, coalesce(NEW.plan_id, ''), NEW.parent_id IS NULL)) AS k(sign, scope, top)
    WHERE c.objective_id = NEW.objective_id AND k.top
    GROUP BY k.scope, c.fiscal_year, l.key ORDER BY 1, 2, 3
    ON CONFLICT (scope, fiscal_year, level) DO UPDATE SET committed_cents = s.committed_cents + EXCLUDED.committed_cents;
    RETURN NULL;
END $$;
CREATE TRIGGER coverage_summary_node_moved AFTER UPDATE OF plan_id, parent_id ON objectives
    FOR EACH ROW WHEN (OLD.plan_id IS DISTINCT FROM NEW.plan_id OR (OLD.parent_id IS NULL) <> (NEW.parent_id IS NULL))
    EXECUTE FUNCTION coverage_summary_node_moved();

-- What exists already.
INSERT INTO coverage_summary
SELECT coalesce(o.plan_id, ''), c.fiscal_year, c.status, count(*),
       coalesce(sum(c.need_cents) FILTER (WHERE o.parent_id IS NULL), 0),
       coalesce(sum(c.committed_cents) FILTER (WHERE o.parent_id IS NULL), 0),
       coalesce(sum(least(coalesce(c.counted_cents, c.committed_cents), c.need_cents)) FILTER (WHERE o.parent_id IS NULL), 0),
       coalesce(sum(c.disbursed_cents) FILTER (WHERE o.parent_id IS NULL), 0)
FROM coverage c JOIN objectives o USING (objective_id)
GROUP BY 1, 2, 3;
INSERT INTO coverage_summary_levels
SELECT coalesce(o.plan_id, ''), c.fiscal_year, l.key, sum(l.value::numeric)
FROM coverage c JOIN objectives o USING (objective_id), jsonb_each_text(c.committed_by_level) l
WHERE o.parent_id IS NULL
GROUP BY 1, 2, 3;

-- The number of objectives per scope, for the summary without a year (count(*) over
-- 200,000 objectives took 45-50 ms). Kept by statement triggers on objectives.
CREATE TABLE objective_counts (
    scope      text PRIMARY KEY,
    objectives bigint NOT NULL
);
CREATE FUNCTION objective_counts_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO objective_counts AS s
        SELECT coalesce(plan_id, ''), count(*) FROM new_rows GROUP BY 1 ORDER BY 1
        ON CONFLICT (scope) DO UPDATE SET objectives = s.objectives + EXCLUDED.objectives;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO objective_counts AS s
        SELECT coalesce(plan_id, ''), -count(*) FROM old_rows GROUP BY 1 ORDER BY 1
        ON CONFLICT (scope) DO UPDATE SET objectives = s.objectives + EXCLUDED.objectives;
    ELSE
        INSERT INTO objective_counts AS s
        SELECT scope, sum(n) FROM (
            SELECT coalesce(plan_id, '') AS scope, 1 AS n FROM new_rows
            UNION ALL SELECT coalesce(plan_id, ''), -1 FROM old_rows
        ) d GROUP BY scope HAVING sum(n) <> 0 ORDER BY scope
        ON CONFLICT (scope) DO UPDATE SET objectives = s.objectives + EXCLUDED.objectives;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER objective_counts_insert AFTER INSERT ON objectives
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION objective_counts_apply();
CREATE TRIGGER objective_counts_update AFTER UPDATE ON objectives
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION objective_counts_apply();
CREATE TRIGGER objective_counts_delete AFTER DELETE ON objectives
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION objective_counts_apply();
INSERT INTO objective_counts SELECT coalesce(plan_id, ''), count(*) FROM objectives GROUP BY 1;

-- Two versions per plan, moved by every write that changes what GET /v1/plans/{id} shows,
-- in the writer's own transaction: plan_versions by coverage (here and in
-- coverage_summary_apply), plan_definitions by the plan, its nodes, their needs and leads.
-- The service keeps the last trees it wrote, keyed by both: a read whose plan has not
-- moved sends them again instead of writing 3,000 rows anew (60-100 ms). Two rows, not
-- one, so that locks are always taken in the same order: a plan import locks its
-- definition row, then coverage rows, then the coverage version; a consumer batch locks
-- coverage rows, then the coverage version. With one row, an import and a batch on the
-- same plan could each hold what the other waits for.
CREATE TABLE plan_versions (
    plan_id text PRIMARY KEY,
    version bigint NOT NULL
);
CREATE TABLE plan_definitions (
    plan_id text PRIMARY KEY,
    version bigint NOT NULL
);
CREATE FUNCTION plan_versions_bump(plan_ids text[]) RETURNS void LANGUAGE sql AS $$
    INSERT INTO plan_versions AS v
    SELECT DISTINCT p, 1 FROM unnest(plan_ids) AS p WHERE p IS NOT NULL ORDER BY 1
    ON CONFLICT (plan_id) DO UPDATE SET version = v.version + 1;
$$;
CREATE FUNCTION plan_definitions_bump(plan_ids text[]) RETURNS void LANGUAGE sql AS $$
    INSERT INTO plan_definitions AS v
    SELECT DISTINCT p, 1 FROM unnest(plan_ids) AS p WHERE p IS NOT NULL ORDER BY 1
    ON CONFLICT (plan_id) DO UPDATE SET version = v.version + 1;
$$;
-- The plans of the nodes named in a statement's transition tables. Each node is looked
-- up by its key (a subquery per row, as the summary's LATERAL ... OFFSET 0): joined, the
-- planner, knowing nothing of a transition table, hashed all 200,000 objectives, and a
-- batch of 1,500 coverage rows took 350 ms more.
CREATE FUNCTION plan_versions_of_coverage() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM plan_versions_bump(ARRAY(SELECT (SELECT o.plan_id FROM objectives o WHERE o.objective_id = d.objective_id) FROM new_rows d));
    ELSE
        PERFORM plan_versions_bump(ARRAY(SELECT (SELECT o.plan_id FROM objectives o WHERE o.objective_id = d.objective_id) FROM old_rows d));
    END IF;
    RETURN NULL;
END $$;
CREATE FUNCTION plan_definitions_of_nodes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM plan_definitions_bump(ARRAY(SELECT (SELECT o.plan_id FROM objectives o WHERE o.objective_id = d.objective_id) FROM old_rows d));
    ELSE
        PERFORM plan_definitions_bump(ARRAY(SELECT (SELECT o.plan_id FROM objectives o WHERE o.objective_id = d.objective_id) FROM new_rows d));
    END IF;
    RETURN NULL;
END $$;
CREATE FUNCTION plan_definitions_of_objectives() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM plan_definitions_bump(ARRAY(SELECT plan_id FROM new_rows));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM plan_definitions_bump(ARRAY(SELECT plan_id FROM old_rows));
    ELSE
        PERFORM plan_definitions_bump(ARRAY(SELECT plan_id FROM new_rows UNION SELECT plan_id FROM old_rows));
    END IF;
    RETURN NULL;
END $$;
CREATE FUNCTION plan_definitions_of_plan() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM plan_definitions_bump(ARRAY[NEW.plan_id]);
    RETURN NULL;
END $$;
CREATE TRIGGER plan_versions_coverage_insert AFTER INSERT ON coverage
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION plan_versions_of_coverage();
-- (An update of coverage moves the version in coverage_summary_apply, which looks each
-- node up already.)
CREATE TRIGGER plan_versions_coverage_delete AFTER DELETE ON coverage
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION plan_versions_of_coverage();
CREATE TRIGGER plan_definitions_needs_insert AFTER INSERT ON objective_needs
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION plan_definitions_of_nodes();
CREATE TRIGGER plan_definitions_needs_update AFTER UPDATE ON objective_needs
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION plan_definitions_of_nodes();
CREATE TRIGGER plan_definitions_needs_delete AFTER DELETE ON objective_needs
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION plan_definitions_of_nodes();
CREATE TRIGGER plan_definitions_leads_insert AFTER INSERT ON node_leads
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION plan_definitions_of_nodes();
CREATE TRIGGER plan_definitions_leads_update AFTER UPDATE ON node_leads
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION plan_definitions_of_nodes();
CREATE TRIGGER plan_definitions_leads_delete AFTER DELETE ON node_leads
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION plan_definitions_of_nodes();
CREATE TRIGGER plan_definitions_objectives_insert AFTER INSERT ON objectives
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION plan_definitions_of_objectives();
CREATE TRIGGER plan_definitions_objectives_update AFTER UPDATE ON objectives
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION plan_definitions_of_objectives();
CREATE TRIGGER plan_definitions_objectives_delete AFTER DELETE ON objectives
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION plan_definitions_of_objectives();
CREATE TRIGGER plan_definitions_plans AFTER INSERT OR UPDATE ON plans
    FOR EACH ROW EXECUTE FUNCTION plan_definitions_of_plan();
INSERT INTO plan_definitions SELECT plan_id, 1 FROM plans;
INSERT INTO plan_versions SELECT plan_id, 1 FROM plans;
