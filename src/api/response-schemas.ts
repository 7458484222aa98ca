// Response schemas: every reply is serialised through one (fast-json-stringify), so no field leaks that
// the contract does not name.
const str = { type: 'string' } as const;
const strOrNull = { type: ['string', 'null'] } as const;
const obj = (properties: Record<string, unknown>, required = Object.keys(properties)) => ({
  type: 'object',
  additionalProperties: false,
  properties,
  required,
});

/** The body of every error: a code from the catalogue (src/errors.ts), its message, and the code's details. */
export const errorResponse = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      additionalProperties: true,
      properties: { code: str, message: str, requestId: str },
      required: ['code', 'message'],
    },
  },
  required: ['error'],
} as const;

const amountLeft = { type: 'string', description: 'credits that level can still spend this cycle' };

/** 402 BUDGET_EXCEEDED: the level that refused and what each level can still spend. */
const budgetExceeded = {
  type: 'object',
  additionalProperties: false,
  properties: {
    error: {
      type: 'object',
      additionalProperties: false,
      properties: {
        code: { type: 'string', enum: ['BUDGET_EXCEEDED'] },
        message: str,
        blockedBy: { type: 'string', enum: ['member', 'group', 'account'] },
        remaining: {
          type: 'object',
          description: 'what the member, its group and the account can still spend',
          additionalProperties: false,
          properties: {
            member: amountLeft,
            group: amountLeft,
            account: amountLeft,
            rolledOver: { type: 'string', description: 'credits rolled over into this cycle still unspent' },
          },
        },
        requestId: str,
      },
      required: ['code', 'message', 'blockedBy', 'remaining'],
    },
  },
  required: ['error'],
} as const;

const RETRY_AFTER = {
  'Retry-After': {
    type: 'integer',
    minimum: 0,
    description: 'seconds until the limit lets this caller in again',
  },
};

/** An error status's response: its description (the codes it carries) and body schema. */
const refusal = (description: string, schema: object = errorResponse, extra: object = {}) => ({
  ...schema,
  description,
  ...extra,
});

/**
 * The error responses a route may declare, one per status. Each documents the codes of src/errors.ts that
 * the API answers with that status; 402 has its own body.
 */
export const ERROR_RESPONSES = {
  400: refusal(
    'Bad request: VALIDATION_FAILED, INVALID_AMOUNT, INVALID_JSON, BODY_TOO_DEEP, INVALID_CURSOR, IDEMPOTENCY_KEY_INVALID, BAD_REQUEST (and rule codes of admin edits)',
  ),
  401: refusal('UNAUTHORIZED: missing or invalid bearer token'),
  402: refusal(
    'BUDGET_EXCEEDED: the member, its group or the account cannot spend this much',
    budgetExceeded,
  ),
  403: refusal("FORBIDDEN: the token's role may not do this"),
  404: refusal('NOT_FOUND or MEMBER_NOT_FOUND'),
  409: refusal(
    'Conflict with the current state: IDEMPOTENCY_IN_FLIGHT, MANAGED_BY_GIT, REQUEST_ALREADY_DECIDED, RESERVATION_NOT_HELD, GROUP_BUDGET_INSUFFICIENT, EMAIL_NOT_DECLARABLE',
  ),
  422: refusal('IDEMPOTENCY_KEY_REUSED: the Idempotency-Key was used with a different request'),
  429: refusal(
    'RATE_LIMITED (Retry-After says when to try again), or TOO_MANY_PENDING_REQUESTS on POST /v1/requests',
    errorResponse,
    { headers: RETRY_AFTER },
  ),
  503: refusal('DATABASE_UNAVAILABLE, MIGRATIONS_PENDING or TRANSACTION_CONFLICT: nothing changed, retry'),
} as const;
export type ErrorStatus = keyof typeof ERROR_RESPONSES;

/** Statuses any /v1 route may answer: validation, authentication, role, rate limit, database. */
export const COMMON_ERRORS: readonly ErrorStatus[] = [400, 401, 403, 429, 503];

/** Catch-alls for what no route lists: 413 PAYLOAD_TOO_LARGE, 415 UNSUPPORTED_MEDIA_TYPE, 500 INTERNAL. */
export const OTHER_ERRORS = {
  '4xx': refusal('Other client errors: PAYLOAD_TOO_LARGE (413), UNSUPPORTED_MEDIA_TYPE (415)'),
  '5xx': refusal('INTERNAL: a server-side failure (details only in the log)'),
};

// rolledOver: what is left of the credits rolled over into this cycle (absent from answers stored before
// rollover existed, which a replay returns as they were).
const remaining = obj({ member: str, group: str, account: str, rolledOver: str }, [
  'member',
  'group',
  'account',
]);
const groupView = obj({
  key: str,
  name: str,
  members: { type: 'integer' },
  allocation: str,
  extra: str,
  distributed: str,
  available: str,
  autoApprove: str,
  autoApproveLeft: str,
  /** What of the pool rolled over into this cycle (the group's rollover). */
  rolledOver: str,
  used: str,
});
/** A member's terms and balance: GET /v1/members/:email, and the head of GET /v1/me. */
const memberView = {
  email: str,
  name: strOrNull,
  group: str,
  allocation: strOrNull,
  extra: str,
  /** What of the member's own allocation rolled over into this cycle (their rollover). */
  rolledOver: str,
  used: str,
  remaining,
};

