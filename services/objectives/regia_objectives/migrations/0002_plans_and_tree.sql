-- Plans side by side, each with its territory, population, years and thresholds.
CREATE TABLE plans (
    plan_id                  text PRIMARY KEY,
    title                    text    NOT NULL,
    territory                text    NOT NULL,
    population               integer CHECK (population >= 0),
    first_year               integer NOT NULL,
    last_year                integer NOT NULL CHECK (last_year >= first_year),
    at_risk_threshold_pct    integer NOT NULL CHECK (at_risk_threshold_pct BETWEEN 1 AND 100),
    single_level_warning_pct integer NOT NULL CHECK (single_level_warning_pct BETWEEN 1 AND 100),
    description              text,
    created_at               timestamptz NOT NULL DEFAULT now(),
    updated_at               timestamptz NOT NULL DEFAULT now()
);

-- Every node of a plan's tree lives in `objectives` (visions and programmes too), so one
-- id space serves funding, coverage and roll-ups. A node without a plan is a standalone
-- objective, as defined before plans existed.
ALTER TABLE objectives ADD COLUMN plan_id text REFERENCES plans (plan_id);
ALTER TABLE objectives ADD COLUMN parent_id text REFERENCES objectives (objective_id);
ALTER TABLE objectives ADD COLUMN kind text NOT NULL DEFAULT 'OBJECTIVE'
    CHECK (kind IN ('VISION', 'PROGRAMME', 'OBJECTIVE', 'ACTION'));
ALTER TABLE objectives ADD COLUMN weight integer NOT NULL DEFAULT 1 CHECK (weight >= 1);
ALTER TABLE objectives ADD COLUMN illustrative boolean NOT NULL DEFAULT false;
ALTER TABLE objectives ADD COLUMN position integer NOT NULL DEFAULT 0;
ALTER TABLE objectives ADD CONSTRAINT objectives_not_own_parent CHECK (parent_id <> objective_id);
CREATE INDEX objectives_plan ON objectives (plan_id, position);
CREATE INDEX objectives_parent ON objectives (parent_id);

-- Leads as the partners service announces them (it owns roles).
CREATE TABLE node_leads (
    objective_id text PRIMARY KEY,
    partner_id   text NOT NULL,
    assigned_at  timestamptz NOT NULL
);

-- Warnings already raised: an objective-year that depends on one level beyond the plan's
-- share is flagged once, and again only after it has come back under.
ALTER TABLE coverage ADD COLUMN dominant_level text;
ALTER TABLE coverage ADD COLUMN dominant_share_bp integer;
