-- The plan's actors. `level` is set for institutions and any partner that funds at a level.
CREATE TABLE partners (
    partner_id    text PRIMARY KEY,
    name          text NOT NULL,
    kind          text NOT NULL,
    level         text,
    registered_at timestamptz NOT NULL DEFAULT now()
);

-- The people to tell. An address is unique per partner (case-insensitively) so that one
-- person is not registered, and alerted, twice under two contact ids.
CREATE TABLE contacts (
    contact_id text PRIMARY KEY,
    partner_id text NOT NULL REFERENCES partners (partner_id),
    name       text NOT NULL,
    email      text NOT NULL,
    language   text NOT NULL CHECK (language IN ('it', 'en')),
    added_at   timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX contacts_partner_email ON contacts (partner_id, lower(email));

-- One lead per objective. The objectives service owns objectives, so objective_id is
-- only a reference here: it may name an objective this service never heard of.
CREATE TABLE objective_leads (
    objective_id text PRIMARY KEY,
    partner_id   text NOT NULL REFERENCES partners (partner_id),
    assigned_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX objective_leads_partner ON objective_leads (partner_id);
