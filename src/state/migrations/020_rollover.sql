-- Rollover of unused credits (docs/ledger.md, "Rollover"). A member who declares `rollover: {max}` carries
-- the unused part of a cycle's allowance, at most `max`, into the next cycle only: a counter `carry:<email>`
-- of that cycle, with a `rollover` ledger entry saying how much and from which cycle. A group that declares
-- one carries its pool's unused part likewise (`carry-pool:<group>`, its entry has no member: ''). The
-- spending rule charges a carry first (the member's before their allowance, the pool's before the pool);
-- what it spends counts against the group and the account like allowance spending, and the group's capacity
-- grows by its carries (src/ledger/capacities.ts). A carry is never itself carried: only the allowance
-- counters (member, pool) of the cycle before are looked at.
--
-- Redefines credits_lock_rank, credits_bump_declared_members, credits_open_rollover, credits_spend,
-- credits_record_usage, credits_usage_remaining, credits_record_usage_fast, credits_record_usage_batch; adds
-- credits_open_carries. Numbered after 018 and 019: its credits_record_usage_fast keeps 018's per-scope sums.

ALTER TABLE members ADD COLUMN rollover_max numeric(24,6);
ALTER TABLE groups ADD COLUMN rollover_max numeric(24,6);
-- Opening a cycle looks at the members who carry, not at every member of the account.
CREATE INDEX members_with_rollover ON members (account_id, email) WHERE rollover_max IS NOT NULL;

-- The lock order (src/ledger/locks.ts, level 5) with the carries where they are charged: a member's before their
-- counter, a pool's before the pool.
CREATE OR REPLACE FUNCTION credits_lock_rank(p_scope text) RETURNS int LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN p_scope LIKE 'carry:%' THEN 0 WHEN p_scope LIKE 'member:%' THEN 1
              WHEN p_scope LIKE 'carry-pool:%' THEN 2 WHEN p_scope LIKE 'pool:%' THEN 3
              WHEN p_scope LIKE 'signup:%' THEN 4 WHEN p_scope LIKE 'group:%' THEN 5 ELSE 6 END
$$;

-- As in migration 013, with rollover_max among the declared columns.
CREATE OR REPLACE FUNCTION credits_bump_declared_members() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    UPDATE accounts SET declared_version = declared_version + 1
     WHERE account_id IN (SELECT DISTINCT account_id FROM new_rows
                           WHERE declared OR group_key <> 'default' OR allocation IS NOT NULL OR extra <> 0);
  ELSIF TG_OP = 'UPDATE' THEN
    UPDATE accounts SET declared_version = declared_version + 1
     WHERE account_id IN (
       SELECT d.account_id FROM (
         (SELECT account_id, email, declared, group_key, allocation, extra, rollover_max FROM new_rows
          EXCEPT SELECT account_id, email, declared, group_key, allocation, extra, rollover_max FROM old_rows)
         UNION ALL
         (SELECT account_id, email, declared, group_key, allocation, extra, rollover_max FROM old_rows
          EXCEPT SELECT account_id, email, declared, group_key, allocation, extra, rollover_max FROM new_rows)
       ) d WHERE d.declared OR d.group_key <> 'default' OR d.allocation IS NOT NULL OR d.extra <> 0);
  ELSE
    UPDATE accounts SET declared_version = declared_version + 1
     WHERE account_id IN (SELECT DISTINCT account_id FROM old_rows
                           WHERE declared OR group_key <> 'default' OR allocation IS NOT NULL OR extra <> 0);
  END IF;
  RETURN NULL;
END $$;

