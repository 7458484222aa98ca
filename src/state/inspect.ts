// Reads the live declared state of one account and normalises it to the DeclaredState shape (plus what the
// last apply wrote, for drift, and this cycle's usage, for effects).
import { canonical, sum } from '../decimal.js';
import { canonicalTimeZone } from '../config/cadence.js';
import { type DeclaredAccount, type DeclaredGroup, type DeclaredMember } from '../declared-state.js';
import type { LiveState } from '../live-state.js';
import type { Queryable } from './store.js';
import { readAlertSettings } from './alert-settings.js';

interface AccountRow {
  account_id: string;
  name: string;
  credit_limit: string;
  cadence: string;
  timezone: string;
  credit_factor: string;
  signup_credits: string;
  managed_by: 'git' | null;
  state_serial: string;
  declared_version: string;
  applied_config_digest: string | null;
  applied_declared_version: string | null;
  applied: DeclaredAccount | null;
}

export interface AccountHead {
  accountId: string;
  stateSerial: number;
  declaredVersion: number;
  appliedConfigDigest: string | null;
  appliedDeclaredVersion: number | null;
}

const headOf = (r: AccountRow): AccountHead => ({
  accountId: r.account_id,
  stateSerial: Number(r.state_serial),
  declaredVersion: Number(r.declared_version),
  appliedConfigDigest: r.applied_config_digest,
  appliedDeclaredVersion: r.applied_declared_version === null ? null : Number(r.applied_declared_version),
});

const ACCOUNT_COLUMNS = `account_id, name, credit_limit, cadence, timezone, credit_factor, signup_credits, managed_by,
  state_serial, declared_version, applied_config_digest, applied_declared_version, applied`;

/** The accounts whose last apply was exactly this file and whose declared state has not moved since. */
export async function findUnchangedSince(db: Queryable, configDigest: string): Promise<AccountHead[]> {
  const { rows } = await db.query<AccountRow>(
    `SELECT ${ACCOUNT_COLUMNS} FROM accounts
      WHERE applied_config_digest = $1 AND applied_declared_version = declared_version`,
    [configDigest],
  );
  return rows.map(headOf);
}

export async function listAccounts(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ account_id: string }>(
    'SELECT account_id FROM accounts ORDER BY account_id',
  );
  return rows.map((r) => r.account_id);
}

/** The text of the last applied file, when the live declared state provably still equals it. */
export interface AppliedFile {
  text: string;
  declaredVersion: number;
}

/**
 * The text the last apply stored (only when it could prove the result equals the file), provided nothing
 * declared has been written since: the digest still names that file and declared_version has not moved.
 */
export async function readAppliedFile(db: Queryable, accountId: string): Promise<AppliedFile | undefined> {
  const { rows } = await db.query<{ file_text: string; declared_version: string }>(
    `SELECT f.file_text, a.declared_version FROM accounts a JOIN applied_files f USING (account_id)
      WHERE a.account_id = $1 AND f.config_digest = a.applied_config_digest
        AND a.applied_declared_version = a.declared_version`,
    [accountId],
  );
  const row = rows[0];
  return row ? { text: row.file_text, declaredVersion: Number(row.declared_version) } : undefined;
}

export async function declaredVersionOf(db: Queryable, accountId: string): Promise<number | undefined> {
  const { rows } = await db.query<{ declared_version: string }>(
    'SELECT declared_version FROM accounts WHERE account_id = $1',
    [accountId],
  );
  return rows[0] ? Number(rows[0].declared_version) : undefined;
}

/** Σ rollover.max of the members of `groups` (the cross-group rule ROLLOVER_OVER_LIMIT). */
export async function rolloverMaxOf(db: Queryable, accountId: string, groups: string[]): Promise<string> {
  const { rows } = await db.query<{ total: string }>(
    `SELECT coalesce(sum(rollover_max), 0) AS total FROM members
      WHERE account_id = $1 AND rollover_max IS NOT NULL AND group_key = ANY($2::text[])`,
    [accountId, groups],
  );
  return rows[0]?.total ?? '0';
}

/**
 * The members that are declared state: those the file named at the last apply, and users who signed up and
 * were given terms other than the Default group's (a group, an allocation or extra credits, set outside the
 * file). The literal is DEFAULT_GROUP; migration 013 uses the same condition to bump declared_version.
 */
