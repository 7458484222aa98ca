-- The spending rule as server-side functions, so recording usage is one round trip (docs/ledger.md).
-- src/ledger/ calls these; the TypeScript and the SQL never each hold a copy of the rule.

-- How many rows a scope's budget is split into: the account is written by every event, groups and pools by
-- their members' events, a member's own counter only by them.
CREATE FUNCTION credits_slices(p_scope text) RETURNS int LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN p_scope = 'account' THEN 64
              WHEN p_scope LIKE 'group:%' OR p_scope LIKE 'pool:%' THEN 16
              ELSE 1 END
$$;

-- Charges up to p_want to a scope (all or nothing with p_all); returns what was charged. A negative p_want is
-- a refund. Sliced scopes: a random slice first; when it is short, lock every slice in slice order and
-- spread the free capacity evenly, giving the charging slice what it takes.
CREATE FUNCTION credits_charge(p_account text, p_cycle bigint, p_scope text, p_want numeric, p_all boolean)
RETURNS numeric LANGUAGE plpgsql AS $$
DECLARE
  v_slices int;
  v_slice int;
  v_free numeric := 0;
  v_take numeric;
  v_share numeric;
  v_first numeric;
  v_target int;
  r record;
  i int := 0;
BEGIN
  IF p_want = 0 THEN RETURN 0; END IF;
  IF p_want < 0 THEN
    UPDATE budget_counters SET used = used + p_want
     WHERE (account_id, cycle_no, scope, slice) = (
       SELECT account_id, cycle_no, scope, slice FROM budget_counters
        WHERE account_id = p_account AND cycle_no = p_cycle AND scope = p_scope ORDER BY used DESC LIMIT 1);
    RETURN p_want;
  END IF;
  v_slices := credits_slices(p_scope);
  IF v_slices = 1 THEN
    -- One row (a member, a signup pot, a reserve): read its headroom under the row lock, take what fits.
    SELECT greatest(capacity - used, 0) INTO v_free FROM budget_counters
     WHERE account_id = p_account AND cycle_no = p_cycle AND scope = p_scope AND slice = 0 FOR UPDATE;
    IF NOT FOUND THEN RETURN 0; END IF;
    v_take := CASE WHEN p_want <= v_free THEN p_want WHEN p_all THEN 0 ELSE v_free END;
    IF v_take > 0 THEN
      UPDATE budget_counters SET used = used + v_take
       WHERE account_id = p_account AND cycle_no = p_cycle AND scope = p_scope AND slice = 0;
    END IF;
    RETURN v_take;
  END IF;
  v_slice := floor(random() * v_slices)::int;
  UPDATE budget_counters SET used = used + p_want
   WHERE account_id = p_account AND cycle_no = p_cycle AND scope = p_scope AND slice = v_slice
     AND used + p_want <= capacity;
  IF FOUND THEN RETURN p_want; END IF;

  -- Slow path: the whole scope, locked in slice order.
  SELECT count(*), coalesce(sum(greatest(capacity - used, 0)), 0) INTO v_slices, v_free
    FROM (SELECT capacity, used FROM budget_counters
           WHERE account_id = p_account AND cycle_no = p_cycle AND scope = p_scope ORDER BY slice FOR UPDATE) s;
  IF v_slices = 0 THEN RETURN 0; END IF;
  IF p_want <= v_free THEN v_take := p_want; ELSIF p_all THEN RETURN 0; ELSE v_take := v_free; END IF;
  IF v_take = 0 THEN RETURN 0; END IF;
  v_share := trunc((v_free - v_take) / v_slices, 6);
  v_first := (v_free - v_take) - v_share * (v_slices - 1);
  SELECT min(slice) INTO v_target FROM budget_counters
   WHERE account_id = p_account AND cycle_no = p_cycle AND scope = p_scope AND slice >= v_slice;
  IF v_target IS NULL THEN
    SELECT min(slice) INTO v_target FROM budget_counters
     WHERE account_id = p_account AND cycle_no = p_cycle AND scope = p_scope;
  END IF;
  FOR r IN SELECT slice FROM budget_counters
            WHERE account_id = p_account AND cycle_no = p_cycle AND scope = p_scope ORDER BY slice LOOP
    UPDATE budget_counters
       SET capacity = used + CASE WHEN i = 0 THEN v_first ELSE v_share END
                           + CASE WHEN r.slice = v_target THEN v_take ELSE 0 END,
           used = used + CASE WHEN r.slice = v_target THEN v_take ELSE 0 END
     WHERE account_id = p_account AND cycle_no = p_cycle AND scope = p_scope AND slice = r.slice;
    i := i + 1;
  END LOOP;
  RETURN v_take;
