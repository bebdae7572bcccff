-- Issue 19: a plan file carries its nodes' leads and roles, and the HTTP import applies
-- them with the plan. The partners service owns leads and roles; the objectives service
-- keeps what it needs to check a file and to write it back.

-- The partners the partners service has registered (PartnerRegistered), so an import can
-- refuse a lead or role naming a partner that does not exist before it writes anything.
-- Partners are never deleted, so one known here stays valid. Seeded from the leads already
-- projected (a lead's partner exists); partners registered before this version that lead
-- nothing become known when the partners service replays its outbox (docs/operations.md).
CREATE TABLE known_partners (
    partner_id    text PRIMARY KEY,
    registered_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO known_partners (partner_id) SELECT DISTINCT partner_id FROM node_leads ON CONFLICT DO NOTHING;

-- Roles other than the lead on the plan's nodes, as the partners service announces them
-- (ObjectiveRoleAssigned, ObjectiveRoleWithdrawn) and as an import declares them, so an
-- export writes them back. Same shape as the partners service's objective_roles.
CREATE TABLE node_roles (
    objective_id text NOT NULL,
    partner_id   text NOT NULL,
    role         text NOT NULL CHECK (role IN ('IMPLEMENTING_BODY', 'PROGRAMME_LEAD', 'PARTNER', 'FUNDER')),
    assigned_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (objective_id, partner_id, role)
);
