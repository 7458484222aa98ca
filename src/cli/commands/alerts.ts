// `credits alerts`: the latest budget threshold alerts and their webhook deliveries (delivered, pending with
// the next attempt, failed with the last error), as a table or JSON.
import { CreditsError } from '../../errors.js';
import { wholeNumberSetting } from '../../whole-number.js';
import { listAlerts, type AlertWithDeliveries } from '../../ledger/alerts-outbox.js';
import { shownUrl } from '../../api/alert-sender.js';
import { withStore } from '../with-store.js';
import { resolveAccount } from './ledger.js';
import type { Streams } from '../output.js';

export interface AlertsOptions {
  account?: string;
  databaseUrl?: string;
  format: string;
  limit: string;
}

const when = (iso: string | null): string => (iso ? iso.slice(0, 19).replace('T', ' ') + 'Z' : '');

const scopeText = (a: AlertWithDeliveries): string =>
  a.scope === 'member' ? `member ${a.member}` : a.scope === 'group' ? `group ${a.group}` : 'account';

function rows(alerts: AlertWithDeliveries[]): string[][] {
  const out: string[][] = [];
  for (const a of alerts) {
    const head = [when(a.createdAt), scopeText(a), `${a.threshold}%`, `${a.used}/${a.budget}`];
    if (!a.deliveries.length) out.push([...head, '(no webhook for this scope)', '', '', '']);
    for (const d of a.deliveries) {
      const last =
        d.status === 'delivered'
          ? `HTTP ${d.lastStatus} at ${when(d.deliveredAt)}`
          : [d.lastError, d.status === 'pending' && d.nextAttemptAt ? `next ${when(d.nextAttemptAt)}` : '']
              .filter(Boolean)
              .join('; ');
      out.push([...head, shownUrl(d.url), d.status, String(d.attempts), last]);
    }
  }
  return out;
}

function table(head: string[], body: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    r
      .map((v, i) => v.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(head), ...body.map(line)].join('\n') + '\n';
}

export async function alertsCommand(opts: AlertsOptions, streams: Streams): Promise<number> {
  if (opts.format !== 'table' && opts.format !== 'json') {
    throw new CreditsError('VALIDATION_FAILED', {
      reason: `--format must be table or json, not ${opts.format}`,
    });
  }
  const limit = wholeNumberSetting('--limit', opts.limit, 500);
  return withStore(opts, async (store) => {
    const account = await resolveAccount(store, opts.account);
    const alerts = await listAlerts(store, account, limit);
    if (opts.format === 'json') {
      const shown = alerts.map((a) => ({
        ...a,
        deliveries: a.deliveries.map((d) => ({ ...d, url: shownUrl(d.url) })),
      }));
      streams.stdout.write(JSON.stringify(shown, null, 2) + '\n');
      return 0;
    }
    if (!alerts.length) {
      streams.stdout.write(`No alerts raised for account ${account}.\n`);
      return 0;
    }
    const head = ['RAISED', 'SCOPE', 'THRESHOLD', 'USED/BUDGET', 'WEBHOOK', 'STATUS', 'ATTEMPTS', 'LAST'];
    streams.stdout.write(table(head, rows(alerts)));
    const all = alerts.flatMap((a) => a.deliveries);
    const count = (s: string) => all.filter((d) => d.status === s).length;
    streams.stdout.write(
      `\n${alerts.length} alert${alerts.length === 1 ? '' : 's'}; deliveries: ${count('delivered')} delivered, ${count('pending')} pending, ${count('failed')} failed\n`,
    );
    return 0;
  });
}
