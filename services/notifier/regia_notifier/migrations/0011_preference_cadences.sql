-- Each kind of alert's own e-mail cadence, or 'off', as ContactPreferencesChanged version 2
-- carries it (issue 17): a kind not in `kinds` follows `cadence`, which may now also be
-- 'weekly_digest'. Rows projected from version 1 events have none: every kind at `cadence`.
ALTER TABLE contact_preferences ADD COLUMN kinds jsonb NOT NULL DEFAULT '{}'::jsonb;
