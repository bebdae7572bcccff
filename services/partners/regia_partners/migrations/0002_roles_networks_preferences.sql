-- Roles on objectives beyond the lead (which stays in objective_leads): a set per
-- objective, so one partner may hold several roles on it and a role several partners.
CREATE TABLE objective_roles (
    objective_id text NOT NULL,
    partner_id   text NOT NULL REFERENCES partners (partner_id),
    role         text NOT NULL CHECK (role IN ('IMPLEMENTING_BODY', 'PROGRAMME_LEAD', 'PARTNER', 'FUNDER')),
    assigned_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (objective_id, partner_id, role)
);
CREATE INDEX objective_roles_partner ON objective_roles (partner_id);

-- Networks of partners (e.g. the Rete per il lavoro) and their memberships over time:
-- leaving closes a membership, it is never deleted, so "who was a member on" is answerable.
CREATE TABLE networks (
    network_id             text PRIMARY KEY,
    name                   text NOT NULL,
    founded_on             date NOT NULL,
    coordinator_partner_id text REFERENCES partners (partner_id),
    objective_id           text,
    formed_at              timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE network_memberships (
    network_id text NOT NULL REFERENCES networks (network_id),
    partner_id text NOT NULL REFERENCES partners (partner_id),
    joined_on  date NOT NULL,
    left_on    date,
    PRIMARY KEY (network_id, partner_id, joined_on),
    CHECK (left_on IS NULL OR left_on > joined_on)
);
-- At most one open membership per partner and network.
CREATE UNIQUE INDEX network_memberships_open ON network_memberships (network_id, partner_id)
    WHERE left_on IS NULL;

-- How each contact wants to be told. No row: the notifier's defaults.
CREATE TABLE contact_preferences (
    contact_id  text PRIMARY KEY REFERENCES contacts (contact_id),
    channels    text[] NOT NULL,
    language    text NOT NULL CHECK (language IN ('it', 'en')),
    cadence     text NOT NULL CHECK (cadence IN ('immediate', 'daily_digest')),
    event_kinds text[] NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Search by name, case-insensitively.
CREATE INDEX partners_lower_name ON partners (lower(name));
