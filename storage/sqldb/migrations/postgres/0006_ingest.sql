-- The gateway loads an endpoint's slots for every event.
CREATE INDEX endpoint_slots_endpoint ON endpoint_slots (endpoint);
