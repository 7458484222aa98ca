-- A refund is spread over the slices it was charged to. Holds that expire together come back as one refund
-- per scope, and on a sliced scope their charges sat on different slices: given back to the fullest slice
-- alone, the merged amount took that slice's used below zero (the scope's totals stayed exact). Now the
-- fullest slice takes the refund when it covers it (one UPDATE, as before: a single hold always fits, since
-- its own slice holds at least its charge); otherwise the scope's slices are locked in slice order, as
-- credits_charge's slow path locks them, and the amount is taken from the fullest slices first, each down to
-- zero at most. The overhang trim (migration 015) goes with it: a slice's capacity shrinks by no more than
-- that slice gives back, so it stays at or above its used.
CREATE OR REPLACE FUNCTION credits_refund(p_account text, p_cycle bigint, p_scope text, p_amount numeric)
RETURNS void LANGUAGE plpgsql SET enable_seqscan = off AS $$
DECLARE
  v_trim numeric := 0;
  v_rest numeric := p_amount;
  v_take numeric;
  v_cut numeric;
  v_fullest int;
  r record;
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
  -- The common case: the fullest slice covers the refund (re-checked on the row's latest version).
  UPDATE budget_counters SET used = used - p_amount, capacity = capacity - v_trim
   WHERE (account_id, cycle_no, scope, slice) = (
     SELECT account_id, cycle_no, scope, slice FROM budget_counters
      WHERE account_id = p_account AND cycle_no = p_cycle AND scope = p_scope ORDER BY used DESC LIMIT 1)
     AND used >= p_amount;
  IF FOUND THEN RETURN; END IF;

  -- A merged refund: lock the scope in slice order, then give back from the fullest slices first.
  PERFORM 1 FROM budget_counters
   WHERE account_id = p_account AND cycle_no = p_cycle AND scope = p_scope ORDER BY slice FOR UPDATE;
  FOR r IN SELECT slice, used FROM budget_counters
            WHERE account_id = p_account AND cycle_no = p_cycle AND scope = p_scope AND used > 0
            ORDER BY used DESC, slice LOOP
    EXIT WHEN v_rest <= 0;
    v_fullest := coalesce(v_fullest, r.slice);
    v_take := least(r.used, v_rest);
    v_cut := least(v_take, v_trim);
    UPDATE budget_counters SET used = used - v_take, capacity = capacity - v_cut
     WHERE account_id = p_account AND cycle_no = p_cycle AND scope = p_scope AND slice = r.slice;
    v_rest := v_rest - v_take;
    v_trim := v_trim - v_cut;
  END LOOP;
  -- More than the scope has used: only a ledger already out of balance gets here. The rest goes to the
  -- fullest slice, as every refund did before, so that the counters still move by exactly the amount.
  IF v_rest > 0 OR v_trim > 0 THEN
    UPDATE budget_counters SET used = used - v_rest, capacity = capacity - v_trim
     WHERE (account_id, cycle_no, scope, slice) = (
       SELECT account_id, cycle_no, scope, slice FROM budget_counters
        WHERE account_id = p_account AND cycle_no = p_cycle AND scope = p_scope
        ORDER BY (slice = v_fullest) DESC, used DESC LIMIT 1);
  END IF;
END $$;
