// The sender's pure parts: settings from the environment, the retry schedule, the signature, shown urls.
import { describe, expect, it } from 'vitest';
import { createHmac } from 'node:crypto';
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
