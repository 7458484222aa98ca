// Made-up tokens must not each cost a database lookup. Each client address may fail authentication at most
// `max` times a window; past that its next unknown token is answered 429 without asking the database.
// Tokens that have authenticated in this process before are never held back, so a valid token is not slowed
// by a flood of made-up ones from the same address.
import type { TokenIdentity } from '../state/tokens.js';
import { tokenDigest } from './token-digest.js';

const MAX_ADDRESSES = 10_000;
const MAX_KNOWN = 10_000;

export type GateAnswer = { identity: TokenIdentity | undefined } | { retryAfterS: number };

export function authenticationGate(
  authenticate: (token: string, digest: string) => Promise<TokenIdentity | undefined>,
  max: number,
  windowMs: number,
  clock: () => number = Date.now,
): (token: string, address: string) => Promise<GateAnswer> {
  const known = new Set<string>();
  const failures = new Map<string, { count: number; until: number }>();
  return async (token, address) => {
    const key = tokenDigest(token);
    if (!known.has(key)) {
      const f = failures.get(address);
      if (f && f.until > clock() && f.count >= max)
        return { retryAfterS: Math.ceil((f.until - clock()) / 1000) };
    }
    const identity = await authenticate(token, key);
    if (identity) {
      if (known.size >= MAX_KNOWN) known.delete(known.values().next().value!);
      known.add(key);
      return { identity };
    }
    known.delete(key); // revoked since
    let f = failures.get(address);
    if (!f || f.until <= clock()) {
      failures.delete(address);
      if (failures.size >= MAX_ADDRESSES) failures.delete(failures.keys().next().value!);
      f = { count: 0, until: clock() + windowMs };
      failures.set(address, f);
    }
    f.count++;
    return { identity: undefined };
  };
}
