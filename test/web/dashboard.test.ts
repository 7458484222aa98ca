// The dashboard end to end: the real server over HTTP on a throw-away PostgreSQL, driven in Debian's
// Chromium by playwright-core. Each tab with real data, edits that become drift, requests decided from the
// Requests tab, the reset dialog, the managedBy: git refusal, and no console errors on the way.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { freshPgStore } from '../support/databases.js';
import { buildServer } from '../../src/api/server.js';
import { ROUTES } from '../../src/api/routes.js';
import { makePlan } from '../../src/planner/plan-against-store.js';
import { applyPlan } from '../../src/apply/apply-plan.js';
import { createToken } from '../../src/state/tokens.js';
import type { Store } from '../../src/state/store.js';
import { seriousViolations } from './axe.js';
import { claimDueDeliveries, recordDelivered, recordFailure } from '../../src/ledger/alerts-outbox.js';

const fillers = Array.from(
  { length: 22 },
  (_, i) => `      m${String(i + 1).padStart(2, '0')}@web.test: 100\n`,
).join('');
const WEB = `version: 1
account:
  id: web
  name: Web Corp
  creditLimit: 100000
  creditFactor: 1000
  signupCredits: 0
groups:
  engineering:
    name: Engineering
    allocation: 40000
    extra: 5000
    members:
      alice@web.test: 5000
      bob@web.test: { allocation: 3000, extra: 500 }
${fillers}  research:
    name: Research
    allocation: 30000
    members:
      dave@web.test: 10000
  default:
    allocation: 10000
`;
const LOCKED = `version: 1
account:
  id: locked
  name: Locked Ltd
  creditLimit: 1000
  managedBy: git
groups:
  ops:
    name: Ops
    allocation: 500
    members:
      olga@locked.test: 100
`;

// Many requests, for paging and search: p01…p08 and Zed Zimmer (a name only the members route knows).
const MANY = `version: 1
account:
  id: many
  name: Many Requests
  creditLimit: 1000000
groups:
  team:
    name: Team
    allocation: 500000
    members:
${Array.from({ length: 8 }, (_, i) => `      p0${i + 1}@many.test: 1000\n`).join('')}      zed@many.test: 1000
`;

// Threshold alerts on the Overview: one delivered, one failing and retried, one with no webhook.
const ALERTING = `version: 1
account:
  id: alerting
  name: Alerting Inc
  creditLimit: 1000
  creditFactor: 1
groups:
  ops:
    name: Ops
    allocation: 500
    members:
      ann@alerting.test: 100
alerts:
  thresholds: [50, 80]
  webhooks:
    - url: https://hooks.alerting.test/credits
      secretEnv: ALERTING_SECRET
      scopes: [member]
`;

const CHROMIUM = '/usr/bin/chromium';
/** The docs' screenshots that alerts-rollover.test.ts makes (they show alerts and Rolled over): ours go to tmp. */
const SHOT_ELSEWHERE = new Set(
  ['overview-desktop', 'overview-phone', 'overview-dark', 'allocations-desktop', 'allocations-phone']
    .concat(['member-desktop', 'member-phone'])
    .map((name) => `${name}.png`),
);
function shotPath(dir: string, file: string): string {
  if (!SHOT_ELSEWHERE.has(file)) return join(dir, file);
  const tmp = join(tmpdir(), 'credits-dashboard-screenshots');
  mkdirSync(tmp, { recursive: true });
  return join(tmp, file);
}

let store: Store;
let app: FastifyInstance;
let base: string;
let browser: Browser;
const admin: Record<string, string> = {};
let bobToken = '';
/** GET /v1/me, which the member's page reads; the member tests wait for it where the API lacks it. */
const HAS_ME_ROUTE = ROUTES.some((r) => r.method === 'GET' && r.url === '/v1/me');
/** GET /v1/audit, which the Activity tab reads. */
const HAS_AUDIT_ROUTE = ROUTES.some((r) => r.method === 'GET' && r.url === '/v1/audit');
/** GET /v1/alerts, which the Overview's latest alerts read. */
const HAS_ALERTS_ROUTE = ROUTES.some((r) => r.method === 'GET' && r.url === '/v1/alerts');
/** GET /v1/usage/summary, which the Overview's chart reads (without it the Overview says so, after a 404). */
const HAS_SUMMARY_ROUTE = ROUTES.some((r) => r.method === 'GET' && r.url === '/v1/usage/summary');
const contexts: BrowserContext[] = [];
/** Console errors and uncaught exceptions of every page, checked after each test. */
let problems: string[] = [];
/** Network failures a test provokes on purpose (a 401, a 409) and expects the console to mention. */
let expected: RegExp[] = [];

