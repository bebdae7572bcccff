-- The area a partner serves or governs ("Comune della Spezia", "Liguria"). Nullable:
-- partners registered before it existed have none, and a retry without it stays a no-op.
ALTER TABLE partners ADD COLUMN territory text;
-- Search by territory, case-insensitively.
CREATE INDEX partners_lower_territory ON partners (lower(territory));
