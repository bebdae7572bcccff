-- A new lead is told the objective's unfunded years when the notifier applies the
-- assignment, from the statuses it has recorded; a year's first status is never an alert in
-- itself. The assignment (regia.partners.v1) and the first statuses
-- (regia.objectives.coverage.v1) come through two consumers with no order between them, so
-- an assignment that arrives first is kept here, owed to the lead, until the objective's
-- first status arrives and the briefing goes out with it (adapters/owed_briefings.py).
--
-- A row is also the gate both consumers pass through for one objective: each upserts it
-- before it reads what the other writes (the assignment reads the statuses, the statuses
-- read what is owed), so of two concurrent transactions the second waits for the first
-- to commit and then sees its work. At rest the table holds only briefings still owed.
CREATE TABLE owed_briefings (
    objective_id text PRIMARY KEY,
    -- NULL while the row is only a gate, inside the transaction that took it.
    partner_id text,
    event_id uuid,              -- the ObjectiveLeadAssigned event: the briefing's cause
    event_type text,
    correlation_id text,
    occurred_at timestamptz,
    CHECK ((partner_id IS NULL) = (event_id IS NULL))
);
