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

export const errorResponse = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      additionalProperties: true,
      properties: { code: str, message: str },
      required: ['code', 'message'],
    },
  },
  required: ['error'],
} as const;

const remaining = obj({ member: str, group: str, account: str });
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
  used: str,
});
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
        used: str,
        remaining: str,
      }),
    },
    nextCursor: strOrNull,
    /** Members matching the search, for page counts. */
    total: { type: 'integer' },
  }),
  member: obj({
    email: str,
    name: strOrNull,
    group: str,
    allocation: strOrNull,
    extra: str,
    used: str,
    remaining,
  }),
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
    email: str,
    name: strOrNull,
    group: str,
    allocation: strOrNull,
    extra: str,
    used: str,
    remaining,
    cycle: obj({ number: { type: 'integer' }, start: str, end: str }),
    grants: obj({
      total: str,
      count: { type: 'integer' },
      recent: { type: 'array', items: obj({ credits: str, requestId: strOrNull, at: str }) },
    }),
    requests: obj({ recent: { type: 'array', items: request }, nextCursor: strOrNull }),
  }),
} as const;
