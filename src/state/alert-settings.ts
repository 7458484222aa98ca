// The live alert settings of an account, in the declared shape (thresholds ascending, webhooks by url).
import { ALERT_SCOPES, type AlertScope, type DeclaredAlerts } from '../declared-state.js';
import type { Queryable } from './store.js';

/** undefined when the account has neither thresholds nor webhooks. */
export async function readAlertSettings(
  db: Queryable,
  accountId: string,
): Promise<DeclaredAlerts | undefined> {
  const { rows } = await db.query<{
    thresholds: string[] | null;
    webhooks: { url: string; secret_env: string; scopes: string[] }[] | null;
  }>(
    `SELECT (SELECT array_agg(trim_scale(percent)::text ORDER BY percent) FROM alert_thresholds WHERE account_id = $1) AS thresholds,
            (SELECT json_agg(json_build_object('url', url, 'secret_env', secret_env, 'scopes', scopes) ORDER BY url COLLATE "C")
               FROM alert_webhooks WHERE account_id = $1) AS webhooks`,
    [accountId],
  );
  const row = rows[0];
  if (!row || (!row.thresholds && !row.webhooks)) return undefined;
  return {
    thresholds: row.thresholds ?? [],
    webhooks: (row.webhooks ?? []).map((w) => ({
      url: w.url,
      secretEnv: w.secret_env,
      scopes: ALERT_SCOPES.filter((s: AlertScope) => w.scopes.includes(s)),
    })),
  };
}
