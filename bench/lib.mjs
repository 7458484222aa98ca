// Shared benchmark helpers: timing whole processes and functions, medians over repeated runs.
import { spawn, spawnSync } from 'node:child_process';

export function timeProcess(args, { runs = 5, env = {}, cwd } = {}) {
  const times = [];
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    // stdout is discarded: a 100k-change plan would overflow spawnSync's buffer (and printing is not the point).
    const r = spawnSync(process.execPath, args, {
      env: { ...process.env, ...env },
      cwd,
      encoding: 'utf8',
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (r.status !== 0 && r.status !== 2)
      throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
    times.push(ms);
  }
  return median(times);
}

export async function timeAsync(fn, { runs = 5 } = {}) {
  const times = [];
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    await fn();
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return median(times);
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

export const fmt = (ms) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`);
export const ratio = (a, b) => `${(a / b).toFixed(2)}×`;

/**
 * Starts `credits serve` on PostgreSQL `url` with logging off and rate limits out of the way, and resolves once
 * /healthz answers: `{ child, port }`. The caller kills the child.
 */
export async function startServe(url) {
  const port = 3900 + Math.floor(Math.random() * 500);
  const child = spawn(
    process.execPath,
    [new URL('../bin/credits.js', import.meta.url).pathname, 'serve', '--port', String(port)],
    {
      env: { ...process.env, DATABASE_URL: url, CREDITS_LOG: 'off', CREDITS_RATE_LIMIT: '100000000' },
      stdio: 'ignore',
    },
  );
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) break;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  return { child, port };
}
