-- Home Assistant bridges: per customer, the broker Replenish publishes
-- their supplies to (its password kept so that the bridge can sign in),
-- the bridge's status as the settings show it, the discovery topics it
-- published (which turning it off empties), and a lease: the instance
-- named by owner runs the bridge until lease_until, and renews it.

CREATE TABLE homeassistant_bridges (
    customer_id      TEXT PRIMARY KEY REFERENCES customers (customer_id),
    enabled          INTEGER NOT NULL,
    broker_url       TEXT NOT NULL,
    username         TEXT NOT NULL,
    password         TEXT NOT NULL,
    discovery_prefix TEXT NOT NULL,
    generation       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    state            TEXT NOT NULL,
    since            INTEGER NOT NULL,
    last_error       TEXT NOT NULL,
    next_attempt_at  INTEGER,
    published        TEXT NOT NULL,
    owner            TEXT NOT NULL,
    lease_until      INTEGER NOT NULL
);
