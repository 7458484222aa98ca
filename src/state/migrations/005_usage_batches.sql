-- Usage events in batches: one transaction (one commit, one WAL flush) records many events, so the commit
-- rate stops bounding the event rate (docs/ledger.md, "Batched commits").
--
-- The fast path settles a batch set-wise with conditional updates in the one global lock order (member,
-- pool, signup, group, account; then scope, then slice), charging ONE slice per sliced scope; the
-- one-by-one path first locks every row it may charge in that order. So two batches, or a batch and a single
-- spend, never wait on each other in a cycle; only the rare re-spreading of a fragmented scope can still
-- deadlock, and a deadlock victim's transaction is retried whole by the caller.

-- A client's Idempotency-Key lives in idempotency_keys (with the answer, which names the entry), not in
-- ledger_entries.idempotency_key: that column's unique index is for the ledger's own once-only keys
-- (`signup:<email>`), and a client key spelled like one must neither fail nor block a signup grant. Keys
-- already written there by usage are moved out of that namespace.
UPDATE ledger_entries SET idempotency_key = 'usage:' || idempotency_key
 WHERE kind = 'usage' AND idempotency_key IS NOT NULL;

-- The level of a scope in the lock order.
CREATE FUNCTION credits_lock_rank(p_scope text) RETURNS int LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN p_scope LIKE 'member:%' THEN 0 WHEN p_scope LIKE 'pool:%' THEN 1
              WHEN p_scope LIKE 'signup:%' THEN 2 WHEN p_scope LIKE 'group:%' THEN 3 ELSE 4 END
$$;

-- credits_charge, credits_spend and credits_record_usage gain p_slice: the slice a sliced scope is charged
-- on first (modulo its slice count); NULL picks one at random as before.
DROP FUNCTION credits_record_usage(text, text, numeric, numeric, text, jsonb, text, text, timestamptz);
DROP FUNCTION credits_spend(text, bigint, text, text, boolean, numeric);
DROP FUNCTION credits_charge(text, bigint, text, numeric, boolean);

CREATE FUNCTION credits_charge(p_account text, p_cycle bigint, p_scope text, p_want numeric, p_all boolean,
                               p_slice int DEFAULT NULL)
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
  v_slice := coalesce(p_slice % v_slices, floor(random() * v_slices)::int);
  UPDATE budget_counters SET used = used + p_want
   WHERE account_id = p_account AND cycle_no = p_cycle AND scope = p_scope AND slice = v_slice
     AND used + p_want <= capacity;
  IF FOUND THEN RETURN p_want; END IF;

  -- The slice is short. A refusal needs no lock: if the scope as a whole has too little, no order of the
  -- transactions in flight could have let this charge through.
  SELECT coalesce(sum(greatest(capacity - used, 0)), 0) INTO v_free FROM budget_counters
   WHERE account_id = p_account AND cycle_no = p_cycle AND scope = p_scope;
  IF v_free = 0 OR (p_all AND v_free < p_want) THEN RETURN 0; END IF;
  -- Another slice that has room and nobody holds: taking it never waits, so it cannot deadlock.
  SELECT slice INTO v_target FROM budget_counters
   WHERE account_id = p_account AND cycle_no = p_cycle AND scope = p_scope AND used + p_want <= capacity
   ORDER BY slice LIMIT 1 FOR UPDATE SKIP LOCKED;
  IF FOUND THEN
    UPDATE budget_counters SET used = used + p_want
     WHERE account_id = p_account AND cycle_no = p_cycle AND scope = p_scope AND slice = v_target;
    RETURN p_want;
  END IF;

  -- Slow path: the whole scope, locked in slice order, its free capacity spread evenly again.
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

CREATE FUNCTION credits_spend(p_account text, p_cycle bigint, p_email text, p_group text, p_pooled boolean,
                              p_amount numeric, p_slice int DEFAULT NULL)
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
    v_took := credits_charge(p_account, p_cycle, 'pool:' || p_group, v_rest, false, p_slice);
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
    IF credits_charge(p_account, p_cycle, 'group:' || p_group, v_allow, true, p_slice) = 0 THEN
      RAISE EXCEPTION 'BUDGET_EXCEEDED:group';
    END IF;
    IF credits_charge(p_account, p_cycle, 'account', v_allow, true, p_slice) = 0 THEN
      RAISE EXCEPTION 'BUDGET_EXCEEDED:account';
    END IF;
    v_charges := v_charges || jsonb_build_object('group:' || p_group, v_allow::text, 'account', v_allow::text);
  END IF;
  RETURN v_charges;
