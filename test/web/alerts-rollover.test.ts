// The Overview's latest alerts and the Rolled over figures, end to end: a real `credits serve` process on a
// throw-away PostgreSQL delivers threshold alerts to two local webhooks (one answers 200, one 503 until the
// delivery is given up), a cycle reset makes the declared rollovers carry, and Debian's Chromium reads the
// Overview, Allocations and a member's page, each clean under axe-core (no violation of any impact).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { freePort, startServeProcess, type ServeProcess } from '../support/serve-process.js';
import { pgWithConfig } from '../support/databases.js';
import { createToken } from '../../src/state/tokens.js';
import { allViolations } from './axe.js';

const CHROMIUM = '/usr/bin/chromium';
/** CREDITS_SCREENSHOTS=1 writes the docs' Overview, Allocations and member screenshots from this file. */
const SHOTS = process.env.CREDITS_SCREENSHOTS
  ? join(import.meta.dirname, '../../docs/screenshots')
  : join(tmpdir(), 'credits-dashboard-screenshots');

let serve: ServeProcess;
let browser: Browser;
const hooks: Server[] = [];
let admin = '';
let alice = '';
let okUrl = '';
let downUrl = '';

async function hook(status: number): Promise<string> {
  const port = await freePort();
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(status).end());
  });
  await new Promise<void>((done) => server.listen(port, '127.0.0.1', done));
  hooks.push(server);
  return `http://127.0.0.1:${port}/hook`;
}

