// The /v1 routes: each a JSON Schema, the roles that may call it, and a thin handler over ledger/
// and apply/. The table is exported so tests can walk every route (authorisation matrix, fuzzing).
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CreditsError } from '../errors.js';
import { recordUsage } from '../ledger/usage.js';
import { reserve, release, settle } from '../ledger/reservations.js';
import {
  approveRequest,
  createRequest,
  denyRequest,
  listRequests,
  type RequestStatus,
} from '../ledger/requests.js';
import { signup } from '../ledger/signup.js';
import { resetCycle } from '../ledger/reset-cycle.js';
import { groupsPage, memberHistory, memberView, membersPage, overview } from '../ledger/balances.js';
import { DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT, type PageQuery } from '../ledger/page.js';
import { editGroup, editMember, editSettings } from '../apply/admin-edit.js';
import type { Role, TokenIdentity } from '../state/tokens.js';
import type { Store } from '../state/store.js';
import { RESPONSES, type ErrorStatus } from './response-schemas.js';
import type { IdempotencySpec } from '../ledger/idempotency.js';
import { MAX_IDEMPOTENCY_KEY } from './idempotency-key.js';
import { historyFilter, MAX_HISTORY_PAGE, DEFAULT_HISTORY_PAGE } from '../ledger/history-filter.js';
import { listUsage, usageBatches } from '../ledger/usage-history.js';
import { usageSummary, type SummaryBucket, type SummaryBy } from '../ledger/usage-summary.js';
import { auditBatches, listAudit } from '../ledger/audit-history.js';
import { AUDIT_CSV, SUMMARY_CSV, USAGE_CSV } from '../ledger/history-csv.js';
import { csvChunks } from '../render/csv.js';
import { csvReply, wantsCsv } from './csv-reply.js';
import { BATCH_BODY_LIMIT, MAX_BATCH_EVENTS, recordBatch } from './usage-batch.js';
import { memberSelf } from '../ledger/member-self.js';
import { listAlerts } from '../ledger/alerts-outbox.js';
import { shownUrl } from './alert-sender.js';

// Amounts are checked before the schema, on the text the client sent (src/api/amounts.ts), and arrive here
// as canonical strings; the schema documents them for OpenAPI and guards the type.
const AMOUNT = {
  description: 'a decimal ≤ 10^15 with at most 6 places: a string ("12.5") or a plain JSON number (12.5)',
  anyOf: [
    { type: 'string', pattern: '^\\d{1,16}(\\.\\d{1,6})?$' },
    { type: 'number', minimum: 0, maximum: 1e15 },
  ],
} as const;
const NULLABLE_AMOUNT = { ...AMOUNT, anyOf: [...AMOUNT.anyOf, { type: 'null' }] } as const;
const EMAIL = { type: 'string', minLength: 3, maxLength: 254, pattern: '^[^@\\s]+@[^@\\s]+$' } as const;
const KEY = { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]{0,62}$' } as const;
const UUID = { type: 'string', format: 'uuid' } as const;
const TEXT = { type: 'string', minLength: 1, maxLength: 2000 } as const;
// OpenAPI 3.0 allows no empty `required`, so it is left out when nothing is.
const body = (properties: Record<string, unknown>, required: string[] = []) => ({
  type: 'object',
  additionalProperties: false,
  properties,
  ...(required.length ? { required } : {}),
});

/** Amounts arrive as canonical strings (the server checked them); the ledger works on exact strings. */
const amount = (v: unknown): string | undefined => (v === undefined || v === null ? undefined : String(v));

/** A list route's query: an opaque cursor from the previous page and a page size. */
const PAGE = {
  cursor: { type: 'string', minLength: 1, maxLength: 200 },
  limit: { type: 'integer', minimum: 1, maximum: MAX_PAGE_LIMIT, default: DEFAULT_PAGE_LIMIT },
} as const;
const pageQuery = (c: RouteContext): PageQuery => ({
  cursor: query(c).cursor as string | undefined,
  limit: Number(query(c).limit),
});

/** The amount fields of a route's body, each with whether it may be null. */
export function amountFields(route: RouteSpec): [string, boolean][] {
  const props = ((route.schema.body as { properties?: Record<string, unknown> } | undefined)?.properties ??
    {}) as Record<string, unknown>;
  return Object.entries(props)
    .filter(([, s]) => s === AMOUNT || s === NULLABLE_AMOUNT)
    .map(([field, s]) => [field, s === NULLABLE_AMOUNT]);
}