END $$;

-- One usage event: idempotency, the cycle in force, the spending rule, the ledger entry and what remains.
-- Returns {"status": "…"} for the cases TypeScript handles (a cycle to roll over, counters to create,
-- replays, key conflicts, unknown member); raises BUDGET_EXCEEDED:<level>.
CREATE FUNCTION credits_record_usage(p_account text, p_email text, p_credits numeric, p_cost numeric,
                                     p_model text, p_metadata jsonb, p_key text, p_hash text, p_now timestamptz,
                                     p_slice int DEFAULT NULL)
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
    v_charges := credits_spend(p_account, v_cycle.cycle_no, p_email, v_member.group_key, v_member.pooled,
                               v_credits, p_slice);
  END IF;
  INSERT INTO ledger_entries (account_id, cycle_no, member_email, group_key, kind, credits, cost_usd, model,
                              metadata, charges, idempotency_key)
  VALUES (p_account, v_cycle.cycle_no, p_email, v_member.group_key, 'usage', v_credits, p_cost, p_model,
          p_metadata, v_charges, NULL)
  RETURNING entry_id INTO v_entry;

  -- What remains: one primary-key range per scope, whatever the planner believes about the table's size.
  SELECT coalesce(max(f) FILTER (WHERE k = 'group'), 0), coalesce(max(f) FILTER (WHERE k = 'account'), 0),
         coalesce(max(f) FILTER (WHERE k = 'member'), 0)
         + CASE WHEN v_member.pooled THEN coalesce(max(f) FILTER (WHERE k = 'pool'), 0) ELSE 0 END
    INTO v_group_free, v_account_free, v_allow
    FROM (VALUES ('account', 'account'), ('group', 'group:' || v_member.group_key),
                 ('pool', 'pool:' || v_member.group_key), ('member', 'member:' || p_email)) AS s(k, scope)
    CROSS JOIN LATERAL (SELECT greatest(sum(b.capacity) - sum(b.used), 0) AS f FROM budget_counters b
                         WHERE b.account_id = p_account AND b.cycle_no = v_cycle.cycle_no AND b.scope = s.scope) x;
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

-- A member's capacity in a cycle: allocation + extra + the grants approved in it (src/ledger/capacities.ts).
CREATE FUNCTION credits_member_capacity(p_account text, p_cycle bigint, p_email text) RETURNS numeric
LANGUAGE sql STABLE AS $$
  SELECT coalesce(m.allocation, 0) + m.extra +
         coalesce((SELECT sum(e.credits) FROM ledger_entries e
                    WHERE e.account_id = m.account_id AND e.cycle_no = p_cycle AND e.member_email = m.email
                      AND e.kind = 'grant'), 0)
    FROM members m WHERE m.account_id = p_account AND m.email = p_email
$$;

-- One event of a batch as the fast path settles it.
CREATE TYPE credits_usage_row AS (
  ord int, email text, group_key text, credits numeric, cost numeric, model text, metadata jsonb, key text,
  hash text, charges jsonb, rem_member numeric, rem_group numeric, rem_account numeric);

