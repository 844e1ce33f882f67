-- Home Assistant on Replenish's own MQTT broker: a bridge that is
-- embedded publishes there, and the customer's Home Assistant signs in
-- with the account (its user name, ha_<customer>) and a password of
-- which only the SHA-256 is kept, as for devices. The account is looked up
-- by its user name when Home Assistant connects.

ALTER TABLE homeassistant_bridges ADD COLUMN embedded INTEGER NOT NULL DEFAULT 0;
ALTER TABLE homeassistant_bridges ADD COLUMN account TEXT NOT NULL DEFAULT '';
ALTER TABLE homeassistant_bridges ADD COLUMN account_hash BLOB;

CREATE UNIQUE INDEX homeassistant_bridges_account ON homeassistant_bridges (account) WHERE account <> '';
