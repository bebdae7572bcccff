-- Three more kinds of alert: an objective-year's money come to depend on one level of
-- government (single_level_dependency), a milestone gone overdue (milestone_overdue), an
-- indicator fallen behind its target path (indicator_behind). Each is told to the lead by
-- a default rule, as the status and funding alerts are; an administrator edits or disables
-- them like any rule.
ALTER TABLE alert_rules DROP CONSTRAINT alert_rules_trigger_check;
ALTER TABLE alert_rules ADD CONSTRAINT alert_rules_trigger_check CHECK (trigger IN (
    'status_changed', 'funding_dropped', 'line_revoked', 'review_closed',
    'single_level_dependency', 'milestone_overdue', 'indicator_behind'));

INSERT INTO alert_rules (rule_id, trigger, condition, audience, description) VALUES
    ('single-level-dependency-lead', 'single_level_dependency', '{}', '{LEAD}',
     'The lead hears when an objective-year''s committed money, which came from two levels of government or more, comes from one only'),
    ('milestone-overdue-lead', 'milestone_overdue', '{}', '{LEAD}',
     'The lead hears when a milestone of the objective is not reached by its due date'),
    ('indicator-behind-lead', 'indicator_behind', '{}', '{LEAD}',
     'The lead hears when a measurement puts an indicator of the objective behind its path to the year''s target')
ON CONFLICT (rule_id) DO NOTHING;