export interface RouteContext {
  store: Store;
  identity: TokenIdentity;
  req: FastifyRequest;
  reply: FastifyReply;
  idempotencyKey: string | undefined;
  /** For POSTs without ledgerIdempotency: the route-scoped key and request hash, stored with the effect. */
  idempotency: IdempotencySpec | undefined;
  now: Date;
}

export interface RouteSpec {
  method: 'GET' | 'POST' | 'PATCH';
  url: string;
  /** OpenAPI: a unique camelCase name (client generators make method names of it) and a one-line summary. */
  operationId: string;
  summary: string;
  /** OpenAPI tag; the URL's first segment after /v1 unless given. */
  tag?: string;
  /** Error statuses beyond those every route may answer (COMMON_ERRORS), e.g. 402, 404, 409. */
  errors?: readonly ErrorStatus[];
  roles: readonly Role[];
  /** Member tokens may only touch their own e-mail (taken from params.email or body.member). */
  memberSelf?: boolean;
  schema: Record<string, unknown>;
  /** The success body's schema (errors share one schema). */
  response: unknown;
  status?: number;
  /** The ledger stores the Idempotency-Key in the same transaction as the effect. */
  ledgerIdempotency?: boolean;
  /** Largest body accepted, in bytes (64 KiB unless given). */
  bodyLimit?: number;
  handler: (ctx: RouteContext) => Promise<unknown>;
}

type Params = Record<string, string>;
type Body = Record<string, unknown>;
const params = (c: RouteContext) => c.req.params as Params;
const bodyOf = (c: RouteContext) => (c.req.body ?? {}) as Body;
const query = (c: RouteContext) => c.req.query as Record<string, string | number | undefined>;
const actor = (c: RouteContext) => `token:${c.identity.tokenId}`;

/** Body of a spending call (usage, reservation): a member and credits or costUsd, plus route-specific fields. */
const spendBody = (extra: Record<string, unknown>) => ({
  ...body({ member: EMAIL, credits: AMOUNT, costUsd: AMOUNT, ...extra }, ['member']),
  oneOf: [{ required: ['credits'] }, { required: ['costUsd'] }],
});
const spendInput = (c: RouteContext) => ({
  accountId: c.identity.accountId,
  member: String(bodyOf(c).member),
  credits: amount(bodyOf(c).credits),
  costUsd: amount(bodyOf(c).costUsd),
  idempotencyKey: c.idempotencyKey,
  now: c.now,
});

/** The filters of the history routes; dates are checked by the ledger (INVALID_DATE, INVALID_TIME_RANGE). */
const HISTORY_FILTERS = {
  member: EMAIL,
  group: KEY,
  from: { type: 'string', minLength: 1, maxLength: 40 },
  to: { type: 'string', minLength: 1, maxLength: 40 },
} as const;
const HISTORY_PAGE = {
  ...PAGE,
  limit: { type: 'integer', minimum: 1, maximum: MAX_HISTORY_PAGE, default: DEFAULT_HISTORY_PAGE },
} as const;
/** The history filters of a request; a member token sees its own rows only, and asking for another's is 403. */
const historyQuery = (c: RouteContext) => {
  const q = query(c) as Record<string, string | undefined>;
  if (c.identity.role !== 'member') return { member: q.member, group: q.group, from: q.from, to: q.to };
  if (q.member !== undefined && q.member.toLowerCase() !== c.identity.member) {
    throw new CreditsError('FORBIDDEN', { role: 'member', action: "read another member's usage" });
  }
  return { member: c.identity.member!, group: q.group, from: q.from, to: q.to };
};
async function* oneBatch<T>(items: T[]): AsyncGenerator<T[]> {
  yield items;
}

/** Settings that are text; the others are amounts. */
const TEXT_SETTINGS = new Set(['name', 'cadence', 'timezone']);

