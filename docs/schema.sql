-- GENERATED from src/state/migrations by test/state/migrations.test.ts (UPDATE_GOLDEN=1). Do not edit.
-- The current schema: tables, indexes, triggers and the current SQL of every function.

--
-- PostgreSQL database dump
--

--
-- Name: credits_usage_row; Type: TYPE; Schema: public; Owner: -
--

CREATE TYPE public.credits_usage_row AS (
	ord integer,
	email text,
	group_key text,
	credits numeric,
	cost numeric,
	model text,
	metadata jsonb,
	key text,
	hash text,
	charges jsonb,
	rem_member numeric,
	rem_group numeric,
	rem_account numeric,
	blocked_by text
);

--
-- Name: credits_alerts_counters_changed(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.credits_alerts_counters_changed() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
  r record;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM new_rows n
                  WHERE n.cycle_no > 0 AND n.used > 0
                    AND n.used * 100 >= n.capacity * (SELECT min(th.percent) FROM alert_thresholds th
                                                       WHERE th.account_id = n.account_id)) THEN
    RETURN NULL;
  END IF;
  FOR r IN SELECT n.account_id, n.cycle_no, array_agg(DISTINCT n.scope) AS scopes
             FROM new_rows n JOIN alert_thresholds th ON th.account_id = n.account_id
            WHERE n.cycle_no > 0 AND n.used > 0 AND n.used * 100 >= th.percent * n.capacity
              AND (n.scope = 'account' OR n.scope LIKE 'group:%' OR n.scope LIKE 'member:%')
              AND NOT EXISTS (SELECT 1 FROM alert_events e
                               WHERE e.account_id = n.account_id AND e.cycle_no = n.cycle_no
                                 AND e.scope = n.scope AND e.threshold = th.percent)
            GROUP BY n.account_id, n.cycle_no
  LOOP
    PERFORM credits_alerts_raise(r.account_id, r.cycle_no, r.scopes);
  END LOOP;
  RETURN NULL;
END $$;

--
-- Name: credits_alerts_raise(text, bigint, text[]); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.credits_alerts_raise(p_account text, p_cycle bigint, p_scopes text[]) RETURNS integer
    LANGUAGE plpgsql
    AS $$
DECLARE
  v_n integer;
BEGIN
  WITH pending AS (
    SELECT s.scope, th.percent
      FROM unnest(p_scopes) AS s(scope) CROSS JOIN alert_thresholds th
     WHERE th.account_id = p_account
       AND NOT EXISTS (SELECT 1 FROM alert_events e WHERE e.account_id = p_account AND e.cycle_no = p_cycle
                          AND e.scope = s.scope AND e.threshold = th.percent)
  ), totals AS (
    -- The budget of a sliced scope is its declared one, not the sum of its slices' capacities: a writer
    -- re-spreading the slices (credits_charge) updates them one statement at a time, and the sum is only
    -- right again after the last. Its used moves in one statement, so the sum of used is always right.
    SELECT p.scope, sum(b.used) AS used,
           CASE WHEN p.scope = 'account'
                THEN (SELECT a.credit_limit FROM accounts a WHERE a.account_id = p_account)
                WHEN p.scope LIKE 'group:%'
                THEN (SELECT g.allocation + g.extra FROM groups g
                       WHERE g.account_id = p_account AND g.group_key = substr(p.scope, 7))
                ELSE sum(b.capacity) END AS budget
      FROM (SELECT DISTINCT scope FROM pending) p
      JOIN budget_counters b ON b.account_id = p_account AND b.cycle_no = p_cycle AND b.scope = p.scope
     GROUP BY p.scope
  ), ev AS (
    INSERT INTO alert_events (account_id, cycle_no, scope, threshold, used, budget, cycle_starts_at,
                              cycle_ends_at, group_key)
    SELECT p_account, p_cycle, t.scope, p.percent, t.used, t.budget, cy.starts_at, cy.ends_at,
           CASE WHEN t.scope LIKE 'group:%' THEN substr(t.scope, 7)
                WHEN t.scope LIKE 'member:%' THEN (SELECT m.group_key FROM members m
                                                    WHERE m.account_id = p_account AND m.email = substr(t.scope, 8))
           END
      FROM totals t JOIN pending p USING (scope)
      JOIN cycles cy ON cy.account_id = p_account AND cy.cycle_no = p_cycle
     WHERE t.budget > 0 AND t.budget IS NOT NULL AND t.used * 100 >= p.percent * t.budget
     ORDER BY t.scope, p.percent
    ON CONFLICT DO NOTHING
    RETURNING event_id, scope
  ), deliveries AS (
    INSERT INTO alert_deliveries (account_id, event_id, url, secret_env)
    SELECT p_account, ev.event_id, w.url, w.secret_env
      FROM ev JOIN alert_webhooks w ON w.account_id = p_account AND split_part(ev.scope, ':', 1) = ANY (w.scopes)
  )
  SELECT count(*) INTO v_n FROM ev;
  RETURN v_n;
