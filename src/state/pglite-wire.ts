// Serves one PGlite to other processes over the PostgreSQL wire protocol on a unix socket.
// PGlite is one backend session, so a connection gets it whole for a "turn": from its first message until the
// backend answers ReadyForQuery idle ('I'). A turn thus spans a whole extended-protocol exchange (Parse …
// Sync) and a whole transaction (BEGIN … COMMIT); nothing of another connection, nor of the owner's own
// queries, can run inside it. Turns are taken from `exclusive`, the same FIFO queue the owner's store uses.
import { chmodSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import type { PGlite } from '@electric-sql/pglite';

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;
const PROTOCOL_3 = 196608;
/** A connection that holds the backend and sends nothing for this long is cut (its transaction rolled back). */
const IDLE_IN_TURN_MS = 60_000;
/** Sync and `ROLLBACK`, sent for a connection that vanished mid-turn, so the next one starts clean. */
const SYNC = Uint8Array.from([0x53, 0, 0, 0, 4]);
const query = (sql: string): Uint8Array => {
  const body = Buffer.from(sql + '\0', 'utf8');
  const head = Buffer.alloc(5);
  head.write('Q', 0, 'latin1');
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
};

/** PGlite cannot read COPY data from a client: `COPY … FROM STDIN` ends its process. Such a connection is cut. */
const COPY_FROM_STDIN = /\bcopy\b[\s\S]*\bfrom\s+stdin\b/i;
const QUERY = 0x51;
const PARSE = 0x50;
const isCopyIn = (message: Buffer): boolean =>
  (message[0] === QUERY || message[0] === PARSE) && COPY_FROM_STDIN.test(message.toString('utf8', 5));

export type Exclusive = <T>(fn: () => Promise<T>) => Promise<T>;

export interface WireServer {
  /** Stops taking connections, waits up to `graceMs` for open ones to end, then cuts the rest. */
  close(graceMs?: number): Promise<void>;
}

/** Reads backend messages as they stream out and remembers the status of the last ReadyForQuery. */
function readyWatcher() {
  let header: number[] = [];
  let type = 0;
  let remaining = 0; // body bytes of the current message still to come
  let atBody = false;
  let status: string | undefined;
  return {
    feed(chunk: Uint8Array): void {
      let i = 0;
      while (i < chunk.length) {
        if (remaining > 0) {
          if (atBody && type === 0x5a) status = String.fromCharCode(chunk[i]!);
          atBody = false;
          const n = Math.min(remaining, chunk.length - i);
          remaining -= n;
          i += n;
          continue;
        }
        header.push(chunk[i++]!);
        if (header.length === 5) {
          type = header[0]!;
          remaining = Buffer.from(header).readInt32BE(1) - 4;
          atBody = true;
          header = [];
        }
      }
    },
    /** The status of a ReadyForQuery seen since the last call, if any. */
    take(): string | undefined {
      const s = status;
      status = undefined;
      return s;
    },
  };
}

/** The length of the first complete frontend message in `buf`, 0 while it is incomplete, -1 if malformed. */
function messageLength(buf: Buffer, started: boolean): number {
  const at = started ? 1 : 0; // the startup message has no type byte
  if (buf.length < at + 4) return 0;
  const declared = buf.readInt32BE(at);
  if (declared < 4) return -1;
  const len = at + declared;
  return buf.length >= len ? len : 0;
}

export async function serveWire(db: PGlite, exclusive: Exclusive, path: string): Promise<WireServer> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    connection(db, exclusive, socket);
  });
  rmSync(path, { force: true }); // a socket file left by an owner that died; we hold the lock now
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  chmodSync(path, 0o600);
  return {
    async close(graceMs = 30_000) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      const deadline = Date.now() + graceMs;
      while (sockets.size && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      for (const s of sockets) s.destroy();
      await closed;
      rmSync(path, { force: true });
    },
  };
}

function connection(db: PGlite, exclusive: Exclusive, socket: Socket): void {
  let buffer = Buffer.alloc(0);
  let started = false; // the startup message has been read
  let release: (() => void) | undefined; // set while this connection holds the backend
  let idle: NodeJS.Timeout | undefined;
  let work: Promise<void> = Promise.resolve();
  let gone = false;
  const watcher = readyWatcher();

  const takeTurn = () =>
    new Promise<() => void>((held) => {
      void exclusive(() => new Promise<void>((done) => held(done)));
    });
  const endTurn = () => {
    clearTimeout(idle);
    release?.();
    release = undefined;
  };
  const send = (message: Uint8Array) =>
    db.execProtocolRawStream(message, {
      onRawData: (data) => {
        watcher.feed(data);
        if (!gone) socket.write(Buffer.from(data));
      },
    });

  const handle = async (message: Buffer): Promise<void> => {
    if (!release) release = await takeTurn();
    clearTimeout(idle);
    if (gone) return;
    await send(message);
    if (watcher.take() === 'I') endTurn();
    else idle = setTimeout(() => socket.destroy(), IDLE_IN_TURN_MS);
  };

  const drain = async (): Promise<void> => {
    for (;;) {
      if (!started && buffer.length >= 8) {
        const code = buffer.readInt32BE(4);
        if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
          buffer = buffer.subarray(8);
          socket.write('N'); // no encryption on a local socket
          continue;
        }
        if (code === CANCEL_REQUEST) return void socket.destroy(); // nothing to cancel in one session
        if (code !== PROTOCOL_3) return void socket.destroy();
      }
      const len = messageLength(buffer, started);
      if (len < 0) return void socket.destroy();
      if (!len) return;
      const message = buffer.subarray(0, len);
      buffer = buffer.subarray(len);
      if (started && message[0] === 0x58) return void socket.end(); // Terminate: the session stays ours
      if (started && isCopyIn(message)) return void socket.destroy();
      started = true;
      await handle(Buffer.from(message));
    }
  };

  /** A connection gone mid-turn: end its extended exchange and its transaction before the next turn. */
  const cleanUp = async (): Promise<void> => {
    if (!release) return;
    try {
      await send(SYNC);
      const status = watcher.take();
      if (status === 'T' || status === 'E') await send(query('ROLLBACK'));
      watcher.take();
    } finally {
      endTurn();
    }
  };

  socket.on('data', (chunk) => {
    buffer = Buffer.concat([buffer, chunk]);
    work = work.then(drain).catch(() => void socket.destroy());
  });
  socket.on('error', () => socket.destroy());
  socket.once('close', () => {
    gone = true;
    work = work.then(cleanUp).catch(() => undefined);
  });
}