-- The carries of a cycle just opened, from the cycle before it (p_cycle - 1, whether or not it has a row: a
-- cycle skipped while idle had all of its allowance unused). Unused = the member counter's capacity − used
-- there (allocation + extra + grants, less usage and live holds); a member with no counter in that cycle
-- spent nothing of allocation + extra + grants. The carry is min(max, unused), written only when positive.
-- Runs in the transaction that inserts the cycle row, so the cycle's first counters already see them.
CREATE FUNCTION credits_open_carries(p_account text, p_cycle bigint) RETURNS void
LANGUAGE plpgsql SET enable_seqscan = off AS $$
BEGIN
  WITH c AS MATERIALIZED (
    SELECT m.email, m.group_key,
           least(m.rollover_max, greatest(coalesce(
             (SELECT sum(b.capacity) - sum(b.used) FROM budget_counters b
               WHERE b.account_id = p_account AND b.cycle_no = p_cycle - 1 AND b.scope = 'member:' || m.email),
             credits_member_capacity(p_account, p_cycle - 1, m.email)), 0)) AS amount
      FROM members m
     WHERE m.account_id = p_account AND m.rollover_max IS NOT NULL AND m.allocation IS NOT NULL
  ), counters AS (
    INSERT INTO budget_counters (account_id, cycle_no, scope, slice, capacity)
    SELECT p_account, p_cycle, 'carry:' || email, 0, amount FROM c WHERE amount > 0
    ON CONFLICT DO NOTHING
  )
  INSERT INTO ledger_entries (account_id, cycle_no, member_email, group_key, kind, credits, metadata)
  SELECT p_account, p_cycle, email, group_key, 'rollover', amount,
         jsonb_build_object('scope', 'carry:' || email, 'fromCycle', p_cycle - 1)
    FROM c WHERE amount > 0 ORDER BY email;
  -- The pools: unused = the pool counter's capacity − used there, or without one the pool as declared
  -- (allocation + extra − the members' allocation + extra).
  WITH p AS MATERIALIZED (
    SELECT g.group_key,
           least(g.rollover_max, greatest(coalesce(
             (SELECT sum(b.capacity) - sum(b.used) FROM budget_counters b
               WHERE b.account_id = p_account AND b.cycle_no = p_cycle - 1 AND b.scope = 'pool:' || g.group_key),
             g.allocation + g.extra
             - coalesce((SELECT sum(coalesce(m.allocation, 0) + m.extra) FROM members m
                          WHERE m.account_id = p_account AND m.group_key = g.group_key), 0)), 0)) AS amount
      FROM groups g
     WHERE g.account_id = p_account AND g.rollover_max IS NOT NULL
  ), counters AS (
    INSERT INTO budget_counters (account_id, cycle_no, scope, slice, capacity)
    SELECT p_account, p_cycle, 'carry-pool:' || group_key, 0, amount FROM p WHERE amount > 0
    ON CONFLICT DO NOTHING
  )
  INSERT INTO ledger_entries (account_id, cycle_no, member_email, group_key, kind, credits, metadata)
  SELECT p_account, p_cycle, '', group_key, 'rollover', amount,
         jsonb_build_object('scope', 'carry-pool:' || group_key, 'fromCycle', p_cycle - 1)
    FROM p WHERE amount > 0 ORDER BY group_key;
END $$;

-- As in migration 011, and the new cycle's carries are written with its row.
CREATE OR REPLACE FUNCTION credits_open_rollover(p_account text, p_last bigint, p_cycle bigint, p_start timestamptz,
                                                 p_end timestamptz, p_cadence text, p_timezone text,
                                                 p_anchor timestamptz)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock_shared(hashtextextended('credits.apply:' || p_account, 0));
  PERFORM pg_advisory_xact_lock(hashtextextended('credits.cycle:' || p_account, 0));
  IF (SELECT max(cycle_no) FROM cycles WHERE account_id = p_account) IS DISTINCT FROM p_last THEN
    RETURN;
  END IF;
  INSERT INTO cycles (account_id, cycle_no, starts_at, ends_at, cadence, timezone, reason, anchor_at)
  VALUES (p_account, p_cycle, p_start, p_end, p_cadence, p_timezone, 'rollover', p_anchor);
  PERFORM credits_open_carries(p_account, p_cycle);
END $$;

-- The spending rule of migration 005 with the member's carry charged first, and for a pool member the
-- pool's carry before the pool. Carries are part of what the group and the account must allow. A member
-- without a carry pays one primary-key probe here, a pool member two (this is the one-by-one path; the
-- batch fast path does not call it).
CREATE OR REPLACE FUNCTION credits_spend(p_account text, p_cycle bigint, p_email text, p_group text,
                                         p_pooled boolean, p_amount numeric, p_slice int DEFAULT NULL)
RETURNS jsonb LANGUAGE plpgsql SET enable_seqscan = off AS $$
DECLARE
  v_charges jsonb := '{}';
  v_rest numeric := p_amount;
  v_took numeric;
  v_allow numeric := 0;
BEGIN
  v_took := credits_charge(p_account, p_cycle, 'carry:' || p_email, v_rest, false);
  IF v_took > 0 THEN v_charges := v_charges || jsonb_build_object('carry:' || p_email, v_took::text); END IF;
  v_rest := v_rest - v_took;
  v_allow := v_took;
  v_took := credits_charge(p_account, p_cycle, 'member:' || p_email, v_rest, false);
  IF v_took > 0 THEN v_charges := v_charges || jsonb_build_object('member:' || p_email, v_took::text); END IF;
  v_rest := v_rest - v_took;
  v_allow := v_allow + v_took;
  IF p_pooled AND v_rest > 0 THEN
    v_took := credits_charge(p_account, p_cycle, 'carry-pool:' || p_group, v_rest, false);
    IF v_took > 0 THEN v_charges := v_charges || jsonb_build_object('carry-pool:' || p_group, v_took::text); END IF;
    v_rest := v_rest - v_took;
    v_allow := v_allow + v_took;
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

-- As in migration 005; what remains counts the carry left, also named apart as "rolledOver".
CREATE OR REPLACE FUNCTION credits_record_usage(p_account text, p_email text, p_credits numeric, p_cost numeric,
                                     p_model text, p_metadata jsonb, p_key text, p_hash text, p_now timestamptz,
                                     p_slice int DEFAULT NULL)
RETURNS jsonb LANGUAGE plpgsql SET enable_seqscan = off AS $$
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
  v_carry numeric;
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
         + CASE WHEN v_member.pooled THEN coalesce(max(f) FILTER (WHERE k = 'pool'), 0) ELSE 0 END,
         coalesce(max(f) FILTER (WHERE k = 'carry'), 0)
         + CASE WHEN v_member.pooled THEN coalesce(max(f) FILTER (WHERE k = 'carry-pool'), 0) ELSE 0 END
    INTO v_group_free, v_account_free, v_allow, v_carry
    FROM (VALUES ('account', 'account'), ('group', 'group:' || v_member.group_key),
                 ('pool', 'pool:' || v_member.group_key), ('member', 'member:' || p_email),
                 ('carry', 'carry:' || p_email), ('carry-pool', 'carry-pool:' || v_member.group_key)) AS s(k, scope)
    CROSS JOIN LATERAL (SELECT greatest(sum(b.capacity) - sum(b.used), 0) AS f FROM budget_counters b
                         WHERE b.account_id = p_account AND b.cycle_no = v_cycle.cycle_no AND b.scope = s.scope) x;
  v_member_free := least(v_allow + v_carry, v_group_free, v_account_free) + credits_free(p_account, 0, 'signup:' || p_email);
  v_result := jsonb_build_object(
    'id', v_entry::text, 'member', p_email, 'credits', trim_scale(v_credits)::text,
    'charged', v_member.credit_factor <> 0,
    'remaining', jsonb_build_object('member', trim_scale(v_member_free)::text,
                                    'group', trim_scale(v_group_free)::text,
                                    'account', trim_scale(v_account_free)::text,
                                    'rolledOver', trim_scale(v_carry)::text));
  IF p_key IS NOT NULL THEN
    INSERT INTO idempotency_keys (account_id, idem_key, request_hash, status_code, response)
    VALUES (p_account, p_key, p_hash, 201, v_result);
  END IF;
  RETURN jsonb_build_object('status', 'ok', 'result', v_result);
END $$;


-- As in migration 012, with the carry left in "member" and named apart as "rolledOver".
CREATE OR REPLACE FUNCTION credits_usage_remaining(p_account text, p_cycle bigint, p_email text) RETURNS jsonb
LANGUAGE sql STABLE SET enable_seqscan = off AS $$
  SELECT jsonb_build_object(
           'member', trim_scale(least(f.allow + f.carry, f.grp, f.acct) + credits_free(p_account, 0, 'signup:' || p_email))::text,
           'group', trim_scale(f.grp)::text,
           'account', trim_scale(f.acct)::text,
           'rolledOver', trim_scale(f.carry)::text)
    FROM members m
    CROSS JOIN LATERAL (
      SELECT coalesce(max(x.f) FILTER (WHERE s.k = 'group'), 0) AS grp,
             coalesce(max(x.f) FILTER (WHERE s.k = 'account'), 0) AS acct,
             coalesce(max(x.f) FILTER (WHERE s.k = 'carry'), 0)
             + CASE WHEN m.allocation IS NULL THEN coalesce(max(x.f) FILTER (WHERE s.k = 'carry-pool'), 0) ELSE 0 END
               AS carry,
             coalesce(max(x.f) FILTER (WHERE s.k = 'member'), 0)
             + CASE WHEN m.allocation IS NULL THEN coalesce(max(x.f) FILTER (WHERE s.k = 'pool'), 0) ELSE 0 END
               AS allow
        FROM (VALUES ('account', 'account'), ('group', 'group:' || m.group_key),
                     ('pool', 'pool:' || m.group_key), ('member', 'member:' || p_email),
                     ('carry', 'carry:' || p_email), ('carry-pool', 'carry-pool:' || m.group_key)) AS s(k, scope)
        CROSS JOIN LATERAL (SELECT greatest(sum(b.capacity) - sum(b.used), 0) AS f FROM budget_counters b
                             WHERE b.account_id = p_account AND b.cycle_no = p_cycle AND b.scope = s.scope) x) f
   WHERE m.account_id = p_account AND m.email = p_email
$$;

-- As in migration 012; a member (or a pool) with a carry left takes the one-by-one path (the carry is spent
-- first), and "remaining" names the carry left ("rolledOver": none, on this path).
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
    SELECT x.*, m.group_key, m.pooled, m.carries, coalesce(x.credits, round(x.cost * v_factor, 6)) AS amount
      FROM jsonb_to_recordset(p_events) AS x(ord int, email text, credits numeric, cost numeric, model text,
                                             metadata jsonb, key text, hash text, now timestamptz)
      LEFT JOIN LATERAL (SELECT mm.group_key, mm.allocation IS NULL AS pooled,
                                mm.rollover_max IS NOT NULL AS carries FROM members mm
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
         -- Rolled-over credits are spent first, by the one-by-one rule (credits_spend). Only a member who
         -- declares a rollover is looked up: everyone else pays nothing for this test.
         AND NOT EXISTS (SELECT 1 FROM (SELECT DISTINCT email FROM ev0 WHERE carries) c
                          CROSS JOIN LATERAL (SELECT 1 FROM budget_counters b
                                               WHERE b.account_id = p_account AND b.cycle_no = p_cycle
                                                 AND b.scope = 'carry:' || c.email AND b.slice = 0
                                                 AND b.used < b.capacity LIMIT 1) left_over)
         -- Likewise a pool's carry, for pool members' events (one of them refused as read could be paid by
         -- it): one primary-key probe per group of pool members in the batch.
         AND NOT EXISTS (SELECT 1 FROM (SELECT DISTINCT group_key FROM ev0 WHERE pooled) g
                          CROSS JOIN LATERAL (SELECT 1 FROM budget_counters b
                                               WHERE b.account_id = p_account AND b.cycle_no = p_cycle
                                                 AND b.scope = 'carry-pool:' || g.group_key AND b.slice = 0
                                                 AND b.used < b.capacity LIMIT 1) left_over)
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
                              'account', trim_scale(r.rem_account)::text,
                              -- The fast path never runs while a member has rolled-over credits left.
                              'rolledOver', '0') AS remaining,
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

-- As in migration 012; the one-by-one path also locks the carries: a member's who declares one, first, and
-- a pool member's group's, before the pool.
CREATE OR REPLACE FUNCTION credits_record_usage_batch(p_account text, p_events jsonb) RETURNS jsonb
LANGUAGE plpgsql SET enable_seqscan = off AS $$
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
               CROSS JOIN LATERAL (SELECT m.email, m.group_key, m.allocation IS NULL AS pooled,
                                          m.rollover_max IS NOT NULL AS carries FROM members m
                                    WHERE m.account_id = p_account AND m.email = ev.email LIMIT 1) m
               CROSS JOIN LATERAL (VALUES (v_cycle, CASE WHEN m.carries THEN 'carry:' || m.email END, 0),
                                          (v_cycle, 'member:' || m.email, 0),
                                          (v_cycle, CASE WHEN m.pooled THEN 'carry-pool:' || m.group_key END, 0),
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
      v_one := jsonb_build_object('status', 'blocked', 'level', substr(SQLERRM, 17),
                                  'remaining', credits_usage_remaining(p_account, v_cycle, e.email));
    END;
    v_out := v_out || jsonb_build_array(v_one);
  END LOOP;
  RETURN v_out;
END $$;
