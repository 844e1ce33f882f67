-- Run-out forecasts: the service level the operator sets per replenishment
-- ID, and per slot what its open order brings and the consumption estimate
-- (a fixed-size binary value, see storage/sqldb/rate.go).

ALTER TABLE replenishment_requests ADD COLUMN service_level DOUBLE PRECISION;
ALTER TABLE endpoint_slots ADD COLUMN on_order DOUBLE PRECISION NOT NULL DEFAULT 0;
ALTER TABLE endpoint_slots ADD COLUMN rate BYTEA;

-- A LOW_SUPPLY entry keeps the inputs of the decision, as an order does.
ALTER TABLE feed ADD COLUMN reason TEXT NOT NULL DEFAULT '';
