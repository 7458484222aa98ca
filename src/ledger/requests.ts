// Requests for more credits: auto-approved from the group's per-cycle reserve when it can cover them,
// otherwise pending until an admin approves (possibly less) or denies. A grant raises the member's allowance
// for the current cycle and is drawn from the group pool, so it can never exceed what the group has left.
import { ledgerTransaction } from './retry.js';
import { randomUUID } from 'node:crypto';
import { CreditsError } from '../errors.js';
import { canonical, dec } from '../decimal.js';
import { charge, freeOf, setCapacity } from './budget-counters.js';
import { ensureCycleCounters, ensureMemberCounter, memberCapacity } from './capacities.js';
import { idempotent, requestHash, type IdempotencySpec } from './idempotency.js';
import { spendContext } from './spend.js';
import { auditDecision } from './decision-audit.js';
import {
  decodeCursor,
  INSTANT_PART,
  pageLimit,
  pageOf,
  UUID_PART,
  type Page,
  type PageQuery,
} from './page.js';
import type { Queryable, Store } from '../state/store.js';

/** Pending requests one member may have at once (docs/ledger.md); one more is TOO_MANY_PENDING_REQUESTS. */
export const MAX_PENDING_REQUESTS = 20;

export type RequestStatus = 'pending' | 'approved' | 'denied' | 'auto-approved';

export interface CreditRequest {
  id: string;
  member: string;
  group: string;
  amount: string;
  approvedAmount: string | null;
  status: RequestStatus;
  reason: string;
  decisionReason: string | null;
  createdAt: string;
}

interface Row {
  request_id: string;
  member_email: string;
  group_key: string;
  amount: string;
  approved_amount: string | null;
  status: RequestStatus;
  reason: string;
  decision_reason: string | null;
  created_at: Date;
  cycle_no: string;
}
const toRequest = (r: Row): CreditRequest => ({
  id: r.request_id,
  member: r.member_email,
  group: r.group_key,
  amount: canonical(r.amount),
  approvedAmount: r.approved_amount === null ? null : canonical(r.approved_amount),
  status: r.status,
  reason: r.reason,
  decisionReason: r.decision_reason,
  createdAt: r.created_at.toISOString(),
});
const COLUMNS =
  'request_id, member_email, group_key, amount, approved_amount, status, reason, decision_reason, created_at, cycle_no';

/** Grants `amount` to the member for the request's cycle: pool − amount, member allowance + amount. */
async function grant(
  tx: Queryable,
  accountId: string,
  cycleNo: number,
  email: string,
  group: string,
  amount: string,
  requestId: string,
  fromReserve = false,
): Promise<boolean> {
  await ensureCycleCounters(tx, accountId, cycleNo);
  // Lock order: the member's counter before the pool, as usage does.
  await ensureMemberCounter(tx, accountId, cycleNo, email);
  await tx.query(
    'SELECT 1 FROM budget_counters WHERE account_id = $1 AND cycle_no = $2 AND scope = $3 FOR UPDATE',
    [accountId, cycleNo, `member:${email}`],
  );
  const took = await charge(tx, accountId, cycleNo, `pool:${group}`, amount, true);
  if (dec(took).isZero() && !dec(amount).isZero()) return false;
  await tx.query(
    `INSERT INTO ledger_entries (account_id, cycle_no, member_email, group_key, kind, credits, charges, request_id)
     VALUES ($1, $2, $3, $4, 'grant', $5, $6, $7)`,
    [
      accountId,
      cycleNo,
      email,
      group,
      amount,
      JSON.stringify({ [`pool:${group}`]: amount, ...(fromReserve ? { [`auto:${group}`]: amount } : {}) }),
      requestId,
    ],
  );
  await setCapacity(
    tx,
    accountId,
    cycleNo,
    `member:${email}`,
    await memberCapacity(tx, accountId, cycleNo, email),
  );
  return true;
}