// POST /v1/usage/batch: an event is the body of POST /v1/usage plus its own idempotencyKey. Each event is
// validated on its own (src/api/usage-batch.ts), so the body's schema lets any object through and the
// event's schema is there for OpenAPI.
const USAGE_EVENT = {
  ...spendBody({
    idempotencyKey: { type: 'string', minLength: 1, maxLength: MAX_IDEMPOTENCY_KEY },
    model: { type: 'string', maxLength: 200 },
    metadata: { type: 'object', maxProperties: 50 },
  }),
  required: ['member', 'idempotencyKey'],
  // Nested in the batch body, linters read each branch alone: it names the property it requires.
  oneOf: [
    { required: ['credits'], properties: { credits: AMOUNT } },
    { required: ['costUsd'], properties: { costUsd: AMOUNT } },
  ],
};
const USAGE_EVENT_AMOUNTS = ['credits', 'costUsd'] as const;

export const ROUTES: RouteSpec[] = [
  {
    method: 'GET',
    url: '/v1/overview',
    operationId: 'getOverview',
    summary: "The account's budget, this cycle's use and every group",
    response: RESPONSES.overview,
    roles: ['admin'],
    schema: {},
    handler: (c) => overview(c.store, c.identity.accountId, c.now),
  },
  {
    method: 'GET',
    url: '/v1/groups',
    operationId: 'listGroups',
    summary: 'A page of groups with their budgets and use',
    response: RESPONSES.groups,
    roles: ['admin'],
    schema: { querystring: body(PAGE) },
    handler: (c) => groupsPage(c.store, c.identity.accountId, c.now, pageQuery(c)),
  },
  {
    method: 'GET',
    url: '/v1/groups/:key/members',
    operationId: 'listGroupMembers',
    summary: "A page of a group's members, searchable by e-mail or name",
    errors: [404],
    response: RESPONSES.membersPage,
    roles: ['admin'],
    schema: {
      params: body({ key: KEY }, ['key']),
      querystring: body({ search: { type: 'string', maxLength: 200 }, ...PAGE }),
    },
    handler: (c) =>
      membersPage(
        c.store,
        c.identity.accountId,
        params(c).key!,
        { search: query(c).search as string | undefined, ...pageQuery(c) },
        c.now,
      ),
  },
  {
    method: 'GET',
    url: '/v1/members/:email',
    operationId: 'getMember',
    summary: "A member's budget, use and what each level can still spend",
    errors: [404],
    response: RESPONSES.member,
    roles: ['admin', 'service', 'member'],
    memberSelf: true,
    schema: { params: body({ email: EMAIL }, ['email']) },
    handler: (c) => memberView(c.store, c.identity.accountId, params(c).email!, c.now),
  },
  {
    method: 'GET',
    url: '/v1/members/:email/history',
    operationId: 'getMemberHistory',
    summary: "A page of a member's usage and grants this cycle, newest first",
    errors: [404],
    response: RESPONSES.history,
    roles: ['admin', 'service', 'member'],
    memberSelf: true,
    schema: { params: body({ email: EMAIL }, ['email']), querystring: body(PAGE) },
    handler: (c) => memberHistory(c.store, c.identity.accountId, params(c).email!, c.now, pageQuery(c)),
  },
  {
    method: 'PATCH',
    url: '/v1/groups/:key',
    operationId: 'editGroup',
    summary: "Edit a group's name or budget (drift from credits.yaml)",
    errors: [404, 409],
    response: RESPONSES.edit,
    roles: ['admin'],
    schema: {
      params: body({ key: KEY }, ['key']),
      body: {
        ...body({
          name: { type: 'string', minLength: 1, maxLength: 200 },
          allocation: AMOUNT,
          extra: AMOUNT,
          autoApprove: AMOUNT,
        }),
        minProperties: 1,
      },
    },
    handler: async (c) => {
      const b = bodyOf(c);
      const patch = Object.fromEntries(
        Object.entries(b).map(([k, v]) => [k, k === 'name' ? String(v) : amount(v)]),
      );
      return editGroup(c.store, c.identity.accountId, params(c).key!, patch, actor(c));
    },
  },
  {
    method: 'PATCH',
    url: '/v1/members/:email',
    operationId: 'editMember',
    summary: "Edit a member's allocation, extra credits or group (drift from credits.yaml)",
    errors: [404, 409],
    response: RESPONSES.edit,
    roles: ['admin'],
    schema: {
      params: body({ email: EMAIL }, ['email']),
      body: {
        ...body({ allocation: NULLABLE_AMOUNT, extra: AMOUNT, group: KEY }),
        minProperties: 1,
      },
    },
    handler: (c) => {
      const b = bodyOf(c);
      const patch: { allocation?: string | null; extra?: string; group?: string } = {};
      if ('allocation' in b) patch.allocation = b.allocation === null ? null : amount(b.allocation);
      if ('extra' in b) patch.extra = amount(b.extra);
      if ('group' in b) patch.group = String(b.group);
      return editMember(c.store, c.identity.accountId, params(c).email!.toLowerCase(), patch, actor(c));
    },
  },
  {
    method: 'PATCH',
    url: '/v1/settings',
    operationId: 'editSettings',
    summary: "Edit the account's settings (drift from credits.yaml)",
    errors: [409],
    response: RESPONSES.edit,
    roles: ['admin'],
    schema: {
      body: {
        ...body({
          name: { type: 'string', minLength: 1, maxLength: 200 },
          creditLimit: AMOUNT,
          creditFactor: AMOUNT,
          signupCredits: AMOUNT,
          cadence: { type: 'string', minLength: 1, maxLength: 20 },
          timezone: { type: 'string', minLength: 1, maxLength: 100 },
        }),
        minProperties: 1,
      },
    },
    handler: (c) => {
      const b = bodyOf(c);
      const patch = Object.fromEntries(
        Object.entries(b).map(([k, v]) => [k, TEXT_SETTINGS.has(k) ? String(v) : amount(v)]),
      );
      return editSettings(c.store, c.identity.accountId, patch, actor(c), c.now);
    },
  },
  {
    method: 'POST',
    url: '/v1/users',
    operationId: 'signUp',
    summary: 'Sign a member up into the Default group',
    errors: [409, 422],
    response: RESPONSES.signup,
    roles: ['admin', 'service'],
    status: 201,
    schema: { body: body({ email: EMAIL, name: { type: 'string', maxLength: 200 } }, ['email']) },
    handler: (c) =>
      signup(c.store, {
        accountId: c.identity.accountId,
        email: String(bodyOf(c).email),
        name: bodyOf(c).name as string | undefined,
        idempotency: c.idempotency,
      }),
  },
  {
    method: 'POST',
    url: '/v1/usage',
    operationId: 'recordUsage',
    summary: 'Record usage in credits or dollars, refused with 402 past any budget',
    errors: [402, 404, 409, 422],
    response: RESPONSES.usage,
    ledgerIdempotency: true,
    roles: ['admin', 'service'],
    status: 201,
    schema: {
      body: spendBody({
        model: { type: 'string', maxLength: 200 },
        metadata: { type: 'object', maxProperties: 50 },
      }),
    },
    handler: (c) =>
      recordUsage(c.store, {
        ...spendInput(c),
        model: bodyOf(c).model as string | undefined,
        metadata: bodyOf(c).metadata as Record<string, unknown> | undefined,
      }),
  },
  {
    method: 'POST',
    url: '/v1/reservations',
    operationId: 'reserve',
    summary: 'Hold credits for a member until settled, released or expired',
    errors: [402, 404, 409, 422],
    response: RESPONSES.reservation,
    ledgerIdempotency: true,
    roles: ['admin', 'service'],
    status: 201,
    schema: { body: spendBody({ ttlSeconds: { type: 'integer', minimum: 1, maximum: 86400 } }) },
    handler: (c) =>
      reserve(c.store, { ...spendInput(c), ttlSeconds: bodyOf(c).ttlSeconds as number | undefined }),
  },
  {
    method: 'POST',
    url: '/v1/reservations/:id/settle',
    operationId: 'settleReservation',
    summary: 'Charge a held reservation its actual cost',
    errors: [402, 404, 409, 422],
    response: RESPONSES.settled,
    roles: ['admin', 'service'],
    schema: {
      params: body({ id: UUID }, ['id']),
      body: {
        ...body({ credits: AMOUNT, costUsd: AMOUNT }),
        oneOf: [{ required: ['credits'] }, { required: ['costUsd'] }],
      },
    },
    handler: (c) =>
      settle(c.store, {
        accountId: c.identity.accountId,
        id: params(c).id!,
        credits: amount(bodyOf(c).credits),
        costUsd: amount(bodyOf(c).costUsd),
        now: c.now,
        idempotency: c.idempotency,
      }),
  },
  {
    method: 'POST',
    url: '/v1/reservations/:id/release',
    operationId: 'releaseReservation',
    summary: 'Release a held reservation without charge',
    errors: [404, 409, 422],
    response: RESPONSES.released,
    roles: ['admin', 'service'],
    schema: { params: body({ id: UUID }, ['id']) },
    handler: (c) =>
      release(c.store, { accountId: c.identity.accountId, id: params(c).id!, idempotency: c.idempotency }),
  },
  {
    method: 'POST',
    url: '/v1/requests',
    operationId: 'createRequest',
    summary: "Ask for more credits (auto-approved within the group's reserve)",
    errors: [404, 409, 422],
    response: RESPONSES.request,
    ledgerIdempotency: true,
    roles: ['admin', 'member'],
    memberSelf: true,
    status: 201,
    schema: { body: body({ member: EMAIL, amount: AMOUNT, reason: TEXT }, ['amount', 'reason']) },
    handler: (c) => {
      const b = bodyOf(c);
      const member = c.identity.role === 'member' ? c.identity.member! : (b.member as string | undefined);
      if (!member) throw new CreditsError('VALIDATION_FAILED', { reason: 'member is required' });
      return createRequest(c.store, {
        accountId: c.identity.accountId,
        member,
        amount: amount(b.amount)!,
        reason: String(b.reason),
        idempotencyKey: c.idempotencyKey,
        now: c.now,
      });
    },
  },
  {
    method: 'GET',
    url: '/v1/requests',
    operationId: 'listRequests',
    summary: 'A page of credit requests, newest first',
    response: RESPONSES.requests,
    roles: ['admin', 'member'],
    schema: {
      querystring: body({ status: { enum: ['pending', 'approved', 'denied', 'auto-approved'] }, ...PAGE }),
    },
    handler: (c) =>
      listRequests(
        c.store,
        c.identity.accountId,
        {
          status: query(c).status as RequestStatus | undefined,
          member: c.identity.role === 'member' ? c.identity.member! : undefined,
        },
        pageQuery(c),
      ),
  },
  {
    method: 'POST',
    url: '/v1/requests/:id/approve',
    operationId: 'approveRequest',
    summary: 'Approve a pending request, for the amount asked or less',
    errors: [404, 409, 422],
    response: RESPONSES.request,
    roles: ['admin'],
    schema: { params: body({ id: UUID }, ['id']), body: body({ amount: AMOUNT }) },
    handler: (c) =>
      approveRequest(c.store, {
        accountId: c.identity.accountId,
        id: params(c).id!,
        amount: amount(bodyOf(c).amount),
        actor: actor(c),
        now: c.now,
        idempotency: c.idempotency,
      }),
  },
  {
    method: 'POST',
    url: '/v1/requests/:id/deny',
    operationId: 'denyRequest',
    summary: 'Deny a pending request',
    errors: [404, 409, 422],
    response: RESPONSES.request,
    roles: ['admin'],
    schema: {
      params: body({ id: UUID }, ['id']),
      body: body({ reason: { type: 'string', maxLength: 2000 } }),
    },
    handler: (c) =>
      denyRequest(c.store, {
        accountId: c.identity.accountId,
        id: params(c).id!,
        reason: bodyOf(c).reason as string | undefined,
        actor: actor(c),
        idempotency: c.idempotency,
      }),
  },
  {
    method: 'POST',
    url: '/v1/cycle/reset',
    operationId: 'resetCycle',
    summary: 'End the current cycle now and start the next',
    errors: [409, 422],
    response: RESPONSES.cycle,
    roles: ['admin'],
    schema: {},
    handler: async (c) => {
      const cycle = await resetCycle(c.store, {
        accountId: c.identity.accountId,
        now: c.now,
        idempotency: c.idempotency,
      });
      return { number: cycle.cycleNo, start: cycle.start.toISOString(), end: cycle.end.toISOString() };
    },
  },
  // --- history: usage entries, their sums, the audit log (docs/api.md#history) --------------------------
  {
    method: 'GET',
    url: '/v1/usage',
    operationId: 'listUsage',
    summary: 'List usage entries (JSON pages, or all of them as streamed CSV with Accept: text/csv)',
    response: RESPONSES.usageEntries,
    roles: ['admin', 'service', 'member'],
    schema: { querystring: body({ ...HISTORY_FILTERS, ...HISTORY_PAGE }) },
    handler: (c) => {
      const filter = historyFilter(historyQuery(c));
      const accountId = c.identity.accountId;
      if (!wantsCsv(c.req)) return listUsage(c.store, accountId, filter, pageQuery(c));
      const batches = usageBatches(c.store, accountId, filter, { cursor: pageQuery(c).cursor });
      return Promise.resolve(csvReply(c.reply, 'usage.csv', csvChunks(USAGE_CSV, batches)));
    },
  },
  {
    method: 'GET',
    url: '/v1/usage/summary',
    operationId: 'summariseUsage',
    summary: 'Sum usage per member or group and per hour or day (UTC)',
    response: RESPONSES.usageSummary,
    roles: ['admin', 'service', 'member'],
    schema: {
      querystring: body({
        ...HISTORY_FILTERS,
        by: { enum: ['member', 'group'], default: 'member' },
        bucket: { enum: ['day', 'hour'], default: 'day' },
      }),
    },
    handler: async (c) => {
      const q = query(c);
      const summary = await usageSummary(
        c.store,
        c.identity.accountId,
        historyFilter(historyQuery(c)),
        q.by as SummaryBy,
        q.bucket as SummaryBucket,
      );
      if (!wantsCsv(c.req)) return summary;
      return csvReply(c.reply, 'usage-summary.csv', csvChunks(SUMMARY_CSV, oneBatch(summary.items)));
    },
  },
  {
    method: 'GET',
    url: '/v1/audit',
    operationId: 'listAudit',
    summary: 'List the audit log: who changed what, when, from where (admin only)',
    response: RESPONSES.auditEntries,
    roles: ['admin'],
    schema: {
      querystring: body({
        ...HISTORY_FILTERS,
        actor: { type: 'string', minLength: 1, maxLength: 300 },
        source: { type: 'string', minLength: 1, maxLength: 50 },
        ...HISTORY_PAGE,
      }),
    },
    handler: (c) => {
      const q = query(c);
      const filter = {
        ...historyFilter(historyQuery(c)),
        actor: (q.actor as string | undefined) ?? null,
        source: (q.source as string | undefined) ?? null,
      };
      const accountId = c.identity.accountId;
      if (!wantsCsv(c.req)) return listAudit(c.store, accountId, filter, pageQuery(c));
      const batches = auditBatches(c.store, accountId, filter, { cursor: pageQuery(c).cursor });
      return Promise.resolve(csvReply(c.reply, 'audit.csv', csvChunks(AUDIT_CSV, batches)));
    },
  },
  {
    method: 'GET',
    url: '/v1/alerts',
    operationId: 'listAlerts',
    summary: 'List the latest budget threshold alerts and their webhook deliveries (admin only)',
    response: RESPONSES.alerts,
    roles: ['admin'],
    schema: {
      querystring: body({ limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 } }),
    },
    handler: async (c) => ({
      alerts: (await listAlerts(c.store, c.identity.accountId, Number(query(c).limit))).map((a) => ({
        ...a,
        // Logs and lists show a webhook url without its query, which may carry a token.
        deliveries: a.deliveries.map((d) => ({ ...d, url: shownUrl(d.url) })),
      })),
    }),
  },
  // Batch ingestion: up to 1,000 usage events, each answered in its place as POST /v1/usage answers it.
  {
    method: 'POST',
    url: '/v1/usage/batch',
    operationId: 'recordUsageBatch',
    summary: 'Record up to 1,000 usage events, each answered in its place',
    errors: [402, 409, 422],
    response: RESPONSES.usageBatch,
    ledgerIdempotency: true,
    roles: ['admin', 'service'],
    bodyLimit: BATCH_BODY_LIMIT,
    schema: {
      body: body(
        {
          events: {
            type: 'array',
            minItems: 1,
            maxItems: MAX_BATCH_EVENTS,
            items: { anyOf: [USAGE_EVENT, { type: 'object' }] },
          },
        },
        ['events'],
      ),
    },
    handler: (c) =>
      recordBatch({
        store: c.store,
        identity: c.identity,
        req: c.req,
        eventSchema: USAGE_EVENT,
        amounts: USAGE_EVENT_AMOUNTS,
        now: c.now,
      }),
  },
  // The member's own view: remaining credits, this cycle's use and grants, the latest requests.
  {
    method: 'GET',
    url: '/v1/me',
    operationId: 'getMe',
    summary: "The member's own view: remaining credits, this cycle, grants, latest requests",
    response: RESPONSES.me,
    roles: ['member'],
    schema: {},
    handler: (c) => memberSelf(c.store, c.identity.accountId, c.identity.member!, c.now),
  },
];
