-- Account linking through the customer's browser: the pending sign-ins at
-- a vendor's authorization page, and the vendor's refresh token for each
-- link.

-- A state names one sign-in at a vendor, for one customer; only its hash
-- is kept. The PKCE verifier stays here and never reaches the browser.
CREATE TABLE link_states (
    state_hash  BYTEA PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers (customer_id),
    vendor_code TEXT NOT NULL REFERENCES vendors (vendor_code),
    verifier    TEXT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT
);
CREATE INDEX link_states_expiry ON link_states (expires_at);

-- The vendor's tokens are sent back to the vendor, so they are kept in
-- clear, like the signing secret. grantee_expires_at is NULL for a
-- grantee token that Replenish minted itself and that never expires.
ALTER TABLE links ADD COLUMN grantee_refresh TEXT NOT NULL DEFAULT '';
ALTER TABLE links ADD COLUMN grantee_expires_at BIGINT;
