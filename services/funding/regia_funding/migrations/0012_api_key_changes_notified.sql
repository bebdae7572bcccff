-- Issue 21: funding keeps the API keys it has verified in memory (adapters/known_keys.py), so
-- that a request costs no round trip to PostgreSQL to read its key. What makes that safe is
-- this trigger: a key changed (revoked) or deleted is announced, in the transaction that
-- changes it, on the channel <schema>_api_keys with the key id as payload, and every funding
-- process listening forgets it when that transaction commits. TRUNCATE announces '*': forget
-- every key. A key added needs no announcement: a key not in memory is read from the table.
CREATE FUNCTION api_key_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        PERFORM pg_notify(TG_TABLE_SCHEMA || '_api_keys', '*');
    ELSE
        PERFORM pg_notify(TG_TABLE_SCHEMA || '_api_keys', OLD.key_id);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER api_key_changed AFTER UPDATE OR DELETE ON api_keys
    FOR EACH ROW EXECUTE FUNCTION api_key_changed();
CREATE TRIGGER api_keys_truncated AFTER TRUNCATE ON api_keys
    FOR EACH STATEMENT EXECUTE FUNCTION api_key_changed();
