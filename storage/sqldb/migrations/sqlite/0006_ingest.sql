-- The gateway loads an endpoint's slots in key order for every event: an
-- index on the endpoint (whose rows SQLite keeps in key order) gives them
-- in that order without sorting.
CREATE INDEX endpoint_slots_endpoint ON endpoint_slots (endpoint);