export async function createRequest(
  store: Store,
  input: {
    accountId: string;
    member: string;
    amount: string;
    reason: string;
    idempotencyKey?: string;
    now?: Date;
  },
): Promise<CreditRequest> {
  const now = input.now ?? new Date();
  const email = input.member.toLowerCase();
  const { idempotencyKey: key, now: _now, ...request } = input;
  return ledgerTransaction(store, input, (tx) =>
    idempotent(tx, input.accountId, key, requestHash({ op: 'request', ...request }), async () => {
      if (!dec(input.amount).greaterThan(0))
        throw new CreditsError('VALIDATION_FAILED', { reason: 'amount must be > 0' });
      // One member's requests are created one at a time, so the pending count below cannot be raced past.
      await tx.query(
        "SELECT pg_advisory_xact_lock(hashtextextended('credits.requests:' || $1 || ':' || $2, 0))",
        [input.accountId, email],
      );
      const ctx = await spendContext(tx, input.accountId, email, now);
      const no = ctx.cycle.cycleNo;
      const id = randomUUID();
      await ensureCycleCounters(tx, input.accountId, no);
      // The reserve is a counter like any budget: concurrent requests can never take more than it holds.
      const fromReserve = await charge(
        tx,
        input.accountId,
        no,
        `auto:${ctx.group}`,
        canonical(input.amount),
        true,
      );
      let status: RequestStatus = 'pending';
      if (!dec(fromReserve).isZero()) {
        if (await grant(tx, input.accountId, no, email, ctx.group, canonical(input.amount), id, true))
          status = 'auto-approved';
        else
          await charge(
            tx,
            input.accountId,
            no,
            `auto:${ctx.group}`,
            canonical(dec(input.amount).negated()),
            false,
          );
      }
      // Refusing rolls the whole transaction back, the reserve charge above included.
      if (status === 'pending') await refuseTooManyPending(tx, input.accountId, email);
      const { rows } = await tx.query<Row>(
        `INSERT INTO requests (account_id, request_id, cycle_no, member_email, group_key, amount, approved_amount, status, reason, decided_by, decided_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING ${COLUMNS}`,
        [
          input.accountId,
          id,
          no,
          email,
          ctx.group,
          input.amount,
          status === 'auto-approved' ? input.amount : null,
          status,
          input.reason,
          status === 'auto-approved' ? 'auto-approve' : null,
          status === 'auto-approved' ? now : null,
        ],
      );
      if (status === 'auto-approved') {
        await auditDecision(tx, {
          accountId: input.accountId,
          requestId: id,
          actor: 'auto-approve',
          action: 'auto-approve',
          member: email,
          amount: canonical(input.amount),
          approvedAmount: canonical(input.amount),
          reason: null,
        });
      }
      return toRequest(rows[0]!);
    }),
  );
}

/** Throws TOO_MANY_PENDING_REQUESTS when the member already has the most pending requests allowed. */
async function refuseTooManyPending(tx: Queryable, accountId: string, email: string): Promise<void> {
  const { rows } = await tx.query<{ n: string }>(
    `SELECT count(*) AS n FROM (SELECT 1 FROM requests WHERE account_id = $1 AND status = 'pending'
        AND member_email = $2 LIMIT $3) p`,
    [accountId, email, MAX_PENDING_REQUESTS],
  );
  if (Number(rows[0]!.n) >= MAX_PENDING_REQUESTS) {
    throw new CreditsError('TOO_MANY_PENDING_REQUESTS', { email, limit: MAX_PENDING_REQUESTS });
  }
}

async function decide(tx: Queryable, accountId: string, id: string): Promise<Row> {
  const { rows } = await tx.query<Row>(
    `SELECT ${COLUMNS} FROM requests WHERE account_id = $1 AND request_id = $2 FOR UPDATE`,
    [accountId, id],
  );
  const row = rows[0];
  if (!row) throw new CreditsError('NOT_FOUND', { what: `request ${id}` });
  if (row.status !== 'pending') throw new CreditsError('REQUEST_ALREADY_DECIDED', { id, status: row.status });
  return row;
}

