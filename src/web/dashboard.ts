// The dashboard: static files read once at start-up and served with a strict CSP. The page talks
// to the /v1 API with an admin token it keeps in sessionStorage; the server holds no dashboard logic.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';

const PUBLIC_DIR = join(dirname(fileURLToPath(import.meta.url)), 'public');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** Same origin only: no inline script or style, no CDN, no framing; the API is the only thing it connects to. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

interface Asset {
  type: string;
  body: Buffer;
}

/** The files the page is made of; type declarations (decimal.d.ts, for the tests) are not served. */
export function readAssets(dir: string = PUBLIC_DIR): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const name of readdirSync(dir).sort()) {
    const type = TYPES[extname(name)];
    if (!type || name.endsWith('.d.ts')) continue;
    assets.set(name, { type, body: readFileSync(join(dir, name)) });
  }
  return assets;
}

const send = (reply: FastifyReply, asset: Asset) =>
  reply
    .header('content-type', asset.type)
    .header('content-security-policy', CONTENT_SECURITY_POLICY)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('cache-control', 'no-cache')
    .send(asset.body);

/** GET / (the page) and GET /assets/<file> (its scripts, styles and icon). */
export async function registerDashboard(app: FastifyInstance, dir?: string): Promise<void> {
  const assets = readAssets(dir);
  const page = assets.get('index.html');
  if (!page) throw new Error(`dashboard: index.html missing in ${dir ?? PUBLIC_DIR}`);
  app.get('/', { schema: { hide: true } }, (_req, reply) => send(reply, page));
  for (const [name, asset] of assets) {
    if (name === 'index.html') continue;
    app.get(`/assets/${name}`, { schema: { hide: true } }, (_req, reply) => send(reply, asset));
  }
}
