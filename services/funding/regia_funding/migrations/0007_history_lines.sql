-- Issue 19: money of closed fiscal years, recorded as history.
--
-- A line opened by an administrator's history import (channel `history[:<source>]`) for a
-- year before the budget window: the record of what a closed programming cycle committed
-- and paid, counted in coverage, never an open commitment. Every line that exists already
-- was opened under the window's rules, hence the default.
ALTER TABLE funding_lines ADD COLUMN history boolean NOT NULL DEFAULT false;
-- The list's `history=true` filter: history lines are few beside the open ones.
CREATE INDEX funding_lines_history ON funding_lines (line_id) WHERE history;
