-- A user who signed up (not named by credits.yaml) and was given terms outside the file (a group other than
-- Default, an individual allocation or extra credits: the dashboard, the API, SQL) is part of the declared
-- state from then on: plan shows it as drift and export writes it (src/state/inspect.ts). So such writes
-- bump declared_version like writes to declared members, or the no-op shortcut and the edited-file path of
-- plan would not see them. A signup on the Default group's terms (group `default`, no allocation, extra 0)
-- still bumps nothing.
CREATE OR REPLACE FUNCTION credits_bump_declared_members() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    UPDATE accounts SET declared_version = declared_version + 1
     WHERE account_id IN (SELECT DISTINCT account_id FROM new_rows
                           WHERE declared OR group_key <> 'default' OR allocation IS NOT NULL OR extra <> 0);
  ELSIF TG_OP = 'UPDATE' THEN
    -- Rows whose declared columns changed, found with set difference (hashing) rather than a join: the
    -- transition tables have no index, and a join of 100k × 100k rows would be quadratic. Both versions of a
    -- changed row are in `d`, so a user leaving the Default group's terms counts, and so does one returning.
    UPDATE accounts SET declared_version = declared_version + 1
     WHERE account_id IN (
       SELECT d.account_id FROM (
         (SELECT account_id, email, declared, group_key, allocation, extra FROM new_rows
          EXCEPT SELECT account_id, email, declared, group_key, allocation, extra FROM old_rows)
         UNION ALL
         (SELECT account_id, email, declared, group_key, allocation, extra FROM old_rows
          EXCEPT SELECT account_id, email, declared, group_key, allocation, extra FROM new_rows)
       ) d WHERE d.declared OR d.group_key <> 'default' OR d.allocation IS NOT NULL OR d.extra <> 0);
  ELSE
    UPDATE accounts SET declared_version = declared_version + 1
     WHERE account_id IN (SELECT DISTINCT account_id FROM old_rows
                           WHERE declared OR group_key <> 'default' OR allocation IS NOT NULL OR extra <> 0);
  END IF;
  RETURN NULL;
END $$;

-- Accounts that already have such users: what the last apply recorded (its digest, its file text) was
-- proved without them, so neither may stand for the live state any more.
UPDATE accounts SET declared_version = declared_version + 1
 WHERE account_id IN (SELECT DISTINCT account_id FROM members
                       WHERE NOT declared AND (group_key <> 'default' OR allocation IS NOT NULL OR extra <> 0));
