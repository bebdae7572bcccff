CREATE TABLE objectives (
    objective_id          text PRIMARY KEY,
    title                 text    NOT NULL,
    at_risk_threshold_pct integer NOT NULL CHECK (at_risk_threshold_pct BETWEEN 1 AND 100),
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE objective_needs (
    objective_id text    NOT NULL REFERENCES objectives (objective_id),
    fiscal_year  integer NOT NULL,
    need_cents   bigint  NOT NULL CHECK (need_cents >= 0),
    PRIMARY KEY (objective_id, fiscal_year)
);

-- The projection of funding lines: one row per line at the newest version seen.
CREATE TABLE line_allocations (
    line_id         text PRIMARY KEY,
    objective_id    text    NOT NULL,
    fiscal_year     integer NOT NULL,
    level           text    NOT NULL,
    institution_id  text    NOT NULL,
    committed_cents bigint  NOT NULL,
    disbursed_cents bigint  NOT NULL,
    line_version    integer NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX line_allocations_objective ON line_allocations (objective_id, fiscal_year);

-- The coverage projection: what was last computed and published per objective and year.
CREATE TABLE coverage (
    objective_id       text    NOT NULL REFERENCES objectives (objective_id),
    fiscal_year        integer NOT NULL,
    need_cents         bigint  NOT NULL,
    committed_cents    bigint  NOT NULL,
    disbursed_cents    bigint  NOT NULL,
    committed_by_level jsonb   NOT NULL,
    coverage_bp        integer NOT NULL,
    status             text    NOT NULL,
    updated_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (objective_id, fiscal_year)
);
CREATE INDEX coverage_status ON coverage (status);
