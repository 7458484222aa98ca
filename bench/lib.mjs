// Shared benchmark helpers: timing whole processes and functions, medians over repeated runs.
import { spawnSync } from 'node:child_process';

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
