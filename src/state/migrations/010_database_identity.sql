-- The identity of this database: a UUID written once, here, by migrate. Saved plans record it, and
-- `credits apply plan.json` refuses a plan made on another database (PLAN_WRONG_DATABASE), even one holding
-- an account with the same id at the same state serial. A copy made by pg_dump or a file copy of a PGlite
-- directory keeps the identity, as it keeps everything else.
CREATE TABLE database_identity (
  singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  database_id uuid NOT NULL DEFAULT gen_random_uuid(),
  created_at  timestamptz NOT NULL DEFAULT now()
);
INSERT INTO database_identity DEFAULT VALUES;

-- Written once: an UPDATE or DELETE would let plans made on one database apply to another.
CREATE FUNCTION credits_database_identity_is_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'database_identity is written once, by migrate';
END $$;
CREATE TRIGGER database_identity_is_fixed BEFORE UPDATE OR DELETE ON database_identity
  FOR EACH ROW EXECUTE FUNCTION credits_database_identity_is_fixed();
