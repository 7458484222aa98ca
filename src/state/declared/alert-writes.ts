// The alert rows a plan's changes write: thresholds and webhooks (the secret's variable name, never a secret).
import { CreditsError } from '../../errors.js';
import type { Change, ChangeValue } from '../../plan/plan.js';
import type { Address } from '../../plan/address.js';
import type { Queryable } from '../store.js';

type AlertChange = { change: Change; address: Extract<Address, { kind: 'threshold' | 'webhook' }> };

const text = (v: ChangeValue, what: string): string => {
  if (typeof v === 'string') return v;
  throw new CreditsError('PLAN_INVALID', { reason: `${what} is not text` });
};
const scopes = (v: ChangeValue): string[] => text(v, 'scopes').split(',');

export async function writeAlerts(tx: Queryable, accountId: string, changes: AlertChange[]): Promise<void> {
  for (const { change: c, address } of changes) {
    if (address.kind === 'threshold') {
      await tx.query(
        c.action === 'create'
          ? 'INSERT INTO alert_thresholds (account_id, percent) VALUES ($1, $2) ON CONFLICT DO NOTHING'
          : 'DELETE FROM alert_thresholds WHERE account_id = $1 AND percent = $2',
        [accountId, address.percent],
      );
      continue;
    }
    if (c.action === 'delete') {
      await tx.query('DELETE FROM alert_webhooks WHERE account_id = $1 AND url = $2', [
        accountId,
        address.url,
      ]);
    } else if (c.action === 'create') {
      const w = c.after && typeof c.after === 'object' ? c.after : {};
      await tx.query(
        `INSERT INTO alert_webhooks (account_id, url, secret_env, scopes) VALUES ($1, $2, $3, $4::text[])
         ON CONFLICT (account_id, url) DO UPDATE SET secret_env = EXCLUDED.secret_env, scopes = EXCLUDED.scopes`,
        [accountId, address.url, text(w.secretEnv ?? null, 'secretEnv'), scopes(w.scopes ?? null)],
      );
    } else if (address.field === 'secretEnv') {
      await tx.query('UPDATE alert_webhooks SET secret_env = $3 WHERE account_id = $1 AND url = $2', [
        accountId,
        address.url,
        text(c.after, 'secretEnv'),
      ]);
    } else {
      await tx.query('UPDATE alert_webhooks SET scopes = $3::text[] WHERE account_id = $1 AND url = $2', [
        accountId,
        address.url,
        scopes(c.after),
      ]);
    }
  }
}
