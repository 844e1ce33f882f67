-- Notifications: the outbox every notification leaves through, what each
-- customer chose to hear, and which feed entries the customer has read.

CREATE TABLE notifications (
    notification_id TEXT PRIMARY KEY,
    channel         TEXT NOT NULL,
    type            TEXT NOT NULL,
    vendor_code     TEXT NOT NULL DEFAULT '',
    customer_id     TEXT NOT NULL DEFAULT '',
    endpoint_id     TEXT NOT NULL DEFAULT '',
    slot_id         TEXT NOT NULL DEFAULT '',
    order_id        TEXT NOT NULL DEFAULT '',
    target          TEXT NOT NULL,
    body            BYTEA NOT NULL,
    status          TEXT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_at         BIGINT,
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      BIGINT NOT NULL,
    delivered_at    BIGINT,
    -- The order rows were written in (SQLite's rowid): a receiver gets
    -- its notifications in that order.
    seq             BIGINT GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX notifications_due ON notifications (next_at) WHERE next_at IS NOT NULL;
CREATE INDEX notifications_vendor ON notifications (vendor_code, created_at);
CREATE INDEX notifications_customer ON notifications (customer_id, created_at);
CREATE INDEX notifications_channel ON notifications (channel, created_at);

CREATE TABLE notification_settings (
    customer_id    TEXT PRIMARY KEY REFERENCES customers (customer_id),
    email          BIGINT NOT NULL,
    feed           BIGINT NOT NULL,
    webhook_url    TEXT NOT NULL DEFAULT '',
    webhook_secret TEXT NOT NULL DEFAULT '',
    types          TEXT NOT NULL
);

ALTER TABLE feed ADD COLUMN read_at BIGINT;

-- When the customer was last told that a device stopped reporting; told
-- again only after it reported since.
ALTER TABLE endpoints ADD COLUMN silent_told_at BIGINT;

-- The endpoint's cookie from discovery (JSON), sent back in directives.
ALTER TABLE endpoints ADD COLUMN cookie TEXT NOT NULL DEFAULT '';
