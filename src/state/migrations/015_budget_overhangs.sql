-- A cut below what is used, on a sliced scope (account, group, pool): every slice keeps at least its own used
-- (a slice cannot know another's deficit), so the scope's capacity becomes its used, which is more than its
-- budget. The difference is the scope's overhang (docs/ledger.md, "Scopes and their capacity"): a refund
-- gives back used and takes as much of the overhang off the capacity, so room reopens only under the new
-- budget. Only a capacity sync (apply, admin edit; the declared-state lock held exclusively) sets it, and only
-- a refund (which shares that lock) lowers it. A row exists only while the overhang is above zero, so a
-- refund without one costs one primary-key probe of an empty range.
CREATE TABLE budget_overhangs (
  account_id  text NOT NULL,
  cycle_no    bigint NOT NULL,
  scope       text NOT NULL,
  overhang    numeric(24,6) NOT NULL CHECK (overhang > 0),
  PRIMARY KEY (account_id, cycle_no, scope)
);

-- Gives p_amount (> 0) back to a scope: the slice that has used the most is lowered by it, and a sliced
-- scope's capacity on that slice by as much of its overhang as the amount covers. That slice has at least
-- p_amount free after the refund, so its capacity stays at or above its used.
CREATE FUNCTION credits_refund(p_account text, p_cycle bigint, p_scope text, p_amount numeric)
RETURNS void LANGUAGE plpgsql SET enable_seqscan = off AS $$
DECLARE
  v_trim numeric := 0;
BEGIN
  IF p_amount <= 0 THEN RETURN; END IF;
  IF credits_slices(p_scope) > 1 THEN
    SELECT least(overhang, p_amount) INTO v_trim FROM budget_overhangs
     WHERE account_id = p_account AND cycle_no = p_cycle AND scope = p_scope FOR UPDATE;
    IF FOUND THEN
      UPDATE budget_overhangs SET overhang = overhang - v_trim
       WHERE account_id = p_account AND cycle_no = p_cycle AND scope = p_scope AND overhang > v_trim;
      IF NOT FOUND THEN
        DELETE FROM budget_overhangs WHERE account_id = p_account AND cycle_no = p_cycle AND scope = p_scope;
      END IF;
    ELSE
      v_trim := 0;
    END IF;
  END IF;
  UPDATE budget_counters SET used = used - p_amount, capacity = capacity - v_trim
   WHERE (account_id, cycle_no, scope, slice) = (
     SELECT account_id, cycle_no, scope, slice FROM budget_counters
      WHERE account_id = p_account AND cycle_no = p_cycle AND scope = p_scope ORDER BY used DESC LIMIT 1);
END $$;

-- Scopes cut before this migration: in each account's latest cycle, a sliced scope whose capacity is its used
-- and more than its budget (exactly what a cut leaves) gets that difference as its overhang. One whose
-- refunds already reopened room above its budget is left to the next apply or admin edit, which re-syncs it
-- (`credits verify` names it until then).
INSERT INTO budget_overhangs (account_id, cycle_no, scope, overhang)
SELECT k.account_id, k.cycle_no, k.scope, k.capacity - b.budget
  FROM (SELECT c.account_id, c.cycle_no, c.scope, sum(c.capacity) AS capacity, sum(c.used) AS used
          FROM budget_counters c
         WHERE credits_slices(c.scope) > 1
           AND c.cycle_no = (SELECT max(y.cycle_no) FROM cycles y WHERE y.account_id = c.account_id)
         GROUP BY 1, 2, 3) k
  CROSS JOIN LATERAL (
    SELECT coalesce(CASE
      WHEN k.scope = 'account' THEN (SELECT a.credit_limit FROM accounts a WHERE a.account_id = k.account_id)
      WHEN k.scope LIKE 'group:%' THEN
        (SELECT g.allocation + g.extra FROM groups g
          WHERE g.account_id = k.account_id AND 'group:' || g.group_key = k.scope)
      ELSE
        (SELECT greatest(g.allocation + g.extra - coalesce((SELECT sum(coalesce(m.allocation, 0) + m.extra)
                  FROM members m WHERE m.account_id = g.account_id AND m.group_key = g.group_key), 0), 0)
           FROM groups g WHERE g.account_id = k.account_id AND 'pool:' || g.group_key = k.scope)
    END, 0) AS budget) b
 WHERE k.capacity = k.used AND k.capacity > b.budget;
