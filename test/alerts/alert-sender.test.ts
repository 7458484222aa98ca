// The sender's pure parts: settings from the environment, the retry schedule, the signature, shown urls.
import { describe, expect, it } from 'vitest';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  ALERT_SENDER_DEFAULTS,
  alertSenderOptions,
  retryDelay,
  shownUrl,
} from '../../src/api/alert-sender.js';
import { signatureHeader } from '../../src/api/alert-signature.js';

describe('alert sender', () => {
  it('reads its settings from CREDITS_ALERT_* and refuses anything but a whole number from 1', () => {
    expect(alertSenderOptions({})).toEqual(ALERT_SENDER_DEFAULTS);
    expect(alertSenderOptions({ CREDITS_ALERT_MAX_ATTEMPTS: '3', CREDITS_ALERT_POLL_MS: '' })).toMatchObject({
      maxAttempts: 3,
      pollMs: 1000,
    });
    for (const bad of ['0', '-1', '1.5', 'abc', '1e3', '9999999999'])
      expect(() => alertSenderOptions({ CREDITS_ALERT_BACKOFF_MS: bad })).toThrow(/CREDITS_ALERT_BACKOFF_MS/);
  });

  it('waits backoff · 2^(n−1), capped, times a jitter in [0.5, 1.5)', () => {
    const o = { ...ALERT_SENDER_DEFAULTS, backoffMs: 1000, maxBackoffMs: 60_000 };
    expect([1, 2, 3, 4].map((n) => retryDelay(n, o, () => 0.5))).toEqual([1000, 2000, 4000, 8000]);
    expect(retryDelay(1, o, () => 0)).toBe(500);
    expect(retryDelay(1, o, () => 0.999)).toBe(1499);
    expect(retryDelay(40, o, () => 0.5)).toBe(60_000);
  });

  it('signs "<t>.<body>" with HMAC-SHA256 of the secret', () => {
    const body = '{"id":"e1"}';
    const want = createHmac('sha256', 'shh').update(`1700000000.${body}`).digest('hex');
    expect(signatureHeader('shh', body, 1700000000)).toBe(`t=1700000000,v1=${want}`);
  });

  it('shows a url without its query or fragment', () => {
    expect(shownUrl('https://h.example/a/b?token=x')).toBe('https://h.example/a/b?…');
    expect(shownUrl('https://h.example/a#frag')).toBe('https://h.example/a?…');
    expect(shownUrl('http://127.0.0.1:9/hook')).toBe('http://127.0.0.1:9/hook');
  });
});

describe('the receiver example in docs/alerts.md', () => {
  // Five lines, the import and four more, run as written against signed bodies.
  const doc = readFileSync('docs/alerts.md', 'utf8');
  const block = /## Verifying a delivery[\s\S]*?```js\n([\s\S]*?)```/.exec(doc)![1]!;
  const lines = block.trim().split('\n');
  expect(lines[0]).toBe("import { createHmac, timingSafeEqual } from 'node:crypto';");
  const receive = new Function(
    'createHmac',
    'timingSafeEqual',
    'process',
    'req',
    'rawBody',
    'res',
    `${lines.slice(1).join('\n')}\nreturn 'accepted';`,
  ) as (...args: unknown[]) => unknown;
  const run = (header: string, body: string) => {
    let refused = false;
    const res = { writeHead: () => ({ end: () => (refused = true) }) };
    const env = { env: { CREDITS_WEBHOOK_SECRET: 'whsec_doc' } };
    const out = receive(
      createHmac,
      timingSafeEqual,
      env,
      { headers: { 'credits-signature': header } },
      body,
      res,
    );
    return refused ? 'refused' : out;
  };

  it('has five lines, accepts a signed body and refuses a changed, foreign or old one', () => {
    expect(lines).toHaveLength(5);
    const body = '{"id":"e1","type":"budget.threshold"}';
    const now = Math.floor(Date.now() / 1000);
    expect(run(signatureHeader('whsec_doc', body, now), body)).toBe('accepted');
    expect(run(signatureHeader('whsec_doc', body, now), body.replace('e1', 'e2'))).toBe('refused');
    expect(run(signatureHeader('another', body, now), body)).toBe('refused');
    expect(run(signatureHeader('whsec_doc', body, now - 3600), body)).toBe('refused');
  });

  it('refuses forged headers with 400 instead of throwing (a 500 in most servers)', () => {
    const body = '{"id":"e1"}';
    const now = Math.floor(Date.now() / 1000);
    // 64 characters, 65 bytes: timingSafeEqual throws on buffers of different lengths.
    expect(run(`t=${now},v1=${'é'.padEnd(64, '0')}`, body)).toBe('refused');
    expect(run(undefined as unknown as string, body)).toBe('refused');
    expect(run('garbage', body)).toBe('refused');
    expect(run(`t=${now},v1=`, body)).toBe('refused');
  });
});
