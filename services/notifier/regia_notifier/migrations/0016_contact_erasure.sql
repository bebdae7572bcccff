-- Issue 20: a contact erased on request (GDPR art. 17, ContactErased). The notifier keeps
-- the row, without name or address and with `erased_at`, so that an older ContactAdded or
-- ContactChanged arriving late (a replay, a dead letter replayed) cannot bring the person
-- back: the projection never writes over an erased contact, and no alert goes to one.
ALTER TABLE contacts ALTER COLUMN name DROP NOT NULL;
ALTER TABLE contacts ALTER COLUMN email DROP NOT NULL;
ALTER TABLE contacts ADD COLUMN erased_at timestamptz;
ALTER TABLE contacts ADD CONSTRAINT contacts_erased_or_whole CHECK (
    (erased_at IS NULL AND name IS NOT NULL AND email IS NOT NULL)
    OR (erased_at IS NOT NULL AND name IS NULL AND email IS NULL)
);
