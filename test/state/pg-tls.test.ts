// DATABASE_URL as managed PostgreSQL providers give it: a server with ssl=on and a self-signed certificate made
// by openssl, and the CLI as a child process. sslmode follows libpq: require encrypts without verifying,
// verify-full verifies against sslrootcert; a failed verification says which sslmode to use; the driver prints
// no warnings; a wrong password is refused without showing it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startCluster, type PgCluster } from '../support/global-setup.js';

const PASSWORD = 'pa55-w0rd';
let cluster: PgCluster;
let certDir: string;

beforeAll(async () => {
  certDir = mkdtempSync(join(tmpdir(), 'credits-tls-'));
  // A self-signed server certificate for localhost, as a private CA would issue it.
  execFileSync(
    'openssl',
    [
      ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=localhost'],
      ...['-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'],
      ...['-keyout', join(certDir, 'server.key'), '-out', join(certDir, 'server.crt')],
    ],
    { stdio: 'pipe' },
  );
  cluster = await startCluster({
    password: PASSWORD,
    settings: ['ssl=on'],
    prepare: (dataDir, own) => {
      for (const f of ['server.crt', 'server.key']) {
        copyFileSync(join(certDir, f), join(dataDir, f));
        chmodSync(join(dataDir, f), 0o600);
        own(join(dataDir, f));
      }
    },
  });
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
});

const bin = resolve('bin/credits.js');

function migrate(databaseUrl: string) {
  const cwd = mkdtempSync(join(tmpdir(), 'credits-tls-cli-'));
  writeFileSync(join(cwd, 'credits.yaml'), '');
  const r = spawnSync(process.execPath, [bin, 'migrate'], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, DATABASE_URL: databaseUrl, CI: 'true', NODE_EXTRA_CA_CERTS: undefined },
  });
  return { code: r.status, out: r.stdout + r.stderr };
}

const url = (host: string, query: string, password = PASSWORD) =>
  `postgres://postgres:${encodeURIComponent(password)}@${host}:${cluster.port}/postgres?${query}`;

describe('DATABASE_URL sslmode, as libpq reads it', () => {
  it('sslmode=require encrypts without verifying a self-signed certificate, and prints no warning', () => {
    const r = migrate(url('127.0.0.1', 'sslmode=require'));
    expect(r.out).not.toMatch(/WARNING|DEPTH_ZERO|SELF_SIGNED/);
    expect(r.code, r.out).toBe(0);
  });

  it('verify-full without sslrootcert fails with a coded error that names the sslmodes to use', () => {
    const r = migrate(url('localhost', 'sslmode=verify-full'));
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/DATABASE_TLS_UNTRUSTED/);
    expect(r.out).toMatch(/sslrootcert/);
    expect(r.out).toMatch(/sslmode=require/);
    expect(r.out).not.toMatch(/SECURITY WARNING|at .*\.js:\d+/);
  });

  it('verify-full with sslrootcert verifies the certificate and the host name', () => {
    const ca = join(certDir, 'server.crt');
    expect(migrate(url('localhost', `sslmode=verify-full&sslrootcert=${ca}`)).code).toBe(0);
    // The certificate names localhost and 127.0.0.1, not ::1's name "ip6-localhost"; a wrong name is refused.
    const wrongName = migrate(url('127.0.0.2', `sslmode=verify-full&sslrootcert=${ca}`));
    expect(wrongName.code).not.toBe(0);
    expect(wrongName.out).toMatch(/DATABASE_TLS_UNTRUSTED|DATABASE_UNAVAILABLE/);
  });

  it('verify-ca without a CA is a coded error, not the driver’s paragraph', () => {
    const r = migrate(url('localhost', 'sslmode=verify-ca'));
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/DATABASE_TLS_UNTRUSTED/);
    expect(r.out).not.toMatch(/SECURITY WARNING/);
  });

  it('a wrong password is refused without showing the password', () => {
    const r = migrate(url('127.0.0.1', 'sslmode=require', 'not-the-password'));
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/DATABASE_UNAVAILABLE/);
    expect(r.out).toMatch(/password authentication failed/);
    expect(r.out).not.toContain('not-the-password');
  });
});
