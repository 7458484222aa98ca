// `credits usage` and `credits audit`: the usage history (or its summary) and the audit log, read from the
// database directly through src/ledger, as a table for people or JSON/CSV for programs. JSON and CSV are
// written batch by batch as the ledger reads them, so an export of any size holds one batch in memory.
import { once } from 'node:events';
import { CreditsError } from '../../errors.js';
import { historyFilter, HISTORY_BATCH } from '../../ledger/history-filter.js';
import { usageBatches, type UsageEntry } from '../../ledger/usage-history.js';
import {
  usageSummary,
  type SummaryBucket,
  type SummaryBy,
  type SummaryRow,
} from '../../ledger/usage-summary.js';
import { auditBatches, type AuditEntry } from '../../ledger/audit-history.js';
import { AUDIT_CSV, SUMMARY_CSV, USAGE_CSV } from '../../ledger/history-csv.js';
import { csvChunks, type CsvColumns } from '../../render/csv.js';
import { withStore } from '../with-store.js';
import { resolveAccount } from './ledger.js';
import { listAccounts } from '../../state/inspect.js';
import type { Store } from '../../state/store.js';
import type { Streams } from '../output.js';

type Format = 'table' | 'json' | 'csv';
const FORMATS: readonly Format[] = ['table', 'json', 'csv'];
/** Rows a table shows unless --limit says otherwise: a table is for reading, exports are JSON or CSV. */
const TABLE_ROWS = 50;

export interface HistoryOptions {
  account?: string;
  databaseUrl?: string;
  member?: string;
  group?: string;
  from?: string;
  to?: string;
  format: string;
  limit?: string;
}

function checkOptions(opts: HistoryOptions): { format: Format; limit: number | undefined } {
  if (!FORMATS.includes(opts.format as Format)) {
    throw new CreditsError('VALIDATION_FAILED', {
      reason: `--format must be table, json or csv, not ${opts.format}`,
    });
  }
  const format = opts.format as Format;
  if (opts.limit === undefined) return { format, limit: format === 'table' ? TABLE_ROWS : undefined };
  if (!/^[1-9]\d{0,8}$/.test(opts.limit)) {
    throw new CreditsError('VALIDATION_FAILED', {
      reason: `--limit must be a positive integer, not ${opts.limit}`,
    });
  }
  return { format, limit: Number(opts.limit) };
}

/** Writes and waits for the stream to take more when it is full (a slow pipe slows the reading). */
async function write(out: Streams['stdout'], text: string): Promise<void> {
  if (!out.write(text)) await once(out, 'drain');
}

/** The batches, cut to `limit` rows in all; `more` says whether rows were left out. */
async function* upTo<T>(batches: AsyncGenerator<T[]>, limit: number | undefined, more: { left: boolean }) {
  let left = limit ?? Infinity;
  for await (const batch of batches) {
    if (left <= 0) {
      more.left = true;
      await batches.return(undefined);
      return;
    }
    if (batch.length > left) more.left = true;
    yield batch.slice(0, left);
    left -= Math.min(batch.length, left);
  }
}

/** A fixed-width table of the columns; widths are each batch's own, so it streams too. */
async function writeTable<T>(
  out: Streams['stdout'],
  columns: CsvColumns<T>,
  batches: AsyncIterable<readonly T[]>,
): Promise<number> {
  let rows = 0;
  const oneLine = (v: string | null | undefined) => (v ?? '').replace(/[\r\n\t]+/g, ' ');
  for await (const batch of batches) {
    const cells = batch.map((item) => columns.map(([, read]) => oneLine(read(item))));
    const head = columns.map(([name]) => name);
    const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
    const line = (c: string[]) =>
      c
        .map((v, i) => v.padEnd(widths[i]!))
        .join('  ')
        .trimEnd() + '\n';
    await write(out, (rows === 0 ? line(head) : '') + cells.map(line).join(''));
    rows += batch.length;
  }
  return rows;
}

async function writeJson<T>(out: Streams['stdout'], batches: AsyncIterable<readonly T[]>): Promise<void> {
  let first = true;
  await write(out, '[');
  for await (const batch of batches) {
    if (!batch.length) continue;
    await write(out, (first ? '\n' : ',\n') + batch.map((item) => JSON.stringify(item)).join(',\n'));
    first = false;
  }
  await write(out, first ? ']\n' : '\n]\n');
}

