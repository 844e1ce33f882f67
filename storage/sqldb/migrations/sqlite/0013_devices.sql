-- CONNECT_KIT devices: provisioned by their vendor, with the SHA-256 of
-- their MQTT password and of their claim code (NULL once spent); a
-- customer who claims one has it as an endpoint of the same ID. A revoked
-- device keeps its row so that its ID is never given again.

CREATE TABLE devices (
    device_id     TEXT PRIMARY KEY,
    vendor_code   TEXT NOT NULL REFERENCES vendors (vendor_code),
    model_id      TEXT NOT NULL,
    serial_number TEXT NOT NULL,
    password_hash BLOB NOT NULL,
    claim_hash    BLOB UNIQUE,
    customer_id   TEXT REFERENCES customers (customer_id),
    created_at    INTEGER NOT NULL,
    claimed_at    INTEGER,
    revoked_at    INTEGER,
    last_seen_at  INTEGER,
    connectivity  TEXT NOT NULL DEFAULT ''
);

-- A serial number names one live device of a model; once revoked, it may
-- be provisioned again as a new device.
CREATE UNIQUE INDEX devices_serial ON devices (vendor_code, model_id, serial_number) WHERE revoked_at IS NULL;
