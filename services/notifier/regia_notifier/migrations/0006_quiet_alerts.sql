-- What keeps alerts to those worth reading.
-- The last fiscal year an annual review closed (AnnualReviewClosed of a year that has
-- ended): with REGIA_FUNDING_WINDOW_FIRST_YEAR it says where the budget window starts,
-- and no year before it alerts. One row.
CREATE TABLE budget_window (
    singleton        boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    last_closed_year integer NOT NULL
);

-- Each objective-year's current status, from its status and coverage events: what a lead
-- assigned later is told once. Events of one objective arrive in order (one key).
CREATE TABLE objective_year_states (
    objective_id    text NOT NULL,
    fiscal_year     integer NOT NULL,
    title           text NOT NULL,
    status          text NOT NULL,
    coverage_bp     bigint NOT NULL,
    need_cents      bigint NOT NULL,
    committed_cents bigint NOT NULL,
    changed_at      timestamptz NOT NULL,
    PRIMARY KEY (objective_id, fiscal_year)
);

-- Alerts a rule matched that nobody could be told about (no partner holds the audience
-- yet, or its contacts and endpoints want none of it): kept for an administrator to see
-- (GET /v1/alerts/unaddressed), one per cause event.
CREATE TABLE unaddressed_alerts (
    cause_event_id uuid PRIMARY KEY,
    trigger        text NOT NULL,
    objective_id   text,
    fiscal_year    integer,
    rules          text[] NOT NULL,
    partners       text[] NOT NULL,
    reason         text NOT NULL,
    occurred_at    timestamptz NOT NULL,
    recorded_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX unaddressed_alerts_recent ON unaddressed_alerts (occurred_at DESC);
