-- Times are BIGINT microseconds since the Unix epoch (UTC); flags are
-- BIGINT 0 or 1; money is TEXT decimal. The same shapes serve PostgreSQL.

CREATE TABLE marketplaces (
    code      TEXT PRIMARY KEY,
    region    TEXT NOT NULL,
    currency  TEXT NOT NULL,
    locale    TEXT NOT NULL,
    lead_days DOUBLE PRECISION NOT NULL,
    lead_sd   DOUBLE PRECISION NOT NULL
);

CREATE TABLE products (
    product_id    TEXT PRIMARY KEY,
    category      TEXT NOT NULL,
    pack_quantity DOUBLE PRECISION NOT NULL,
    pack_unit     TEXT NOT NULL
);

CREATE TABLE product_offers (
    product_id  TEXT NOT NULL REFERENCES products (product_id) ON DELETE CASCADE,
    marketplace TEXT NOT NULL REFERENCES marketplaces (code),
    title       TEXT NOT NULL,
    price       TEXT NOT NULL,
    currency    TEXT NOT NULL,
    available   BIGINT NOT NULL,
    PRIMARY KEY (product_id, marketplace)
);

CREATE TABLE api_keys (
    key_hash    BYTEA PRIMARY KEY,
    role        TEXT NOT NULL,
    vendor_code TEXT NOT NULL DEFAULT '',
    customer_id TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL
);

CREATE TABLE vendors (
    vendor_code         TEXT PRIMARY KEY,
    name                TEXT NOT NULL,
    client_id           TEXT NOT NULL UNIQUE,
    client_secret_hash  BYTEA NOT NULL,
    signing_secret      TEXT NOT NULL,
    skill_endpoint_url  TEXT NOT NULL DEFAULT '',
    oauth_auth_url      TEXT NOT NULL DEFAULT '',
    oauth_token_url     TEXT NOT NULL DEFAULT '',
    oauth_client_id     TEXT NOT NULL DEFAULT '',
    oauth_client_secret TEXT NOT NULL DEFAULT '',
    webhook_url         TEXT NOT NULL DEFAULT '',
    allowed_exit_uris   TEXT NOT NULL DEFAULT '[]',
    created_at          BIGINT NOT NULL
);

CREATE TABLE models (
    vendor_code   TEXT NOT NULL REFERENCES vendors (vendor_code),
    model_id      TEXT NOT NULL,
    kind          TEXT NOT NULL,
    name          TEXT NOT NULL,
    device_type   TEXT NOT NULL DEFAULT '',
    certification TEXT NOT NULL DEFAULT 'NONE',
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (vendor_code, model_id)
);

CREATE TABLE model_marketplaces (
    vendor_code TEXT NOT NULL,
    model_id    TEXT NOT NULL,
    marketplace TEXT NOT NULL REFERENCES marketplaces (code),
    position    BIGINT NOT NULL,
    PRIMARY KEY (vendor_code, model_id, marketplace),
    FOREIGN KEY (vendor_code, model_id) REFERENCES models (vendor_code, model_id) ON DELETE CASCADE
);

CREATE TABLE slots (
    vendor_code TEXT NOT NULL,
    model_id    TEXT NOT NULL,
    slot_id     TEXT NOT NULL,
    category    TEXT NOT NULL DEFAULT '',
    position    BIGINT NOT NULL,
    PRIMARY KEY (vendor_code, model_id, slot_id),
    FOREIGN KEY (vendor_code, model_id) REFERENCES models (vendor_code, model_id) ON DELETE CASCADE
);

CREATE TABLE slot_products (
    vendor_code TEXT NOT NULL,
    model_id    TEXT NOT NULL,
    slot_id     TEXT NOT NULL,
    marketplace TEXT NOT NULL,
    product_id  TEXT NOT NULL REFERENCES products (product_id),
    position    BIGINT NOT NULL,
    PRIMARY KEY (vendor_code, model_id, slot_id, marketplace, product_id),
    FOREIGN KEY (vendor_code, model_id, slot_id) REFERENCES slots (vendor_code, model_id, slot_id) ON DELETE CASCADE
);

CREATE TABLE replenishment_requests (
    request_id       TEXT PRIMARY KEY,
    vendor_code      TEXT NOT NULL,
    model_id         TEXT NOT NULL,
    slot_id          TEXT NOT NULL,
    sensor_type      TEXT NOT NULL,
    measurement_type TEXT NOT NULL,
    measurement_unit TEXT NOT NULL DEFAULT '',
    description      TEXT NOT NULL DEFAULT '',
    status           TEXT NOT NULL,
    reject_reason    TEXT NOT NULL DEFAULT '',
    replenishment_id TEXT UNIQUE,
    threshold        DOUBLE PRECISION,
    policy           TEXT NOT NULL DEFAULT '',
    submitted_at     BIGINT,
    decided_at       BIGINT,
    updated_at       BIGINT NOT NULL,
    UNIQUE (vendor_code, model_id, slot_id),
    FOREIGN KEY (vendor_code, model_id, slot_id) REFERENCES slots (vendor_code, model_id, slot_id)
);
CREATE INDEX replenishment_requests_status ON replenishment_requests (status, updated_at);