async function writeCsv<T>(
  out: Streams['stdout'],
  columns: CsvColumns<T>,
  batches: AsyncIterable<readonly T[]>,
): Promise<void> {
  for await (const chunk of csvChunks(columns, batches)) await write(out, chunk);
}

async function emit<T>(
  streams: Streams,
  format: Format,
  columns: { csv: CsvColumns<T>; table: CsvColumns<T> },
  batches: AsyncGenerator<T[]>,
  limit: number | undefined,
  what: string,
): Promise<void> {
  const more = { left: false };
  const cut = upTo(batches, limit, more);
  if (format === 'csv') return writeCsv(streams.stdout, columns.csv, cut);
  if (format === 'json') return writeJson(streams.stdout, cut);
  const rows = await writeTable(streams.stdout, columns.table, cut);
  if (rows === 0) streams.stdout.write(`no ${what}\n`);
  if (more.left) {
    streams.stderr.write(
      `showing the first ${rows} ${what}; more with --limit, all with --format csv or json\n`,
    );
  }
}

const USAGE_TABLE: CsvColumns<UsageEntry> = USAGE_CSV.filter(([name]) => name !== 'metadata');
const SUMMARY_TABLE = SUMMARY_CSV;
const AUDIT_TABLE: CsvColumns<AuditEntry> = [
  ['id', (e) => e.id],
  ['at', (e) => e.at],
  ['actor', (e) => e.actor],
  ['source', (e) => e.source],
  ['commit', (e) => e.commitSha?.slice(0, 12)],
  ['address', (e) => e.address],
  ['action', (e) => e.action],
  ['before', (e) => (e.before === null ? '' : JSON.stringify(e.before))],
  ['after', (e) => (e.after === null ? '' : JSON.stringify(e.after))],
];

/** The account to read: a named one must exist, or a typo would read as an empty history. */
async function accountOf(store: Store, account: string | undefined): Promise<string> {
  if (account !== undefined && !(await listAccounts(store)).includes(account)) {
    throw new CreditsError('ACCOUNT_NOT_FOUND', { account });
  }
  return resolveAccount(store, account);
}

async function* single<T>(items: T[]): AsyncGenerator<T[]> {
  yield items;
}

/** `credits usage`: usage entries, or with --summary their sums per member or group and day or hour. */
export async function usageCommand(
  opts: HistoryOptions & { summary?: boolean; by: string; bucket: string },
  streams: Streams,
): Promise<number> {
  const { format, limit } = checkOptions(opts);
  const filter = historyFilter(opts);
  if (opts.summary && !['member', 'group'].includes(opts.by)) {
    throw new CreditsError('VALIDATION_FAILED', { reason: `--by must be member or group, not ${opts.by}` });
  }
  if (opts.summary && !['day', 'hour'].includes(opts.bucket)) {
    throw new CreditsError('VALIDATION_FAILED', {
      reason: `--bucket must be day or hour, not ${opts.bucket}`,
    });
  }
  return withStore(opts, async (store) => {
    const accountId = await accountOf(store, opts.account);
    if (opts.summary) {
      const { items } = await usageSummary(
        store,
        accountId,
        filter,
        opts.by as SummaryBy,
        opts.bucket as SummaryBucket,
      );
      await emit<SummaryRow>(
        streams,
        format,
        { csv: SUMMARY_CSV, table: SUMMARY_TABLE },
        single(items),
        limit,
        'rows',
      );
      return 0;
    }
    const batches = usageBatches(store, accountId, filter, {
      batchSize: Math.min(limit ?? HISTORY_BATCH, HISTORY_BATCH),
    });
    await emit(streams, format, { csv: USAGE_CSV, table: USAGE_TABLE }, batches, limit, 'usage entries');
    return 0;
  });
}

/** `credits audit`: the audit log, oldest first. */
export async function auditCommand(
  opts: HistoryOptions & { actor?: string; source?: string },
  streams: Streams,
): Promise<number> {
  const { format, limit } = checkOptions(opts);
  const filter = { ...historyFilter(opts), actor: opts.actor ?? null, source: opts.source ?? null };
  return withStore(opts, async (store) => {
    const accountId = await accountOf(store, opts.account);
    const batches = auditBatches(store, accountId, filter, {
      batchSize: Math.min(limit ?? HISTORY_BATCH, HISTORY_BATCH),
    });
    await emit(streams, format, { csv: AUDIT_CSV, table: AUDIT_TABLE }, batches, limit, 'audit entries');
    return 0;
  });
}