END $$;

--
-- Name: credits_alerts_sweep(interval); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.credits_alerts_sweep(p_ended_within interval) RETURNS integer
    LANGUAGE plpgsql
    AS $$
DECLARE
  r record;
  v_n integer := 0;
BEGIN
  -- The latest few cycles by key only (a 1-minute cadence makes 1,440 cycles a day): the latest, and those of
  -- them that ended within p_ended_within.
  FOR r IN SELECT a.account_id, cy.cycle_no,
                  array(SELECT DISTINCT b.scope FROM budget_counters b
                         WHERE b.account_id = a.account_id AND b.cycle_no = cy.cycle_no AND b.used > 0
                           AND (b.scope = 'account' OR b.scope LIKE 'group:%' OR b.scope LIKE 'member:%')) AS scopes
             FROM (SELECT DISTINCT account_id FROM alert_thresholds) a
             CROSS JOIN LATERAL (
               SELECT recent.cycle_no FROM (
                 SELECT c.cycle_no, c.ends_at, row_number() OVER (ORDER BY c.cycle_no DESC) AS nth
                   FROM (SELECT cycle_no, ends_at FROM cycles WHERE cycles.account_id = a.account_id
                          ORDER BY cycle_no DESC LIMIT 8) c) recent
                WHERE recent.nth = 1 OR recent.ends_at > now() - p_ended_within) cy
            ORDER BY a.account_id, cy.cycle_no
  LOOP
    v_n := v_n + credits_alerts_raise(r.account_id, r.cycle_no, r.scopes);
  END LOOP;
  RETURN v_n;
END $$;