-- The common case of a batch in a few set-wise statements instead of the rule once per event: every member's
-- events fit their own counter (or, for a pool member with nothing of their own, the pool), and every group's
-- and the account's share fits the batch's slice. The result is what the events one by one would have given,
-- including each event's "remaining" after it. Anything else (a new key seen before, a cycle to roll, missing
-- counters, signup credits, a budget running short) returns NULL and the batch takes the one-by-one path.
-- Counters are read without locks; the charges are then conditional updates in the global lock order, so
-- no budget can be overdrawn, and a miss raises CREDITS_FAST_PATH_MISSED for the caller to roll back.
-- (Taking the row locks first would cost a WAL record per row: a third of the WAL of an event.) Lookups by primary key carry LIMIT 1 so the planner
-- cannot turn them into hash joins over the whole account when its statistics are stale (a fresh cycle's
-- counters, a day of idempotency keys).
CREATE FUNCTION credits_record_usage_fast(p_account text, p_cycle bigint, p_ends_at timestamptz, p_slice int,
                                          p_events jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  v_factor numeric;
  v_ok boolean;
  v_rows credits_usage_row[];
  v_out jsonb;
  d record;
BEGIN
  -- Idempotency keys are taken as the one-by-one path takes them, before looking for them; one held
  -- elsewhere means a duplicate in flight, which the one-by-one path reports.
  IF EXISTS (SELECT 1 FROM jsonb_to_recordset(p_events) AS x(key text)
              WHERE x.key IS NOT NULL
                AND NOT pg_try_advisory_xact_lock(hashtextextended('credits.idem:' || p_account || ':' || x.key, 0))) THEN
    RETURN NULL;
  END IF;
  SELECT credit_factor INTO v_factor FROM accounts WHERE account_id = p_account;
  WITH ev AS (
    SELECT x.*, m.group_key, m.pooled, coalesce(x.credits, round(x.cost * v_factor, 6)) AS amount
      FROM jsonb_to_recordset(p_events) AS x(ord int, email text, credits numeric, cost numeric, model text,
                                             metadata jsonb, key text, hash text, now timestamptz)
      LEFT JOIN LATERAL (SELECT mm.group_key, mm.allocation IS NULL AS pooled FROM members mm
                          WHERE mm.account_id = p_account AND mm.email = x.email LIMIT 1) m ON true
  ),
  scopes AS (
    SELECT DISTINCT v.scope, p_slice % credits_slices(v.scope) AS slice
      FROM ev CROSS JOIN LATERAL (VALUES ('member:' || ev.email), ('pool:' || ev.group_key),
                                         ('group:' || ev.group_key), ('account')) AS v(scope)
     WHERE ev.group_key IS NOT NULL
  ),
  -- Each scope's free capacity over all slices, and the batch slice's headroom.
  counters AS (
    SELECT s.scope, c.n, c.free, c.head FROM scopes s CROSS JOIN LATERAL (
      SELECT count(*) AS n, sum(b.capacity) - sum(b.used) AS free,
             max(b.capacity - b.used) FILTER (WHERE b.slice = s.slice) AS head
        FROM budget_counters b WHERE b.account_id = p_account AND b.cycle_no = p_cycle AND b.scope = s.scope) c
  ),
  -- How a member's events are paid: 'member' (their own counter has room for all of them), 'pool' (a pool
  -- member with nothing of their own), 'none' (tracking off); NULL: not for the fast path.
  paths AS (
    SELECT ev.email,
           CASE WHEN v_factor = 0 THEN 'none'
                WHEN greatest(c.head, 0) >= sum(ev.amount) THEN 'member'
                WHEN bool_and(ev.pooled) AND greatest(c.head, 0) = 0 THEN 'pool' END AS path
      FROM ev JOIN counters c ON c.scope = 'member:' || ev.email AND c.n > 0
     GROUP BY ev.email, c.head
  ),
  paid AS (
    SELECT ev.*, p.path, CASE WHEN p.path IN ('member', 'pool') THEN ev.amount ELSE 0 END AS charged
      FROM ev LEFT JOIN paths p USING (email)
  ),
  needs AS (
    SELECT 'pool:' || group_key AS scope, sum(charged) AS need FROM paid WHERE path = 'pool' GROUP BY group_key
    UNION ALL SELECT 'group:' || group_key, sum(charged) FROM paid GROUP BY group_key
    UNION ALL SELECT 'account', sum(charged) FROM paid
  ),
  after AS (
    SELECT p.*,
           sum(CASE WHEN p.path = 'member' THEN p.charged ELSE 0 END) OVER (PARTITION BY p.email ORDER BY p.ord) AS cum_member,
           sum(CASE WHEN p.path = 'pool' THEN p.charged ELSE 0 END) OVER (PARTITION BY p.group_key ORDER BY p.ord) AS cum_pool,
           sum(p.charged) OVER (PARTITION BY p.group_key ORDER BY p.ord) AS cum_group,
           sum(p.charged) OVER (ORDER BY p.ord) AS cum_account
      FROM paid p
  ),
  rows AS (
    SELECT a.*,
           greatest(coalesce(mc.free, 0) - a.cum_member, 0)
           + CASE WHEN a.pooled THEN greatest(coalesce(pc.free, 0) - a.cum_pool, 0) ELSE 0 END AS allow,
           greatest(coalesce(gc.free, 0) - a.cum_group, 0) AS group_free,
           greatest(coalesce(ac.free, 0) - a.cum_account, 0) AS account_free,
           (SELECT coalesce(greatest(sum(b.capacity) - sum(b.used), 0), 0) FROM budget_counters b
             WHERE b.account_id = p_account AND b.cycle_no = 0 AND b.scope = 'signup:' || a.email) AS signup_free
      FROM after a
      LEFT JOIN counters mc ON mc.scope = 'member:' || a.email
      LEFT JOIN counters pc ON pc.scope = 'pool:' || a.group_key
      LEFT JOIN counters gc ON gc.scope = 'group:' || a.group_key
      LEFT JOIN counters ac ON ac.scope = 'account'
  )
  SELECT NOT EXISTS (SELECT 1 FROM paid WHERE path IS NULL OR now >= p_ends_at OR amount < 0)
         AND NOT EXISTS (SELECT 1 FROM needs n LEFT JOIN counters c USING (scope)
                          WHERE n.need > 0 AND n.need > coalesce(c.head, -1))
         AND NOT EXISTS (SELECT 1 FROM ev WHERE key IS NOT NULL GROUP BY key HAVING count(*) > 1)
         AND NOT EXISTS (SELECT 1 FROM ev CROSS JOIN LATERAL (SELECT 1 FROM idempotency_keys k
                          WHERE k.account_id = p_account AND k.idem_key = ev.key LIMIT 1) seen),
         (SELECT array_agg(ROW(r.ord, r.email, r.group_key, r.amount, r.cost, r.model, r.metadata, r.key, r.hash,
                               CASE WHEN r.charged = 0 THEN '{}'::jsonb
                                    ELSE jsonb_build_object(CASE WHEN r.path = 'pool' THEN 'pool:' || r.group_key
                                                                 ELSE 'member:' || r.email END, r.charged::text,
                                                            'group:' || r.group_key, r.charged::text,
                                                            'account', r.charged::text) END,
                               least(r.allow, r.group_free, r.account_free) + r.signup_free,
                               r.group_free, r.account_free)::credits_usage_row ORDER BY r.ord)
            FROM rows r)
    INTO v_ok, v_rows;
  IF NOT v_ok THEN RETURN NULL; END IF;
  FOR d IN SELECT c.key AS scope, sum(c.value::numeric) AS amount
             FROM unnest(v_rows) r CROSS JOIN LATERAL jsonb_each_text(r.charges) c
            GROUP BY c.key ORDER BY credits_lock_rank(c.key), c.key
  LOOP
    UPDATE budget_counters SET used = used + d.amount
     WHERE account_id = p_account AND cycle_no = p_cycle AND scope = d.scope
       AND slice = p_slice % credits_slices(d.scope) AND used + d.amount <= capacity;
    -- A concurrent writer took the room this batch counted on: undo the batch's fast path (the caller's
    -- subtransaction) and let it take the one-by-one path.
    IF NOT FOUND THEN RAISE EXCEPTION 'CREDITS_FAST_PATH_MISSED'; END IF;
  END LOOP;

  WITH r AS (
    SELECT x.*, nextval(pg_get_serial_sequence('ledger_entries', 'entry_id')) AS id FROM unnest(v_rows) x
  ),
  entries AS (
    INSERT INTO ledger_entries (entry_id, account_id, cycle_no, member_email, group_key, kind, credits, cost_usd,
                                model, metadata, charges, idempotency_key)
    OVERRIDING SYSTEM VALUE
    SELECT id, p_account, p_cycle, email, group_key, 'usage', credits, cost, model, metadata, charges, NULL FROM r
  ),
  results AS (
    SELECT r.ord, r.key, r.hash,
           jsonb_build_object('id', r.id::text, 'member', r.email, 'credits', trim_scale(r.credits)::text,
                              'charged', v_factor <> 0,
                              'remaining', jsonb_build_object('member', trim_scale(r.rem_member)::text,
                                                              'group', trim_scale(r.rem_group)::text,
                                                              'account', trim_scale(r.rem_account)::text)) AS result
      FROM r
  ),
  keys AS (
    INSERT INTO idempotency_keys (account_id, idem_key, request_hash, status_code, response)
    SELECT p_account, key, hash, 201, result FROM results WHERE key IS NOT NULL
  )
  SELECT jsonb_agg(jsonb_build_object('status', 'ok', 'result', result) ORDER BY ord) INTO v_out FROM results;
  RETURN v_out;
