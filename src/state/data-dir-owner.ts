// Who owns an embedded data directory. The lock is a listening socket whose address is derived from the
// directory's real path: on Linux an abstract-namespace unix socket, elsewhere a loopback TCP port. Binding
// it is atomic in the kernel and the kernel frees it when the process dies (even by kill -9), so there is no
// stale lock to detect and no moment where two processes both own. Whoever connects to the lock is told,
// in one JSON line, who the owner is and where it serves the database (see pglite-wire.ts).
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';

export interface OwnerInfo {
  pid: number;
  /** The owner's command line, e.g. `credits serve --port 3000`. */
  command: string;
  /** true for `credits serve`, which stays; false for a CLI command, which ends soon. */
  serving: boolean;
  /** The unix socket where the owner serves the database ('' until it is ready). */
  socket: string;
  state: 'starting' | 'ready' | 'closing';
}

export interface Ownership {
  /** Tells askers from now on where the database is served. */
  ready(socket: string): void;
  /** Resolves once no asker has been told 'ready' for `ms`: those told have had time to connect. */
  settled(ms: number): Promise<void>;
  /** From now on askers are told to wait: the owner is closing the database. */
  closing(): void;
  /** Frees the lock; call only once the database is closed. */
  release(): Promise<void>;
}

const digest = (realDir: string): string => createHash('sha256').update(realDir).digest('hex');

type LockAddress = { path: string } | { host: string; port: number };

function lockAddress(realDir: string): LockAddress {
  const hash = digest(realDir);
  if (process.platform === 'linux') return { path: `\0credits-${hash.slice(0, 40)}` };
  return { host: '127.0.0.1', port: 20000 + (parseInt(hash.slice(0, 8), 16) % 40000) };
}

/** Unix socket paths are limited to about 107 bytes: beside the directory when that fits, else in tmp. */
export function socketPathFor(realDir: string): string {
  const beside = join(dirname(realDir), `${basename(realDir)}.sock`);
  if (Buffer.byteLength(beside) <= 100) return beside;
  const dir = join(tmpdir(), `credits-${process.getuid?.() ?? 'user'}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return join(dir, `${digest(realDir).slice(0, 24)}.sock`);
}

/** The lock for `realDir`, or undefined when another process holds it. */
export async function claimOwnership(
  realDir: string,
  me: Pick<OwnerInfo, 'pid' | 'command' | 'serving'>,
): Promise<Ownership | undefined> {
  let info: OwnerInfo = { ...me, socket: '', state: 'starting' };
  let lastReady = 0;
  const server: Server = createServer((s) => {
    s.on('error', () => s.destroy());
    if (info.state === 'ready') lastReady = Date.now();
    s.end(JSON.stringify(info) + '\n');
  });
  const bound = await new Promise<boolean>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      err.code === 'EADDRINUSE' ? resolve(false) : reject(err),
    );
    server.listen({ ...lockAddress(realDir), exclusive: true }, () => resolve(true));
  });
  if (!bound) return undefined;
  server.unref(); // the lock alone must not keep a finished command alive
  return {
    ready: (socket) => {
      info = { ...me, socket, state: 'ready' };
    },
    async settled(ms) {
      while (Date.now() - lastReady < ms) await new Promise((r) => setTimeout(r, 25));
    },
    closing: () => {
      info = { ...me, socket: '', state: 'closing' };
    },
    release: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * What the owner of `realDir` says about itself: undefined when nobody holds the lock (any more), 'busy' when
 * it has not answered within `timeoutMs` (still opening the database), 'silent' when what holds the address
 * does not answer as credits does.
 */
export function askOwner(
  realDir: string,
  timeoutMs: number,
): Promise<OwnerInfo | undefined | 'busy' | 'silent'> {
  return new Promise((resolve) => {
    const s = connect(lockAddress(realDir));
    let text = '';
    const timer = setTimeout(() => {
      resolve('busy');
      s.destroy();
    }, timeoutMs);
    s.setEncoding('utf8');
    s.on('data', (chunk: string) => {
      text += chunk;
      if (text.length > 65536) s.destroy();
    });
    s.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      // Refused: nobody listens. Reset or a full backlog: an owner closing or busy; the caller asks again.
      resolve(err.code === 'ECONNREFUSED' || err.code === 'ENOENT' ? undefined : 'busy');
    });
    s.on('close', () => {
      clearTimeout(timer);
      resolve(parseInfo(text));
    });
  });
}

function parseInfo(text: string): OwnerInfo | undefined | 'silent' {
  if (!text.trim()) return undefined; // closed without a word: the owner ended while we asked
  try {
    const v = JSON.parse(text) as Partial<OwnerInfo>;
    if (typeof v.pid === 'number' && typeof v.command === 'string' && typeof v.socket === 'string') {
      return {
        pid: v.pid,
        command: v.command,
        serving: v.serving === true,
        socket: v.socket,
        state: v.state === 'ready' ? 'ready' : 'closing',
      };
    }
  } catch {
    // not ours
  }
  return 'silent';
}
