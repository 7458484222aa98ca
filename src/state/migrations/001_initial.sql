-- Initial schema. Every table is keyed by account_id first so it can be distributed by account (Citus).
-- Money is numeric(24,6): exact, at most 6 decimal places (the same rule credits.yaml enforces).

CREATE TABLE accounts (
  account_id        text PRIMARY KEY,
  name              text NOT NULL,
  credit_limit      numeric(24,6) NOT NULL DEFAULT 0,
  cadence           text NOT NULL DEFAULT 'calendar-month',
  timezone          text NOT NULL DEFAULT 'UTC',
  credit_factor     numeric(24,6) NOT NULL DEFAULT 0,
  signup_credits    numeric(24,6) NOT NULL DEFAULT 0,
  managed_by        text,
  -- Incremented by every apply and every declared-field edit (DESIGN §3).
  state_serial      bigint NOT NULL DEFAULT 0,
  -- Bumped by triggers on any write to declared columns, including writes that bypass the application.
  declared_version  bigint NOT NULL DEFAULT 0,
  -- What the last apply wrote: digest of the file's bytes and declared_version right after it.
  applied_config_digest text,
  applied_declared_version bigint,
  -- The declared settings as the last apply wrote them; live values that differ are drift.
  applied           jsonb,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE groups (
  account_id    text NOT NULL REFERENCES accounts(account_id),
  group_key     text NOT NULL,
  name          text NOT NULL,
  allocation    numeric(24,6) NOT NULL DEFAULT 0,
  extra         numeric(24,6) NOT NULL DEFAULT 0,
  auto_approve  numeric(24,6) NOT NULL DEFAULT 0,
  protect       boolean NOT NULL DEFAULT false,
  applied       jsonb,                  -- values at the last apply (NULL: never applied); differences are drift
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account_id, group_key)
);

CREATE TABLE members (
  account_id    text NOT NULL,
  email         text NOT NULL,
  name          text,
  group_key     text NOT NULL DEFAULT 'default',
  allocation    numeric(24,6),          -- NULL: draws from the group pool
  extra         numeric(24,6) NOT NULL DEFAULT 0,
  declared      boolean NOT NULL DEFAULT false,  -- named by credits.yaml at the last apply
  -- Values at the last apply (meaningful when declared); live values that differ are drift.
  applied_group       text,
  applied_allocation  numeric(24,6),
  applied_extra       numeric(24,6),
  signed_up_at  timestamptz,
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account_id, email),
  FOREIGN KEY (account_id, group_key) REFERENCES groups(account_id, group_key)
);
CREATE INDEX members_by_group ON members (account_id, group_key, email);

-- Cycles are contiguous; the current one is the row with the highest cycle_no.
CREATE TABLE cycles (
  account_id  text NOT NULL REFERENCES accounts(account_id),
  cycle_no    bigint NOT NULL,
  starts_at   timestamptz NOT NULL,
  ends_at     timestamptz NOT NULL,
  cadence     text NOT NULL,
  timezone    text NOT NULL,
  reason      text NOT NULL DEFAULT 'rollover',  -- rollover | reset | cadence-change | created
  PRIMARY KEY (account_id, cycle_no)
);

-- Append-only ledger: balances are sums of these rows; no row is updated to change an amount.
CREATE TABLE ledger_entries (
  account_id      text NOT NULL,
  entry_id        bigint GENERATED ALWAYS AS IDENTITY,
  cycle_no        bigint NOT NULL,
  member_email    text NOT NULL,
  group_key       text NOT NULL,
  kind            text NOT NULL,   -- usage | hold | hold-release | signup-grant | grant
  credits         numeric(24,6) NOT NULL,
  cost_usd        numeric(24,6),
  model           text,
  metadata        jsonb,
  reservation_id  uuid,
  request_id      uuid,
  created_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account_id, entry_id)
);
CREATE INDEX ledger_by_member ON ledger_entries (account_id, cycle_no, member_email);
CREATE INDEX ledger_by_group ON ledger_entries (account_id, cycle_no, group_key);

CREATE TABLE reservations (
  account_id      text NOT NULL,
  reservation_id  uuid NOT NULL,
  cycle_no        bigint NOT NULL,
  member_email    text NOT NULL,
  group_key       text NOT NULL,
  credits         numeric(24,6) NOT NULL,
  status          text NOT NULL DEFAULT 'held',  -- held | settled | released | expired
  expires_at      timestamptz NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account_id, reservation_id)
);

