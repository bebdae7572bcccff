-- Who and why on every write (issue 20). The audit row of a change to money, plans, roles or
-- rules is written by the use case in the change's own transaction (regia_shared.writes), so
-- it commits with the change or not at all; the HTTP middleware's row stays for refused and
-- failed requests and for writes that have none of their own (regia_shared.http.audit).
--   channel     how it came in: http, kafka, import, year-end
--   reason      why, as the person or the institution gave it (X-Regia-Reason, a command's reason)
--   actor_name  the display name of a person's account, when the actor is one
--   subject     what the write changed, e.g. line:<id>, objective:<id>, rule:<id>, plan:<id>
--   effect      what it did: ledger entry and event ids, counts of a bulk write; NULL on the
--               middleware's rows, so a row with an effect is one its write committed with
-- One shared migration: audit_log is every service's shared table (0002, 0003), and each schema gets it.
ALTER TABLE audit_log ADD COLUMN channel text;
ALTER TABLE audit_log ADD COLUMN reason text;
ALTER TABLE audit_log ADD COLUMN actor_name text;
ALTER TABLE audit_log ADD COLUMN subject text;
ALTER TABLE audit_log ADD COLUMN effect jsonb;
CREATE INDEX audit_log_channel ON audit_log (channel, id);

-- Append-only, like funding's ledger: a correction is a new row, never an edit. The one
-- change allowed is the anonymous-flood tally's (a row with a tally_key): its count and its
-- last time may grow, nothing else of it may change.
CREATE FUNCTION audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.tally_key IS NOT NULL AND NEW.repeats >= OLD.repeats
       AND to_jsonb(NEW) - 'repeats' - 'last_at' = to_jsonb(OLD) - 'repeats' - 'last_at' THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP;
END $$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only();
CREATE FUNCTION audit_log_not_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: TRUNCATE refused';
END $$;
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_not_truncated();
