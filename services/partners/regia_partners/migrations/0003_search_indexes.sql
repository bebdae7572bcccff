-- Search: the networks a partner belongs to, and those of an objective.
CREATE INDEX network_memberships_partner ON network_memberships (partner_id);
CREATE INDEX networks_objective ON networks (objective_id);
