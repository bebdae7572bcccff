-- Issue 20. The objectives and plan nodes this service knows exist, from the objectives
-- service's ObjectiveDefined events (consumer partners.objectives): a lead or role may
-- only be put on one of them. Nothing retires a node yet (a node dropped from a plan file
-- is deleted without an event), so a row stays once written. `kind` and `plan_id` are
-- NULL for the rows seeded here, which the events then fill in.
CREATE TABLE known_objectives (
    objective_id text PRIMARY KEY,
    kind         text,
    plan_id      text,
    known_since  timestamptz NOT NULL DEFAULT now()
);
-- What this service already let a lead, role or network name was accepted before the
-- check existed: keep it changeable whether or not the topic still holds its definition.
INSERT INTO known_objectives (objective_id)
    SELECT objective_id FROM objective_leads
    UNION SELECT objective_id FROM objective_roles
    UNION SELECT objective_id FROM networks WHERE objective_id IS NOT NULL
ON CONFLICT DO NOTHING;

-- Contacts' erasure on request (GDPR art. 17): name and address become NULL and
-- `erased_at` says when; the row and its id stay, so every reference holds. The unique
-- address per partner ignores NULLs, so any number of erased contacts fit.
-- `changed_at`: when an administrator last changed the contact (NULL: never).
ALTER TABLE contacts ALTER COLUMN name DROP NOT NULL;
ALTER TABLE contacts ALTER COLUMN email DROP NOT NULL;
ALTER TABLE contacts ADD COLUMN erased_at timestamptz;
ALTER TABLE contacts ADD COLUMN changed_at timestamptz;
ALTER TABLE contacts ADD CONSTRAINT contacts_erased_or_whole CHECK (
    (erased_at IS NULL AND name IS NOT NULL AND email IS NOT NULL)
    OR (erased_at IS NOT NULL AND name IS NULL AND email IS NULL)
);
-- When an administrator last changed the partner (NULL: never).
ALTER TABLE partners ADD COLUMN changed_at timestamptz;
