-- Batch ingestion (POST /v1/usage/batch) records a request's events in chunks of a few hundred. Such a chunk
-- must not take credits_record_usage_batch's one-by-one path: that path is a subtransaction per event, and
-- more than 64 in one transaction overflow every backend's snapshot cache. credits_record_usage_fast_only is
-- the batch function's first half alone: the cycle in force, members' counters created, the set-wise fast
-- path; it answers NULL when the fast path does not settle the chunk (a key seen before, a cycle to roll,
-- counters to create, room running short on a slice, a conflict with a concurrent writer), and the caller
-- then sends the chunk's events through credits_record_usage_batch in batches of at most 32
-- (src/ledger/usage-chunks.ts). A NULL answer leaves nothing charged.
CREATE FUNCTION credits_record_usage_fast_only(p_account text, p_events jsonb) RETURNS jsonb
LANGUAGE plpgsql SET enable_seqscan = off AS $$
DECLARE
  v_cycle bigint;
  v_ends_at timestamptz;
  v_slice int := floor(random() * 1024)::int;
  v_out jsonb;
BEGIN
  SELECT cycle_no, ends_at INTO v_cycle, v_ends_at FROM cycles WHERE account_id = p_account
   ORDER BY cycle_no DESC LIMIT 1;
  IF NOT FOUND OR NOT EXISTS (SELECT 1 FROM budget_counters WHERE account_id = p_account
                                 AND cycle_no = v_cycle AND scope = 'account' LIMIT 1) THEN
    RETURN NULL;
  END IF;
  -- As credits_record_usage_batch (migration 012) creates a member's first counter of the cycle.
  INSERT INTO budget_counters (account_id, cycle_no, scope, slice, capacity)
  SELECT p_account, v_cycle, 'member:' || m.email, 0, credits_member_capacity(p_account, v_cycle, m.email)
    FROM (SELECT DISTINCT x.email FROM jsonb_to_recordset(p_events) AS x(email text)) ev
    CROSS JOIN LATERAL (SELECT mm.email FROM members mm
                         WHERE mm.account_id = p_account AND mm.email = ev.email LIMIT 1) m
   WHERE (SELECT 1 FROM budget_counters b WHERE b.account_id = p_account AND b.cycle_no = v_cycle
             AND b.scope = 'member:' || m.email LIMIT 1) IS NULL
   ORDER BY m.email
  ON CONFLICT DO NOTHING;
  BEGIN
    v_out := credits_record_usage_fast(p_account, v_cycle, v_ends_at, v_slice, p_events);
  EXCEPTION WHEN raise_exception THEN
    IF SQLERRM <> 'CREDITS_FAST_PATH_MISSED' THEN RAISE; END IF;
    v_out := NULL;
  END;
  RETURN v_out;
END $$;
