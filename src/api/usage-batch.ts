// POST /v1/usage/batch: many usage events in one request, each answered in its place as POST /v1/usage
// would answer it alone. Each event is checked on its own (its idempotencyKey, its amounts on the text the
// client sent, its schema), so that one bad event is refused alone; the valid ones are recorded in order by
// src/ledger/usage-chunks.ts in a few statements.
import type { FastifyRequest } from 'fastify';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { CreditsError, isCreditsError } from '../errors.js';
import type { TokenIdentity } from '../state/tokens.js';
import type { Store } from '../state/store.js';
import { parseAmount } from './amounts.js';
import { checkKey, scopedKey } from './idempotency-key.js';
import { usageEvent, type UsageInput, type UsageResult } from '../ledger/usage.js';
import { recordUsageEvents } from '../ledger/usage-chunks.js';
import type { UsageEventRow } from '../ledger/usage-batches.js';

/** Most events in one batch (docs/api.md); one more is 400 VALIDATION_FAILED for the whole request. */
export const MAX_BATCH_EVENTS = 1000;
/** The batch route's body limit: 1,000 events of about a kilobyte each. */
export const BATCH_BODY_LIMIT = 1024 * 1024;

/** One event's answer: the status POST /v1/usage would have answered, and its body. */
export type BatchItem =
  | { status: 201; result: UsageResult }
  | { status: number; error: Record<string, unknown> & { code: string; message: string } };

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
const ajv = addFormats(
  new Ajv({ coerceTypes: false, removeAdditional: false, allErrors: false, strict: false }),
);
const compiled = new WeakMap<object, ValidateFunction>();
const validatorFor = (schema: object): ValidateFunction => {
  let v = compiled.get(schema);
  if (!v) compiled.set(schema, (v = ajv.compile(schema)));
  return v;
};

const errorItem = (err: CreditsError): BatchItem => ({
  status: err.status,
  error: { ...err.details, code: err.code, message: err.message },
});

export interface BatchRequest {
  store: Store;
  identity: TokenIdentity;
  req: FastifyRequest;
  /** The event's schema (the body of POST /v1/usage plus idempotencyKey). */
  eventSchema: object;
  /** The event's amount fields. */
  amounts: readonly string[];
  now: Date;
}

/** The event as a UsageInput, or the coded error POST /v1/usage would have answered for it. */
function checkEvent(b: BatchRequest, raw: unknown, index: number): UsageInput {
  const where = `events[${index}]`;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new CreditsError('VALIDATION_FAILED', { reason: `${where} must be an object` });
  }
  const event = { ...(raw as Record<string, unknown>) };
  const key = event.idempotencyKey;
  if (typeof key === 'string') checkKey(key, `${where}.idempotencyKey`);
  const texts = b.req.jsonItemNumbers?.get('events')?.[index];
  for (const field of b.amounts) {
    if (Object.hasOwn(event, field)) event[field] = parseAmount(field, event[field], texts?.get(field));
  }
  const validate = validatorFor(b.eventSchema);
  if (!validate(event)) {
    const e = validate.errors![0]!;
    throw new CreditsError('VALIDATION_FAILED', { reason: `${where}${e.instancePath} ${e.message}` });
  }
  return {
    // The same properties in the same order as POST /v1/usage's input: the request hash is the same, so an
    // event and a POST /v1/usage with its key replay each other.
    accountId: b.identity.accountId,
    member: String(event.member),
    credits: event.credits as string | undefined,
    costUsd: event.costUsd as string | undefined,
    idempotencyKey: scopedKey(b.identity, String(key)),
    now: b.now,
    model: event.model as string | undefined,
    metadata: event.metadata as Record<string, unknown> | undefined,
  };
}

/** Answers every event of the batch, in order. */
export async function recordBatch(b: BatchRequest): Promise<{ results: BatchItem[] }> {
  const raw = (b.req.body as { events: unknown[] }).events;
  const results: BatchItem[] = new Array(raw.length);
  const valid: { index: number; row: UsageEventRow }[] = [];
  raw.forEach((r, index) => {
    try {
      valid.push({ index, row: usageEvent(checkEvent(b, r, index)) });
    } catch (err) {
      if (!isCreditsError(err)) throw err;
      results[index] = errorItem(err);
    }
  });
  const answers = await recordUsageEvents(
    b.store,
    b.identity.accountId,
    valid.map((v) => v.row),
    b.now,
  );
  answers.forEach((a, k) => {
    results[valid[k]!.index] = 'result' in a ? { status: 201, result: a.result } : errorItem(a.error);
  });
  return { results };
}