async function api(method: string, path: string, token: string, body?: unknown) {
  const res = await fetch(base + path, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function newPage(options: { colorScheme?: 'dark' | 'light' } = {}): Promise<Page> {
  const context = await browser.newContext(options);
  contexts.push(context);
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('dialog', (d) => {
    problems.push(`unexpected JS dialog: ${d.message()}`);
    void d.dismiss();
  });
  return page;
}

/** An element's text colour (runs in the page; the tests compile without the DOM library). */
type Styles = { getComputedStyle(element: unknown): { color: string } };
const colour = (e: unknown) => (globalThis as unknown as Styles).getComputedStyle(e).color;

const ready = (page: Page, tab: string) => page.locator(`#panel[data-state="ready"][data-tab="${tab}"]`);

async function open(token: string, tab = 'overview', options: { colorScheme?: 'dark' } = {}): Promise<Page> {
  const page = await newPage(options);
  await page.goto(`${base}/#token=${encodeURIComponent(token)}`);
  await ready(page, 'overview').waitFor();
  if (tab !== 'overview') await showTab(page, tab);
  return page;
}

async function showTab(page: Page, tab: string) {
  await page.locator(`#tab-${tab}`).click();
  await ready(page, tab).waitFor();
}

const serial = async (account: string) =>
  Number(
    (
      await store.query<{ s: string }>('SELECT state_serial AS s FROM accounts WHERE account_id = $1', [
        account,
      ])
    ).rows[0]!.s,
  );

beforeAll(async () => {
  store = await freshPgStore();
  for (const [id, yaml] of [
    ['web', WEB],
    ['locked', LOCKED],
    ['many', MANY],
    ['alerting', ALERTING],
  ] as const) {
    await applyPlan(store, await makePlan(store, { bytes: yaml, file: `${id}.yaml` }), { actor: 'test' });
    admin[id] = (await createToken(store, { accountId: id, role: 'admin' })).token;
  }
  bobToken = (await createToken(store, { accountId: 'web', role: 'member', member: 'bob@web.test' })).token;
  app = await buildServer({ store, rateLimit: 100_000 });
  base = await app.listen({ port: 0, host: '127.0.0.1' });

  const t = admin.web!;
  // Names come from sign-up (a declared member keeps its terms and gains the name).
  for (const [email, name] of [
    ['alice@web.test', 'Alice Adams'],
    ['bob@web.test', 'Bob Brown'],
  ]) {
    expect((await api('POST', '/v1/users', t, { email, name })).status).toBeLessThan(300);
  }
  expect(
    (await api('POST', '/v1/users', admin.many!, { email: 'zed@many.test', name: 'Zed Zimmer' })).status,
  ).toBeLessThan(300);
  // 45 requests: 40 from p01…p08 (5 each), 5 from Zed, created in that order.
  for (let i = 0; i < 45; i++) {
    const member = i < 40 ? `p0${(i % 8) + 1}@many.test` : 'zed@many.test';
    const reason = i === 7 ? 'GPU burst for the quarterly benchmark' : `request number ${i + 1}`;
    const made = await api('POST', '/v1/requests', admin.many!, { member, amount: String(i + 1), reason });
    expect(made.status).toBe(201);
  }
  const usage = await api('POST', '/v1/usage', t, { member: 'alice@web.test', credits: '1200' });
  expect(usage.status).toBe(201);
  for (const [member, amount, reason] of [
    ['alice@web.test', '500', 'demo day'],
    ['bob@web.test', '300', 'load test'],
    ['dave@web.test', '200', '<img src=x onerror=alert(1)> & more'],
  ]) {
    expect((await api('POST', '/v1/requests', t, { member, amount, reason })).status).toBe(201);
  }

  if (HAS_ALERTS_ROUTE) {
    const use = (credits: string) =>
      api('POST', '/v1/usage', admin.alerting!, { member: 'ann@alerting.test', credits });
    expect((await use('60')).status).toBe(201); // ann 60 % → 50
    const [first] = await claimDueDeliveries(store, 5, 60_000);
    await recordDelivered(store, first!, 204);
    expect((await use('25')).status).toBe(201); // ann 85 % → 80
    const [second] = await claimDueDeliveries(store, 5, 60_000);
    await recordFailure(store, second!, { status: 503, error: 'HTTP 503', retryInMs: 60_000 });
  }

  // Debian's Chromium, never a downloaded one (.ci/run installs the package when it is missing).
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium`);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});

afterEach(async () => {
  await Promise.all(contexts.splice(0).map((c) => c.close()));
  if (!HAS_SUMMARY_ROUTE) expected.push(/status of 404/);
  const unexpected = problems.filter((p) => !expected.some((re) => re.test(p)));
  problems = [];
  expected = [];
  expect(unexpected).toEqual([]);
});

afterAll(async () => {
  await browser?.close();
  await app?.close();
});

describe('dashboard: serving', () => {
  it('serves the page and its assets with their types and a strict CSP, and no type declarations', async () => {
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await page.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // no inline script
    expect(html).not.toMatch(/\sstyle=|\son\w+=/); // no inline style or handler
    expect(html).not.toMatch(/https?:\/\//); // nothing from a CDN

    const js = await fetch(`${base}/assets/app.js`);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('content-security-policy')).toBe(csp);
    expect((await fetch(`${base}/assets/style.css`)).headers.get('content-type')).toBe(
      'text/css; charset=utf-8',
    );
    expect((await fetch(`${base}/assets/decimal.d.ts`)).status).toBe(404);
    expect((await fetch(`${base}/assets/../package.json`)).status).toBe(404);
  });

  it('builds the page from text nodes only: no innerHTML, outerHTML or insertAdjacentHTML', () => {
    const dir = join(import.meta.dirname, '../../src/web/public');
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.js'))) {
      expect(readFileSync(join(dir, file), 'utf8'), file).not.toMatch(
        /innerHTML|outerHTML|insertAdjacentHTML|document\.write/,
      );
    }
  });
});

describe('dashboard in Chromium', () => {
  it('takes the token from the URL fragment, keeps it in sessionStorage and clears the address bar', async () => {
    const page = await open(admin.web!);
    expect(new URL(page.url()).hash).toBe('#tab=overview'); // the token is gone, only the tab remains
    expect(await page.evaluate("sessionStorage.getItem('credits.adminToken')")).toBe(admin.web);
    await expect.poll(() => page.locator('#account-name').textContent()).toBe('Web Corp (web)');
    // A reload keeps the tab's token; nothing is in the URL any more.
    await page.reload();
    await ready(page, 'overview').waitFor();

    // Without a fragment: the token form; a wrong token is refused, a right one opens the dashboard.
    expected.push(/status of 401/);
    const fresh = await newPage();
    await fresh.goto(`${base}/`);
    await fresh.locator('#login').waitFor();
    await fresh.fill('#token-input', 'cr_not-a-token');
    await fresh.click('#login button[type="submit"]');
    await expect.poll(() => fresh.locator('#login-error').textContent()).toContain('not accepted');
    expect(await fresh.evaluate("sessionStorage.getItem('credits.adminToken')")).toBeNull();
    await fresh.fill('#token-input', admin.web!);
    await fresh.click('#login button[type="submit"]');
    await ready(fresh, 'overview').waitFor();
  });

  it('the tab is in the URL and Back returns to the last one; a #token= URL pasted on the sign-in form signs in', async () => {
    const page = await open(admin.web!);
    expect(new URL(page.url()).hash).toBe('#tab=overview');
    await showTab(page, 'requests');
    expect(new URL(page.url()).hash).toBe('#tab=requests');
    await showTab(page, 'settings');
    expect(new URL(page.url()).hash).toBe('#tab=settings');
    await page.goBack();
    await ready(page, 'requests').waitFor();
    expect(await page.locator('#tab-requests').getAttribute('aria-selected')).toBe('true');
    await page.goBack();
    await ready(page, 'overview').waitFor();
    await page.goForward();
    await ready(page, 'requests').waitFor();
    // A link to a tab opens it (the token is this browser tab's).
    await page.goto(`${base}/#tab=allocations`);
    await ready(page, 'allocations').waitFor();

    const fresh = await newPage();
    await fresh.goto(`${base}/`);
    await fresh.locator('#login').waitFor();
    await fresh.evaluate(`location.hash = '#token=${encodeURIComponent(admin.web!)}'`);
    await ready(fresh, 'overview').waitFor();
    expect(await fresh.evaluate("sessionStorage.getItem('credits.adminToken')")).toBe(admin.web);
    expect(new URL(fresh.url()).hash).toBe('#tab=overview');
    expect(await fresh.locator('#login').isHidden()).toBe(true);
  });

  it('Overview: cycle, limit, usage, balance and every group from the API', async () => {
    const page = await open(admin.web!);
    const stat = (name: string) => page.locator(`[data-stat="${name}"] .stat-value`).textContent();
    expect(await stat('credit-limit')).toBe('100,000');
    expect(await stat('used')).toBe('1,200');
    expect(await stat('balance')).toBe('98,800');
    expect(await stat('usage')).toBe('1.2%');
    expect(await stat('cycle')).toMatch(/^#1 · Active/);
    expect(await page.locator('[data-stat="cycle"] .stat-detail').textContent()).toContain(
      'calendar-month (UTC)',
    );
    const eng = page.locator('#overview-groups tr[data-group="engineering"] td');
    // 24 members: alice 5000 + bob 3000+500 + 22 × 100 = 10,700 distributed.
    expect(await eng.allTextContents()).toEqual(
      expect.arrayContaining(['24', '40,000', '5,000', '10,700', '34,300']),
    );
    expect(await page.locator('#overview-groups tbody tr').count()).toBe(3);
    expect(await page.locator('#overview-groups tr[data-group="default"] th').textContent()).toContain(
      'default',
    );
  });

  it('Overview: the latest alerts with their delivery status, and no serious axe violation', async () => {
    expect(HAS_ALERTS_ROUTE, 'GET /v1/alerts').toBe(true);
    const page = await open(admin.alerting!);
    const rows = page.locator('#overview-alerts tbody tr');
    expect(await rows.count()).toBe(2);
    // Newest first: 80 % (its delivery failed once, retried later), then 50 % (delivered).
    expect(await rows.nth(0).locator('th').textContent()).toBe('ann@alerting.test');
    expect(await rows.nth(0).locator('td').allTextContents()).toEqual(
      expect.arrayContaining(['80%', '85 / 100']),
    );
    expect(await rows.nth(0).locator('.alert-delivery').textContent()).toMatch(
      /^pending https:\/\/hooks\.alerting\.test\/credits · attempt 1 failed: HTTP 503; next /,
    );
    expect(await rows.nth(1).locator('.alert-delivery').textContent()).toBe(
      'delivered https://hooks.alerting.test/credits · HTTP 204',
    );
    expect(await seriousViolations(page)).toEqual([]);
    // An account without alerts says where they are declared.
    const web = await open(admin.web!);
    expect(await web.locator('#overview-alerts-card p').textContent()).toContain('credits.yaml (alerts)');
  });

  it('Allocations: groups and paged, searchable members; an inline edit is Unsaved, recalculated, saved as drift', async () => {
    const page = await open(admin.web!, 'allocations');
    const eng = page.locator('#groups-table tr[data-group="engineering"]');
    const cell = (row: typeof eng, n: number) => row.locator('td').nth(n);
    // Values show formatted when not being edited; the exact value is in the tooltip.
    const engMonthly = eng.getByLabel('Monthly of Engineering');
    expect(await engMonthly.inputValue()).toBe('40,000');
    expect(await engMonthly.getAttribute('title')).toBe('40,000 credits');
    expect(await eng.getByLabel('Extra of Engineering').inputValue()).toBe('5,000');
    expect(await cell(eng, 3).textContent()).toBe('10,700'); // Distributed
    expect(await cell(eng, 4).textContent()).toBe('1,200'); // Used
    expect(await cell(eng, 5).textContent()).toBe('34,300'); // Available
    expect(await eng.getByLabel('Auto-Approve of Engineering').inputValue()).toBe('0');
    expect(await page.locator('#groups-table thead th').allTextContents()).toEqual([
      'Group',
      'Members',
      'Monthly credits.yaml',
      'Extra credits.yaml',
      'Distributed',
      'Used',
      'Available',
      'Rolled over',
      'Auto-Approve credits.yaml',
      'Status',
      'Actions',
    ]);
    expect(await page.getByRole('button', { name: 'Members' }).count()).toBe(0);
    expect(await seriousViolations(page)).toEqual([]);

    // A group is chosen by clicking its name or anywhere on its row, Default included.
    expect(await eng.getAttribute('aria-current')).toBe('true');
    expect(await page.locator('#members-title').textContent()).toBe('Members of Engineering');
    expect(await page.getByLabel('Search members').getAttribute('placeholder')).toBe(
      'Search members in Engineering…',
    );
    await page.locator('#groups-table').getByRole('button', { name: 'Research' }).click();
    await page.locator('#members-table tr[data-member="dave@web.test"]').waitFor();
    expect(await page.getByLabel('Search members').getAttribute('placeholder')).toBe(
      'Search members in Research…',
    );
    await cell(page.locator('#groups-table tr[data-group="default"]'), 0).click(); // the Members count
    await expect.poll(() => page.locator('#members-title').textContent()).toBe('Members of Default');
    await expect.poll(() => page.locator('#members-page').textContent()).toBe('Page 1 of 1 · 0 members');
    expect(await page.locator('#groups-table tr[data-group="default"]').getAttribute('aria-current')).toBe(
      'true',
    );
    await cell(eng, 5).click();
    await expect.poll(() => page.locator('#members-page').textContent()).toBe('Page 1 of 3 · 24 members');

    // Pagination and search over the members of Engineering (10 a page).
    expect(await page.locator('#members-table tbody tr').count()).toBe(10);
    await page.getByRole('button', { name: 'Next ›' }).click();
    await expect.poll(() => page.locator('#members-page').textContent()).toBe('Page 2 of 3 · 24 members');
    await page.fill('#members-search', 'alice');
    await expect.poll(() => page.locator('#members-page').textContent()).toBe('Page 1 of 1 · 1 member');
    expect(await page.locator('#members-table .runtime').count()).toBe(0); // alice is in credits.yaml

    // A click on a member row selects it.
    const alice = page.locator('#members-table tr[data-member="alice@web.test"]');
    await alice.locator('th').click();
    expect(await alice.getAttribute('aria-current')).toBe('true');
    expect(await alice.evaluate((e) => (e as { className: string }).className)).toContain('selected');

    // Click the value to edit it: the plain number while editing; 5000 → 5600. An accent border, the
    // tooltip, the Unsaved badge and the row's Save; Distributed, Available and the totals move by 600.
    const usedHeader = page.locator('#members-table thead th').nth(4);
    const xBefore = (await usedHeader.boundingBox())!.x;
    const monthly = alice.getByLabel('Monthly of alice@web.test');
    expect(await alice.getByRole('button', { name: 'Save', exact: true }).count()).toBe(0);
    await monthly.click();
    expect(await monthly.inputValue()).toBe('5000');
    await monthly.fill('5600');
    await alice.locator('.badge-unsaved', { hasText: 'Unsaved' }).waitFor();
    expect(await monthly.getAttribute('title')).toBe('5,600 credits');
    const border = await monthly.evaluate(
      (e) =>
        (
          globalThis as unknown as { getComputedStyle(e: unknown): { borderTopColor: string } }
        ).getComputedStyle(e).borderTopColor,
    );
    expect(border).toBe('rgb(109, 40, 217)');
    const rowSave = alice.getByRole('button', { name: 'Save', exact: true });
    expect(await rowSave.isVisible()).toBe(true);
    expect((await usedHeader.boundingBox())!.x).toBe(xBefore); // the badge and button shift no column
    expect(await cell(eng, 3).textContent()).toBe('11,300');
    expect(await cell(eng, 5).textContent()).toBe('33,700');
    expect(await cell(eng, 5).getAttribute('title')).toBe('33,700 credits (saved: 34,300)');
    const totals = page.locator('#groups-totals td');
    expect(await totals.nth(3).textContent()).toBe('21,300'); // 10,700 + 10,000 + 0 + 600
    expect(await page.locator('#unsaved-count').textContent()).toBe('1 unsaved change');
    expect(await seriousViolations(page)).toEqual([]);
    // Something that is not an amount blocks Save until corrected.
    await alice.getByLabel('Extra of alice@web.test').fill('1e3');
    expect(await rowSave.isDisabled()).toBe(true);
    expect(await page.locator('#save').isDisabled()).toBe(true);
    await alice.getByLabel('Extra of alice@web.test').fill('0');

    const before = await serial('web');
    await rowSave.click();
    const banner = page.locator('#saved-members');
    await banner.waitFor();
    expect(await banner.textContent()).toContain('Saved alice@web.test: Monthly 5,000 → 5,600.');
    expect(await banner.evaluate(colour)).toBe('rgb(19, 122, 61)');
    await ready(page, 'allocations').waitFor();
    await expect.poll(() => page.locator('.badge-unsaved').count()).toBe(0);
    const engAfter = page.locator('#groups-table tr[data-group="engineering"]');
    expect(await cell(engAfter, 3).textContent()).toBe('11,300');
    expect(await cell(engAfter, 5).textContent()).toBe('33,700');
    expect(await page.locator('#groups-totals td').nth(3).textContent()).toBe('21,300');

    // The edit is drift: serial moved, an api audit row, and the next plan sets it back.
    expect(await serial('web')).toBe(before + 1);
    const audit = await store.query<{ source: string; address: string; after_value: unknown }>(
      "SELECT source, address, after_value FROM audit_log WHERE account_id = 'web' AND source = 'api'",
    );
    expect(audit.rows).toEqual([
      expect.objectContaining({ address: 'member.alice@web.test.allocation', after_value: '5600' }),
    ]);
    const plan = await makePlan(store, { bytes: WEB, file: 'web.yaml' });
    expect(plan.plan.changes).toEqual([
      expect.objectContaining({ address: 'member.alice@web.test.allocation', before: '5600', after: '5000' }),
    ]);
  });

  it('Allocations: an over-budget value warns in place while typing; large values are abbreviated with the exact one in the tooltip', async () => {
    const page = await open(admin.web!, 'allocations');
    const research = page.locator('#groups-table tr[data-group="research"]');
    const available = research.locator('td').nth(5);
    expect(await available.textContent()).toBe('20,000');
    // Research gives dave 10,000: a Monthly of 5,000 leaves −5,000. Red, not the amber of any edit.
    await research.getByLabel('Monthly of Research').fill('5000');
    await research.locator('.badge-over', { hasText: 'Over budget' }).waitFor();
    expect(await available.textContent()).toBe('-5,000');
    expect(await available.evaluate(colour)).toBe('rgb(180, 35, 24)');
    expect(await research.locator('.status').textContent()).toContain('Available would be -5,000');
    await research.getByLabel('Monthly of Research').fill('10000');
    await research.locator('.badge-unsaved', { hasText: 'Unsaved' }).waitFor();
    expect(await research.locator('.badge-over').count()).toBe(0);
    expect(await available.evaluate(colour)).toBe('rgb(138, 90, 0)'); // amber: changed, not over

    // 2,000,000,000 shows as 2B once the editor is left; the tooltip has it exactly.
    const extra = page.locator('#groups-table tr[data-group="default"]').getByLabel('Extra of Default');
    await extra.fill('2000000000.5');
    await page.locator('#groups-table thead').click();
    expect(await extra.inputValue()).toBe('2B');
    expect(await extra.getAttribute('title')).toBe('2,000,000,000.5 credits');
    expect(await page.locator('#budget-line').textContent()).toContain('over the limit');
    await extra.click();
    expect(await extra.inputValue()).toBe('2000000000.5');
    await page.click('#discard');
    await ready(page, 'allocations').waitFor();
    await expect.poll(() => page.locator('.badge-unsaved').count()).toBe(0);
    expect((await api('GET', '/v1/groups', admin.web!)).body.items).toEqual(
      expect.arrayContaining([expect.objectContaining({ key: 'research', allocation: '30000' })]),
    );
  });

  it('Requests: a Status select; name and e-mail; a selected pending row reveals Approve and Deny; Deny asks a reason', async () => {
    const page = await open(admin.web!, 'requests');
    const rows = page.locator('#requests-table tbody tr[data-request]');
    await expect.poll(() => rows.count()).toBe(3);
    const status = page.getByLabel('Status', { exact: true });
    expect(await status.evaluate((e) => (e as { tagName: string }).tagName)).toBe('SELECT');
    expect(await status.locator('option').allTextContents()).toEqual([
      'All Statuses',
      'Pending',
      'Approved',
      'Denied',
      'Auto-Approved',
    ]);
    const row = (who: string) => page.locator('#requests-table tbody tr[data-request]', { hasText: who });
    // The requester's name (from the member) and e-mail; dave signed no name, so the e-mail alone.
    expect(await row('alice@web.test').locator('.requester-name').textContent()).toBe('Alice Adams');
    expect(await row('alice@web.test').locator('.requester-email').textContent()).toBe('alice@web.test');
    expect(await row('dave@web.test').locator('.requester-name').textContent()).toBe('dave@web.test');
    // The hostile reason is text, not markup.
    expect(await row('dave@web.test').locator('.reason').textContent()).toBe(
      '<img src=x onerror=alert(1)> & more',
    );
    expect(await page.locator('#requests-table img').count()).toBe(0);
    expect(await seriousViolations(page)).toEqual([]);

    await status.selectOption({ label: 'Pending' });
    await expect.poll(() => page.locator('#requests-count').textContent()).toContain('3 pending requests');
    expect(await page.locator('#requests-table tbody tr[data-status="pending"]').count()).toBe(3);

    // Nothing to click before a row is selected; a click on the row reveals Approve and Deny.
    const approve = page.getByRole('button', { name: 'Approve' });
    const deny = page.getByRole('button', { name: 'Deny' });
    expect(await approve.count()).toBe(0);
    await row('alice@web.test').click();
    expect(await row('alice@web.test').getAttribute('aria-current')).toBe('true');
    expect(await approve.count()).toBe(1);
    expect(await deny.count()).toBe(1);
    expect(await seriousViolations(page)).toEqual([]);
    // More than requested is refused in place, before the API.
    await page.getByLabel('Amount to approve').fill('501');
    await approve.click();
    await expect.poll(() => page.locator('.field-error').textContent()).toContain('at most 500');
    await page.getByLabel('Amount to approve').fill('400');
    await approve.click();
    await expect
      .poll(() => page.locator('#banner-title').textContent())
      .toBe('Approved 400 credits for alice@web.test.');
    await expect.poll(() => rows.count()).toBe(2);

    // Deny opens a dialog with a Reason; Escape leaves the request pending, the dialog's Deny decides it.
    await row('dave@web.test').click();
    await deny.click();
    const dialog = page.getByRole('dialog', { name: 'Deny this request?' });
    await dialog.waitFor();
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    await row('bob@web.test').click();
    expect(await page.locator('tr.request-actions').count()).toBe(1); // one selection at a time
    await deny.click();
    await dialog.waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    await dialog.getByLabel('Reason').fill('No budget left this quarter');
    await dialog.getByRole('button', { name: 'Deny' }).click();
    await expect
      .poll(() => page.locator('#banner-title').textContent())
      .toContain('Denied the request of bob');
    await expect.poll(() => rows.count()).toBe(1);

    await status.selectOption({ label: 'Approved' });
    await expect.poll(() => rows.count()).toBe(1);
    const approved = row('alice@web.test');
    expect(await approved.locator('td').nth(1).textContent()).toBe('400');
    const green = approved.locator('.badge-approved');
    expect(await green.textContent()).toBe('Approved');
    expect(await green.evaluate(colour)).toBe('rgb(19, 122, 61)');

    await status.selectOption({ label: 'Denied' });
    await expect.poll(() => page.locator('#requests-count').textContent()).toContain('1 denied request');
    const red = row('bob@web.test').locator('.badge-denied');
    expect(await red.textContent()).toBe('Denied');
    expect(await red.evaluate(colour)).toBe('rgb(180, 35, 24)');
    expect(await row('bob@web.test').locator('.reason').textContent()).toContain(
      'Decision: No budget left this quarter',
    );

    const fromApi = await api('GET', '/v1/requests', admin.web!);
    const byMember = Object.fromEntries(
      (
        fromApi.body.items as {
          member: string;
          status: string;
          approvedAmount: string | null;
          decisionReason: string | null;
        }[]
      ).map((r) => [r.member, [r.status, r.approvedAmount, r.decisionReason]]),
    );
    expect(byMember).toEqual({
      'alice@web.test': ['approved', '400', null],
      'bob@web.test': ['denied', null, 'No budget left this quarter'],
      'dave@web.test': ['pending', null, null],
    });
  });

  it('Requests: 45 requests come 20 a page; search finds a requester by name, or a reason', async () => {
    const page = await open(admin.many!, 'requests');
    const rows = page.locator('#requests-table tbody tr[data-request]');
    const amounts = () => rows.locator('td:nth-child(2)').allTextContents();
    await expect.poll(() => rows.count()).toBe(20);
    expect((await amounts())[0]).toBe('45'); // newest first
    const height = await page
      .locator('#requests-table')
      .evaluate((e) => (e as { offsetHeight: number }).offsetHeight);
    expect(height).toBeLessThan(2000);
    const next = page.getByRole('button', { name: 'Next ›' });
    const previous = page.getByRole('button', { name: '‹ Previous' });
    expect(await previous.isDisabled()).toBe(true);
    await next.click();
    await expect.poll(() => page.locator('#requests-page').textContent()).toBe('Page 2');
    expect((await amounts())[0]).toBe('25');
    await next.click();
    await expect.poll(() => rows.count()).toBe(5);
    expect(await amounts()).toEqual(['5', '4', '3', '2', '1']);
    expect(await next.isDisabled()).toBe(true);
    await previous.click();
    await expect.poll(async () => (await amounts())[0]).toBe('25');

    // By name: the request rows carry only the e-mail; the members route knows Zed Zimmer.
    await page.getByLabel('Search requests').fill('zimmer');
    await expect.poll(() => rows.count()).toBe(5);
    expect(await rows.locator('.requester-name').allTextContents()).toEqual(Array(5).fill('Zed Zimmer'));
    expect(await page.locator('#requests-page').textContent()).toBe('Page 1');
    // By reason, across API pages.
    await page.getByLabel('Search requests').fill('quarterly benchmark');
    await expect.poll(() => rows.count()).toBe(1);
    expect(await amounts()).toEqual(['8']);
    // 'many.test' matches every e-mail: pages of 20 again, scanned from the API's pages.
    await page.getByLabel('Search requests').fill('many.test');
    await expect.poll(async () => (await amounts())[0]).toBe('45');
    expect(await rows.count()).toBe(20);
    await next.click();
    await expect.poll(async () => (await amounts())[0]).toBe('25');
    await next.click();
    await expect.poll(() => rows.count()).toBe(5);
    expect(await next.isDisabled()).toBe(true);
  });

  it('Settings: "Credits per cycle" with usage below, each setting its own Save behind "Apply change"/"Cancel"; cadence and time zone from lists', async () => {
    const page = await open(admin.web!, 'settings');
    const limit = page.getByLabel('Credits per cycle', { exact: true });
    expect(await limit.inputValue()).toBe('100000');
    expect(await page.locator('#below-credit-limit').textContent()).toBe(
      'Current usage: 1,200 of 100,000 credits (1.2%) this cycle.',
    );
    expect(await page.locator('.tab-settings .notice').textContent()).toContain('credits.yaml');
    const saves = page.getByRole('button', { name: 'Save', exact: true });
    expect(await saves.count()).toBe(5); // credits per cycle, factor, signup, cadence, time zone
    expect(await page.getByLabel('Internal credit units per $1 of cost').inputValue()).toBe('1000');
    expect(await page.getByLabel('Credits per new user').inputValue()).toBe('0');
    expect(await seriousViolations(page)).toEqual([]);
    const dialog = page.getByRole('dialog');
    const save = (id: string) => page.locator(`#save-${id}`);

    // Refused in place, before any dialog.
    await limit.fill('12,5');
    await save('credit-limit').click();
    await expect.poll(() => page.locator('#error-credit-limit').textContent()).toContain('is not an amount');
    expect(await limit.getAttribute('aria-invalid')).toBe('true');
    expect(await dialog.count()).toBe(0);

    // Cancel restores the field and changes nothing.
    await limit.fill('120000');
    await save('credit-limit').click();
    await dialog.waitFor();
    expect(await page.locator('#confirm-title').textContent()).toBe('Change credits per cycle?');
    expect(await page.locator('#confirm-body').textContent()).toContain('changed outside credits.yaml');
    expect(await dialog.getByRole('button').allTextContents()).toEqual(['Cancel', 'Apply change']);
    expect(await seriousViolations(page)).toEqual([]);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect(await limit.inputValue()).toBe('100000');
    expect((await api('GET', '/v1/overview', admin.web!)).body.creditLimit).toBe('100000');
    // Below what is used: the dialog warns.
    await limit.fill('1000');
    await save('credit-limit').click();
    await expect
      .poll(() => page.locator('#confirm-warning').textContent())
      .toContain('below the 1,200 credits');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    expect(await limit.inputValue()).toBe('100000');

    await limit.fill('120000');
    await save('credit-limit').click();
    await dialog.getByRole('button', { name: 'Apply change' }).click();
    await expect
      .poll(() => page.locator('#banner-title').textContent())
      .toBe('Credits per cycle changed to 120,000.');
    expect((await api('GET', '/v1/overview', admin.web!)).body.creditLimit).toBe('120000');
    await expect
      .poll(() => page.getByLabel('Credits per cycle', { exact: true }).inputValue())
      .toBe('120000');

    // Each setting saves on its own: signup credits, and the factor is untouched.
    await page.getByLabel('Credits per new user').fill('25');
    await save('signup-credits').click();
    await dialog.getByRole('button', { name: 'Apply change' }).click();
    await expect
      .poll(() => page.locator('#banner-title').textContent())
      .toBe('Credits per new user changed to 25.');
    const account = (await api('GET', '/v1/overview', admin.web!)).body.account as Record<string, string>;
    expect([account.signupCredits, account.creditFactor]).toEqual(['25', '1000']);

    const cycleBefore = ((await api('GET', '/v1/overview', admin.web!)).body.cycle as { number: number })
      .number;
    await page.click('#reset-cycle');
    await dialog.waitFor();
    expect(await page.locator('#confirm-title').textContent()).toBe('Reset the cycle now?');
    expect(await page.locator('#confirm-warning').textContent()).toBe('This cannot be undone.');
    await page.click('#confirm-cancel');
    await dialog.waitFor({ state: 'hidden' });
    expect(((await api('GET', '/v1/overview', admin.web!)).body.cycle as { number: number }).number).toBe(
      cycleBefore,
    );
    await page.click('#reset-cycle');
    await page.click('#confirm-ok');
    await expect
      .poll(() => page.locator('#banner-title').textContent())
      .toBe(`Cycle #${cycleBefore + 1} started.`);
    expect(((await api('GET', '/v1/overview', admin.web!)).body.cycle as { number: number }).number).toBe(
      cycleBefore + 1,
    );

    // Cadence: a select with the console's options, each explained; Cancel puts the old one back.
    const cadence = page.getByLabel('Cycle cadence', { exact: true });
    expect(await cadence.evaluate((e) => (e as { tagName: string }).tagName)).toBe('SELECT');
    expect(await cadence.locator('option').allTextContents()).toEqual([
      'Calendar month',
      '15 days',
      '1 week',
      '1 day',
      '12 hours',
      '6 hours',
      '1 hour',
      '15 minutes',
    ]);
    expect(await cadence.inputValue()).toBe('calendar-month');
    const explained = page.locator('#below-cadence');
    expect(await explained.textContent()).toContain('calendar month');
    await cadence.selectOption({ label: '1 day' });
    expect(await explained.textContent()).toBe(
      'Back-to-back 24-hour cycles, the first starting when the change is applied.',
    );
    await save('cadence').click();
    await dialog.waitFor();
    expect(await page.locator('#confirm-title').textContent()).toBe('Change the cycle cadence?');
    expect(await page.locator('#confirm-body').textContent()).toContain('a fresh cycle starts');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect(await cadence.inputValue()).toBe('calendar-month');
    expect(await explained.textContent()).toContain('calendar month');
    await cadence.selectOption({ label: '1 day' });
    await save('cadence').click();
    await dialog.getByRole('button', { name: 'Apply change' }).click();
    await expect
      .poll(() => page.locator('#banner-title').textContent())
      .toBe('Cycle cadence changed to 1 day; a fresh cycle started.');
    expect((await api('GET', '/v1/overview', admin.web!)).body.cycle).toMatchObject({
      cadence: '1d',
      timezone: 'UTC',
      number: cycleBefore + 2,
    });

    // Time zone: chosen from the browser's list of IANA zones.
    const zone = page.getByLabel('Time zone', { exact: true });
    await expect.poll(() => page.getByLabel('Cycle cadence', { exact: true }).inputValue()).toBe('1d');
    expect(await zone.locator('option').count()).toBeGreaterThan(300);
    expect(await zone.inputValue()).toBe('UTC');
    await zone.selectOption('Europe/Berlin');
    await save('timezone').click();
    await dialog.getByRole('button', { name: 'Apply change' }).click();
    await expect
      .poll(() => page.locator('#banner-title').textContent())
      .toBe('Time zone changed to Europe/Berlin; a fresh cycle started.');
    expect((await api('GET', '/v1/overview', admin.web!)).body.cycle).toMatchObject({
      cadence: '1d',
      timezone: 'Europe/Berlin',
      number: cycleBefore + 3,
    });
    await expect.poll(() => page.getByLabel('Time zone', { exact: true }).inputValue()).toBe('Europe/Berlin');

    // Refresh re-reads the API: the Overview shows the new cycle and no usage in it.
    await showTab(page, 'overview');
    await page.click('#refresh');
    await ready(page, 'overview').waitFor();
    expect(await page.locator('[data-stat="cycle"] .stat-value').textContent()).toMatch(
      new RegExp(`^#${cycleBefore + 3} `),
    );
    expect(await page.locator('[data-stat="used"] .stat-value').textContent()).toBe('0');
  });

  it('Allocations: a member who signed up at run time is marked as not in credits.yaml', async () => {
    expect((await api('POST', '/v1/users', admin.web!, { email: 'newcomer@web.test' })).status).toBeLessThan(
      300,
    );
    const page = await open(admin.web!, 'allocations');
    await page.locator('#groups-table').getByRole('button', { name: 'Default' }).click();
    const row = page.locator('#members-table tr[data-member="newcomer@web.test"]');
    await row.waitFor();
    expect(await row.locator('.runtime').textContent()).toBe('signed up, not in credits.yaml');
  });

  it('managedBy: git: the dashboard says so from the start, and the API refuses edits with 409', async () => {
    const page = await open(admin.locked!, 'allocations');
    // The overview reports managedBy, so the edit controls are locked before any edit is tried.
    await page.locator('#managed-by-git').waitFor();
    expect(await page.locator('#managed-by-git').textContent()).toContain('managedBy: git');
    expect(await page.locator('#groups-table tr[data-group="ops"] input').first().isDisabled()).toBe(true);
    expect(await page.locator('#save').isDisabled()).toBe(true);
    const before = await serial('locked');
    const refused = await page.evaluate(async (token) => {
      const res = await fetch('/v1/groups/ops', {
        method: 'PATCH',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ allocation: '600' }),
      });
      return { status: res.status, body: (await res.json()) as { error: { code: string } } };
    }, admin.locked!);
    expected.push(/status of 409/);
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('MANAGED_BY_GIT');
    expect(await serial('locked')).toBe(before);

    await showTab(page, 'settings');
    expect(await page.locator('#managed-by-git').textContent()).toContain('managedBy: git');
    expect(await page.locator('#save-credit-limit').isDisabled()).toBe(true);
    // Current values come from the overview (this account has tracking off).
    expect(await page.getByLabel('Internal credit units per $1 of cost').inputValue()).toBe('0');

    // Sign out forgets the token, and with it the managedBy flag.
    await page.click('#forget-token');
    await page.locator('#login').waitFor();
    expect(await page.evaluate("sessionStorage.getItem('credits.adminToken')")).toBeNull();
    await page.fill('#token-input', admin.web!);
    await page.click('#login button[type="submit"]');
    await ready(page, 'overview').waitFor();
    await showTab(page, 'allocations');
    expect(await page.locator('#managed-by-git').count()).toBe(0);
    expect(await page.locator('.badge-unsaved').count()).toBe(0);
  });

  it('every tab at desktop width: no serious or critical axe violation; a screenshot of each', async () => {
    // CREDITS_SCREENSHOTS=1 writes them to docs/screenshots/ (for the docs); otherwise to a temp directory.
    const dir = process.env.CREDITS_SCREENSHOTS
      ? join(import.meta.dirname, '../../docs/screenshots')
      : join(tmpdir(), 'credits-dashboard-screenshots');
    mkdirSync(dir, { recursive: true });
    const page = await open(admin.web!);
    await page.setViewportSize({ width: 1280, height: 900 });
    for (const tab of ['overview', 'allocations', 'requests', 'settings']) {
      await showTab(page, tab);
      expect(await seriousViolations(page), tab).toEqual([]);
      await page.screenshot({ path: shotPath(dir, `${tab}-desktop.png`), fullPage: true });
    }
  });

  it('at phone width (390 px) no tab scrolls sideways: wide tables scroll inside their card', async () => {
    const dir = process.env.CREDITS_SCREENSHOTS
      ? join(import.meta.dirname, '../../docs/screenshots')
      : join(tmpdir(), 'credits-dashboard-screenshots');
    mkdirSync(dir, { recursive: true });
    const page = await open(admin.web!);
    await page.setViewportSize({ width: 390, height: 844 });
    const widths: Record<string, number> = {};
    for (const tab of ['overview', 'allocations', 'requests', 'settings']) {
      await showTab(page, tab);
      widths[tab] = (await page.evaluate('document.documentElement.scrollWidth')) as number;
      expect(await seriousViolations(page), tab).toEqual([]);
      await page.screenshot({ path: shotPath(dir, `${tab}-phone.png`), fullPage: true });
    }
    expect(widths).toEqual({ overview: 390, allocations: 390, requests: 390, settings: 390 });
  });

  it('dark mode follows prefers-color-scheme, with enough contrast on every tab', async () => {
    const dir = process.env.CREDITS_SCREENSHOTS
      ? join(import.meta.dirname, '../../docs/screenshots')
      : join(tmpdir(), 'credits-dashboard-screenshots');
    mkdirSync(dir, { recursive: true });
    const page = await open(admin.web!, 'overview', { colorScheme: 'dark' });
    await page.setViewportSize({ width: 1280, height: 900 });
    const background = (await page.evaluate(
      'getComputedStyle(document.documentElement).backgroundColor',
    )) as string;
    expect(background).toBe('rgb(15, 20, 32)');
    for (const tab of ['overview', 'allocations', 'requests', 'settings']) {
      await showTab(page, tab);
      if (tab === 'requests')
        await page.locator('#requests-table tbody tr[data-status="pending"]').first().click();
      if (tab === 'allocations') {
        // An edit in progress: the accent border, the Unsaved badge and the row's Save in dark colours.
        await page.getByLabel('Extra of Research').fill('250');
        await page.locator('.badge-unsaved').first().waitFor();
      }
      expect(await seriousViolations(page), tab).toEqual([]);
      await page.screenshot({ path: shotPath(dir, `${tab}-dark.png`), fullPage: true });
    }
  });

  it.skipIf(!HAS_ME_ROUTE)(
    "a member token opens the member's own page: remaining, used, reset, grants, requests and a request form; never the admin tabs",
    async () => {
      const dir = process.env.CREDITS_SCREENSHOTS
        ? join(import.meta.dirname, '../../docs/screenshots')
        : join(tmpdir(), 'credits-dashboard-screenshots');
      mkdirSync(dir, { recursive: true });
      expected.push(/status of 403/); // the overview's refusal is how the page learns it is a member token
      const page = await newPage();
      await page.setViewportSize({ width: 1280, height: 900 });
      await page.goto(`${base}/#token=${encodeURIComponent(bobToken)}`);
      await ready(page, 'member').waitFor();
      expect(await page.getByRole('tab').count()).toBe(0);
      expect(await page.locator('#tabs').isHidden()).toBe(true);
      expect(await page.locator('#account-name').textContent()).toBe('Bob Brown (bob@web.test)');
      const view = (await api('GET', '/v1/members/bob@web.test', admin.web!)).body as {
        used: string;
        remaining: { member: string };
      };
      const stat = (name: string) => page.locator(`[data-stat="${name}"] .stat-value`).textContent();
      expect(await stat('remaining')).toBe(Number(view.remaining.member).toLocaleString('en-US'));
      expect(await stat('used')).toBe(Number(view.used).toLocaleString('en-US'));
      expect(await page.locator('[data-stat="resets"] .stat-detail').textContent()).toMatch(/cycle #\d+/);
      expect(await seriousViolations(page)).toEqual([]);

      // Refused in place; then sent, and the admin sees it pending.
      const pendingBefore = (await api('GET', '/v1/requests?status=pending', admin.web!)).body
        .items as unknown[];
      await page.getByLabel('Amount', { exact: true }).fill('12,5');
      await page.getByLabel('Reason', { exact: true }).fill('Demo prep');
      await page.getByRole('button', { name: 'Request credits' }).click();
      await expect.poll(() => page.locator('#request-error').textContent()).toContain('Enter an amount');
      expect((await api('GET', '/v1/requests?status=pending', admin.web!)).body.items).toHaveLength(
        pendingBefore.length,
      );
      await page.getByLabel('Amount', { exact: true }).fill('250');
      await page.getByRole('button', { name: 'Request credits' }).click();
      await expect
        .poll(() => page.locator('#banner-title').textContent())
        .toBe('Requested 250 credits: an admin will decide.');
      await ready(page, 'member').waitFor();
      const mine = page.locator('#my-requests tbody tr', { hasText: 'Demo prep' });
      await mine.waitFor();
      expect(await mine.locator('.badge-pending').textContent()).toBe('Pending');
      const items = (await api('GET', '/v1/requests?status=pending', admin.web!)).body.items as {
        member: string;
        amount: string;
        reason: string;
      }[];
      expect(items).toContainEqual(
        expect.objectContaining({ member: 'bob@web.test', amount: '250', reason: 'Demo prep' }),
      );
      await page.screenshot({ path: shotPath(dir, 'member-desktop.png'), fullPage: true });
      await page.setViewportSize({ width: 390, height: 844 });
      expect(await page.evaluate('document.documentElement.scrollWidth')).toBe(390);
      await page.screenshot({ path: shotPath(dir, 'member-phone.png'), fullPage: true });
    },
  );

  it.skipIf(!HAS_AUDIT_ROUTE)(
    'Activity: the audit log, 25 a page, filtered by source: who changed what, when, from where',
    async () => {
      const edit = await api('PATCH', '/v1/groups/research', admin.web!, { autoApprove: '5' });
      expect(edit.status).toBe(200);
      const page = await open(admin.web!, 'activity');
      const rows = page.locator('#audit-table tbody tr[data-audit]');
      await expect.poll(() => rows.count()).toBe(25);
      // The API lists the log oldest first: credits apply made the account, with its actor.
      const first = rows.first();
      expect(await first.getAttribute('data-source')).toBe('apply');
      expect(await first.locator('td').nth(2).textContent()).toContain('credits apply');
      expect(await first.locator('.actor').textContent()).toBe('test');
      expect(await seriousViolations(page)).toEqual([]);
      await page.getByRole('button', { name: 'Next ›' }).click();
      await expect.poll(() => page.locator('#audit-page').textContent()).toBe('Page 2');

      const sources = () =>
        rows.evaluateAll((es) => [
          ...new Set(es.map((e) => (e as { dataset: { source: string } }).dataset.source)),
        ]);
      await page.getByLabel('Source', { exact: true }).selectOption({ label: 'Dashboard / API edit' });
      await expect.poll(() => page.locator('#audit-page').textContent()).toBe('Page 1');
      await expect.poll(sources).toEqual(['api']);
      const last = rows.last();
      expect(await last.locator('.address').textContent()).toContain('group.research.autoApprove');
      expect(await last.locator('.change').textContent()).toBe('0 → 5');
      expect(await last.locator('.actor').textContent()).toMatch(/^token:/);
      expect(await last.locator('td').nth(2).textContent()).toContain('Dashboard / API');
      await page.getByLabel('Source', { exact: true }).selectOption({ label: 'credits apply' });
      await expect.poll(sources).toEqual(['apply']);
      const dir = process.env.CREDITS_SCREENSHOTS
        ? join(import.meta.dirname, '../../docs/screenshots')
        : join(tmpdir(), 'credits-dashboard-screenshots');
      mkdirSync(dir, { recursive: true });
      await page.setViewportSize({ width: 1280, height: 900 });
      await page.screenshot({ path: shotPath(dir, 'activity-desktop.png'), fullPage: true });
    },
  );

  it.skipIf(!HAS_SUMMARY_ROUTE)(
    'Overview: usage over the cycle per group, drawn as an image named for usage, and the same numbers as a table',
    async () => {
      for (const [member, credits] of [
        ['dave@web.test', '70'],
        ['alice@web.test', '30.5'],
      ]) {
        expect((await api('POST', '/v1/usage', admin.web!, { member, credits })).status).toBe(201);
      }
      const page = await open(admin.web!);
      const chart = page.getByRole('img', { name: /^Usage per (day|hour) this cycle, by group/ });
      await chart.waitFor();
      expect(await chart.locator('rect').count()).toBeGreaterThanOrEqual(2);
      const rows = page.locator('#usage-table tbody tr');
      const last = rows.last();
      const heads = await page.locator('#usage-table thead th').allTextContents();
      const at = (name: string) => last.locator('th, td').nth(heads.indexOf(name));
      expect(await at('Research').textContent()).toBe('70');
      expect(await at('Engineering').textContent()).toMatch(/30\.5$/);
      expect(await seriousViolations(page)).toEqual([]);
      await page.getByText('Show as a table').click();
      expect(await page.locator('#usage-table').isVisible()).toBe(true);
      const dir = process.env.CREDITS_SCREENSHOTS
        ? join(import.meta.dirname, '../../docs/screenshots')
        : join(tmpdir(), 'credits-dashboard-screenshots');
      mkdirSync(dir, { recursive: true });
      await page.setViewportSize({ width: 1280, height: 900 });
      await page.screenshot({ path: shotPath(dir, 'overview-chart-desktop.png'), fullPage: true });
    },
  );
});