CREATE TABLE customers (
    customer_id TEXT PRIMARY KEY,
    email       TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    marketplace TEXT NOT NULL REFERENCES marketplaces (code),
    locale      TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE test_accounts (
    vendor_code TEXT NOT NULL,
    model_id    TEXT NOT NULL,
    marketplace TEXT NOT NULL,
    customer_id TEXT NOT NULL REFERENCES customers (customer_id),
    PRIMARY KEY (vendor_code, model_id, marketplace, customer_id),
    FOREIGN KEY (vendor_code, model_id, marketplace)
        REFERENCES model_marketplaces (vendor_code, model_id, marketplace) ON DELETE CASCADE
);

CREATE TABLE links (
    customer_id   TEXT NOT NULL REFERENCES customers (customer_id),
    vendor_code   TEXT NOT NULL REFERENCES vendors (vendor_code),
    status        TEXT NOT NULL,
    grantee_token TEXT NOT NULL,
    updated_at    BIGINT NOT NULL,
    PRIMARY KEY (customer_id, vendor_code)
);

CREATE TABLE grants (
    grant_hash  BYTEA PRIMARY KEY,
    kind        TEXT NOT NULL,
    vendor_code TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT,
    revoked_at  BIGINT
);
CREATE INDEX grants_owner ON grants (vendor_code, customer_id);

CREATE TABLE endpoints (
    id            BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    customer_id   TEXT NOT NULL REFERENCES customers (customer_id),
    endpoint_id   TEXT NOT NULL,
    vendor_code   TEXT NOT NULL REFERENCES vendors (vendor_code),
    model_id      TEXT NOT NULL,
    friendly_name TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    UNIQUE (customer_id, endpoint_id)
);

CREATE TABLE endpoint_slots (
    id               BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    endpoint         BIGINT NOT NULL REFERENCES endpoints (id),
    instance         TEXT NOT NULL,
    slot_id          TEXT NOT NULL,
    name             TEXT NOT NULL,
    replenishment_id TEXT NOT NULL,
    mode             TEXT NOT NULL,
    product_id       TEXT NOT NULL DEFAULT '',
    amount           DOUBLE PRECISION NOT NULL DEFAULT 0,
    last_sample_at   BIGINT,
    capacity         DOUBLE PRECISION NOT NULL DEFAULT 0,
    low_count        BIGINT NOT NULL DEFAULT 0,
    notified         BIGINT NOT NULL DEFAULT 0,
    ordered          BIGINT NOT NULL DEFAULT 0,
    open_order_id    TEXT NOT NULL DEFAULT '',
    UNIQUE (endpoint, instance)
);

CREATE TABLE events (
    vendor_code TEXT NOT NULL,
    message_id  TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    namespace   TEXT NOT NULL,
    name        TEXT NOT NULL,
    body        BYTEA NOT NULL,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (vendor_code, message_id)
);

-- Readings are partitioned by the month they were sampled in, so that
-- retention drops a month at once (storage/sqldb/partitions.go creates
-- the months ahead); a reading outside them lands in the default one.
CREATE TABLE readings (
    slot        BIGINT NOT NULL REFERENCES endpoint_slots (id),
    sample_at   BIGINT NOT NULL,
    amount      DOUBLE PRECISION NOT NULL,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (slot, sample_at)
) PARTITION BY RANGE (sample_at);
CREATE TABLE readings_default PARTITION OF readings DEFAULT;

CREATE TABLE orders (
    order_id    TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    vendor_code TEXT NOT NULL,
    slot        BIGINT NOT NULL REFERENCES endpoint_slots (id),
    endpoint_id TEXT NOT NULL,
    slot_id     TEXT NOT NULL,
    product_id  TEXT NOT NULL,
    quantity    BIGINT NOT NULL,
    price       TEXT NOT NULL,
    currency    TEXT NOT NULL,
    test        BIGINT NOT NULL,
    status      TEXT NOT NULL,
    placed_at   BIGINT NOT NULL,
    cancel_by   BIGINT NOT NULL,
    reason      TEXT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX orders_customer ON orders (customer_id, placed_at);
-- At most one open order per slot, whatever the code above does.
CREATE UNIQUE INDEX orders_one_open ON orders (slot)
    WHERE status IN ('PENDING', 'RELEASED', 'SHIPPED');

CREATE TABLE feed (
    id          BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    customer_id TEXT NOT NULL,
    type        TEXT NOT NULL,
    endpoint_id TEXT NOT NULL DEFAULT '',
    slot_id     TEXT NOT NULL DEFAULT '',
    order_id    TEXT NOT NULL DEFAULT '',
    message     TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX feed_customer ON feed (customer_id, id);