const DECLARED_STATE = `(declared OR group_key <> 'default' OR allocation IS NOT NULL OR extra <> 0)`;

/** Members among `emails` (case-folded) that are declared state (see DECLARED_STATE), and their groups. */
export async function declaredGroupsOf(
  db: Queryable,
  accountId: string,
  emails: string[],
): Promise<Map<string, string>> {
  if (emails.length === 0) return new Map();
  // One primary-key probe per e-mail (OFFSET 0 keeps the planner from turning it into a join). PGlite has no
  // autoanalyze, and without statistics `email = ANY(…)` went through the whole account's group index.
  const { rows } = await db.query<{ email: string; group_key: string }>(
    `SELECT m.email, m.group_key FROM unnest($2::text[]) AS e(email)
       CROSS JOIN LATERAL (SELECT email, group_key FROM members
                            WHERE account_id = $1 AND email = e.email AND ${DECLARED_STATE} OFFSET 0) m`,
    [accountId, emails],
  );
  return new Map(rows.map((r) => [r.email, r.group_key]));
}

/** The declared members of an account as one text (see inspect), with the declared_version it shows. */
export interface MemberText {
  declaredVersion: string | null;
  lines: string | null;
}

/**
 * Reads the members that are declared state (of the `only` groups, or all): the file's, and users who signed
 * up and were given other terms than the Default group's (DECLARED_STATE). Signups on the Default group's
 * terms are not part of the diff. The rows come back as one tab-separated text (applied values only where
 * they differ from live ones: group, allocation, extra, an empty field and rollover; for a user the file never
 * named, the Default group's terms and a field `runtime` there instead): for 100k members, decoding one string is several times cheaper than decoding 100k rows of
 * seven fields. The account's declared_version comes from the same snapshot.
 */
export async function readMemberText(db: Queryable, accountId: string, only?: string[]): Promise<MemberText> {
  const { rows } = await db.query<{ declared_version: string | null; lines: string | null }>(
    `SELECT (SELECT declared_version FROM accounts WHERE account_id = $1) AS declared_version,
            string_agg(
              email || E'\t' || group_key || E'\t' || coalesce(trim_scale(allocation)::text, '') || E'\t'
              || trim_scale(extra)::text || E'\t' || coalesce(trim_scale(rollover_max)::text, '')
              || CASE WHEN NOT declared THEN E'\tdefault\t\t0\truntime'
                      WHEN applied_group IS DISTINCT FROM group_key OR applied_allocation IS DISTINCT FROM allocation
                        OR applied_extra IS DISTINCT FROM extra OR applied_rollover_max IS DISTINCT FROM rollover_max
                      THEN E'\t' || coalesce(applied_group, '') || E'\t' || coalesce(trim_scale(applied_allocation)::text, '')
                           || E'\t' || coalesce(trim_scale(applied_extra)::text, '')
                           || E'\t\t' || coalesce(trim_scale(applied_rollover_max)::text, '')
                      ELSE '' END,
              E'\n' ORDER BY email) AS lines
       FROM members WHERE account_id = $1 AND ${DECLARED_STATE}${only ? ' AND group_key = ANY($2::text[])' : ''}`,
    only ? [accountId, only] : [accountId],
  );
  return { declaredVersion: rows[0]?.declared_version ?? null, lines: rows[0]?.lines ?? null };
}

export interface InspectOptions {
  /**
   * Groups whose members are known to equal the file already (see planner/plan-edit.ts): their members are neither
   * read nor counted. Every other group's are, exactly as without this option.
   */
  skipMembersOf?: ReadonlySet<string>;
  /** readMemberText(db, accountId) started earlier (to overlap with parsing); ignored with skipMembersOf. */
  prefetched?: Promise<MemberText>;
}

