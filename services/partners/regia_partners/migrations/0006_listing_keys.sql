-- Keyset paging of the listings (issue 18, regia_shared.http.paging): each index holds a
-- listing's whole order, so a page starts where the previous one ended, by index, without
-- sorting what came before it. partners_listing starts with lower(name), which makes the
-- index on lower(name) alone redundant.
CREATE INDEX partners_listing ON partners (lower(name), name, partner_id);
DROP INDEX partners_lower_name;
CREATE INDEX networks_listing ON networks (lower(name), name, network_id);
CREATE INDEX contacts_listing ON contacts (partner_id, added_at, contact_id);
