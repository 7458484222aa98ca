// The OpenAPI document a real server serves at /docs/json, judged by two independent tools (swagger-parser's
// validator and Redocly's recommended lint rules, run offline), held to the server's own routes, and held to
// what the API really answers (the 402 body, the usage body's "credits or costUsd").
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { FastifyInstance } from 'fastify';
import SwaggerParser from '@apidevtools/swagger-parser';
import { Ajv } from 'ajv';
import { pgWithConfig } from '../support/databases.js';
import { buildServer } from '../../src/api/server.js';
import { MAX_IDEMPOTENCY_KEY } from '../../src/api/idempotency-key.js';
import { ROUTES } from '../../src/api/routes.js';
import { createToken } from '../../src/state/tokens.js';

const config = `version: 1
account:
  id: documented
  creditLimit: 1000
  creditFactor: 1
  signupCredits: 0
groups:
  default:
    allocation: 100
    members:
      alice@documented.test: 10
`;

type Operation = {
  operationId?: string;
  summary?: string;
  tags?: string[];
  security?: unknown[];
  parameters?: { in: string; name: string; schema: { maxLength?: number } }[];
  requestBody?: { content: Record<string, { schema: Record<string, unknown> }> };
  responses: Record<string, { content?: Record<string, { schema: object }>; headers?: object }>;
};
type Document = { paths: Record<string, Record<string, Operation>>; servers?: unknown[]; info: object };

let app: FastifyInstance;
let base: string;
let doc: Document;
let service: string;
let dir: string;

beforeAll(async () => {
  const { store } = await pgWithConfig(config);
  service = (await createToken(store, { accountId: 'documented', role: 'service' })).token;
  app = await buildServer({ store, rateLimit: 100_000 });
  base = await app.listen({ port: 0, host: '127.0.0.1' });
  const res = await fetch(`${base}/docs/json`);
  expect(res.status).toBe(200);
  doc = (await res.json()) as Document;
  dir = await mkdtemp(join(tmpdir(), 'credits-openapi-'));
});
afterAll(async () => {
  await app?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const operations = () =>
  Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({ path, method: method.toUpperCase(), op })),
  );

