-- Issue 18: the history that explains coverage (what moved it, since when, as it stood on
-- a date) and the columns and indexes that keep the reads fast at a region's size
-- (200,000 objectives, 1,000,000 lines).

-- One row per line version the projection applied (a repeat or an older version applies
-- nothing and leaves no row): the line's amounts before and after, the event type that
-- moved it, and the why (reason, correlation id). `committed_before_cents` and
-- `delta_cents` are the line's own, measured against the version the projection held
-- (so the deltas of a line add up to its amount even when a version was skipped).
CREATE TABLE allocation_changes (
    id                     bigserial PRIMARY KEY,
    objective_id           text    NOT NULL,
    fiscal_year            integer NOT NULL,
    line_id                text    NOT NULL,
    institution_id         text    NOT NULL,
    level                  text    NOT NULL,
    line_version           integer NOT NULL,
    kind                   text    NOT NULL,
    delta_cents            bigint  NOT NULL,
    committed_before_cents bigint  NOT NULL,
    committed_after_cents  bigint  NOT NULL,
    disbursed_after_cents  bigint  NOT NULL,
    reason                 text,
    correlation_id         text,
    occurred_at            timestamptz NOT NULL,
    UNIQUE (line_id, line_version)
);
-- The changes of one objective(-year), newest first, keyset-paged on (occurred_at, id).
CREATE INDEX allocation_changes_objective ON allocation_changes (objective_id, fiscal_year, occurred_at DESC, id DESC);
CREATE INDEX allocation_changes_objective_at ON allocation_changes (objective_id, occurred_at DESC, id DESC);

-- The projection keeps each line's previous commitment on its row, set by the upsert
-- itself (in DO UPDATE, `line_allocations.committed_cents` is the row as locked), so the
-- history's "before" needs neither a read beforehand nor a lock held between read and write.
ALTER TABLE line_allocations ADD COLUMN committed_before_cents bigint NOT NULL DEFAULT 0;
ALTER TABLE line_allocations ADD COLUMN disbursed_before_cents bigint NOT NULL DEFAULT 0;

-- Money per objective, year, institution and level, with its number of lines: what the
-- objective document shows "by institution". Kept by the same statement that applies the
-- lines (adding each applied version's deltas), because summing 88,678 lines on every
-- read of the document took 60-180 ms; reading this is a handful of rows. A coverage
-- rebuild recomputes it from line_allocations.
CREATE TABLE institution_totals (
    objective_id    text    NOT NULL,
    fiscal_year     integer NOT NULL,
    institution_id  text    NOT NULL,
    level           text    NOT NULL,
    committed_cents bigint  NOT NULL,
    disbursed_cents bigint  NOT NULL,
    line_count      integer NOT NULL,
    PRIMARY KEY (objective_id, fiscal_year, institution_id, level)
);
INSERT INTO institution_totals
SELECT objective_id, fiscal_year, institution_id, level, sum(committed_cents), sum(disbursed_cents), count(*)
FROM line_allocations GROUP BY objective_id, fiscal_year, institution_id, level;

-- Needs over time, for coverage as of a date. Written by a trigger so every path that
-- changes a need (the API, a plan import, a node edit) is recorded without each
-- remembering to: a need removed is recorded as 0.
CREATE TABLE objective_need_changes (
    id           bigserial PRIMARY KEY,
    objective_id text    NOT NULL,
    fiscal_year  integer NOT NULL,
    need_cents   bigint  NOT NULL,
    changed_at   timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX objective_need_changes_at ON objective_need_changes (objective_id, fiscal_year, changed_at DESC, id DESC);

CREATE FUNCTION objective_needs_history() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        INSERT INTO objective_need_changes (objective_id, fiscal_year, need_cents)
        VALUES (OLD.objective_id, OLD.fiscal_year, 0);
    ELSIF TG_OP = 'INSERT' OR NEW.need_cents IS DISTINCT FROM OLD.need_cents THEN
        INSERT INTO objective_need_changes (objective_id, fiscal_year, need_cents)
        VALUES (NEW.objective_id, NEW.fiscal_year, NEW.need_cents);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER objective_needs_history AFTER INSERT OR UPDATE OR DELETE ON objective_needs
    FOR EACH ROW EXECUTE FUNCTION objective_needs_history();

-- Coverage: since when the status holds (null: it changed before this version recorded
-- it), the parent's counted money (each child's capped at its need; null on a leaf), the
-- gap to the threshold (stored so the at-risk table sorts on an index), and the last line
-- change that moved the figures (carried up to the ancestors like an event's cause).
ALTER TABLE coverage ADD COLUMN status_since timestamptz;
ALTER TABLE coverage ADD COLUMN counted_cents bigint;
ALTER TABLE coverage ADD COLUMN gap_to_threshold_cents bigint NOT NULL DEFAULT 0;
ALTER TABLE coverage ADD COLUMN last_change_id bigint;

-- Backfill for deployments that already hold data. History before this version was not
-- kept, so each line enters the history once, at the version held, as a BACKFILL change
-- dated by its last update (0 before, all of it after); each need enters it at its current
-- figure, dated by its objective's creation. Coverage "as of" a date before the upgrade is
-- therefore today's figure for every line and need that existed then: the best the data
-- allows, and said in docs/api.md.
INSERT INTO allocation_changes (objective_id, fiscal_year, line_id, institution_id, level, line_version, kind,
                                delta_cents, committed_before_cents, committed_after_cents, disbursed_after_cents,
                                reason, correlation_id, occurred_at)
SELECT objective_id, fiscal_year, line_id, institution_id, level, line_version, 'BACKFILL',
       committed_cents, 0, committed_cents, disbursed_cents, NULL, NULL, updated_at
FROM line_allocations ORDER BY updated_at, line_id;

INSERT INTO objective_need_changes (objective_id, fiscal_year, need_cents, changed_at)
SELECT n.objective_id, n.fiscal_year, n.need_cents, o.created_at
FROM objective_needs n JOIN objectives o USING (objective_id);

UPDATE coverage c SET last_change_id = h.id
FROM (SELECT DISTINCT ON (objective_id, fiscal_year) objective_id, fiscal_year, id FROM allocation_changes
      ORDER BY objective_id, fiscal_year, occurred_at DESC, id DESC) h
WHERE h.objective_id = c.objective_id AND h.fiscal_year = c.fiscal_year;

-- The gap as the old (uncapped) figures give it; a parent's counted money, and the gap
-- and status that follow it, need the tree walked bottom-up, which SQL does badly: run
-- `POST /v1/admin/rebuild/coverage` once after upgrading (docs/operations.md), which
-- recomputes every row with the same code the consumer uses and publishes what changed.
UPDATE coverage c SET gap_to_threshold_cents = greatest(
    (c.need_cents * o.at_risk_threshold_pct + 99) / 100 - c.committed_cents, 0)
FROM objectives o WHERE o.objective_id = c.objective_id;

-- The list's filters and orders (GET /v1/objectives).
CREATE INDEX coverage_status_objective ON coverage (status, objective_id);
CREATE INDEX coverage_year_status ON coverage (fiscal_year, status, objective_id);
CREATE INDEX coverage_gap ON coverage (gap_to_threshold_cents DESC, objective_id);
CREATE INDEX coverage_year_gap ON coverage (fiscal_year, gap_to_threshold_cents DESC, objective_id);
CREATE INDEX node_leads_partner ON node_leads (partner_id, objective_id);
CREATE INDEX coverage_status_gap ON coverage (status, gap_to_threshold_cents DESC, objective_id);
CREATE INDEX objectives_plan_id ON objectives (plan_id, objective_id);
DROP INDEX coverage_status;