--
-- Name: credits_bump_declared_account(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.credits_bump_declared_account() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
  IF (NEW.name, NEW.credit_limit, NEW.cadence, NEW.timezone, NEW.credit_factor, NEW.signup_credits, NEW.managed_by)
     IS DISTINCT FROM
     (OLD.name, OLD.credit_limit, OLD.cadence, OLD.timezone, OLD.credit_factor, OLD.signup_credits, OLD.managed_by) THEN
    NEW.declared_version := OLD.declared_version + 1;
  END IF;
  RETURN NEW;
END $$;

--
-- Name: credits_bump_declared_members(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.credits_bump_declared_members() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
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

--
-- Name: credits_bump_declared_version(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.credits_bump_declared_version() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
  UPDATE accounts SET declared_version = declared_version + 1
   WHERE account_id IN (SELECT DISTINCT account_id FROM changed_rows);
  RETURN NULL;
END $$;

--
-- Name: credits_charge(text, bigint, text, numeric, boolean, integer); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.credits_charge(p_account text, p_cycle bigint, p_scope text, p_want numeric, p_all boolean, p_slice integer DEFAULT NULL::integer) RETURNS numeric
    LANGUAGE plpgsql
    SET enable_seqscan TO 'off'
    AS $$
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

--
-- Name: credits_check_group_unused(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.credits_check_group_unused() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM old_rows o JOIN members m ON m.account_id = o.account_id AND m.group_key = o.group_key) THEN
    RAISE EXCEPTION 'a deleted group still has members' USING ERRCODE = 'foreign_key_violation';
  END IF;
  RETURN NULL;
END $$;

--
-- Name: credits_check_member_groups(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.credits_check_member_groups() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
  v_missing record;
BEGIN
  SELECT n.account_id, n.group_key INTO v_missing
    FROM (SELECT DISTINCT account_id, group_key FROM new_rows) n
   WHERE NOT EXISTS (SELECT 1 FROM groups g WHERE g.account_id = n.account_id AND g.group_key = n.group_key)
   LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'member group % does not exist in account %', v_missing.group_key, v_missing.account_id
      USING ERRCODE = 'foreign_key_violation';
  END IF;
  RETURN NULL;
END $$;

--
-- Name: credits_database_identity_is_fixed(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.credits_database_identity_is_fixed() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
  RAISE EXCEPTION 'database_identity is written once, by migrate';
END $$;

--
-- Name: credits_free(text, bigint, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.credits_free(p_account text, p_cycle bigint, p_scope text) RETURNS numeric
    LANGUAGE sql STABLE
    AS $$
  SELECT coalesce(greatest(sum(capacity) - sum(used), 0), 0) FROM budget_counters
   WHERE account_id = p_account AND cycle_no = p_cycle AND scope = p_scope
$$;

--
-- Name: credits_lock_rank(text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.credits_lock_rank(p_scope text) RETURNS integer
    LANGUAGE sql IMMUTABLE
    AS $$
  SELECT CASE WHEN p_scope LIKE 'carry:%' THEN 0 WHEN p_scope LIKE 'member:%' THEN 1
              WHEN p_scope LIKE 'carry-pool:%' THEN 2 WHEN p_scope LIKE 'pool:%' THEN 3
              WHEN p_scope LIKE 'signup:%' THEN 4 WHEN p_scope LIKE 'group:%' THEN 5 ELSE 6 END
$$;

--
-- Name: credits_member_capacity(text, bigint, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.credits_member_capacity(p_account text, p_cycle bigint, p_email text) RETURNS numeric
    LANGUAGE sql STABLE
    AS $$
  SELECT coalesce(m.allocation, 0) + m.extra +
         coalesce((SELECT sum(e.credits) FROM ledger_entries e
                    WHERE e.account_id = m.account_id AND e.cycle_no = p_cycle AND e.member_email = m.email
                      AND e.kind = 'grant'), 0)
    FROM members m WHERE m.account_id = p_account AND m.email = p_email
$$;

--
-- Name: credits_member_counter_created(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.credits_member_counter_created() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
  PERFORM pg_advisory_xact_lock_shared(hashtextextended('credits.apply:' || NEW.account_id, 0));
  SELECT coalesce(credits_member_capacity(NEW.account_id, NEW.cycle_no, substr(NEW.scope, 8)), 0)
    INTO NEW.capacity;
  RETURN NEW;
END $$;

--
-- Name: credits_open_carries(text, bigint); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.credits_open_carries(p_account text, p_cycle bigint) RETURNS void
    LANGUAGE plpgsql
    SET enable_seqscan TO 'off'
    AS $$
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

--
-- Name: credits_open_rollover(text, bigint, bigint, timestamp with time zone, timestamp with time zone, text, text, timestamp with time zone); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.credits_open_rollover(p_account text, p_last bigint, p_cycle bigint, p_start timestamp with time zone, p_end timestamp with time zone, p_cadence text, p_timezone text, p_anchor timestamp with time zone) RETURNS void
    LANGUAGE plpgsql
    AS $$
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

--
-- Name: credits_record_usage(text, text, numeric, numeric, text, jsonb, text, text, timestamp with time zone, integer); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.credits_record_usage(p_account text, p_email text, p_credits numeric, p_cost numeric, p_model text, p_metadata jsonb, p_key text, p_hash text, p_now timestamp with time zone, p_slice integer DEFAULT NULL::integer) RETURNS jsonb
    LANGUAGE plpgsql
    SET enable_seqscan TO 'off'
    AS $$
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

--
-- Name: credits_record_usage_batch(text, jsonb); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.credits_record_usage_batch(p_account text, p_events jsonb) RETURNS jsonb
    LANGUAGE plpgsql
    SET enable_seqscan TO 'off'
    AS $$
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

--
-- Name: credits_record_usage_fast(text, bigint, timestamp with time zone, integer, jsonb); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.credits_record_usage_fast(p_account text, p_cycle bigint, p_ends_at timestamp with time zone, p_slice integer, p_events jsonb) RETURNS jsonb
    LANGUAGE plpgsql
    SET enable_seqscan TO 'off'
    AS $$
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

--
-- Name: credits_record_usage_fast_only(text, jsonb); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.credits_record_usage_fast_only(p_account text, p_events jsonb) RETURNS jsonb
    LANGUAGE plpgsql
    SET enable_seqscan TO 'off'
    AS $$
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

--
-- Name: credits_refund(text, bigint, text, numeric); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.credits_refund(p_account text, p_cycle bigint, p_scope text, p_amount numeric) RETURNS void
    LANGUAGE plpgsql
    SET enable_seqscan TO 'off'
    AS $$
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

--
-- Name: credits_slices(text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.credits_slices(p_scope text) RETURNS integer
    LANGUAGE sql IMMUTABLE
    AS $$
  SELECT CASE WHEN p_scope = 'account' THEN 64
              WHEN p_scope LIKE 'group:%' OR p_scope LIKE 'pool:%' THEN 16
              ELSE 1 END
$$;

--
-- Name: credits_spend(text, bigint, text, text, boolean, numeric, integer); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.credits_spend(p_account text, p_cycle bigint, p_email text, p_group text, p_pooled boolean, p_amount numeric, p_slice integer DEFAULT NULL::integer) RETURNS jsonb
    LANGUAGE plpgsql
    SET enable_seqscan TO 'off'
    AS $$
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

--
-- Name: credits_usage_remaining(text, bigint, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.credits_usage_remaining(p_account text, p_cycle bigint, p_email text) RETURNS jsonb
    LANGUAGE sql STABLE
    SET enable_seqscan TO 'off'
    AS $$
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

--
-- Name: accounts; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.accounts (
    account_id text NOT NULL,
    name text NOT NULL,
    credit_limit numeric(24,6) DEFAULT 0 NOT NULL,
    cadence text DEFAULT 'calendar-month'::text NOT NULL,
    timezone text DEFAULT 'UTC'::text NOT NULL,
    credit_factor numeric(24,6) DEFAULT 0 NOT NULL,
    signup_credits numeric(24,6) DEFAULT 0 NOT NULL,
    managed_by text,
    state_serial bigint DEFAULT 0 NOT NULL,
    declared_version bigint DEFAULT 0 NOT NULL,
    applied_config_digest text,
    applied_declared_version bigint,
    applied jsonb,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL
);

--
-- Name: alert_deliveries; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.alert_deliveries (
    account_id text NOT NULL,
    delivery_id bigint NOT NULL,
    event_id uuid NOT NULL,
    url text NOT NULL,
    secret_env text NOT NULL,
    status text DEFAULT 'pending'::text NOT NULL,
    attempts integer DEFAULT 0 NOT NULL,
    next_attempt_at timestamp with time zone DEFAULT now() NOT NULL,
    last_attempt_at timestamp with time zone,
    last_status integer,
    last_error text,
    delivered_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT alert_deliveries_status_check CHECK ((status = ANY (ARRAY['pending'::text, 'delivered'::text, 'failed'::text])))
);

--
-- Name: alert_deliveries_delivery_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.alert_deliveries ALTER COLUMN delivery_id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.alert_deliveries_delivery_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: alert_events; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.alert_events (
    account_id text NOT NULL,
    event_id uuid DEFAULT gen_random_uuid() NOT NULL,
    cycle_no bigint NOT NULL,
    scope text NOT NULL,
    threshold numeric(5,2) NOT NULL,
    used numeric(24,6) NOT NULL,
    budget numeric(24,6) NOT NULL,
    cycle_starts_at timestamp with time zone NOT NULL,
    cycle_ends_at timestamp with time zone NOT NULL,
    group_key text,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);

--
-- Name: alert_thresholds; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.alert_thresholds (
    account_id text NOT NULL,
    percent numeric(5,2) NOT NULL,
    CONSTRAINT alert_thresholds_percent_check CHECK (((percent > (0)::numeric) AND (percent <= (100)::numeric)))
);

--
-- Name: alert_webhooks; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.alert_webhooks (
    account_id text NOT NULL,
    url text NOT NULL,
    secret_env text NOT NULL,
    scopes text[] NOT NULL
);

--
-- Name: api_tokens; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.api_tokens (
    account_id text NOT NULL,
    token_id uuid NOT NULL,
    prefix text NOT NULL,
    sha256 bytea NOT NULL,
    role text NOT NULL,
    member_email text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    revoked_at timestamp with time zone
);

--
-- Name: applied_files; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.applied_files (
    account_id text NOT NULL,
    config_digest text NOT NULL,
    file_text text NOT NULL
);
ALTER TABLE ONLY public.applied_files ALTER COLUMN file_text SET STORAGE EXTERNAL;

--
-- Name: audit_log; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.audit_log (
    account_id text NOT NULL,
    audit_id bigint NOT NULL,
    state_serial bigint NOT NULL,
    actor text NOT NULL,
    source text NOT NULL,
    commit_sha text,
    address text NOT NULL,
    action text NOT NULL,
    before_value jsonb,
    after_value jsonb,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);

--
-- Name: audit_log_audit_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.audit_log ALTER COLUMN audit_id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.audit_log_audit_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: budget_counters; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.budget_counters (
    account_id text NOT NULL,
    cycle_no bigint NOT NULL,
    scope text NOT NULL,
    slice integer NOT NULL,
    capacity numeric(24,6) NOT NULL,
    used numeric(24,6) DEFAULT 0 NOT NULL
);

--
-- Name: budget_overhangs; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.budget_overhangs (
    account_id text NOT NULL,
    cycle_no bigint NOT NULL,
    scope text NOT NULL,
    overhang numeric(24,6) NOT NULL,
    CONSTRAINT budget_overhangs_overhang_check CHECK ((overhang > (0)::numeric))
);

--
-- Name: cycles; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.cycles (
    account_id text NOT NULL,
    cycle_no bigint NOT NULL,
    starts_at timestamp with time zone NOT NULL,
    ends_at timestamp with time zone NOT NULL,
    cadence text NOT NULL,
    timezone text NOT NULL,
    reason text DEFAULT 'rollover'::text NOT NULL,
    anchor_at timestamp with time zone NOT NULL
);

--
-- Name: database_identity; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.database_identity (
    singleton boolean DEFAULT true NOT NULL,
    database_id uuid DEFAULT gen_random_uuid() NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT database_identity_singleton_check CHECK (singleton)
);

--
-- Name: groups; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.groups (
    account_id text NOT NULL,
    group_key text NOT NULL,
    name text NOT NULL,
    allocation numeric(24,6) DEFAULT 0 NOT NULL,
    extra numeric(24,6) DEFAULT 0 NOT NULL,
    auto_approve numeric(24,6) DEFAULT 0 NOT NULL,
    protect boolean DEFAULT false NOT NULL,
    applied jsonb,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    rollover_max numeric(24,6)
);

--
-- Name: idempotency_keys; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.idempotency_keys (
    account_id text NOT NULL,
    idem_key text NOT NULL,
    request_hash text NOT NULL,
    status_code integer,
    response jsonb,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);

--
-- Name: ledger_entries; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.ledger_entries (
    account_id text NOT NULL,
    entry_id bigint NOT NULL,
    cycle_no bigint NOT NULL,
    member_email text NOT NULL,
    group_key text NOT NULL,
    kind text NOT NULL,
    credits numeric(24,6) NOT NULL,
    cost_usd numeric(24,6),
    model text,
    metadata jsonb,
    reservation_id uuid,
    request_id uuid,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    charges jsonb DEFAULT '{}'::jsonb NOT NULL,
    idempotency_key text
);

--
-- Name: ledger_entries_entry_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.ledger_entries ALTER COLUMN entry_id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.ledger_entries_entry_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: members; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.members (
    account_id text NOT NULL,
    email text NOT NULL,
    name text,
    group_key text DEFAULT 'default'::text NOT NULL,
    allocation numeric(24,6),
    extra numeric(24,6) DEFAULT 0 NOT NULL,
    declared boolean DEFAULT false NOT NULL,
    applied_group text,
    applied_allocation numeric(24,6),
    applied_extra numeric(24,6),
    signed_up_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    rollover_max numeric(24,6),
    applied_rollover_max numeric(24,6)
);

--
-- Name: requests; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.requests (
    account_id text NOT NULL,
    request_id uuid NOT NULL,
    cycle_no bigint NOT NULL,
    member_email text NOT NULL,
    group_key text NOT NULL,
    amount numeric(24,6) NOT NULL,
    approved_amount numeric(24,6),
    status text NOT NULL,
    reason text NOT NULL,
    decision_reason text,
    decided_by text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    decided_at timestamp with time zone
);

--
-- Name: reservations; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.reservations (
    account_id text NOT NULL,
    reservation_id uuid NOT NULL,
    cycle_no bigint NOT NULL,
    member_email text NOT NULL,
    group_key text NOT NULL,
    credits numeric(24,6) NOT NULL,
    status text DEFAULT 'held'::text NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    charges jsonb DEFAULT '{}'::jsonb NOT NULL,
    settled_credits numeric(24,6)
);

--
-- Name: schema_migrations; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.schema_migrations (
    version integer NOT NULL,
    name text NOT NULL,
    applied_at timestamp with time zone DEFAULT now() NOT NULL,
    checksum text
);

--
-- Name: accounts accounts_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.accounts
    ADD CONSTRAINT accounts_pkey PRIMARY KEY (account_id);

--
-- Name: alert_deliveries alert_deliveries_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.alert_deliveries
    ADD CONSTRAINT alert_deliveries_pkey PRIMARY KEY (account_id, delivery_id);

--
-- Name: alert_events alert_events_account_id_cycle_no_scope_threshold_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.alert_events
    ADD CONSTRAINT alert_events_account_id_cycle_no_scope_threshold_key UNIQUE (account_id, cycle_no, scope, threshold);

--
-- Name: alert_events alert_events_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.alert_events
    ADD CONSTRAINT alert_events_pkey PRIMARY KEY (account_id, event_id);

--
-- Name: alert_thresholds alert_thresholds_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.alert_thresholds
    ADD CONSTRAINT alert_thresholds_pkey PRIMARY KEY (account_id, percent);

--
-- Name: alert_webhooks alert_webhooks_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.alert_webhooks
    ADD CONSTRAINT alert_webhooks_pkey PRIMARY KEY (account_id, url);

--
-- Name: api_tokens api_tokens_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.api_tokens
    ADD CONSTRAINT api_tokens_pkey PRIMARY KEY (account_id, token_id);

--
-- Name: api_tokens api_tokens_sha256_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.api_tokens
    ADD CONSTRAINT api_tokens_sha256_key UNIQUE (sha256);

--
-- Name: applied_files applied_files_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.applied_files
    ADD CONSTRAINT applied_files_pkey PRIMARY KEY (account_id);

--
-- Name: audit_log audit_log_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.audit_log
    ADD CONSTRAINT audit_log_pkey PRIMARY KEY (account_id, audit_id);

--
-- Name: budget_counters budget_counters_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.budget_counters
    ADD CONSTRAINT budget_counters_pkey PRIMARY KEY (account_id, cycle_no, scope, slice);

--
-- Name: budget_overhangs budget_overhangs_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.budget_overhangs
    ADD CONSTRAINT budget_overhangs_pkey PRIMARY KEY (account_id, cycle_no, scope);

--
-- Name: cycles cycles_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.cycles
    ADD CONSTRAINT cycles_pkey PRIMARY KEY (account_id, cycle_no);

--
-- Name: database_identity database_identity_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.database_identity
    ADD CONSTRAINT database_identity_pkey PRIMARY KEY (singleton);

--
-- Name: groups groups_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.groups
    ADD CONSTRAINT groups_pkey PRIMARY KEY (account_id, group_key);

--
-- Name: idempotency_keys idempotency_keys_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.idempotency_keys
    ADD CONSTRAINT idempotency_keys_pkey PRIMARY KEY (account_id, idem_key);

--
-- Name: ledger_entries ledger_entries_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ledger_entries
    ADD CONSTRAINT ledger_entries_pkey PRIMARY KEY (account_id, entry_id);

--
-- Name: members members_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.members
    ADD CONSTRAINT members_pkey PRIMARY KEY (account_id, email);

--
-- Name: requests requests_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.requests
    ADD CONSTRAINT requests_pkey PRIMARY KEY (account_id, request_id);

--
-- Name: reservations reservations_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.reservations
    ADD CONSTRAINT reservations_pkey PRIMARY KEY (account_id, reservation_id);

--
-- Name: schema_migrations schema_migrations_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.schema_migrations
    ADD CONSTRAINT schema_migrations_pkey PRIMARY KEY (version);

--
-- Name: alert_deliveries_by_event; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX alert_deliveries_by_event ON public.alert_deliveries USING btree (account_id, event_id);

--
-- Name: alert_deliveries_due; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX alert_deliveries_due ON public.alert_deliveries USING btree (next_attempt_at) WHERE (status = 'pending'::text);

--
-- Name: alert_events_recent; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX alert_events_recent ON public.alert_events USING btree (account_id, created_at DESC);

--
-- Name: idempotency_keys_by_age; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idempotency_keys_by_age ON public.idempotency_keys USING brin (created_at);

--
-- Name: ledger_by_member; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ledger_by_member ON public.ledger_entries USING btree (account_id, cycle_no, member_email);

--
-- Name: ledger_idempotency; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX ledger_idempotency ON public.ledger_entries USING btree (account_id, idempotency_key) WHERE (idempotency_key IS NOT NULL);

--
-- Name: members_by_group; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX members_by_group ON public.members USING btree (account_id, group_key, email);

--
-- Name: members_with_rollover; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX members_with_rollover ON public.members USING btree (account_id, email) WHERE (rollover_max IS NOT NULL);

--
-- Name: requests_by_status; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX requests_by_status ON public.requests USING btree (account_id, status, created_at);

--
-- Name: reservations_live; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX reservations_live ON public.reservations USING btree (account_id, status, expires_at);

--
-- Name: accounts accounts_declared_upd; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER accounts_declared_upd BEFORE UPDATE ON public.accounts FOR EACH ROW EXECUTE FUNCTION public.credits_bump_declared_account();

--
-- Name: alert_thresholds alert_thresholds_declared_del; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER alert_thresholds_declared_del AFTER DELETE ON public.alert_thresholds REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION public.credits_bump_declared_version();

--
-- Name: alert_thresholds alert_thresholds_declared_ins; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER alert_thresholds_declared_ins AFTER INSERT ON public.alert_thresholds REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION public.credits_bump_declared_version();

--
-- Name: alert_webhooks alert_webhooks_declared_del; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER alert_webhooks_declared_del AFTER DELETE ON public.alert_webhooks REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION public.credits_bump_declared_version();

--
-- Name: alert_webhooks alert_webhooks_declared_ins; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER alert_webhooks_declared_ins AFTER INSERT ON public.alert_webhooks REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION public.credits_bump_declared_version();

--
-- Name: alert_webhooks alert_webhooks_declared_upd; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER alert_webhooks_declared_upd AFTER UPDATE ON public.alert_webhooks REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION public.credits_bump_declared_version();

--
-- Name: budget_counters budget_counters_alerts; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER budget_counters_alerts AFTER UPDATE ON public.budget_counters REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION public.credits_alerts_counters_changed();

--
-- Name: budget_counters budget_counters_member_capacity; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER budget_counters_member_capacity BEFORE INSERT ON public.budget_counters FOR EACH ROW WHEN ((new.scope ~~ 'member:%'::text)) EXECUTE FUNCTION public.credits_member_counter_created();

--
-- Name: database_identity database_identity_is_fixed; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER database_identity_is_fixed BEFORE DELETE OR UPDATE ON public.database_identity FOR EACH ROW EXECUTE FUNCTION public.credits_database_identity_is_fixed();

--
-- Name: groups groups_declared_del; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER groups_declared_del AFTER DELETE ON public.groups REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION public.credits_bump_declared_version();

--
-- Name: groups groups_declared_ins; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER groups_declared_ins AFTER INSERT ON public.groups REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION public.credits_bump_declared_version();

--
-- Name: groups groups_declared_upd; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER groups_declared_upd AFTER UPDATE ON public.groups REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION public.credits_bump_declared_version();

--
-- Name: groups groups_unused_del; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER groups_unused_del AFTER DELETE ON public.groups REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION public.credits_check_group_unused();

--
-- Name: members members_declared_del; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER members_declared_del AFTER DELETE ON public.members REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION public.credits_bump_declared_members();

--
-- Name: members members_declared_ins; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER members_declared_ins AFTER INSERT ON public.members REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION public.credits_bump_declared_members();

--
-- Name: members members_declared_upd; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER members_declared_upd AFTER UPDATE ON public.members REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION public.credits_bump_declared_members();

--
-- Name: members members_group_exists_ins; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER members_group_exists_ins AFTER INSERT ON public.members REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION public.credits_check_member_groups();

--
-- Name: members members_group_exists_upd; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER members_group_exists_upd AFTER UPDATE ON public.members REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION public.credits_check_member_groups();

--
-- Name: alert_deliveries alert_deliveries_account_id_event_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.alert_deliveries
    ADD CONSTRAINT alert_deliveries_account_id_event_id_fkey FOREIGN KEY (account_id, event_id) REFERENCES public.alert_events(account_id, event_id);

--
-- Name: alert_thresholds alert_thresholds_account_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.alert_thresholds
    ADD CONSTRAINT alert_thresholds_account_id_fkey FOREIGN KEY (account_id) REFERENCES public.accounts(account_id);

--
-- Name: alert_webhooks alert_webhooks_account_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.alert_webhooks
    ADD CONSTRAINT alert_webhooks_account_id_fkey FOREIGN KEY (account_id) REFERENCES public.accounts(account_id);

--
-- Name: api_tokens api_tokens_account_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.api_tokens
    ADD CONSTRAINT api_tokens_account_id_fkey FOREIGN KEY (account_id) REFERENCES public.accounts(account_id);

--
-- Name: applied_files applied_files_account_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.applied_files
    ADD CONSTRAINT applied_files_account_id_fkey FOREIGN KEY (account_id) REFERENCES public.accounts(account_id);

--
-- Name: cycles cycles_account_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.cycles
    ADD CONSTRAINT cycles_account_id_fkey FOREIGN KEY (account_id) REFERENCES public.accounts(account_id);

--
-- Name: groups groups_account_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.groups
    ADD CONSTRAINT groups_account_id_fkey FOREIGN KEY (account_id) REFERENCES public.accounts(account_id);

--
-- PostgreSQL database dump complete
--