const post = (path: string, body: unknown) =>
  fetch(base + path, {
    method: 'POST',
    headers: { authorization: `Bearer ${service}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

/**
 * The routes of a Fastify tree as printed by printRoutes({ commonPrefix: false }): each line is a path
 * segment under its parent (four characters of indentation a level) and the methods it answers.
 */
function serverRoutes(tree: string): { path: string; method: string }[] {
  const stack: string[] = [];
  const routes: { path: string; method: string }[] = [];
  for (const line of tree.split('\n')) {
    const m = /^([│ ]*)[├└]── (.*?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    const path = (depth ? stack[depth - 1]! : '') + m[2]!;
    stack[depth] = path;
    for (const method of (m[3] ?? '').split(', ').filter(Boolean)) routes.push({ path, method });
  }
  return routes;
}

describe('the served OpenAPI document', () => {
  it('passes swagger-parser validation', async () => {
    await expect(SwaggerParser.validate(structuredClone(doc) as never)).resolves.toBeTruthy();
  });

  it('has no errors and no warnings under Redocly lint (recommended rules, offline, no telemetry)', async () => {
    const file = join(dir, 'openapi.json');
    await writeFile(file, JSON.stringify(doc));
    const { stdout } = await promisify(execFile)(
      resolve('node_modules/.bin/redocly'),
      ['lint', '--config', resolve('test/api/redocly.yaml'), '--format', 'json', file],
      {
        env: {
          ...process.env,
          REDOCLY_TELEMETRY: 'off',
          REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true',
          CI: 'true',
        },
        timeout: 60_000,
      },
    ).catch((err: { stdout?: string }) => ({ stdout: err.stdout ?? String(err) }));
    const report = JSON.parse(stdout) as {
      totals: { errors: number; warnings: number };
      problems: { ruleId: string; severity: string; message: string }[];
    };
    // Warnings left on purpose are listed in docs/api.md; today there are none.
    expect(report.problems.map((p) => `${p.severity} ${p.ruleId}: ${p.message}`)).toEqual([]);
    expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
  }, 90_000);

  it('names, summarises and tags every operation, says where it is served, and under which license', () => {
    expect(doc.servers).toEqual([expect.objectContaining({ url: '/' })]);
    expect(doc.info).toMatchObject({ license: { name: 'MIT' } });
    const ids = new Set<string>();
    for (const { path, method, op } of operations()) {
      expect(op.operationId, `${method} ${path}`).toMatch(/^[a-z][A-Za-z]+$/);
      expect(ids.has(op.operationId!), `${op.operationId} is unique`).toBe(false);
      ids.add(op.operationId!);
      expect(op.summary, `${method} ${path}`).toBeTruthy();
      expect(op.tags?.length, `${method} ${path}`).toBe(1);
    }
  });

  it('marks the public pages public and every /v1 operation as bearer-only', () => {
    for (const { path, method, op } of operations()) {
      if (path.startsWith('/v1/')) expect(op.security, `${method} ${path}`).toBeUndefined();
      else expect(op.security, `${method} ${path}`).toEqual([]);
    }
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/healthz', '/readyz', '/docs/json', '/']),
    );
    expect(doc).toMatchObject({ security: [{ bearer: [] }] });
  });

  it('documents Idempotency-Key, at most 200 characters, on every POST', () => {
    const posts = operations().filter((o) => o.method === 'POST');
    expect(posts.length).toBeGreaterThan(5);
    for (const { path, op } of posts) {
      const header = op.parameters?.find((p) => p.in === 'header' && p.name === 'Idempotency-Key');
      expect(header?.schema.maxLength, path).toBe(MAX_IDEMPOTENCY_KEY);
    }
  });

  it("documents each error status apart, 429's Retry-After, and a 402 body that is what the API answers", async () => {
    const usage = doc.paths['/v1/usage']!.post!;
    expect(Object.keys(usage.responses)).toEqual(
      expect.arrayContaining(['201', '400', '401', '402', '403', '404', '409', '422', '429', '503']),
    );
    expect(usage.responses['429']!.headers).toHaveProperty('Retry-After');
    const schema402 = usage.responses['402']!.content!['application/json']!.schema;
    expect(schema402).toMatchObject({
      properties: {
        error: {
          properties: {
            blockedBy: { enum: ['member', 'group', 'account'] },
            remaining: { properties: { member: { type: 'string' } } },
          },
        },
      },
    });
    const res = await post('/v1/usage', { member: 'alice@documented.test', credits: '11' });
    expect(res.status).toBe(402);
    const body = await res.json();
    const validate = new Ajv({ strict: false }).compile(schema402);
    expect(validate(body), JSON.stringify(validate.errors)).toBe(true);
    expect(body).toMatchObject({ error: { blockedBy: 'member', remaining: { member: '10' } } });
  });

  it('documents the usage body as credits or costUsd (oneOf), and the server holds to it', async () => {
    const schema = doc.paths['/v1/usage']!.post!.requestBody!.content['application/json']!.schema;
    expect(schema.oneOf).toEqual([{ required: ['credits'] }, { required: ['costUsd'] }]);
    const member = 'alice@documented.test';
    expect((await post('/v1/usage', { member, credits: '1' })).status).toBe(201);
    expect((await post('/v1/usage', { member, costUsd: 1 })).status).toBe(201);
    for (const refused of [{ member }, { member, credits: '1', costUsd: '1' }]) {
      const res = await post('/v1/usage', refused);
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: { code: 'VALIDATION_FAILED' } });
    }
    const exponent = await post('/v1/usage', { member, credits: '1e0' });
    expect(await exponent.json()).toMatchObject({ error: { code: 'INVALID_AMOUNT', field: 'credits' } });
  });

  it("agrees with the server's routes: every /v1 route documented, no documented route missing", () => {
    const documented = operations().map((o) => `${o.method} ${o.path.replace(/\{(\w+)\}/g, ':$1')}`);
    const served = serverRoutes(app.printRoutes({ commonPrefix: false }))
      .filter((r) => r.method !== 'HEAD')
      .map((r) => `${r.method} ${r.path}`);
    expect(served.length).toBeGreaterThan(20);
    expect(documented.filter((r) => !served.includes(r))).toEqual([]); // no phantom routes
    const v1 = served.filter((r) => r.split(' ')[1]!.startsWith('/v1/'));
    expect(v1.length).toBeGreaterThanOrEqual(ROUTES.length);
    expect(v1.filter((r) => !documented.includes(r))).toEqual([]);
  });
});
