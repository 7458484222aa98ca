-- The alert sweep (migration 016) covered only the sliced scopes (account, groups) of each account's latest
-- cycle. Two gaps: thresholds declared while a member was already past them were raised only at that
-- member's next usage (never, if none came), since a member's alerts came from the counter trigger alone;
-- and a sliced crossing missed by concurrent writers just before a cycle boundary was never raised, the next
-- sweep looking at the new cycle only. The sweep now takes every scope with some use (members too) of each
-- account's latest cycle and of cycles that ended within `p_ended_within` (twice the sweep interval of
-- `credits serve`). Still once per scope, threshold and cycle: the unique key of alert_events decides.

DROP FUNCTION credits_alerts_sweep();

CREATE FUNCTION credits_alerts_sweep(p_ended_within interval) RETURNS integer LANGUAGE plpgsql AS $$
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
