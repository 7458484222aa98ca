// The ledger functions' cached plans keep using the keys after their tables grow: a plan PL/pgSQL cached
// while a table was nearly empty must not scan it in full later (migration 009). auto_explain, loaded into
// one session and reporting as notices, shows the plans of the statements inside the functions.
import { describe, expect, it } from 'vitest';
import pg from 'pg';
import { pgWithConfig } from '../support/databases.js';
import { recordUsage } from '../../src/ledger/usage.js';

const config = `version: 1
account:
  id: plans
  creditLimit: 100000
  creditFactor: 1
groups:
  default:
    allocation: 50000
    members:
      a@plans.test: 10000
`;

describe('ledger function plans (PostgreSQL)', () => {
  it('use the keys after the tables grow past the plans they cached', async () => {
    const { url, store } = await pgWithConfig(config);
    // The member's counters exist from here on.
    await recordUsage(store, {
      accountId: 'plans',
      member: 'a@plans.test',
      credits: '1',
      idempotencyKey: 'w',
    });

    const session = new pg.Client({ connectionString: url });
    await session.connect();
    const notices: string[] = [];
    session.on('notice', (n) => notices.push(n.message ?? ''));
    const batch = async (key: string, credits = '1') => {
      const event = { ord: 0, email: 'a@plans.test', credits, cost: null, model: null, metadata: null };
      const { rows } = await session.query<{ r: { status: string }[] }>(
        'SELECT credits_record_usage_batch($1, $2::jsonb) AS r',
        ['plans', JSON.stringify([{ ...event, key, hash: `h-${key}`, now: new Date().toISOString() }])],
      );
      return rows[0]!.r[0]!.status;
    };
    // Statistics of nearly empty tables, as autovacuum leaves them in a new database.
    await store.query('ANALYZE');
    // More than five calls: PL/pgSQL now holds generic plans, made while the tables hold a few rows.
    for (let i = 0; i < 8; i++) expect(await batch(`small-${i}`)).toBe('ok');

    await store.query(
      `INSERT INTO idempotency_keys (account_id, idem_key, request_hash, status_code, response)
       SELECT 'elsewhere', 'k' || g, 'h', 201, '{}' FROM generate_series(1, 50000) g`,
    );
    await session.query("LOAD 'auto_explain'");
    await session.query(
      `SET auto_explain.log_min_duration = 0; SET auto_explain.log_nested_statements = on;
       SET auto_explain.log_level = notice; SET client_min_messages = notice`,
    );
    notices.length = 0;
    expect(await batch('grown')).toBe('ok');
    // A refusal is answered by the same statements, with what remains read by key too.
    expect(await batch('refused', '1000000')).toBe('blocked');
    const plans = notices.join('\n');
    expect(plans).toMatch(/idempotency_keys/); // the lookup's plan was seen
    expect(plans).not.toMatch(/Seq Scan on (idempotency_keys|budget_counters|members|ledger_entries|cycles)/);
    await session.end();
    await store.close();
  });
});