END $$;

-- The spending rule: member allowance, then (pool members) the group pool, then signup credits; the
-- allowance part must also fit the group and the account. Returns the charges; raises
-- 'BUDGET_EXCEEDED:<level>' (SQLSTATE P0001) when blocked, which aborts the caller's transaction.
CREATE FUNCTION credits_spend(p_account text, p_cycle bigint, p_email text, p_group text, p_pooled boolean,
                              p_amount numeric)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  v_charges jsonb := '{}';
  v_rest numeric := p_amount;
  v_took numeric;
  v_allow numeric := 0;
BEGIN
  v_took := credits_charge(p_account, p_cycle, 'member:' || p_email, v_rest, false);
  IF v_took > 0 THEN v_charges := v_charges || jsonb_build_object('member:' || p_email, v_took::text); END IF;
  v_rest := v_rest - v_took;
  v_allow := v_took;
  IF p_pooled AND v_rest > 0 THEN
    v_took := credits_charge(p_account, p_cycle, 'pool:' || p_group, v_rest, false);
    IF v_took > 0 THEN v_charges := v_charges || jsonb_build_object('pool:' || p_group, v_took::text); END IF;
    v_rest := v_rest - v_took;
    v_allow := v_allow + v_took;
  END IF;
  IF v_rest > 0 THEN
    IF credits_charge(p_account, 0, 'signup:' || p_email, v_rest, true) = 0 THEN
      RAISE EXCEPTION 'BUDGET_EXCEEDED:member';
    END IF;
    v_charges := v_charges || jsonb_build_object('signup:' || p_email, v_rest::text);
  END IF;
  IF v_allow > 0 THEN
    IF credits_charge(p_account, p_cycle, 'group:' || p_group, v_allow, true) = 0 THEN
      RAISE EXCEPTION 'BUDGET_EXCEEDED:group';
    END IF;
    IF credits_charge(p_account, p_cycle, 'account', v_allow, true) = 0 THEN
      RAISE EXCEPTION 'BUDGET_EXCEEDED:account';
    END IF;
    v_charges := v_charges || jsonb_build_object('group:' || p_group, v_allow::text, 'account', v_allow::text);
  END IF;
  RETURN v_charges;
END $$;

-- Free capacity of a scope in a cycle (never below zero).
CREATE FUNCTION credits_free(p_account text, p_cycle bigint, p_scope text) RETURNS numeric
LANGUAGE sql STABLE AS $$
  SELECT coalesce(greatest(sum(capacity) - sum(used), 0), 0) FROM budget_counters
   WHERE account_id = p_account AND cycle_no = p_cycle AND scope = p_scope
$$;

-- One usage event in one round trip: idempotency, the cycle in force, the spending rule, the ledger entry
-- and what remains. Returns {"status": "…"} for the cases TypeScript handles (a cycle to roll over,
-- counters to create, replays, key conflicts, unknown member); raises BUDGET_EXCEEDED:<level>.
CREATE FUNCTION credits_record_usage(p_account text, p_email text, p_credits numeric, p_cost numeric,
                                     p_model text, p_metadata jsonb, p_key text, p_hash text, p_now timestamptz)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  v_seen record;
  v_member record;
  v_cycle record;
  v_credits numeric;
  v_charges jsonb := '{}';
  v_entry bigint;
  v_member_free numeric;
  v_group_free numeric;
  v_account_free numeric;
  v_allow numeric;
  v_result jsonb;
