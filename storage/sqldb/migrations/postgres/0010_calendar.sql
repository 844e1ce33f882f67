-- Calendar feeds: each customer's secret feed token. The token is kept so
-- that the settings can show the whole address again; a feed is looked up
-- by the token's SHA-256, as API keys are. Rotating replaces the row, so
-- the old address stops working at once.

CREATE TABLE calendar_tokens (
    customer_id TEXT PRIMARY KEY REFERENCES customers (customer_id),
    token       TEXT NOT NULL,
    token_hash  BYTEA NOT NULL UNIQUE,
    created_at  BIGINT NOT NULL
);
