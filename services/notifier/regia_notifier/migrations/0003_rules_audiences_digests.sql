-- Who else is told, learnt from partner and objective events (no foreign keys, as in 0001:
-- events of different keys arrive in any order). Each row keeps the occurred_at of the
-- event that set it, so a late redelivery of an older event never overwrites a newer one.
CREATE TABLE objective_roles (
    objective_id text NOT NULL,
    partner_id   text NOT NULL,
    role         text NOT NULL,
    held         boolean NOT NULL,
    changed_at   timestamptz NOT NULL,
    PRIMARY KEY (objective_id, partner_id, role)
);
CREATE INDEX objective_roles_held ON objective_roles (objective_id) WHERE held;

CREATE TABLE networks (
    network_id             text PRIMARY KEY,
    name                   text NOT NULL,
    founded_on             date NOT NULL,
    coordinator_partner_id text,
    objective_id           text
);
CREATE INDEX networks_objective ON networks (objective_id);

-- Memberships over time, as the partners service keeps them: a review reaches the members
-- of the day it was closed.
CREATE TABLE network_memberships (
    network_id text NOT NULL,
    partner_id text NOT NULL,
    joined_on  date NOT NULL,
    left_on    date,
    PRIMARY KEY (network_id, partner_id, joined_on)
);

-- No row: the defaults (e-mail and webhooks, the contact's language, immediately, every kind).
CREATE TABLE contact_preferences (
    contact_id  text PRIMARY KEY,
    partner_id  text NOT NULL,
    channels    text[] NOT NULL,
    language    text NOT NULL,
    cadence     text NOT NULL,
    event_kinds text[] NOT NULL,
    changed_at  timestamptz NOT NULL
);

-- Objectives as the objectives service defines them: their titles for messages, their plan
-- for reviews, and the last committed amount per year, against which a drop is measured.
CREATE TABLE objectives (
    objective_id text PRIMARY KEY,
    title        text NOT NULL,
    plan_id      text
);
CREATE INDEX objectives_plan ON objectives (plan_id);

CREATE TABLE objective_commitments (
    objective_id    text NOT NULL,
    fiscal_year     integer NOT NULL,
    committed_cents bigint NOT NULL,
    PRIMARY KEY (objective_id, fiscal_year)
);

-- The rules: data an administrator edits, not code. `audience` names roles on the
-- objective (LEAD, FUNDER, ...), the revoked line's institution, or a network's members.
CREATE TABLE alert_rules (
    rule_id     text PRIMARY KEY,
    trigger     text NOT NULL
                CHECK (trigger IN ('status_changed', 'funding_dropped', 'line_revoked', 'review_closed')),
    condition   jsonb NOT NULL DEFAULT '{}',
    audience    text[] NOT NULL CHECK (cardinality(audience) > 0),
    enabled     boolean NOT NULL DEFAULT true,
    description text NOT NULL DEFAULT '',
    updated_at  timestamptz NOT NULL DEFAULT now()
);

INSERT INTO alert_rules (rule_id, trigger, condition, audience, description) VALUES
    ('status-worsened-lead', 'status_changed', '{"direction": "worsened"}', '{LEAD}',
     'The lead hears when an objective''s funding status gets worse'),
    ('status-improved-lead', 'status_changed', '{"direction": "improved"}', '{LEAD}',
     'The lead hears when an objective''s funding status gets better'),
    ('funding-dropped-lead', 'funding_dropped', '{"min_drop_pct": 10}', '{LEAD}',
     'The lead hears when an objective-year loses more than a tenth of its committed funding'),
    ('line-revoked-funders', 'line_revoked', '{}', '{LINE_INSTITUTION,FUNDER}',
     'The institution of a revoked line and the objective''s funders hear of the revocation'),
    ('review-closed-network', 'review_closed', '{}', '{NETWORK_MEMBERS}',
     'The members of a network whose objective is in the plan hear that its annual review closed');

-- Deliveries now come from every rule, and a daily digest is one delivery too: it has no
-- single objective. `rules` records which rules addressed it (several may reach one person
-- for one event, who is still told once). `retry_from` is the attempt count when an
-- administrator last retried a dead delivery: the attempt budget counts from there.
ALTER TABLE deliveries ALTER COLUMN objective_id DROP NOT NULL;
ALTER TABLE deliveries ADD COLUMN kind text NOT NULL DEFAULT 'alert' CHECK (kind IN ('alert', 'digest'));
ALTER TABLE deliveries ADD COLUMN trigger text;
ALTER TABLE deliveries ADD COLUMN rules text[] NOT NULL DEFAULT '{}';
ALTER TABLE deliveries ADD COLUMN body_html text;
ALTER TABLE deliveries ADD COLUMN retry_from integer NOT NULL DEFAULT 0 CHECK (retry_from >= 0);
CREATE INDEX deliveries_contact ON deliveries (contact_id, created_at);
CREATE INDEX deliveries_dead ON deliveries (finished_at) WHERE status = 'DEAD';

-- Alerts waiting for a person's daily digest. One per (cause event, address), as for
-- deliveries; `digest_id` is set when the digest delivery that carries it is planned.
CREATE TABLE digest_items (
    cause_event_id uuid NOT NULL,
    email          text NOT NULL,
    contact_id     text NOT NULL,
    partner_id     text NOT NULL,
    recipient_name text NOT NULL,
    language       text NOT NULL,
    correlation_id text NOT NULL,
    objective_id   text,
    trigger        text NOT NULL,
    rules          text[] NOT NULL,
    subject        text NOT NULL,
    section_text   text NOT NULL,
    section_html   text NOT NULL,
    due_at         timestamptz NOT NULL,
    digest_id      uuid,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (cause_event_id, email)
);
CREATE INDEX digest_items_due ON digest_items (due_at) WHERE digest_id IS NULL;
