-- The statement-level group check of 004 probed `groups` once per new member row (its LIMIT 1 anti-join
-- planned as a nested loop over the transition table): ~0.2 s of a 100k-member insert. The same rule, checked
-- once per distinct (account, group) pair of the statement: a hash aggregate, then one probe per pair.
CREATE OR REPLACE FUNCTION credits_check_member_groups() RETURNS trigger LANGUAGE plpgsql AS $$
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
