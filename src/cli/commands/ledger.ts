// Ledger commands: `credits reset-cycle`, `credits cycle` (current cycle and the next boundaries), `credits verify`,
// `credits purge-keys`.
import { createInterface } from 'node:readline/promises';
import { CreditsError } from '../../errors.js';
import { parseCadence } from '../../config/cadence.js';
import { nextBoundaries } from '../../ledger/cycle-windows.js';
import { ensureCurrentCycle } from '../../ledger/cycle-rows.js';
import { resetCycle } from '../../ledger/reset-cycle.js';
import { verifyLedger } from '../../ledger/verify.js';
import { KEY_RETENTION_MS, purgeIdempotencyKeys } from '../../ledger/idempotency.js';
import { listAccounts } from '../../state/inspect.js';
import { withStore } from '../with-store.js';
import type { Store } from '../../state/store.js';
import type { Streams } from '../output.js';

interface AccountOptions {
  account?: string;
  databaseUrl?: string;
}

export async function resolveAccount(store: Store, account: string | undefined): Promise<string> {
  if (account) return account;
  const accounts = await listAccounts(store);
  if (accounts.length === 1) return accounts[0]!;
  if (accounts.length === 0) throw new CreditsError('ACCOUNT_NOT_FOUND', { account: '(any)' });
  throw new CreditsError('ACCOUNT_AMBIGUOUS', { count: accounts.length });
}

export async function resetCycleCommand(
  opts: AccountOptions & { yes?: boolean },
  streams: Streams,
): Promise<number> {
  if (!opts.account) throw new CreditsError('VALIDATION_FAILED', { reason: '--account is required' });
  if (!opts.yes) {
    if (!process.stdin.isTTY || process.env.CI) throw new CreditsError('CONFIRMATION_REQUIRED');
    const rl = createInterface({ input: process.stdin, output: streams.stderr });
    const answer = await rl.question(
      `End the current cycle of ${opts.account} now? This cannot be undone. Type 'yes': `,
    );
    rl.close();
    if (answer.trim() !== 'yes') throw new CreditsError('APPLY_DECLINED');
  }
  return withStore(opts, async (store) => {
    const cycle = await resetCycle(store, { accountId: opts.account! });
    streams.stdout.write(
      `Cycle ${cycle.cycleNo} of ${opts.account} started ${cycle.start.toISOString()}; it ends ${cycle.end.toISOString()}.\n`,
    );
    return 0;
  });
}

export async function cycleCommand(
  opts: AccountOptions & { count: string },
  streams: Streams,
): Promise<number> {
  return withStore(opts, async (store) => {
    const accountId = await resolveAccount(store, opts.account);
    const now = new Date();
    const cycle = await ensureCurrentCycle(store, accountId, now);
    const cadence = parseCadence(cycle.cadence)!;
    const count = Math.min(Math.max(Math.trunc(Number(opts.count)) || 3, 1), 100);
    const ends = nextBoundaries(cycle.anchor, cadence, cycle.timezone, now, count);
    streams.stdout.write(
      [
        `account ${accountId}: cycle ${cycle.cycleNo} (${cycle.cadence}, ${cycle.timezone})`,
        `  started ${cycle.start.toISOString()}`,
        ...ends.map((d, i) => `  ${i === 0 ? 'ends   ' : 'then   '} ${d.toISOString()}`),
      ].join('\n') + '\n',
    );
    return 0;
  });
}

export async function verifyCommand(opts: AccountOptions, streams: Streams): Promise<number> {
  return withStore(opts, async (store) => {
    const accountId = await resolveAccount(store, opts.account);
    const result = await verifyLedger(store, accountId);
    for (const m of result.mismatches) {
      streams.stderr.write(`cycle ${m.cycleNo} ${m.scope}: counter ${m.counter} ≠ ledger ${m.ledger}\n`);
    }
    for (const p of result.shape) streams.stderr.write(`cycle ${p.cycleNo} ${p.scope}: ${p.problem}\n`);
    const failed = result.mismatches.length > 0 || result.shape.length > 0;
    streams.stdout.write(
      failed
        ? `${result.mismatches.length} of ${result.checked} balances differ from the ledger and ${result.shape.length} counters or cycles break their shape for ${accountId}\n`
        : `ok: ${result.checked} balances of ${accountId} equal the sums of their ledger entries; capacities, slices and cycles have their shape\n`,
    );
    return failed ? 1 : 0;
  });
}

/** `credits purge-keys [--older-than 24h]`: idempotency keys past their retention, for every account. */
export async function purgeKeysCommand(
  opts: { olderThan: string; databaseUrl?: string },
  streams: Streams,
): Promise<number> {
  const m = /^([1-9][0-9]{0,5})([hd])$/.exec(opts.olderThan);
  const ms = m ? Number(m[1]) * (m[2] === 'd' ? 24 : 1) * 3_600_000 : NaN;
  if (!(ms >= KEY_RETENTION_MS)) {
    throw new CreditsError('VALIDATION_FAILED', {
      reason: `--older-than must be <N>h or <N>d of at least 24h (keys are answered for 24 h), not ${opts.olderThan}`,
    });
  }
  return withStore(opts, async (store) => {
    const before = new Date(Date.now() - ms);
    const purged = await purgeIdempotencyKeys(store, before);
    streams.stdout.write(`purged ${purged} idempotency keys created before ${before.toISOString()}\n`);
    return 0;
  });
}
