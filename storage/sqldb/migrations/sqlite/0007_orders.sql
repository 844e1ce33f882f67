-- Orders and inventory complete: household inventory for every slot, the
-- order lifecycle with its history and timers, fulfilment requests, and
-- each slot's history.

-- Spares at home for LEVEL and LEVEL_USAGE slots (a USAGE slot keeps them
-- in amount); the customer's cancellations of automatic orders in a row
-- and the cooldown the last one set; the offer's price when the customer
-- chose the product.
ALTER TABLE endpoint_slots ADD COLUMN household REAL NOT NULL DEFAULT 0;
ALTER TABLE endpoint_slots ADD COLUMN cancel_streak INTEGER NOT NULL DEFAULT 0;
ALTER TABLE endpoint_slots ADD COLUMN cooldown_until INTEGER;
ALTER TABLE endpoint_slots ADD COLUMN chosen_price TEXT NOT NULL DEFAULT '';

-- The customer's own name for a device wins over the vendor's.
ALTER TABLE endpoints ADD COLUMN customer_name TEXT NOT NULL DEFAULT '';

-- What kind of sample a reading is, and what a usage report used.
ALTER TABLE readings ADD COLUMN kind TEXT NOT NULL DEFAULT 'LEVEL';
ALTER TABLE readings ADD COLUMN used REAL;

-- The pack ordered (what shipping adds at home), the tracking reference,
-- and when a timer next moves the order (NULL: none).
ALTER TABLE orders ADD COLUMN pack_quantity REAL NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN pack_unit TEXT NOT NULL DEFAULT '';
ALTER TABLE orders ADD COLUMN tracking TEXT NOT NULL DEFAULT '';
ALTER TABLE orders ADD COLUMN due_at INTEGER;
UPDATE orders SET due_at = cancel_by WHERE status = 'PENDING';
CREATE INDEX orders_due ON orders (due_at, order_id) WHERE due_at IS NOT NULL;
CREATE INDEX orders_vendor ON orders (vendor_code, placed_at);
CREATE INDEX orders_slot ON orders (slot, placed_at);

-- Every state an order entered: when, by whom, why.
CREATE TABLE order_steps (
    id       INTEGER PRIMARY KEY,
    order_id TEXT NOT NULL REFERENCES orders (order_id),
    status   TEXT NOT NULL,
    at       INTEGER NOT NULL,
    actor    TEXT NOT NULL,
    reason   TEXT NOT NULL
);
CREATE INDEX order_steps_order ON order_steps (order_id, id);
INSERT INTO order_steps (order_id, status, at, actor, reason)
    SELECT order_id, 'PENDING', placed_at, 'service', 'placed' FROM orders;

-- Released orders waiting to reach the commerce system (webhook adapter).
CREATE TABLE fulfilments (
    order_id   TEXT PRIMARY KEY REFERENCES orders (order_id),
    attempts   INTEGER NOT NULL DEFAULT 0,
    next_at    INTEGER,
    last_error TEXT NOT NULL DEFAULT '',
    sent_at    INTEGER,
    created_at INTEGER NOT NULL
);
CREATE INDEX fulfilments_due ON fulfilments (next_at, order_id) WHERE next_at IS NOT NULL;

-- Household changes from every source, with the change itself.
ALTER TABLE household_changes ADD COLUMN delta REAL NOT NULL DEFAULT 0;
ALTER TABLE household_changes ADD COLUMN source TEXT NOT NULL DEFAULT 'customer';
ALTER TABLE household_changes ADD COLUMN order_id TEXT NOT NULL DEFAULT '';

-- The customer's changes to a slot: mode and product, installed part.
CREATE TABLE slot_changes (
    id         INTEGER PRIMARY KEY,
    slot       INTEGER NOT NULL REFERENCES endpoint_slots (id),
    kind       TEXT NOT NULL,
    message    TEXT NOT NULL,
    actor      TEXT NOT NULL,
    changed_at INTEGER NOT NULL
);
CREATE INDEX slot_changes_slot ON slot_changes (slot, changed_at);

-- A slot's notifications, for its history.
CREATE INDEX feed_slot ON feed (customer_id, endpoint_id, slot_id, created_at);
