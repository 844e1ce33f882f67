-- The event gateway's complete wire protocol: parts replaced, endpoints
-- removed by DeleteReport (their history stays), and the household
-- inventory a customer sets.

-- When the slot's part was last replaced (LEVEL_USAGE: usage sampled
-- before it belongs to the old part).
ALTER TABLE endpoint_slots ADD COLUMN replaced_at INTEGER;

-- A DeleteReport hides the endpoint; its slots, readings and orders stay.
ALTER TABLE endpoints ADD COLUMN deleted_at INTEGER;

-- Every change a customer makes to a slot's household inventory, and why.
CREATE TABLE household_changes (
    id         INTEGER PRIMARY KEY,
    slot       INTEGER NOT NULL REFERENCES endpoint_slots (id),
    quantity   REAL NOT NULL,
    reason     TEXT NOT NULL,
    changed_at INTEGER NOT NULL
);
CREATE INDEX household_changes_slot ON household_changes (slot, id);

