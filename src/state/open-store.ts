// Picks the store: PostgreSQL when a URL is given, else embedded PGlite in a folder. Drivers load lazily.
// One process owns an embedded folder (see data-dir-owner.ts): the first opens PGlite and serves it on a unix
// socket; every other process works through that owner over the wire protocol, never on a copy of its own.
import { mkdirSync, realpathSync } from 'node:fs';
import { CreditsError } from '../errors.js';
import { askOwner, claimOwnership, socketPathFor, type OwnerInfo, type Ownership } from './data-dir-owner.js';
import type { Store } from './store.js';

export interface OpenStoreOptions {
  databaseUrl?: string;
  dataDir?: string;
  /** 'serve' never works through another server: it refuses when one owns the folder (DATABASE_IN_USE). */
  role?: 'serve' | 'command';
  /** How long to wait for an owner that is starting, closing, or (for serve) a CLI command to finish. */
  waitMs?: number;
  /** Told once when this process has to wait for the owner (to say so on stderr). */
  onWait?: (owner: OwnerInfo) => void;
}

// Opening a fresh folder (initdb, migrations) takes seconds, many on a loaded machine; a CLI owner ends soon.
const DEFAULT_WAIT_MS = 120_000;
const RETRY_MS = 100;
const ASK_MS = 10_000;
/** An owner closing lets processes it just told where it serves connect first (then waits for them). */
const SETTLE_MS = 500;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function openStore(opts: OpenStoreOptions): Promise<Store> {
  if (opts.databaseUrl) {
    const { createPgStore } = await import('./pg-store.js');
    return createPgStore(opts.databaseUrl);
  }
  const dir = opts.dataDir ?? '.credits/db';
  mkdirSync(dir, { recursive: true });
  return openEmbedded(dir, opts.role ?? 'command', opts.waitMs ?? DEFAULT_WAIT_MS, opts.onWait);
}

const commandLine = (): string => ['credits', ...process.argv.slice(2)].join(' ').slice(0, 200);

const inUse = (dir: string, owner: OwnerInfo | undefined, reason: string): CreditsError =>
  new CreditsError('DATABASE_IN_USE', {
    dir,
    pid: owner ? owner.pid : 'unknown',
    command: owner ? owner.command : 'not known: it did not answer',
    reason,
  });

async function openEmbedded(
  dir: string,
  role: 'serve' | 'command',
  waitMs: number,
  onWait?: (owner: OwnerInfo) => void,
): Promise<Store> {
  const realDir = realpathSync(dir);
  const me = { pid: process.pid, command: commandLine(), serving: role === 'serve' };
  const deadline = Date.now() + waitMs;
  let last: OwnerInfo | undefined;
  for (;;) {
    const own = await claimOwnership(realDir, me);
    if (own) return openAsOwner(dir, realDir, own);
    // The owner answers at once unless its event loop is busy (PGlite's initdb runs in one go).
    const owner = await askOwner(realDir, Math.max(Math.min(deadline - Date.now(), ASK_MS), 1));
    if (owner === 'silent') throw inUse(dir, undefined, 'what holds it does not answer as credits');
    if (owner && owner !== 'busy') {
      // A server that is closing is waited out, so a restart can follow a stop at once.
      if (role === 'serve' && owner.serving && owner.state !== 'closing') {
        throw inUse(dir, owner, 'a server already serves this folder');
      }
      if (!last && role === 'serve') onWait?.(owner);
      last = owner;
    }
    if (owner !== 'busy' && owner?.state === 'ready') {
      if (role === 'command') {
        const through = await throughOwner(owner);
        if ('store' in through) return through.store;
        // Refused: fine if the owner ended in between (a short CLI command); an error if it is still there.
        const again = await askOwner(realDir, Math.max(deadline - Date.now(), 1));
        if (typeof again === 'object' && again.state === 'ready' && again.pid === owner.pid) {
          throw inUse(dir, owner, `cannot connect to it at ${owner.socket}: ${through.reason}`);
        }
      }
    }
    // Nobody (any more), an owner closing, or a CLI command a server waits out: try again.
    if (Date.now() >= deadline) throw inUse(dir, last, `still held after ${Math.round(waitMs / 1000)} s`);
    await sleep(RETRY_MS);
  }
}

async function openAsOwner(dir: string, realDir: string, own: Ownership): Promise<Store> {
  const { openPgliteStore } = await import('./pglite-store.js');
  let store;
  try {
    store = await openPgliteStore(dir);
  } catch (err) {
    await own.release();
    throw err;
  }
  let wire;
  try {
    wire = await store.serveWire(socketPathFor(realDir));
  } catch (err) {
    await store.close();
    await own.release();
    throw err;
  }
  own.ready(socketPathFor(realDir));
  let closing: Promise<void> | undefined;
  // The lock is freed only after PGlite is closed, so the next owner never opens the folder alongside.
  const close = async () => {
    await own.settled(SETTLE_MS);
    own.closing();
    await wire.close();
    await store.close();
    await own.release();
  };
  return {
    ...store,
    close: () => (closing ??= close()),
  };
}

/** A store over the owner's socket, or why it could not connect. */
async function throughOwner(owner: OwnerInfo): Promise<{ store: Store } | { reason: string }> {
  const { createPgStore } = await import('./pg-store.js');
  // One connection, as PGlite has: the owner runs one turn at a time anyway. No COPY FROM STDIN (PGlite
  // cannot take it over the wire); bulk writes use plain SQL. kind 'pglite' keeps its upkeep (ANALYZE).
  // Kept open while idle: an owner that is a CLI command waits for it before closing the database.
  const store = createPgStore('postgres://postgres@localhost/postgres', {
    socket: owner.socket,
    kind: 'pglite',
    copy: false,
    max: 1,
    idleTimeoutMillis: 0,
    applicationName: 'credits via owner',
  });
  try {
    await store.query('SELECT 1');
    return { store };
  } catch (err) {
    await store.close();
    return { reason: (err as Error).message };
  }
}
