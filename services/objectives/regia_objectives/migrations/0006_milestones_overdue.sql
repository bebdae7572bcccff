-- The due date for which a milestone's going overdue was announced (MilestoneWentOverdue):
-- null until it first is. The sweep announces a milestone that is not reached, whose due
-- date has passed and is later than the one announced (or none was): each due date a
-- milestone misses is announced once, and moving the date on re-arms it.
ALTER TABLE milestones ADD COLUMN overdue_announced_for date;

-- Milestones already overdue when this version is installed went overdue before anyone
-- could be told; they count as announced, so the upgrade sends no backlog of alerts.
UPDATE milestones SET overdue_announced_for = due_on WHERE reached_on IS NULL AND due_on < current_date;

