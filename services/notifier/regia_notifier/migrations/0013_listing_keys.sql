-- Keyset paging of the listings (issue 18, regia_shared.http.paging): each index holds a
-- listing's whole order, so a page starts where the previous one ended, by index, without
-- sorting what came before it. The two it replaces held the first column only.
CREATE INDEX deliveries_listing ON deliveries (created_at DESC, delivery_id DESC);
DROP INDEX deliveries_dead;
CREATE INDEX deliveries_dead ON deliveries (finished_at DESC, delivery_id DESC) WHERE status = 'DEAD';
DROP INDEX unaddressed_alerts_recent;
CREATE INDEX unaddressed_alerts_recent ON unaddressed_alerts (occurred_at DESC, cause_event_id DESC);
CREATE INDEX waiting_alerts_of_contact ON waiting_alerts (contact_id, created_at, seq) WHERE message_id IS NULL;
