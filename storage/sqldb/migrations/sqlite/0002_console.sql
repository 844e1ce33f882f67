-- The console complete: model changes and certification, listings per
-- marketplace (names, certification state), images, retired replenishment
-- IDs, the audit log of operator changes, and API keys with an ID.

ALTER TABLE models ADD COLUMN certification_reason TEXT NOT NULL DEFAULT '';

ALTER TABLE model_marketplaces ADD COLUMN status TEXT NOT NULL DEFAULT 'DRAFT';
ALTER TABLE model_marketplaces ADD COLUMN device_name TEXT NOT NULL DEFAULT '';
ALTER TABLE model_marketplaces ADD COLUMN reject_reason TEXT NOT NULL DEFAULT '';

CREATE TABLE slot_names (
    vendor_code TEXT NOT NULL,
    model_id    TEXT NOT NULL,
    marketplace TEXT NOT NULL,
    slot_id     TEXT NOT NULL,
    name        TEXT NOT NULL,
    PRIMARY KEY (vendor_code, model_id, marketplace, slot_id),
    FOREIGN KEY (vendor_code, model_id, marketplace)
        REFERENCES model_marketplaces (vendor_code, model_id, marketplace) ON DELETE CASCADE,
    FOREIGN KEY (vendor_code, model_id, slot_id)
        REFERENCES slots (vendor_code, model_id, slot_id) ON DELETE CASCADE
);

-- marketplace is '' for the model's default image.
CREATE TABLE model_images (
    vendor_code  TEXT NOT NULL,
    model_id     TEXT NOT NULL,
    marketplace  TEXT NOT NULL,
    content_type TEXT NOT NULL,
    width        INTEGER NOT NULL,
    height       INTEGER NOT NULL,
    data         BLOB NOT NULL,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (vendor_code, model_id, marketplace),
    FOREIGN KEY (vendor_code, model_id) REFERENCES models (vendor_code, model_id) ON DELETE CASCADE
);

-- A replenishment ID whose slot or model was removed stays here, so that
-- it is never mistaken for a live one and the record of it is kept.
CREATE TABLE retired_replenishment_ids (
    replenishment_id TEXT PRIMARY KEY,
    vendor_code      TEXT NOT NULL,
    model_id         TEXT NOT NULL,
    slot_id          TEXT NOT NULL,
    retired_at       INTEGER NOT NULL
);

CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL,
    actor       TEXT NOT NULL,
    vendor_code TEXT NOT NULL,
    model_id    TEXT NOT NULL,
    action      TEXT NOT NULL,
    before      TEXT NOT NULL,
    after       TEXT NOT NULL
);
CREATE INDEX audit_log_model ON audit_log (vendor_code, model_id, id);

-- key_id names a key without revealing it: the first bytes of its hash.
ALTER TABLE api_keys ADD COLUMN key_id TEXT NOT NULL DEFAULT '';
UPDATE api_keys SET key_id = lower(hex(substr(key_hash, 1, 8)));
CREATE UNIQUE INDEX api_keys_id ON api_keys (key_id);
