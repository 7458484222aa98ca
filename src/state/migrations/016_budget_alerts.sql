-- Alerts at budget thresholds (docs/alerts.md). Declared: thresholds and webhooks (credits.yaml `alerts`).
-- Runtime: an outbox of events, one per account, cycle, scope and threshold, written by a trigger on
-- budget_counters in the very transaction whose counter change reached the threshold, and its deliveries,
-- one per event and webhook, which `credits serve` sends. The spending functions are not changed.

CREATE TABLE alert_thresholds (
  account_id  text NOT NULL REFERENCES accounts(account_id),
  percent     numeric(5,2) NOT NULL CHECK (percent > 0 AND percent <= 100),
  PRIMARY KEY (account_id, percent)
);

-- secret_env is the NAME of an environment variable of `credits serve`; the secret is never stored.
CREATE TABLE alert_webhooks (
  account_id  text NOT NULL REFERENCES accounts(account_id),
  url         text NOT NULL,
  secret_env  text NOT NULL,
  scopes      text[] NOT NULL,
  PRIMARY KEY (account_id, url)
);

-- Declared rows: a write that bypasses apply moves declared_version like any other declared table.
CREATE TRIGGER alert_thresholds_declared_ins AFTER INSERT ON alert_thresholds
  REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION credits_bump_declared_version();
CREATE TRIGGER alert_thresholds_declared_del AFTER DELETE ON alert_thresholds
  REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION credits_bump_declared_version();
CREATE TRIGGER alert_webhooks_declared_ins AFTER INSERT ON alert_webhooks
  REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION credits_bump_declared_version();
CREATE TRIGGER alert_webhooks_declared_upd AFTER UPDATE ON alert_webhooks
  REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION credits_bump_declared_version();
CREATE TRIGGER alert_webhooks_declared_del AFTER DELETE ON alert_webhooks
  REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION credits_bump_declared_version();

-- One row per account, cycle, counter scope ('account', 'group:<key>', 'member:<email>') and threshold: the
-- unique key is what makes an alert happen once, whichever transaction or sweep raises it first.
CREATE TABLE alert_events (
  account_id       text NOT NULL,
  event_id         uuid NOT NULL DEFAULT gen_random_uuid(),
  cycle_no         bigint NOT NULL,
  scope            text NOT NULL,
  threshold        numeric(5,2) NOT NULL,
  used             numeric(24,6) NOT NULL,
  budget           numeric(24,6) NOT NULL,
  cycle_starts_at  timestamptz NOT NULL,
  cycle_ends_at    timestamptz NOT NULL,
  -- The group of a group scope, or the member's group when the alert was raised.
  group_key        text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account_id, event_id),
  UNIQUE (account_id, cycle_no, scope, threshold)
);
CREATE INDEX alert_events_recent ON alert_events (account_id, created_at DESC);

-- One row per event and webhook. A sender claims due rows with FOR UPDATE SKIP LOCKED and pushes
-- next_attempt_at past its request timeout (a lease), so two servers never send one row at the same time.
CREATE TABLE alert_deliveries (
  account_id       text NOT NULL,
  delivery_id      bigint GENERATED ALWAYS AS IDENTITY,
  event_id         uuid NOT NULL,
  url              text NOT NULL,
  secret_env       text NOT NULL,
  status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts         integer NOT NULL DEFAULT 0,
  next_attempt_at  timestamptz NOT NULL DEFAULT now(),
  last_attempt_at  timestamptz,
  last_status      integer,
  last_error       text,
  delivered_at     timestamptz,
  created_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account_id, delivery_id),
  FOREIGN KEY (account_id, event_id) REFERENCES alert_events (account_id, event_id)
);
CREATE INDEX alert_deliveries_due ON alert_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX alert_deliveries_by_event ON alert_deliveries (account_id, event_id);

-- Raises the alerts of these scopes of one cycle whose threshold is reached and not yet raised: the scope's
-- used (summed over its slices) ≥ threshold % of its budget, budget > 0. The budget: a member's counter
-- capacity (allocation + extra + grants this cycle), a group's allocation + extra, the account's creditLimit.
-- Scopes whose thresholds were all raised are not summed. Returns the number of events written.
CREATE FUNCTION credits_alerts_raise(p_account text, p_cycle bigint, p_scopes text[]) RETURNS integer
LANGUAGE plpgsql AS $$
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

-- After any change of counters, in the same transaction. The hot path pays one probe of alert_thresholds per
-- statement when the account has none; otherwise a filter over the changed rows alone: a row (a member's
-- counter, or one slice of a group's or the account's) that has not itself reached a threshold not yet
-- raised is passed over without reading anything else. A member's counter is one row, so its alerts are
-- exact. A sliced scope can reach a threshold in total while the slice a writer changed has not (or while
-- concurrent writers each see only their own slice): the next change of a slice past it, or the sweep that
-- `credits serve` runs, raises it.
CREATE FUNCTION credits_alerts_counters_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  r record;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM alert_thresholds t WHERE t.account_id IN (SELECT account_id FROM new_rows)) THEN
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

CREATE TRIGGER budget_counters_alerts AFTER UPDATE ON budget_counters
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION credits_alerts_counters_changed();

-- The sliced scopes (account, groups) of every account's latest cycle: concurrent writers each see only their
-- own slices change, so both can miss a crossing their sum makes; `credits serve` runs this periodically.
CREATE FUNCTION credits_alerts_sweep() RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  r record;
  v_n integer := 0;
BEGIN
  FOR r IN SELECT a.account_id, c.cycle_no,
                  array(SELECT DISTINCT b.scope FROM budget_counters b
                         WHERE b.account_id = a.account_id AND b.cycle_no = c.cycle_no
                           AND (b.scope = 'account' OR b.scope LIKE 'group:%')) AS scopes
             FROM (SELECT DISTINCT account_id FROM alert_thresholds) a
             CROSS JOIN LATERAL (SELECT max(cycle_no) AS cycle_no FROM cycles
                                  WHERE cycles.account_id = a.account_id) c
            WHERE c.cycle_no IS NOT NULL
  LOOP
    v_n := v_n + credits_alerts_raise(r.account_id, r.cycle_no, r.scopes);
  END LOOP;
  RETURN v_n;
END $$;
