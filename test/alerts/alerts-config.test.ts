// The `alerts` block of credits.yaml: coded errors at their line:col for every bad value, and its normal form.
import { describe, expect, it } from 'vitest';
import { loadConfig, type LoadResult } from '../../src/config/load-config.js';
import { formatError } from '../../src/errors.js';

const head = 'version: 1\naccount:\n  id: acme\n  creditLimit: 1000\n';
const load = (alerts: string): LoadResult => loadConfig(head + alerts, { file: 'credits.yaml' });
const failures = (alerts: string): string[] => {
  const result = load(alerts);
  if (result.ok) throw new Error('expected the file to be refused');
  return result.errors.map((e) => formatError(e).split('\n')[0]!);
};
const hook = (fields: string): string => `alerts:\n  thresholds: [50]\n  webhooks:\n    - ${fields}\n`;

describe('alerts in credits.yaml', () => {
  it('normalises thresholds (sorted, canonical) and webhooks (sorted by url, all scopes by default)', () => {
    const result = load(
      `alerts:\n  thresholds: [100, 50.0, 80]\n  webhooks:\n` +
        `    - url: https://b.example/x\n      secretEnv: B_SECRET\n      scopes: [account, member]\n` +
        `    - url: https://a.example/x\n      secretEnv: A_SECRET\n`,
    );
    expect(result.ok && result.desired.alerts).toEqual({
      thresholds: ['50', '80', '100'],
      webhooks: [
        { url: 'https://a.example/x', secretEnv: 'A_SECRET', scopes: ['member', 'group', 'account'] },
        { url: 'https://b.example/x', secretEnv: 'B_SECRET', scopes: ['member', 'account'] },
      ],
    });
  });

  it('reports .nan and .inf as not finite, not as a threshold listed twice', () => {
    const codes = failures('alerts:\n  thresholds: [.nan, .inf]\n').map((line) => line.split(/\s+/)[1]);
    expect(codes).toContain('NUMBER_NON_FINITE');
    expect(codes).not.toContain('ALERT_THRESHOLD_DUPLICATE');
  });

  it.each([
    ['0', 'ALERT_THRESHOLD_RANGE'],
    ['-5', 'ALERT_THRESHOLD_RANGE'],
    ['100.5', 'ALERT_THRESHOLD_RANGE'],
    ['99.995', 'ALERT_THRESHOLD_RANGE'],
  ])('refuses threshold %s', (t, code) => {
    expect(failures(`alerts:\n  thresholds: [50, ${t}]\n`)).toEqual([
      `credits.yaml:6:20  ${code}  alert threshold ${t} is not a percentage above 0 and at most 100 with at most 2 decimal places`,
    ]);
  });

  it('refuses a non-number threshold and a repeated one (80 and 80.0 are one)', () => {
    expect(failures('alerts:\n  thresholds: [50, high]\n')).toEqual([
      'credits.yaml:6:20  SCHEMA_TYPE  alerts.thresholds.1 must be a number, got string "high"',
    ]);
    expect(failures('alerts:\n  thresholds: [80, 50, 80.0]\n')).toEqual([
      'credits.yaml:6:24  ALERT_THRESHOLD_DUPLICATE  alert threshold 80.0 is listed twice',
    ]);
  });

  it.each([
    ['https://HOOKS.example/x', 'https://hooks.example/x'],
    ['https://hooks.example:443/x', 'https://hooks.example/x'],
  ])('refuses %s after %s: one receiver, which would get every alert twice', (second, first) => {
    const text = `alerts:\n  thresholds: [50]\n  webhooks:\n    - url: ${first}\n      secretEnv: S\n    - url: ${second}\n      secretEnv: S\n`;
    expect(failures(text)).toEqual([
      `credits.yaml:10:12  ALERT_WEBHOOK_DUPLICATE  webhook url ${second} is listed twice`,
    ]);
    // A path differing in case is another url.
    expect(load(text.replace(second, `${first.slice(0, -1)}X`)).ok).toBe(true);
  });

  it.each([
    ['ftp://hooks.example/x', 'it is not https:// or http://'],
    ['http://hooks.example/x', 'http:// is allowed only to localhost, 127.0.0.1 or [::1]'],
    ['https://user:pw@hooks.example/x', 'it holds a user or password'],
    ['https://', 'it is not a URL'],
  ])('refuses the webhook url %s', (url, reason) => {
    const [line] = failures(hook(`url: ${url}\n      secretEnv: S`));
    expect(line).toMatch(/^credits\.yaml:8:12 {2}ALERT_BAD_URL {2}webhook url /);
    if (!url.startsWith('ftp')) expect(line).toContain(reason);
  });

  it('accepts http:// to the machine itself', () => {
    expect(load(hook('url: http://127.0.0.1:9999/hook\n      secretEnv: S')).ok).toBe(true);
  });

  it('refuses a secretEnv that is not a variable name (a secret pasted in), without repeating it', () => {
    expect(failures(hook('url: https://h.example/x\n      secretEnv: "whsec 123"'))).toEqual([
      'credits.yaml:9:18  ALERT_BAD_SECRET_ENV  secretEnv is not the name of an environment variable (the value is not shown: it may be a secret)',
    ]);
    for (const pasted of ['1ABC', '123456789', 'whsec_live-9f8e', '[a, b]']) {
      const lines = failures(hook(`url: https://h.example/x\n      secretEnv: ${pasted}`));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain('ALERT_BAD_SECRET_ENV');
      expect(lines[0]).not.toContain(pasted);
    }
  });

  it('refuses an unknown scope, a repeated scope, a repeated url and unknown keys', () => {
    expect(
      failures(hook('url: https://h.example/x\n      secretEnv: S\n      scopes: [member, team]')),
    ).toEqual(['credits.yaml:10:24  ALERT_UNKNOWN_SCOPE  unknown alert scope team']);
    expect(
      failures(hook('url: https://h.example/x\n      secretEnv: S\n      scopes: [group, group]'))[0],
    ).toMatch(/^credits\.yaml:10:23 {2}SCHEMA_VALUE {2}.*scope group is listed twice/);
    expect(
      failures(
        `alerts:\n  thresholds: [50]\n  webhooks:\n    - url: https://h.example/x\n      secretEnv: S\n` +
          `    - url: https://h.example/x\n      secretEnv: T\n`,
      ),
    ).toEqual([
      'credits.yaml:10:12  ALERT_WEBHOOK_DUPLICATE  webhook url https://h.example/x is listed twice',
    ]);
    expect(failures(hook('url: https://h.example/x\n      secret: S'))).toEqual([
      'credits.yaml:8:7  SCHEMA_REQUIRED  missing required key secretEnv in alerts.webhooks.0',
      'credits.yaml:9:7  SCHEMA_UNKNOWN_KEY  unknown key secret in alerts.webhooks.0',
    ]);
    expect(failures('alerts:\n  treshold: [50]\n')[1]).toContain('did you mean thresholds?');
  });
});
