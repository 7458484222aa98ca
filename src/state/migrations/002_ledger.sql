-- Runtime ledger: budget counters (derived, sliced to avoid hot rows) beside the append-only ledger.

-- Fixed cadences run anchor + k·length; the anchor is the start of the last created/reset/cadence-change cycle.
ALTER TABLE cycles ADD COLUMN anchor_at timestamptz;
UPDATE cycles SET anchor_at = starts_at WHERE anchor_at IS NULL;
ALTER TABLE cycles ALTER COLUMN anchor_at SET NOT NULL;

-- How much of a budget is spent (usage + live holds) in a cycle. A scope's capacity is split across slices
-- so concurrent writers update different rows; a charge is a conditional UPDATE (used + x <= capacity),
-- so no interleaving can take a slice past its capacity, and the slices' capacities sum to the budget.
-- Scopes: 'account', 'group:<key>', 'pool:<key>', 'member:<email>', 'signup:<email>' (cycle_no 0: signup
-- credits never expire), 'auto:<key>' (auto-approve reserve).
CREATE TABLE budget_counters (
  account_id  text NOT NULL,
  cycle_no    bigint NOT NULL,
  scope       text NOT NULL,
  slice       integer NOT NULL,
  capacity    numeric(24,6) NOT NULL,
  used        numeric(24,6) NOT NULL DEFAULT 0,
  PRIMARY KEY (account_id, cycle_no, scope, slice)
);

-- What each entry charged to which scope ({"member:a@b.c": "10", "group:eng": "10", "account": "10"}):
-- `credits verify` proves that every counter's used equals the sum of these.
ALTER TABLE ledger_entries ADD COLUMN charges jsonb NOT NULL DEFAULT '{}';
ALTER TABLE ledger_entries ADD COLUMN idempotency_key text;
CREATE UNIQUE INDEX ledger_idempotency ON ledger_entries (account_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
ALTER TABLE reservations ADD COLUMN charges jsonb NOT NULL DEFAULT '{}';
ALTER TABLE reservations ADD COLUMN settled_credits numeric(24,6);
CREATE INDEX reservations_live ON reservations (account_id, status, expires_at);
