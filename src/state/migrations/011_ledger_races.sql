-- Interleavings that broke the ledger's invariants (docs/ledger.md, "One lock order"; src/ledger/locks.ts).

-- A rollover opens the next cycle under the account's cycle lock, sharing the declared-state lock that comes
-- before it in the lock order, and only if no cycle was opened since the caller read p_last (a concurrent
-- reset or rollover: the caller then looks again). One statement, so it is also safe outside a transaction:
-- the locks are held until the row commits. A PL/pgSQL statement after a lock wait reads a fresh snapshot.
CREATE FUNCTION credits_open_rollover(p_account text, p_last bigint, p_cycle bigint, p_start timestamptz,
                                      p_end timestamptz, p_cadence text, p_timezone text, p_anchor timestamptz)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock_shared(hashtextextended('credits.apply:' || p_account, 0));
  PERFORM pg_advisory_xact_lock(hashtextextended('credits.cycle:' || p_account, 0));
  IF (SELECT max(cycle_no) FROM cycles WHERE account_id = p_account) IS DISTINCT FROM p_last THEN
    RETURN;
  END IF;
  INSERT INTO cycles (account_id, cycle_no, starts_at, ends_at, cadence, timezone, reason, anchor_at)
  VALUES (p_account, p_cycle, p_start, p_end, p_cadence, p_timezone, 'rollover', p_anchor);
END $$;

-- A member's counter is created with the capacity the declared state gives it, whoever creates it (a usage
-- batch, a reservation, a grant): under the shared declared-state lock, so an admin edit or apply of the
-- member either commits first (and the capacity below sees it) or waits for this transaction (and its
-- capacity sync then sees this counter). Without it a counter made from a snapshot taken just before an edit
-- committed kept the old allocation for the rest of the cycle.
CREATE FUNCTION credits_member_counter_created() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock_shared(hashtextextended('credits.apply:' || NEW.account_id, 0));
  SELECT coalesce(credits_member_capacity(NEW.account_id, NEW.cycle_no, substr(NEW.scope, 8)), 0)
    INTO NEW.capacity;
  RETURN NEW;
END $$;

CREATE TRIGGER budget_counters_member_capacity BEFORE INSERT ON budget_counters
  FOR EACH ROW WHEN (NEW.scope LIKE 'member:%') EXECUTE FUNCTION credits_member_counter_created();
