// POST /v1/usage/batch and GET /v1/me on embedded PGlite, through a real `credits serve` process: the same
// per-event answers and the same once-only charging as on PostgreSQL.
import { afterAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { credits, get, projectDir, startServe, type Served } from '../support/cli-process.js';

const servers: Served[] = [];
const dirs: string[] = [];
afterAll(async () => {
  for (const s of servers) {
    s.child.kill('SIGKILL');
    await s.exited;
  }
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('batch usage and /v1/me on PGlite', { timeout: 180_000 }, () => {
  it('answers each event in its place, charges each once, and shows the member their own view', async () => {
    const dir = projectDir();
    dirs.push(dir);
    expect((await credits(dir, ['apply', '-f', 'credits.yaml', '--auto-approve'])).code).toBe(0);
    const token = async (...args: string[]) => {
      const r = await credits(dir, ['token', 'create', '--account', 'acme', ...args]);
      if (r.code !== 0) throw new Error(r.stderr);
      return r.stdout.trim();
    };
    const service = await token('--role', 'service');
    const alice = await token('--role', 'member', '--member', 'alice@acme.com');
    const server = await startServe(dir);
    servers.push(server);
    const batch = `{"events": [
      {"idempotencyKey": "p1", "member": "alice@acme.com", "credits": 100.25},
      {"idempotencyKey": "p2", "member": "alice@acme.com", "credits": "999999"},
      {"idempotencyKey": "p3", "member": "alice@acme.com", "credits": 0.0000001},
      {"idempotencyKey": "p4", "member": "alice@acme.com", "costUsd": "0.5"}
    ]}`;
    const post = async () => {
      const res = await fetch(`${server.base}/v1/usage/batch`, {
        method: 'POST',
        headers: { authorization: `Bearer ${service}`, 'content-type': 'application/json' },
        body: batch,
      });
      expect(res.status).toBe(200);
      return ((await res.json()) as { results: { status: number; result?: { credits: string } }[] }).results;
    };
    const first = await post();
    expect(first.map((r) => r.status)).toEqual([201, 402, 400, 201]);
    expect(first[0]!.result!.credits).toBe('100.25');
    expect(first[3]!.result!.credits).toBe('500');
    // Accepted events replay; a refusal stores nothing under its key and is evaluated again.
    const again = await post();
    expect(again.map((r) => r.status)).toEqual([201, 402, 400, 201]);
    expect([again[0], again[3]]).toEqual([first[0], first[3]]);
    const me = await get(server.base, '/v1/me', alice);
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ email: 'alice@acme.com', used: '600.25' });
    expect((await get(server.base, '/v1/me', service)).status).toBe(403);
  });
});
