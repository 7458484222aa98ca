-- The counter trigger of migration 016 with one query in the common case instead of two. With thresholds
-- declared, every usage statement ran the probe of alert_thresholds and then the filter over the changed rows
-- (a join, a group and an aggregate), which measured 12-14 % of the usage rate in bench/usage.mjs --alerts.
-- Now a single query asks whether any changed row has reached its account's lowest threshold (for an account
-- without thresholds min() is NULL, so nothing has); only then does the filter of migration 016 run. Same
-- alerts, same transaction.

CREATE OR REPLACE FUNCTION credits_alerts_counters_changed() RETURNS trigger LANGUAGE plpgsql AS $$
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
