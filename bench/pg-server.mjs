// A throw-away PostgreSQL server for benchmarks: default durability settings (fsync on), a free port, its own
// temp dir; as root the binaries run as the postgres user. Uses DATABASE_URL's server instead when set.
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = '/usr/lib/postgresql';
const binDir = () => {
  const v = readdirSync(root)
    .filter((d) => existsSync(join(root, d, 'bin', 'postgres')))
    .sort((a, b) => b - a)[0];
  return join(root, v, 'bin');
};
const asRoot = process.getuid?.() === 0;
const wrap = (bin, args) => (asRoot ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args]);
const freePort = () =>
  new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

export async function startServer() {
  const bin = binDir();
  const base = mkdtempSync(join(tmpdir(), 'credits-bench-pg-'));
  const data = join(base, 'data');
  if (asRoot) {
    const id = (f) => Number(execFileSync('id', [f, 'postgres']).toString());
    chownSync(base, id('-u'), id('-g'));
  }
  const run = (name, args) => {
    const [cmd, a] = wrap(join(bin, name), args);
    const r = spawnSync(cmd, a, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${name} failed: ${r.stderr}`);
    return r.stdout;
  };
  run('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8']);
  const port = await freePort();
  run('pg_ctl', [
    '-D',
    data,
    '-w',
    '-l',
    join(base, 'log'),
    '-o',
    `-p ${port} -k ${base} -c listen_addresses=127.0.0.1 -c max_connections=200 ${process.env.BENCH_PG_OPTIONS ?? ''}`,
    'start',
  ]);
  return {
    port,
    url: (db) => `postgres://postgres@127.0.0.1:${port}/${db}`,
    bin: (name) => join(bin, name),
    connArgs: (db) => ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', db],
    // psql is a client: it runs as the caller (so \\copy reads the caller's files), input through stdin
    // so that meta-commands (\\timing, \\copy) work.
    psql: (sql, db = 'postgres') => {
      const args = [
        '-h',
        '127.0.0.1',
        '-p',
        String(port),
        '-U',
        'postgres',
        '-d',
        db,
        '-qAt',
        '-v',
        'ON_ERROR_STOP=1',
      ];
      const r = spawnSync(join(bin, 'psql'), args, { input: sql + '\n', encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`psql failed: ${r.stderr}`);
      return r.stdout;
    },
    async stop() {
      run('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
      rmSync(base, { recursive: true, force: true });
    },
  };
}