const request = obj({
  id: str,
  member: str,
  group: str,
  amount: str,
  approvedAmount: strOrNull,
  status: str,
  reason: str,
  decisionReason: strOrNull,
  createdAt: str,
});

/** A page of a list: the items and the cursor of the next page (null on the last). */
const page = (item: unknown) => obj({ items: { type: 'array', items: item }, nextCursor: strOrNull });

export const RESPONSES = {
  overview: obj({
    account: obj({ id: str, name: str, creditFactor: str, signupCredits: str, managedBy: strOrNull }),
    cycle: obj({ number: { type: 'integer' }, start: str, end: str, cadence: str, timezone: str }),
    creditLimit: str,
    used: str,
    reserved: str,
    balance: str,
    usagePercent: str,
    groups: { type: 'array', items: groupView },
  }),
  groups: page(groupView),
  membersPage: obj({
    items: {
      type: 'array',
      items: obj({
        email: str,
        name: strOrNull,
        allocation: strOrNull,
        extra: str,
        /** Named by credits.yaml at the last apply (false: signed up at run time). */
        declared: { type: 'boolean' },
        /** Credits rolled over into this cycle (apart from the allocation). */
        rolledOver: str,
        used: str,
        remaining: str,
      }),
    },
    nextCursor: strOrNull,
    /** Members matching the search, for page counts. */
    total: { type: 'integer' },
  }),
  member: obj(memberView),
  history: page(obj({ kind: str, credits: str, model: strOrNull, requestId: strOrNull, at: str })),
  edit: obj({ changed: { type: 'integer' } }),
  signup: obj({ email: str, group: str, created: { type: 'boolean' }, signupCredits: str }),
  usage: obj({ id: str, member: str, credits: str, charged: { type: 'boolean' }, remaining }),
  reservation: obj({ id: str, credits: str, expiresAt: str }),
  settled: obj({ id: str, status: str, credits: str }),
  released: obj({ id: str, status: str }),
  request,
  requests: page(request),
  cycle: obj({ number: { type: 'integer' }, start: str, end: str }),
  // History: usage entries, their sums, the audit log (src/ledger/usage-history.ts, usage-summary.ts,
  // audit-history.ts). `metadata`, `before` and `after` are whatever JSON was stored.
  usageEntries: page(
    obj(
      {
        id: str,
        member: str,
        group: str,
        credits: str,
        costUsd: strOrNull,
        model: strOrNull,
        cycle: { type: 'integer' },
        at: str,
        metadata: { type: 'object', additionalProperties: true },
      },
      ['id', 'member', 'group', 'credits', 'costUsd', 'model', 'cycle', 'at'],
    ),
  ),
  usageSummary: obj({
    by: str,
    bucket: str,
    items: {
      type: 'array',
      items: obj({ key: str, bucket: str, credits: str, costUsd: strOrNull, entries: { type: 'integer' } }),
    },
  }),
  auditEntries: page(
    obj({
      id: str,
      serial: str,
      actor: str,
      source: str,
      commitSha: strOrNull,
      address: str,
      action: str,
      before: {},
      after: {},
      at: str,
    }),
  ),
  // GET /v1/alerts: the latest threshold alerts (src/ledger/alerts-outbox.ts) and their deliveries.
  alerts: obj({
    alerts: {
      type: 'array',
      items: obj({
        id: str,
        type: str,
        account: str,
        scope: str,
        member: strOrNull,
        group: strOrNull,
        threshold: { type: 'number' },
        used: str,
        budget: str,
        cycle: obj({ start: str, end: str }),
        createdAt: str,
        deliveries: {
          type: 'array',
          items: obj({
            url: str,
            status: str,
            attempts: { type: 'integer' },
            lastStatus: { type: ['integer', 'null'] },
            lastError: strOrNull,
            lastAttemptAt: strOrNull,
            nextAttemptAt: strOrNull,
            deliveredAt: strOrNull,
          }),
        },
      }),
    },
  }),
  // POST /v1/usage/batch: per event, in order, the status POST /v1/usage would answer and its body.
  usageBatch: obj({
    results: {
      type: 'array',
      items: obj(
        {
          status: { type: 'integer' },
          result: obj({ id: str, member: str, credits: str, charged: { type: 'boolean' }, remaining }),
          error: errorResponse.properties.error,
        },
        ['status'],
      ),
    },
  }),
  // GET /v1/me: the member view, the cycle, its grants and the member's latest requests.
  me: obj({
    ...memberView,
    cycle: obj({ number: { type: 'integer' }, start: str, end: str }),
    grants: obj({
      total: str,
      count: { type: 'integer' },
      recent: { type: 'array', items: obj({ credits: str, requestId: strOrNull, at: str }) },
    }),
    requests: obj({ recent: { type: 'array', items: request }, nextCursor: strOrNull }),
  }),
} as const;
