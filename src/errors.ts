// The one catalogue of coded errors, shared by the CLI and the API: code, HTTP status, message and hint.
// Callers pass parameters; they never invent messages.

type Params = Record<string, string | number | undefined>;

interface ErrorSpec {
  status: number;
  message: (p: Params) => string;
  hint?: string;
}

const spec = (status: number, message: (p: Params) => string, hint?: string): ErrorSpec => ({
  status,
  message,
  hint,
});

export const ERRORS = {
  // --- reading the file -------------------------------------------------------------------------------
  FILE_NOT_FOUND: spec(
    400,
    (p) => `file not found: ${p.file}`,
    'Run `credits init` to write a starter file.',
  ),
  PLAN_FILE_NOT_FOUND: spec(
    400,
    (p) => `plan file not found: ${p.file}`,
    'Save one with `credits plan --out <file>`, or plan and apply a config with `credits apply -f <file>`.',
  ),
  FILE_UNREADABLE: spec(400, (p) => `cannot read ${p.file}: ${p.reason}`),
  FILE_TOO_LARGE: spec(
    400,
    (p) => `file is ${p.size} bytes; the limit is ${p.limit} bytes`,
    'Split the organisation into several accounts, or raise CREDITS_MAX_FILE_BYTES.',
  ),
  FILE_NOT_UTF8: spec(400, () => 'file is not valid UTF-8', 'Save the file as UTF-8.'),
  FILE_EMPTY: spec(400, () => 'file is empty', 'Start from `credits init` or examples/small.yaml.'),
  // --- YAML syntax --------------------------------------------------------------------------------------
  YAML_SYNTAX: spec(400, (p) => `YAML syntax error: ${p.reason}`, 'Check indentation, quoting and colons.'),
  YAML_DUPLICATE_KEY: spec(
    400,
    (p) => `duplicate key ${p.key}`,
    'Each key may appear once in a mapping; merge the two entries.',
  ),
  YAML_MULTI_DOCUMENT: spec(
    400,
    () => 'file holds more than one YAML document',
    'Remove the `---` separator; one file describes one account.',
  ),
  YAML_TAG: spec(
    400,
    (p) => `YAML tag ${p.tag} is not allowed`,
    'credits.yaml uses plain values only; remove the `!` tag.',
  ),
  YAML_ALIAS_LIMIT: spec(
    400,
    (p) => `YAML aliases expand to more than ${p.limit} nodes`,
    'Write the values out instead of nesting anchors and aliases.',
  ),
  YAML_TOO_DEEP: spec(400, (p) => `YAML nesting deeper than ${p.limit} levels`),
  // --- schema ----------------------------------------------------------------------------------------------
  SCHEMA_UNKNOWN_KEY: spec(400, (p) => `unknown key ${p.key}${p.where ? ` in ${p.where}` : ''}`, undefined),
  SCHEMA_REQUIRED: spec(400, (p) => `missing required key ${p.key}${p.where ? ` in ${p.where}` : ''}`),
  SCHEMA_TYPE: spec(400, (p) => `${p.where} must be ${p.expected}, got ${p.actual}`),
  SCHEMA_VALUE: spec(400, (p) => `${p.where}: ${p.reason}`),
  BAD_SLUG: spec(
    400,
    (p) => `${p.what} ${p.value} is not a valid key`,
    'Use lower-case letters, digits, - and _ (at most 63, starting with a letter or digit).',
  ),
  // --- numbers ---------------------------------------------------------------------------------------------
  NUMBER_NEGATIVE: spec(400, (p) => `${p.where} is negative (${p.value})`, 'Amounts are zero or more.'),
  NUMBER_NON_FINITE: spec(400, (p) => `${p.where} is not a finite number (${p.value})`),
  NUMBER_PRECISION: spec(
    400,
    (p) => `${p.where} has more than 6 decimal places (${p.value})`,
    'Round the amount to at most 6 decimal places.',
  ),
  NUMBER_TOO_LARGE: spec(400, (p) => `${p.where} is larger than ${p.limit} (${p.value})`),
  // --- semantic rules ------------------------------------------------------------------------------------------
  BAD_EMAIL: spec(400, (p) => `${p.value} is not a valid e-mail address`),
  UNKNOWN_CADENCE: spec(
    400,
    (p) => `unknown cadence ${p.value}`,
    'Use calendar-month, 15d, 1w, 1d, or <N>h / <N>m of at most a day (e.g. 12h, 30m).',
  ),
  UNKNOWN_TIMEZONE: spec(
    400,
    (p) => `unknown time zone ${p.value}`,
    'Use an IANA name such as Europe/Berlin or UTC.',
  ),
  MEMBER_IN_TWO_GROUPS: spec(
    400,
    (p) => `member ${p.email} is in group ${p.group} and also in ${p.other} (${p.otherAt})`,
    'A user belongs to exactly one group; remove one of the entries.',
  ),
  MEMBER_DUPLICATE: spec(
    400,
    (p) =>
      `member ${p.email} is written twice in group ${p.group} (e-mails are case-insensitive; also ${p.otherAt})`,
    'Keep one entry per e-mail address.',
  ),
  GROUP_OVER_BUDGET: spec(
    400,
    (p) =>
      `members of group ${p.group} are given ${p.sum} (allocation + extra), more than the group's ${p.budget}`,
    "Lower the members' allocations or raise the group's allocation/extra.",
  ),
  ACCOUNT_OVER_LIMIT: spec(
    400,
    (p) => `groups are given ${p.sum} (allocation + extra), more than the account's creditLimit ${p.limit}`,
    'Lower group budgets or raise account.creditLimit.',
  ),
  ROLLOVER_WITHOUT_ALLOCATION: spec(
    400,
    (p) => `member ${p.email} declares a rollover but no allocation of their own`,
    'Only an individual allocation rolls over; give the member an allocation or remove rollover.',
  ),
  ROLLOVER_OVER_ALLOCATION: spec(
    400,
    (p) => `rollover max ${p.max} of member ${p.email} is more than their allocation + extra (${p.budget})`,
    'A cycle cannot leave more unused than it gives; lower rollover.max.',
  ),
  ROLLOVER_OVER_POOL: spec(
    400,
    (p) =>
      `rollover max ${p.max} of group ${p.group} is more than its pool (allocation + extra − the members' allocation + extra: ${p.pool})`,
    "Only the pool's unused credits roll over; lower rollover.max.",
  ),
  ROLLOVER_OVER_LIMIT: spec(
    400,
    (p) =>
      `groups are given ${p.sum} (allocation + extra + the rollover max of their pools and members), more than the account's creditLimit ${p.limit}`,
    'Rolled-over credits are spent within the account limit; lower rollover.max or raise account.creditLimit.',
  ),
  AUTO_APPROVE_OVER_BUDGET: spec(
    400,
    (p) =>
      `autoApprove ${p.autoApprove} of group ${p.group} is more than its allocation + extra (${p.budget})`,
    'The auto-approve reserve is part of the group budget.',
  ),
  ALERT_THRESHOLD_RANGE: spec(
    400,
    (p) =>
      `alert threshold ${p.value} is not a percentage above 0 and at most 100 with at most 2 decimal places`,
    'A threshold is a percent of a budget used in the cycle, e.g. 50, 80, 100 (at most 2 decimal places).',
  ),
  ALERT_THRESHOLD_DUPLICATE: spec(
    400,
    (p) => `alert threshold ${p.value} is listed twice`,
    'List each threshold once (their order does not matter).',
  ),
  ALERT_BAD_URL: spec(
    400,
    (p) => `webhook url ${p.value} is not usable: ${p.reason}`,
    'Use https://host/path (http only to localhost, 127.0.0.1 or [::1]), with no user or password in it.',
  ),
  ALERT_WEBHOOK_DUPLICATE: spec(
    400,
    (p) => `webhook url ${p.value} is listed twice`,
    'Each webhook url appears once; list every scope it wants in its scopes.',
  ),
  ALERT_BAD_SECRET_ENV: spec(
    400,
    // The value is not repeated: what was written there may be the secret itself.
    () => 'secretEnv is not the name of an environment variable (the value is not shown: it may be a secret)',
    'Name the variable that holds the secret (letters, digits and _, not starting with a digit), e.g. CREDITS_WEBHOOK_SECRET; never the secret itself.',
  ),
  ALERT_UNKNOWN_SCOPE: spec(
    400,
    (p) => `unknown alert scope ${p.value}`,
    'Scopes are member, group and account.',
  ),
  // --- engine ------------------------------------------------------------------------------------------------------
  DATABASE_UNAVAILABLE: spec(503, (p) => `cannot reach the database: ${p.reason}`, 'Check DATABASE_URL.'),
  DATABASE_TLS_UNTRUSTED: spec(
    503,
    (p) => `the database server's certificate could not be verified (${p.reason})`,
    'Add sslrootcert=<CA file> to DATABASE_URL to verify it (sslmode=verify-full also checks the host name), ' +
      'or use sslmode=require to encrypt without verifying, as libpq does.',
  ),
  DATABASE_TLS_UNSUPPORTED: spec(
    503,
    () => 'the database server does not accept TLS connections',
    'Use sslmode=disable in DATABASE_URL, or enable ssl on the server.',
  ),
  DATABASE_ERROR: spec(500, (p) => `database error: ${p.reason}`),
  MIGRATION_MODIFIED: spec(
    500,
    (p) => `migration ${p.file} was changed after it was applied to this database`,
    'An applied migration never changes: restore the file as it was released, and put the change in a new migration.',
  ),
  DATABASE_IN_USE: spec(
    409,
    (p) => `the embedded database in ${p.dir} is owned by process ${p.pid} (${p.command}): ${p.reason}`,
    'Commands go through a running `credits serve`; a second server is refused. Stop that process ' +
      '(kill <pid>), or give this one another folder with CREDITS_DATA_DIR, or use DATABASE_URL.',
  ),
  MIGRATIONS_PENDING: spec(
    503,
    (p) => `database schema is at version ${p.current}, expected ${p.expected}`,
    'Run `credits migrate`.',
  ),
  ACCOUNT_NOT_FOUND: spec(404, (p) => `account ${p.account} not found`, 'Run `credits apply` to create it.'),
  ACCOUNT_AMBIGUOUS: spec(400, (p) => `the database holds ${p.count} accounts`, 'Pass --account ID.'),
  PLAN_STALE: spec(
    409,
    (p) =>
      p.planned !== p.current
        ? `plan is stale: it was made from state serial ${p.planned}, the account is now at ${p.current}`
        : `plan is stale: the declared state of account ${p.account} was written outside credits apply since the plan was made (state serial ${p.planned}), and planning its configuration now gives other changes (first at ${p.at})`,
    'Run `credits plan` again and review the new plan.',
  ),
  PLAN_MISMATCH: spec(
    409,
    (p) =>
      `plan does not match its configuration: at ${p.at} the saved plan is not what planning its configuration against this database gives`,
    'The plan file was edited after `credits plan --out`. Apply only unedited plans: run `credits plan --out` again and review it.',
  ),
  PLAN_WRONG_DATABASE: spec(
    409,
    (p) => `plan was made on database ${p.planned}, not on this one (${p.current})`,
    'Apply a saved plan to the database it was planned against (check DATABASE_URL / CREDITS_DATA_DIR), or plan again here.',
  ),
  PLAN_INVALID: spec(
    400,
    (p) => `not a credits plan file: ${p.reason}`,
    'Save the plan again with `credits plan --out <file>`; a saved plan is applied only as written.',
  ),
  PLAN_FORMAT_UNSUPPORTED: spec(
    400,
    (p) => `plan formatVersion ${p.version} is not supported (expected ${p.expected})`,
    'Save the plan again with this version: `credits plan --out <file>`.',
  ),
  PROTECTED_GROUP: spec(
    409,
    (p) => `plan would ${p.action} protected group ${p.group}`,
    'Re-run with --allow-destroy if this is intended, or remove `protect: true` first.',
  ),
  CONFIRMATION_REQUIRED: spec(
    400,
    () => 'this needs confirmation but there is no terminal to ask',
    'Pass --auto-approve to apply (or apply a saved plan file), --yes to reset-cycle.',
  ),
  APPLY_DECLINED: spec(400, () => 'apply cancelled'),
  FILE_EXISTS: spec(409, (p) => `${p.file} already exists`, 'Pass --force to overwrite it.'),
  // --- API -----------------------------------------------------------------------------------------------------
  UNAUTHORIZED: spec(401, () => 'missing or invalid bearer token'),
  FORBIDDEN: spec(403, (p) => `the ${p.role} role may not ${p.action}`),
  NOT_FOUND: spec(404, (p) => `${p.what} not found`),
  TOKEN_AMBIGUOUS: spec(
    409,
    (p) => `${p.given} names ${p.count} live tokens; nothing was revoked`,
    'Give more of the prefix `credits token list` shows, the token id, or the whole token.',
  ),
  METRICS_FORBIDDEN: spec(
    403,
    () => 'metrics are served only to clients on this machine, not through a proxy',
    'Scrape /metrics from the same host or network namespace (a sidecar), at 127.0.0.1 or ::1.',
  ),
  VALIDATION_FAILED: spec(400, (p) => `invalid request: ${p.reason}`),
  BUDGET_EXCEEDED: spec(402, (p) => `budget exceeded at the ${p.blockedBy} level`),
  GROUP_BUDGET_INSUFFICIENT: spec(
    409,
    (p) => `group ${p.group} has ${p.available} credits available, not enough to grant ${p.amount}`,
    'Approve a smaller amount, or raise the group budget in credits.yaml.',
  ),
  DEFAULT_GROUP_NAME: spec(
    400,
    () => 'the Default group cannot be renamed',
    'Its name is always Default; credits.yaml cannot name it either.',
  ),
  MEMBER_NOT_FOUND: spec(
    404,
    (p) => `member ${p.email} not found`,
    'Members join through signup or credits.yaml.',
  ),
  EMAIL_NOT_DECLARABLE: spec(
    409,
    (p) => `${p.email} cannot be given its own terms: credits.yaml cannot name this e-mail address`,
    'Terms set here are drift that `credits export` writes into credits.yaml; use an address the file accepts.',
  ),
  RESERVATION_NOT_HELD: spec(409, (p) => `reservation ${p.id} is ${p.status}`),
  REQUEST_ALREADY_DECIDED: spec(409, (p) => `request ${p.id} was already ${p.status}`),
  MANAGED_BY_GIT: spec(
    409,
    (p) => `${p.field} is managed in credits.yaml (managedBy: git)`,
    'Change credits.yaml and run credits apply.',
  ),
  INVALID_AMOUNT: spec(
    400,
    (p) =>
      `${p.field} is not a valid amount: give a decimal of at most ${p.places} places and at most ${p.max}, as a string or a plain JSON number`,
    'Send amounts as strings such as "12.5"; no exponent, sign, spaces or hex.',
  ),
  INVALID_CURSOR: spec(400, () => 'cursor is not one this list handed out', 'Start again without a cursor.'),
  INVALID_DATE: spec(
    400,
    (p) => `${p.field} is not an ISO 8601 date or date-time: ${p.value}`,
    'Give a date such as 2026-03-01 (UTC midnight) or a date-time with an offset, 2026-03-01T09:00:00Z.',
  ),
  INVALID_TIME_RANGE: spec(400, (p) => `from (${p.from}) must be before to (${p.to})`),
  SUMMARY_TOO_LARGE: spec(
    400,
    (p) => `the summary has more than ${p.limit} rows`,
    'Narrow it with from/to, a member or group filter, or bucket by day instead of hour.',
  ),
  INVALID_JSON: spec(400, (p) => `request body is not valid JSON: ${p.reason}`),
  BODY_TOO_DEEP: spec(400, (p) => `request body is nested deeper than ${p.limit} levels`),
  PAYLOAD_TOO_LARGE: spec(413, (p) => `request body is larger than ${p.limit} bytes`),
  UNSUPPORTED_MEDIA_TYPE: spec(415, () => 'request body must be application/json'),
  BAD_REQUEST: spec(400, (p) => `bad request: ${p.reason}`),
  TOO_MANY_PENDING_REQUESTS: spec(
    429,
    (p) => `member ${p.email} already has ${p.limit} pending requests`,
    'Wait until an admin decides one of them.',
  ),
  IDEMPOTENCY_KEY_INVALID: spec(
    400,
    (p) => `Idempotency-Key must be 1 to ${p.limit} characters of UTF-8 text without U+0000: ${p.problem}`,
  ),
  IDEMPOTENCY_KEY_REUSED: spec(422, () => 'Idempotency-Key was already used with a different request body'),
  IDEMPOTENCY_IN_FLIGHT: spec(409, () => 'a request with this Idempotency-Key is still in progress'),
  TRANSACTION_CONFLICT: spec(
    503,
    (p) =>
      `the database kept aborting this write in conflicts with concurrent writes (${p.attempts} attempts)`,
    'Nothing was changed; retry the request.',
  ),
  RATE_LIMITED: spec(429, () => 'too many requests'),
  INTERNAL: spec(500, () => 'internal error'),
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

/** Where in a source file an error points; line and column are 1-based. */
export interface SourcePosition {
  file: string;
  line: number;
  col: number;
}

export class CreditsError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly hint: string | undefined;
  readonly details: Record<string, unknown>;
  position: SourcePosition | undefined;

  constructor(code: ErrorCode, params: Params = {}, details: Record<string, unknown> = {}) {
    const entry: ErrorSpec = ERRORS[code];
    super(entry.message(params));
    this.name = 'CreditsError';
    this.code = code;
    this.status = entry.status;
    this.hint = entry.hint;
    this.details = details;
  }
}

export const isCreditsError = (err: unknown): err is CreditsError => err instanceof CreditsError;

/** One line per error, `file:line:col  CODE  message`, then an indented hint when there is one. */
export function formatError(err: CreditsError, fallbackFile?: string): string {
  const where = err.position
    ? `${err.position.file}:${err.position.line}:${err.position.col}  `
    : fallbackFile
      ? `${fallbackFile}  `
      : '';
  const head = `${where}${err.code}  ${err.message}`;
  return err.hint ? `${head}\n  hint: ${err.hint}` : head;
}