END $$;

-- Many usage events of one account in one transaction. p_events is a JSON array of
-- {ord, email, credits, cost, model, metadata, key, hash, now}; the result is an array of the same length whose
-- elements are what credits_record_usage returns, or {"status": "blocked", "level": …} for an event the
-- budgets refused. Each event runs in its own subtransaction so a refused event leaves no trace while the
-- others commit. Callers keep batches under 64 events: more subtransactions than that overflow the
-- per-backend cache and slow every snapshot on the server.
CREATE FUNCTION credits_record_usage_batch(p_account text, p_events jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  v_cycle bigint;
  v_ends_at timestamptz;
  v_slice int := floor(random() * 1024)::int;
  e record;
  w record;
  v_out jsonb := '[]';
  v_one jsonb;
BEGIN
  SELECT cycle_no, ends_at INTO v_cycle, v_ends_at FROM cycles WHERE account_id = p_account
   ORDER BY cycle_no DESC LIMIT 1;
  IF NOT FOUND THEN v_cycle := NULL; END IF;
  -- A member's first event in a cycle creates their counter here, in e-mail order, rather than in a
  -- transaction of its own (once the cycle's shared counters exist; creating those is the caller's).
  IF v_cycle IS NOT NULL AND EXISTS (SELECT 1 FROM budget_counters WHERE account_id = p_account
                                        AND cycle_no = v_cycle AND scope = 'account' LIMIT 1) THEN
    INSERT INTO budget_counters (account_id, cycle_no, scope, slice, capacity)
    SELECT p_account, v_cycle, 'member:' || m.email, 0, credits_member_capacity(p_account, v_cycle, m.email)
      FROM (SELECT DISTINCT x.email FROM jsonb_to_recordset(p_events) AS x(email text)) ev
      CROSS JOIN LATERAL (SELECT mm.email FROM members mm
                           WHERE mm.account_id = p_account AND mm.email = ev.email LIMIT 1) m
     -- A scalar subquery, not NOT EXISTS: an anti-join's plan would scan every counter of the account.
     WHERE (SELECT 1 FROM budget_counters b WHERE b.account_id = p_account AND b.cycle_no = v_cycle
               AND b.scope = 'member:' || m.email LIMIT 1) IS NULL
     ORDER BY m.email
    ON CONFLICT DO NOTHING;
  END IF;
  IF v_cycle IS NOT NULL THEN
    BEGIN
      v_out := credits_record_usage_fast(p_account, v_cycle, v_ends_at, v_slice, p_events);
    EXCEPTION WHEN raise_exception THEN
      IF SQLERRM <> 'CREDITS_FAST_PATH_MISSED' THEN RAISE; END IF;
      v_out := NULL;
    END;
    IF v_out IS NOT NULL THEN RETURN v_out; END IF;
  END IF;
  v_out := '[]';
  -- One primary-key lookup per row, in lock order (a join's plan would depend on statistics).
  IF v_cycle IS NOT NULL THEN
    FOR w IN SELECT DISTINCT v.cycle_no, v.scope, v.slice % credits_slices(v.scope) AS slice,
                    credits_lock_rank(v.scope) AS rank
               FROM (SELECT DISTINCT x.email FROM jsonb_to_recordset(p_events) AS x(email text)) ev
               CROSS JOIN LATERAL (SELECT m.email, m.group_key, m.allocation IS NULL AS pooled FROM members m
                                    WHERE m.account_id = p_account AND m.email = ev.email LIMIT 1) m
               CROSS JOIN LATERAL (VALUES (v_cycle, 'member:' || m.email, 0),
                                          (v_cycle, CASE WHEN m.pooled THEN 'pool:' || m.group_key END, v_slice),
                                          (0::bigint, 'signup:' || m.email, 0),
                                          (v_cycle, 'group:' || m.group_key, v_slice),
                                          (v_cycle, 'account', v_slice)) AS v(cycle_no, scope, slice)
              WHERE v.scope IS NOT NULL
              ORDER BY rank, scope, slice
    LOOP
      PERFORM 1 FROM budget_counters
       WHERE account_id = p_account AND cycle_no = w.cycle_no AND scope = w.scope AND slice = w.slice FOR UPDATE;
    END LOOP;
  END IF;
  FOR e IN SELECT * FROM jsonb_to_recordset(p_events)
             AS x(email text, credits numeric, cost numeric, model text, metadata jsonb, key text, hash text,
                  now timestamptz)
  LOOP
    BEGIN
      v_one := credits_record_usage(p_account, e.email, e.credits, e.cost, e.model, e.metadata, e.key, e.hash,
                                    e.now, v_slice);
    EXCEPTION WHEN raise_exception THEN
      IF SQLERRM NOT LIKE 'BUDGET_EXCEEDED:%' THEN RAISE; END IF;
      v_one := jsonb_build_object('status', 'blocked', 'level', substr(SQLERRM, 17));
    END;
    v_out := v_out || jsonb_build_array(v_one);
  END LOOP;
  RETURN v_out;
END $$;
