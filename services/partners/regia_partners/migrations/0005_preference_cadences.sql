-- Preferences per kind of alert (issue 17): the weekly digest joins the cadences, and each
-- kind may have its own e-mail cadence, or 'off' for no e-mail of it (a contact's one-click
-- unsubscribe, or their preferences page). `kinds` maps a kind to its cadence; a kind not
-- in it follows `cadence`. Kinds are checked against the one list by the API, not here: it
-- grows with new kinds of alert, and a constraint would need a migration each time.
ALTER TABLE contact_preferences DROP CONSTRAINT contact_preferences_cadence_check;
ALTER TABLE contact_preferences ADD CONSTRAINT contact_preferences_cadence_check
    CHECK (cadence IN ('immediate', 'daily_digest', 'weekly_digest'));
ALTER TABLE contact_preferences ADD COLUMN kinds jsonb NOT NULL DEFAULT '{}'::jsonb
    CHECK (jsonb_typeof(kinds) = 'object');
