-- Idempotency keys are kept at least 24 h, then purged in batches (src/ledger/idempotency.ts). Rows arrive
-- in time order, so a BRIN index on created_at finds the old ones without a second B-tree on the hot path
-- of every usage event.
CREATE INDEX idempotency_keys_by_age ON idempotency_keys USING brin (created_at);