export async function inspect(
  db: Queryable,
  accountId: string,
  options: InspectOptions = {},
): Promise<LiveState> {
  const acct = await db.query<AccountRow>(`SELECT ${ACCOUNT_COLUMNS} FROM accounts WHERE account_id = $1`, [
    accountId,
  ]);
  const row = acct.rows[0];
  const empty: LiveState = {
    state: null,
    stateSerial: 0,
    applied: { account: null, groups: new Map(), members: new Map() },
    usage: { account: '0', groups: new Map() },
    memberCounts: new Map(),
  };
  if (!row) return empty;

  const account: DeclaredAccount = {
    id: row.account_id,
    name: row.name,
    creditLimit: canonical(row.credit_limit),
    cadence: row.cadence,
    // Spelled as a file's zone is normalised, so a database written before that was done plans no change.
    timezone: canonicalTimeZone(row.timezone),
    creditFactor: canonical(row.credit_factor),
    signupCredits: canonical(row.signup_credits),
    managedBy: row.managed_by,
  };

  const groupRows = await db.query<{
    group_key: string;
    name: string;
    allocation: string;
    extra: string;
    auto_approve: string;
    protect: boolean;
    rollover_max: string | null;
    applied: Omit<DeclaredGroup, 'key'> | null;
  }>(
    `SELECT group_key, name, allocation, extra, auto_approve, protect, rollover_max, applied
       FROM groups WHERE account_id = $1 ORDER BY group_key`,
    [accountId],
  );
  const groups: DeclaredGroup[] = [];
  const appliedGroups = new Map<string, Omit<DeclaredGroup, 'key'>>();
  for (const g of groupRows.rows) {
    groups.push({
      key: g.group_key,
      name: g.name,
      allocation: canonical(g.allocation),
      extra: canonical(g.extra),
      autoApprove: canonical(g.auto_approve),
      protect: g.protect,
      ...(g.rollover_max === null ? {} : { rollover: canonical(g.rollover_max) }),
    });
    if (g.applied) appliedGroups.set(g.group_key, g.applied);
  }

  // With skipMembersOf, only the other groups' members are read and counted.
  const skip = options.skipMembersOf;
  const only = skip ? groups.filter((g) => !skip.has(g.key)).map((g) => g.key) : undefined;
  const inGroups = only ? ' AND group_key = ANY($2::text[])' : '';
  const params = only ? [accountId, only] : [accountId];

  const memberText = await (options.prefetched && !only
    ? options.prefetched
    : readMemberText(db, accountId, only));
  const lines = memberText.lines ? memberText.lines.split('\n') : [];
  const members: DeclaredMember[] = new Array(lines.length);
  const appliedMembers = new Map<
    string,
    { group: string; allocation: string | null; extra: string; rollover?: string }
  >();
  const runtimeMembers = new Set<string>();
  lines.forEach((line, i) => {
    const f = line.split('\t');
    const email = f[0]!;
    members[i] = { email, group: f[1]!, allocation: f[2] === '' ? null : f[2]!, extra: f[3]! };
    if (f[4]) members[i].rollover = f[4];
    if (f.length > 5 && f[5] !== '') {
      appliedMembers.set(email, {
        group: f[5]!,
        allocation: f[6] === '' ? null : f[6]!,
        extra: f[7] || '0',
        ...(f[9] ? { rollover: f[9] } : {}),
      });
    }
    if (f[8] === 'runtime') runtimeMembers.add(email);
  });

  const counts = await db.query<{ group_key: string; n: string }>(
    `SELECT group_key, count(*) AS n FROM members WHERE account_id = $1${inGroups} GROUP BY group_key`,
    params,
  );
  const usage = await db.query<{ group_key: string; used: string }>(
    `SELECT group_key, sum(credits) AS used FROM ledger_entries
      WHERE account_id = $1 AND kind = 'usage'
        AND cycle_no = (SELECT max(cycle_no) FROM cycles WHERE account_id = $1)
      GROUP BY group_key`,
    [accountId],
  );
  const groupUsage = new Map(usage.rows.map((u) => [u.group_key, canonical(u.used)]));
  const alerts = await readAlertSettings(db, accountId);

  return {
    state: { account, groups, members, ...(alerts ? { alerts } : {}) },
    stateSerial: Number(row.state_serial),
    // The members read (maybe prefetched before the account row) must show the same declared_version, or the
    // reads straddle a write and no single version describes what was read.
    declaredVersion:
      memberText.declaredVersion === row.declared_version ? Number(row.declared_version) : undefined,
    applied: {
      account: row.applied && { ...row.applied, timezone: canonicalTimeZone(row.applied.timezone) },
      groups: appliedGroups,
      members: appliedMembers,
    },
    runtimeMembers,
    usage: { account: sum(usage.rows.map((u) => u.used)), groups: groupUsage },
    memberCounts: new Map(counts.rows.map((c) => [c.group_key, Number(c.n)])),
  };
}
