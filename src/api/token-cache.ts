// Authenticated tokens are remembered briefly, so a request costs no token query: at a few thousand requests
// a second that query was half of the API process's CPU (its socket writes). The price is that a revoked
// token keeps working for up to `ttlMs` in each API process (docs/api.md). Unknown tokens are never cached.
import { authenticate, type TokenIdentity } from '../state/tokens.js';
import type { Queryable } from '../state/store.js';
import { tokenDigest } from './token-digest.js';

export const DEFAULT_TOKEN_CACHE_MS = 2000;
const MAX_ENTRIES = 10_000;

export function cachedAuthentication(
  db: Queryable,
  ttlMs = DEFAULT_TOKEN_CACHE_MS,
  clock: () => number = Date.now,
): (token: string, digest?: string) => Promise<TokenIdentity | undefined> {
  if (ttlMs <= 0) return (token) => authenticate(db, token);
  // Keyed by the token's digest, so the map never holds a token itself.
  const remembered = new Map<string, { identity: TokenIdentity; until: number }>();
  // The digest is the caller's when it has one (the authentication gate computes it first).
  return async (token, digest) => {
    const key = digest ?? tokenDigest(token);
    const hit = remembered.get(key);
    if (hit && hit.until > clock()) return hit.identity;
    remembered.delete(key);
    const identity = await authenticate(db, token);
    if (identity) {
      // Oldest first out: a Map iterates in insertion order.
      if (remembered.size >= MAX_ENTRIES) remembered.delete(remembered.keys().next().value!);
      remembered.set(key, { identity, until: clock() + ttlMs });
    }
    return identity;
  };
}