export async function approveRequest(
  store: Store,
  input: {
    accountId: string;
    id: string;
    amount?: string;
    actor: string;
    now?: Date;
    idempotency?: IdempotencySpec;
  },
): Promise<CreditRequest> {
  return ledgerTransaction(store, input, async (tx) => {
    const row = await decide(tx, input.accountId, input.id);
    const amount = canonical(input.amount ?? row.amount);
    if (!dec(amount).greaterThan(0) || dec(amount).greaterThan(row.amount)) {
      throw new CreditsError('VALIDATION_FAILED', {
        reason: `approved amount must be > 0 and ≤ ${canonical(row.amount)}`,
      });
    }
    // A grant is valid for the cycle in force when it is approved.
    const ctx = await spendContext(tx, input.accountId, row.member_email, input.now ?? new Date());
    if (
      !(await grant(tx, input.accountId, ctx.cycle.cycleNo, row.member_email, ctx.group, amount, input.id))
    ) {
      const free = await freeOf(tx, input.accountId, ctx.cycle.cycleNo, [`pool:${ctx.group}`]);
      throw new CreditsError('GROUP_BUDGET_INSUFFICIENT', {
        group: ctx.group,
        available: free.get(`pool:${ctx.group}`)?.free ?? '0',
        amount,
      });
    }
    const { rows } = await tx.query<Row>(
      `UPDATE requests SET status = 'approved', approved_amount = $3, decided_by = $4, decided_at = now()
        WHERE account_id = $1 AND request_id = $2 RETURNING ${COLUMNS}`,
      [input.accountId, input.id, amount, input.actor],
    );
    await auditDecision(tx, {
      accountId: input.accountId,
      requestId: input.id,
      actor: input.actor,
      action: 'approve',
      member: row.member_email,
      amount: canonical(row.amount),
      approvedAmount: amount,
      reason: null,
    });
    return toRequest(rows[0]!);
  });
}

export async function denyRequest(
  store: Store,
  input: { accountId: string; id: string; reason?: string; actor: string; idempotency?: IdempotencySpec },
): Promise<CreditRequest> {
  return ledgerTransaction(store, input, async (tx) => {
    const row = await decide(tx, input.accountId, input.id);
    const { rows } = await tx.query<Row>(
      `UPDATE requests SET status = 'denied', decision_reason = $3, decided_by = $4, decided_at = now()
        WHERE account_id = $1 AND request_id = $2 RETURNING ${COLUMNS}`,
      [input.accountId, input.id, input.reason ?? null, input.actor],
    );
    await auditDecision(tx, {
      accountId: input.accountId,
      requestId: input.id,
      actor: input.actor,
      action: 'deny',
      member: row.member_email,
      amount: canonical(row.amount),
      approvedAmount: null,
      reason: input.reason ?? null,
    });
    return toRequest(rows[0]!);
  });
}

// created_at to the microsecond, as ISO 8601 in UTC (readable back whatever the session's DateStyle).
const CURSOR = [INSTANT_PART, UUID_PART];

/** A page of requests, newest first; `member` limits it to one member's own. */
export async function listRequests(
  db: Queryable,
  accountId: string,
  filter: { status?: RequestStatus; member?: string } = {},
  page: PageQuery = {},
): Promise<Page<CreditRequest>> {
  const limit = pageLimit(page);
  const [at, id] = page.cursor ? decodeCursor(page.cursor, CURSOR) : [null, null];
  const { rows } = await db.query<Row & { at: string }>(
    `SELECT ${COLUMNS}, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at FROM requests
      WHERE account_id = $1 AND ($2::text IS NULL OR status = $2) AND ($3::text IS NULL OR member_email = $3)
        AND ($4::timestamptz IS NULL OR (created_at, request_id) < ($4::timestamptz, $5::uuid))
      ORDER BY created_at DESC, request_id DESC LIMIT $6`,
    [accountId, filter.status ?? null, filter.member ?? null, at, id, limit + 1],
  );
  return pageOf(rows, limit, (r) => [r.at, r.request_id], toRequest);
}
