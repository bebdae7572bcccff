-- Every write request this service answered (every method but GET and HEAD), refused ones
-- included: who (admin, an institution key's id, or anonymous; never a secret), from where,
-- what, and how it ended. Written by the audit middleware (regia_shared.audit).
CREATE TABLE audit_log (
    id             bigserial   PRIMARY KEY,
    at             timestamptz NOT NULL DEFAULT now(),
    service        text        NOT NULL,
    method         text        NOT NULL,
    route          text        NOT NULL,
    path           text        NOT NULL,
    status         integer     NOT NULL,
    actor          text        NOT NULL,
    -- The key id a refused credential claimed (never its secret): who tried, unproven.
    claimed_actor  text,
    client_address text,
    request_id     text        NOT NULL,
    correlation_id text
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_actor_at ON audit_log (actor, at);