async function api(method: string, path: string, body?: unknown) {
  const res = await fetch(serve.base + path, {
    method,
    headers: {
      authorization: `Bearer ${admin}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

type Delivery = { url: string; status: string };
type Alert = { deliveries: Delivery[] };

beforeAll(async () => {
  okUrl = await hook(200);
  downUrl = await hook(503);
  const yaml = `version: 1
account:
  id: acme
  name: Acme Corp
  creditLimit: 100000
  creditFactor: 1000
groups:
  engineering:
    name: Engineering
    allocation: 40000
    extra: 5000
    members:
      alice@acme.com:
        allocation: 5000
        rollover: { max: 1000 }
      bob@acme.com: { allocation: 3000, extra: 500 }
  research:
    name: Research
    allocation: 30000
    rollover: { max: 5000 }
    members:
      dave@acme.com: 10000
      erin@acme.com: {}
alerts:
  thresholds: [50, 80]
  webhooks:
    - url: ${okUrl}
      secretEnv: ROLL_SECRET
    - url: ${downUrl}
      secretEnv: ROLL_SECRET
      scopes: [member]
`;
  const { url, store } = await pgWithConfig(yaml);
  admin = (await createToken(store, { accountId: 'acme', role: 'admin' })).token;
  alice = (await createToken(store, { accountId: 'acme', role: 'member', member: 'alice@acme.com' })).token;
  serve = await startServeProcess(url, {
    ROLL_SECRET: 'not-a-real-secret',
    CREDITS_ALERT_POLL_MS: '100',
    CREDITS_ALERT_BACKOFF_MS: '50',
    CREDITS_ALERT_MAX_ATTEMPTS: '2',
    // A group's alert may wait for the sweep (its counter is sliced, docs/alerts.md).
    CREDITS_ALERT_SWEEP_MS: '200',
  });
  // Cycle 1: alice leaves 900 of 5,000 unused (rolls over, under her max 1,000); research's pool (20,000)
  // is untouched (5,000 rolls over). Cycle 2: bob crosses 50 % and 80 % of his 3,500, and erin (a pool
  // member) half of Research's 30,000, a group alert only the first webhook takes.
  for (const [member, credits] of [
    ['alice@acme.com', '4100'],
    ['dave@acme.com', '1000'],
  ]) {
    expect((await api('POST', '/v1/usage', { member, credits })).status).toBe(201);
  }
  expect((await api('POST', '/v1/cycle/reset', {})).status).toBeLessThan(300);
  for (const [member, credits] of [
    ['alice@acme.com', '600'],
    ['bob@acme.com', '2900'],
    ['erin@acme.com', '15000'],
  ]) {
    expect((await api('POST', '/v1/usage', { member, credits })).status).toBe(201);
  }
  // Every delivery settled: the 200 webhook delivered, the 503 one given up after its 2 attempts.
  const statuses = async () => {
    const alerts = (await api('GET', '/v1/alerts?limit=5')).body.alerts as Alert[];
    return alerts.flatMap((a) => a.deliveries.map((d) => d.status)).sort();
  };
  const settled = [...Array<string>(5).fill('delivered'), ...Array<string>(4).fill('failed')];
  for (let i = 0; i < 100 && JSON.stringify(await statuses()) !== JSON.stringify(settled); i++) {
    await new Promise((r) => setTimeout(r, 200));
  }
  expect(await statuses()).toEqual(settled);

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
  mkdirSync(SHOTS, { recursive: true });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  serve?.child.kill('SIGTERM');
  await serve?.exited;
  for (const h of hooks) h.close();
});

async function open(token: string, tab: string, colorScheme: 'light' | 'dark' = 'light'): Promise<Page> {
  const context = await browser.newContext({ colorScheme, timezoneId: 'UTC' });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto(`${serve.base}/#token=${encodeURIComponent(token)}`);
  if (tab !== 'member' && tab !== 'overview') {
    await page.locator(`#panel[data-state="ready"][data-tab="overview"]`).waitFor();
    await page.locator(`#tab-${tab}`).click();
  }
  await page.locator(`#panel[data-state="ready"][data-tab="${tab}"]`).waitFor();
  return page;
}

/** Desktop, then phone (which must not scroll sideways), each checked by axe and saved as `<name>-*.png`. */
async function desktopAndPhone(page: Page, name: string) {
  expect(await allViolations(page), `${name} at 1280 px`).toEqual([]);
  await page.screenshot({ path: join(SHOTS, `${name}-desktop.png`), fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  expect(await page.evaluate('document.documentElement.scrollWidth'), `${name} at 390 px`).toBe(390);
  expect(await allViolations(page), `${name} at 390 px`).toEqual([]);
  await page.screenshot({ path: join(SHOTS, `${name}-phone.png`), fullPage: true });
}

/** The cell of `row` under the header named `column` of `table`. */
async function cell(page: Page, table: string, row: string, column: string) {
  const heads = (await page.locator(`${table} thead th`).allTextContents()).map((t) => t.trim());
  const index = heads.findIndex((t) => t.startsWith(column));
  expect(index, `${table} has a "${column}" column`).toBeGreaterThanOrEqual(0);
  return (await page.locator(`${table} ${row}`).locator('th, td').nth(index).textContent())?.trim();
}

describe('dashboard over a real credits serve: alerts and rollover', () => {
  it('Overview lists the latest alerts: a time with its zone, used / budget, each delivery with status and reason', async () => {
    const page = await open(admin, 'overview');
    const rows = page.locator('#overview-alerts tbody tr');
    expect(await rows.count()).toBe(5);
    const row = (who: string, threshold: string) =>
      rows.filter({ has: page.locator('th', { hasText: who }) }).filter({ hasText: threshold });
    const bob80 = row('bob@acme.com', '80%');
    expect(await bob80.locator('td').allTextContents()).toEqual(
      expect.arrayContaining(['80%', '2,900 / 3,500']),
    );
    expect(await bob80.locator('td.when').textContent()).toMatch(/\d{1,2}:\d{2}\s?[AP]M UTC$/);
    const deliveries = bob80.locator('.alert-delivery');
    expect(await deliveries.allTextContents()).toEqual(
      [`delivered ${okUrl} · HTTP 200`, `failed ${downUrl} · gave up after 2 attempts: HTTP 503`].sort(
        (a, b) => (a.slice(a.indexOf(' ')) < b.slice(b.indexOf(' ')) ? -1 : 1),
      ),
    );
    // The status is a word in a coloured badge, not a colour alone.
    expect(await deliveries.filter({ hasText: downUrl }).locator('.badge-denied').textContent()).toBe(
      'failed',
    );
    expect(await row('alice@acme.com', '50%').locator('td').allTextContents()).toEqual(
      expect.arrayContaining(['50%', '4,100 / 5,000']),
    );
    // A group's alert names the group as the other tables do; only the first webhook takes group alerts.
    const group = row('Research (group)', '50%');
    expect(await group.locator('td').allTextContents()).toEqual(expect.arrayContaining(['15,000 / 30,000']));
    expect(await group.locator('.alert-delivery').allTextContents()).toEqual([
      `delivered ${okUrl} · HTTP 200`,
    ]);
    // The groups table says what of Research's pool rolled over, as Allocations does.
    expect(await cell(page, '#overview-groups', 'tr[data-group="research"]', 'Rolled over')).toBe('5,000');
    // The cycle's start and end name their zone too (the browser's, here UTC).
    expect(await page.locator('[data-stat="cycle"] .stat-detail').textContent()).toMatch(/ UTC – .* UTC /);
    await desktopAndPhone(page, 'overview');
    const dark = await open(admin, 'overview', 'dark');
    expect(await allViolations(dark)).toEqual([]);
    await dark.screenshot({ path: join(SHOTS, 'overview-dark.png'), fullPage: true });
  });

  it('Allocations shows what rolled over: Research’s pool 5,000 in the groups, alice’s 900 in the members', async () => {
    const page = await open(admin, 'allocations');
    expect(await cell(page, '#groups-table', 'tr[data-group="research"]', 'Rolled over')).toBe('5,000');
    expect(await cell(page, '#groups-table', 'tr[data-group="engineering"]', 'Rolled over')).toBe('0');
    expect(await cell(page, '#groups-table', '#groups-totals', 'Rolled over')).toBe('5,000');
    await page.locator('#members-table tr[data-member="alice@acme.com"]').waitFor();
    expect(await cell(page, '#members-table', 'tr[data-member="alice@acme.com"]', 'Rolled over')).toBe('900');
    expect(await cell(page, '#members-table', 'tr[data-member="bob@acme.com"]', 'Rolled over')).toBe('0');
    // Remaining includes what is left of the carry: 5,000 + 900 − 600.
    expect(await cell(page, '#members-table', 'tr[data-member="alice@acme.com"]', 'Remaining')).toBe('5,300');
    await desktopAndPhone(page, 'allocations');
  });

  it('the member page shows the Rolled over figure and what is left of it', async () => {
    const page = await open(alice, 'member');
    const rolled = page.locator('[data-stat="rolled-over"]');
    expect(await rolled.locator('.stat-value').textContent()).toBe('900');
    expect(await rolled.locator('.stat-detail').textContent()).toContain('300 left');
    expect(await page.locator('[data-stat="resets"] .stat-value').textContent()).toMatch(/ UTC$/);
    await desktopAndPhone(page, 'member');
  });
});