CREATE TABLE requests (
  account_id      text NOT NULL,
  request_id      uuid NOT NULL,
  cycle_no        bigint NOT NULL,
  member_email    text NOT NULL,
  group_key       text NOT NULL,
  amount          numeric(24,6) NOT NULL,
  approved_amount numeric(24,6),
  status          text NOT NULL,  -- pending | approved | denied | auto-approved
  reason          text NOT NULL,
  decision_reason text,
  decided_by      text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  decided_at      timestamptz,
  PRIMARY KEY (account_id, request_id)
);
CREATE INDEX requests_by_status ON requests (account_id, status, created_at);

CREATE TABLE api_tokens (
  account_id    text NOT NULL REFERENCES accounts(account_id),
  token_id      uuid NOT NULL,
  prefix        text NOT NULL,
  sha256        bytea NOT NULL UNIQUE,
  role          text NOT NULL,  -- admin | member | service
  member_email  text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  revoked_at    timestamptz,
  PRIMARY KEY (account_id, token_id)
);

CREATE TABLE idempotency_keys (
  account_id     text NOT NULL,
  idem_key       text NOT NULL,
  request_hash   text NOT NULL,
  status_code    integer,          -- NULL while the first request is in flight
  response       jsonb,
  created_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account_id, idem_key)
);

CREATE TABLE audit_log (
  account_id    text NOT NULL,
  audit_id      bigint GENERATED ALWAYS AS IDENTITY,
  state_serial  bigint NOT NULL,
  actor         text NOT NULL,
  source        text NOT NULL,   -- apply | api | cli
  commit_sha    text,
  address       text NOT NULL,
  action        text NOT NULL,
  before_value  jsonb,
  after_value   jsonb,
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account_id, audit_id)
);

-- Any write to declared columns bumps accounts.declared_version, so a plan can prove "nothing changed"
-- from two numbers instead of re-reading 100k rows. Statement-level, so a bulk apply bumps once per table.
CREATE FUNCTION credits_bump_declared_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE accounts SET declared_version = declared_version + 1
   WHERE account_id IN (SELECT DISTINCT account_id FROM changed_rows);
  RETURN NULL;
END $$;

CREATE TRIGGER groups_declared_ins AFTER INSERT ON groups
  REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION credits_bump_declared_version();
CREATE TRIGGER groups_declared_upd AFTER UPDATE ON groups
  REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION credits_bump_declared_version();
CREATE TRIGGER groups_declared_del AFTER DELETE ON groups
  REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION credits_bump_declared_version();
-- Members: only rows that are (or were) declared matter; runtime signups of undeclared users do not.
CREATE FUNCTION credits_bump_declared_members() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    UPDATE accounts SET declared_version = declared_version + 1
     WHERE account_id IN (SELECT DISTINCT account_id FROM new_rows WHERE declared);
  ELSIF TG_OP = 'UPDATE' THEN
    -- Rows whose declared columns changed, found with set difference (hashing) rather than a join: the
    -- transition tables have no index, and a join of 100k × 100k rows would be quadratic.
    UPDATE accounts SET declared_version = declared_version + 1
     WHERE account_id IN (
       SELECT d.account_id FROM (
         (SELECT account_id, email, declared, group_key, allocation, extra FROM new_rows
          EXCEPT SELECT account_id, email, declared, group_key, allocation, extra FROM old_rows)
         UNION ALL
         (SELECT account_id, email, declared, group_key, allocation, extra FROM old_rows
          EXCEPT SELECT account_id, email, declared, group_key, allocation, extra FROM new_rows)
       ) d WHERE d.declared);
  ELSE
    UPDATE accounts SET declared_version = declared_version + 1
     WHERE account_id IN (SELECT DISTINCT account_id FROM old_rows WHERE declared);
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER members_declared_ins AFTER INSERT ON members
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION credits_bump_declared_members();
CREATE TRIGGER members_declared_upd AFTER UPDATE ON members
  REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION credits_bump_declared_members();
CREATE TRIGGER members_declared_del AFTER DELETE ON members
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION credits_bump_declared_members();
-- Account settings: a row trigger, since the account row is the counter itself.
CREATE FUNCTION credits_bump_declared_account() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF (NEW.name, NEW.credit_limit, NEW.cadence, NEW.timezone, NEW.credit_factor, NEW.signup_credits, NEW.managed_by)
     IS DISTINCT FROM
     (OLD.name, OLD.credit_limit, OLD.cadence, OLD.timezone, OLD.credit_factor, OLD.signup_credits, OLD.managed_by) THEN
    NEW.declared_version := OLD.declared_version + 1;
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER accounts_declared_upd BEFORE UPDATE ON accounts
  FOR EACH ROW EXECUTE FUNCTION credits_bump_declared_account();