BEGIN
  IF p_key IS NOT NULL THEN
    IF NOT pg_try_advisory_xact_lock(hashtextextended('credits.idem:' || p_account || ':' || p_key, 0)) THEN
      RETURN jsonb_build_object('status', 'in-flight');
    END IF;
    SELECT request_hash, response INTO v_seen FROM idempotency_keys WHERE account_id = p_account AND idem_key = p_key;
    IF FOUND THEN
      IF v_seen.request_hash <> p_hash THEN RETURN jsonb_build_object('status', 'key-reused'); END IF;
      RETURN jsonb_build_object('status', 'replay', 'result', v_seen.response);
    END IF;
  END IF;
  SELECT m.group_key, m.allocation IS NULL AS pooled, a.credit_factor INTO v_member
    FROM members m JOIN accounts a USING (account_id) WHERE m.account_id = p_account AND m.email = p_email;
  IF NOT FOUND THEN RETURN jsonb_build_object('status', 'no-member'); END IF;
  SELECT cycle_no, ends_at INTO v_cycle FROM cycles WHERE account_id = p_account ORDER BY cycle_no DESC LIMIT 1;
  IF NOT FOUND OR p_now >= v_cycle.ends_at THEN RETURN jsonb_build_object('status', 'cycle-ended'); END IF;
  PERFORM 1 FROM budget_counters
   WHERE account_id = p_account AND cycle_no = v_cycle.cycle_no AND scope = 'member:' || p_email;
  IF NOT FOUND THEN RETURN jsonb_build_object('status', 'no-counters', 'cycle', v_cycle.cycle_no); END IF;

  v_credits := coalesce(p_credits, round(p_cost * v_member.credit_factor, 6));
  IF v_member.credit_factor <> 0 THEN
    v_charges := credits_spend(p_account, v_cycle.cycle_no, p_email, v_member.group_key, v_member.pooled, v_credits);
  END IF;
  INSERT INTO ledger_entries (account_id, cycle_no, member_email, group_key, kind, credits, cost_usd, model,
                              metadata, charges, idempotency_key)
  VALUES (p_account, v_cycle.cycle_no, p_email, v_member.group_key, 'usage', v_credits, p_cost, p_model,
          p_metadata, v_charges, p_key)
  RETURNING entry_id INTO v_entry;

  -- What remains, from one index scan over the scopes involved.
  SELECT coalesce(max(f) FILTER (WHERE scope = 'group:' || v_member.group_key), 0),
         coalesce(max(f) FILTER (WHERE scope = 'account'), 0),
         coalesce(max(f) FILTER (WHERE scope = 'member:' || p_email), 0)
         + CASE WHEN v_member.pooled THEN coalesce(max(f) FILTER (WHERE scope = 'pool:' || v_member.group_key), 0) ELSE 0 END
    INTO v_group_free, v_account_free, v_allow
    FROM (SELECT scope, greatest(sum(capacity) - sum(used), 0) AS f FROM budget_counters
           WHERE account_id = p_account AND cycle_no = v_cycle.cycle_no
             AND scope IN ('account', 'group:' || v_member.group_key, 'pool:' || v_member.group_key, 'member:' || p_email)
           GROUP BY scope) s;
  v_member_free := least(v_allow, v_group_free, v_account_free) + credits_free(p_account, 0, 'signup:' || p_email);
  v_result := jsonb_build_object(
    'id', v_entry::text, 'member', p_email, 'credits', trim_scale(v_credits)::text,
    'charged', v_member.credit_factor <> 0,
    'remaining', jsonb_build_object('member', trim_scale(v_member_free)::text,
                                    'group', trim_scale(v_group_free)::text,
                                    'account', trim_scale(v_account_free)::text));
  IF p_key IS NOT NULL THEN
    INSERT INTO idempotency_keys (account_id, idem_key, request_hash, status_code, response)
    VALUES (p_account, p_key, p_hash, 201, v_result);
  END IF;
  RETURN jsonb_build_object('status', 'ok', 'result', v_result);
END $$;

-- Group usage is read from the counters now; this index only slowed every usage insert.
DROP INDEX ledger_by_group;
