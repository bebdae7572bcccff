-- A grouped e-mail or a digest is one delivery carrying alerts about several objectives,
-- and the delivery row names only one of them (or none, for a digest). "Was anyone told
-- about this objective?" must find the message through every alert it carried: the
-- deliveries listing filtered by objective looks the carried alerts up by this index.
CREATE INDEX waiting_alerts_carried_objective ON waiting_alerts (objective_id, message_id)
    WHERE message_id IS NOT NULL;
