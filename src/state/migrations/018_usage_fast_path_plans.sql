-- The fast path of a usage batch without a statement planned on every call (docs/benchmarks.md, "Accepted
-- usage profiled"). Migration 012's credits_record_usage_fast summed the batch's charges per scope in a FOR
-- query over its row array (unnest and jsonb_each_text of every event's charges); PL/pgSQL kept no generic
-- plan for it, so that query was planned again on every batch, a tenth of the function's time. The sums per
-- scope now come out of the statement that already computes the charges, as two arrays in lock order, and
-- the conditional updates walk them. Nothing else changes: the same rule, the same answers, the same order.
--
-- Replaces credits_record_usage_fast (text, bigint, timestamptz, integer, jsonb) only.

CREATE OR REPLACE FUNCTION credits_record_usage_fast(p_account text, p_cycle bigint, p_ends_at timestamptz,
                                                     p_slice int, p_events jsonb)
RETURNS jsonb LANGUAGE plpgsql SET enable_seqscan = off AS $$
DECLARE
  v_factor numeric;
  v_ok boolean;
  v_rows credits_usage_row[];
  v_out jsonb;
  v_scopes text[];
  v_amounts numeric[];
BEGIN
  -- Idempotency keys are taken as the one-by-one path takes them, before looking for them; one held
  -- elsewhere means a duplicate in flight, which the one-by-one path reports.
  IF EXISTS (SELECT 1 FROM jsonb_to_recordset(p_events) AS x(key text)
              WHERE x.key IS NOT NULL
                AND NOT pg_try_advisory_xact_lock(hashtextextended('credits.idem:' || p_account || ':' || x.key, 0))) THEN
    RETURN NULL;
  END IF;
  SELECT credit_factor INTO v_factor FROM accounts WHERE account_id = p_account;
  WITH ev0 AS (
    SELECT x.*, m.group_key, m.pooled, coalesce(x.credits, round(x.cost * v_factor, 6)) AS amount
      FROM jsonb_to_recordset(p_events) AS x(ord int, email text, credits numeric, cost numeric, model text,
                                             metadata jsonb, key text, hash text, now timestamptz)
      LEFT JOIN LATERAL (SELECT mm.group_key, mm.allocation IS NULL AS pooled FROM members mm
                          WHERE mm.account_id = p_account AND mm.email = x.email LIMIT 1) m ON true
  ),
  scopes AS (
    SELECT DISTINCT v.scope, p_slice % credits_slices(v.scope) AS slice
      FROM ev0 CROSS JOIN LATERAL (VALUES ('member:' || ev0.email), ('pool:' || ev0.group_key),
                                          ('group:' || ev0.group_key), ('account')) AS v(scope)
     WHERE ev0.group_key IS NOT NULL
  ),
  -- Each scope's free capacity over all slices, and the batch slice's headroom.
  counters AS (
    SELECT s.scope, c.n, c.free, c.head FROM scopes s CROSS JOIN LATERAL (
      SELECT count(*) AS n, sum(b.capacity) - sum(b.used) AS free,
             max(b.capacity - b.used) FILTER (WHERE b.slice = s.slice) AS head
        FROM budget_counters b WHERE b.account_id = p_account AND b.cycle_no = p_cycle AND b.scope = s.scope) c
  ),
  -- Each event against the counters as read: refused there, it is refused after any earlier event too.
  ev AS (
    SELECT e.*, sf.free AS signup_free,
           coalesce(v_factor <> 0 AND e.group_key IS NOT NULL AND e.amount > 0
                    AND (a.allow + sf.free < e.amount OR least(e.amount, a.allow) > least(a.grp, a.acct)),
                    false) AS refused
      FROM ev0 e
      CROSS JOIN LATERAL (SELECT coalesce(greatest(sum(b.capacity) - sum(b.used), 0), 0) AS free
                            FROM budget_counters b
                           WHERE b.account_id = p_account AND b.cycle_no = 0 AND b.scope = 'signup:' || e.email) sf
      LEFT JOIN counters mc ON mc.scope = 'member:' || e.email
      LEFT JOIN counters pc ON pc.scope = 'pool:' || e.group_key
      LEFT JOIN counters gc ON gc.scope = 'group:' || e.group_key
      LEFT JOIN counters ac ON ac.scope = 'account'
      CROSS JOIN LATERAL (SELECT greatest(coalesce(mc.free, 0), 0)
                                 + CASE WHEN e.pooled THEN greatest(coalesce(pc.free, 0), 0) ELSE 0 END AS allow,
                                 greatest(coalesce(gc.free, 0), 0) AS grp,
                                 greatest(coalesce(ac.free, 0), 0) AS acct) a
  ),
  -- How a member's events are paid: 'member' (their own counter has room for all of them), 'pool' (a pool
  -- member with nothing of their own), 'none' (tracking off); NULL: not for the fast path. Refused events
  -- are paid by nothing.
  paths AS (
    SELECT ev.email,
           CASE WHEN v_factor = 0 THEN 'none'
                WHEN greatest(c.head, 0) >= coalesce(sum(ev.amount) FILTER (WHERE NOT ev.refused), 0) THEN 'member'
                WHEN bool_and(ev.pooled) AND greatest(c.head, 0) = 0 THEN 'pool' END AS path
      FROM ev JOIN counters c ON c.scope = 'member:' || ev.email AND c.n > 0
     GROUP BY ev.email, c.head
  ),
  paid AS (
    SELECT ev.*, p.path,
           CASE WHEN p.path IN ('member', 'pool') AND NOT ev.refused THEN ev.amount ELSE 0 END AS charged
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
  -- Free capacity after each event (for a refused one, after the accepted events before it).
  rows AS (
    SELECT a.*,
           greatest(coalesce(mc.free, 0) - a.cum_member, 0)
           + CASE WHEN a.pooled THEN greatest(coalesce(pc.free, 0) - a.cum_pool, 0) ELSE 0 END AS allow,
           greatest(coalesce(gc.free, 0) - a.cum_group, 0) AS group_free,
           greatest(coalesce(ac.free, 0) - a.cum_account, 0) AS account_free
      FROM after a
      LEFT JOIN counters mc ON mc.scope = 'member:' || a.email
      LEFT JOIN counters pc ON pc.scope = 'pool:' || a.group_key
      LEFT JOIN counters gc ON gc.scope = 'group:' || a.group_key
      LEFT JOIN counters ac ON ac.scope = 'account'
  ),
  -- What the batch charges each scope (the sum of the events' charges below), in lock order.
  charges AS (
    SELECT v.scope, sum(v.amount) AS amount, credits_lock_rank(v.scope) AS rank
      FROM paid p
      CROSS JOIN LATERAL (VALUES (CASE WHEN p.path = 'pool' THEN 'pool:' || p.group_key ELSE 'member:' || p.email END,
                                  p.charged),
                                 ('group:' || p.group_key, p.charged), ('account', p.charged)) AS v(scope, amount)
     WHERE p.charged > 0
     GROUP BY v.scope
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
                               r.group_free, r.account_free,
                               -- The level the rule stops at, in its order: member, group, account.
                               CASE WHEN NOT r.refused THEN NULL
                                    WHEN r.allow + r.signup_free < r.amount THEN 'member'
                                    WHEN least(r.amount, r.allow) > r.group_free THEN 'group'
                                    ELSE 'account' END)::credits_usage_row ORDER BY r.ord)
            FROM rows r),
         (SELECT array_agg(c.scope ORDER BY c.rank, c.scope) FROM charges c),
         (SELECT array_agg(c.amount ORDER BY c.rank, c.scope) FROM charges c)
    INTO v_ok, v_rows, v_scopes, v_amounts;
  IF NOT v_ok THEN RETURN NULL; END IF;
  FOR i IN 1 .. coalesce(array_length(v_scopes, 1), 0) LOOP
    UPDATE budget_counters SET used = used + v_amounts[i]
     WHERE account_id = p_account AND cycle_no = p_cycle AND scope = v_scopes[i]
       AND slice = p_slice % credits_slices(v_scopes[i]) AND used + v_amounts[i] <= capacity;
    -- A concurrent writer took the room this batch counted on: undo the batch's fast path (the caller's
    -- subtransaction) and let it take the one-by-one path.
    IF NOT FOUND THEN RAISE EXCEPTION 'CREDITS_FAST_PATH_MISSED'; END IF;
  END LOOP;

  WITH r AS (
    -- No entry id for a refusal: nextval would give the transaction an id and a WAL flush to wait for.
    SELECT x.*, CASE WHEN x.blocked_by IS NULL THEN nextval(pg_get_serial_sequence('ledger_entries', 'entry_id')) END AS id
      FROM unnest(v_rows) x
  ),
  entries AS (
    INSERT INTO ledger_entries (entry_id, account_id, cycle_no, member_email, group_key, kind, credits, cost_usd,
                                model, metadata, charges, idempotency_key)
    OVERRIDING SYSTEM VALUE
    SELECT id, p_account, p_cycle, email, group_key, 'usage', credits, cost, model, metadata, charges, NULL
      FROM r WHERE blocked_by IS NULL
  ),
  results AS (
    SELECT r.ord, r.key, r.hash, r.blocked_by,
           jsonb_build_object('member', trim_scale(r.rem_member)::text, 'group', trim_scale(r.rem_group)::text,
                              'account', trim_scale(r.rem_account)::text) AS remaining,
           jsonb_build_object('id', r.id::text, 'member', r.email, 'credits', trim_scale(r.credits)::text,
                              'charged', v_factor <> 0) AS result
      FROM r
  ),
  keys AS (
    -- A refusal stores nothing under its key: a retry is evaluated again.
    INSERT INTO idempotency_keys (account_id, idem_key, request_hash, status_code, response)
    SELECT p_account, key, hash, 201, result || jsonb_build_object('remaining', remaining)
      FROM results WHERE key IS NOT NULL AND blocked_by IS NULL
  )
  SELECT jsonb_agg(CASE WHEN blocked_by IS NULL
                        THEN jsonb_build_object('status', 'ok',
                                                'result', result || jsonb_build_object('remaining', remaining))
                        ELSE jsonb_build_object('status', 'blocked', 'level', blocked_by, 'remaining', remaining) END
                   ORDER BY ord)
    INTO v_out FROM results;
  RETURN v_out;
END $$;

