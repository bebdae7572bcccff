-- Issue 20: every message refused on the Kafka way in (regia.funding.inbound.v1) is kept
-- here, written in the transaction that decided the refusal, so that an institution reads
-- its own rejections over the API (GET /v1/inbound/rejections, scoped by its key) instead of
-- from the shared rejected topic, which showed every institution the others' messages.
--
-- institution_id: the institution whose key verified; NULL when the key did not verify
--   (missing, unknown, revoked, forged): such a rejection is the administrators' only.
-- key_id: the id of the key the message carried (the part before the secret), verified or
--   merely claimed; never the secret. NULL when none could be read.
-- rejection: the JSON published on regia.funding.inbound.rejected.v1 (the reason and the
--   original message without its authorization header), ASCII-escaped, so any bytes an
--   institution sent are stored as text.
CREATE TABLE inbound_rejections (
    id             bigserial   PRIMARY KEY,
    institution_id text,
    key_id         text,
    error          text        NOT NULL,
    rejection      text        NOT NULL,
    rejected_at    timestamptz NOT NULL DEFAULT now()
);
-- An institution's page, newest first; administrators page the primary key.
CREATE INDEX inbound_rejections_by_institution ON inbound_rejections (institution_id, id);
