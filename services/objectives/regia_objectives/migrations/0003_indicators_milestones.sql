-- Indicators on any node of a plan's tree, as IATI results keep them. Values are exact
-- decimals: numeric(20,6) holds 14 integer digits (euro, jobs, people) and 6 decimals
-- (rates), and the service never passes them through a float.
CREATE TABLE indicators (
    indicator_id   text PRIMARY KEY,
    objective_id   text    NOT NULL REFERENCES objectives (objective_id),
    name           text    NOT NULL CHECK (length(name) BETWEEN 1 AND 300),
    unit           text    NOT NULL CHECK (length(unit) BETWEEN 1 AND 50),
    direction      text    NOT NULL CHECK (direction IN ('INCREASING', 'DECREASING')),
    baseline_value numeric(20, 6) NOT NULL,
    baseline_year  integer NOT NULL CHECK (baseline_year BETWEEN 1990 AND 2100),
    description    text    CHECK (length(description) <= 2000),
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX indicators_objective ON indicators (objective_id);

-- One target per indicator and fiscal year, never before the baseline. Whether it points
-- the way the indicator improves is checked by the service, which names the field.
CREATE TABLE indicator_targets (
    indicator_id text    NOT NULL REFERENCES indicators (indicator_id),
    fiscal_year  integer NOT NULL CHECK (fiscal_year BETWEEN 1990 AND 2100),
    value        numeric(20, 6) NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (indicator_id, fiscal_year)
);

-- Actual values over time: one per indicator and date, so resending one is recognised
-- as a repeat instead of counted twice.
CREATE TABLE indicator_measurements (
    id           bigserial PRIMARY KEY,
    indicator_id text    NOT NULL REFERENCES indicators (indicator_id),
    measured_on  date    NOT NULL,
    value        numeric(20, 6) NOT NULL,
    source       text    CHECK (length(source) <= 300),
    comment      text    CHECK (length(comment) <= 2000),
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (indicator_id, measured_on)
);

CREATE TABLE milestones (
    milestone_id text PRIMARY KEY,
    objective_id text NOT NULL REFERENCES objectives (objective_id),
    title        text NOT NULL CHECK (length(title) BETWEEN 1 AND 500),
    description  text CHECK (length(description) <= 2000),
    due_on       date NOT NULL,
    reached_on   date,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX milestones_objective ON milestones (objective_id, due_on);
