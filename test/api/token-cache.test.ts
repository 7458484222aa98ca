// The API remembers authenticated tokens briefly; a revoked token must stop working once that time is up,
// and a token that failed must be looked up again (never remembered as bad or good).
import { describe, expect, it } from 'vitest';
import { freshPgStore } from '../support/databases.js';
import { makePlan } from '../../src/planner/plan-against-store.js';
import { applyPlan } from '../../src/apply/apply-plan.js';
import { createToken, revokeToken } from '../../src/state/tokens.js';
import { cachedAuthentication } from '../../src/api/token-cache.js';

const config = `version: 1
account:
  id: acme
  creditLimit: 100
groups: {}
`;

describe('token cache (PostgreSQL)', () => {
  it('a revoked token works at most ttl longer; unknown tokens are not remembered', async () => {
    const store = await freshPgStore();
    await applyPlan(store, await makePlan(store, { bytes: config, file: 'acme.yaml' }), { actor: 't' });
    const { token, tokenId: id } = await createToken(store, { accountId: 'acme', role: 'service' });
    let now = 1_000;
    const authenticate = cachedAuthentication(store, 2000, () => now);

    expect((await authenticate(token))?.accountId).toBe('acme');
    expect(await authenticate(token + 'x')).toBeUndefined();
    await revokeToken(store, 'acme', id);
    now += 1999;
    expect((await authenticate(token))?.role).toBe('service'); // remembered
    now += 2;
    expect(await authenticate(token)).toBeUndefined(); // looked up again: revoked

    const uncached = cachedAuthentication(store, 0);
    const second = await createToken(store, { accountId: 'acme', role: 'admin' });
    expect((await uncached(second.token))?.role).toBe('admin');
    await revokeToken(store, 'acme', second.tokenId);
    expect(await uncached(second.token)).toBeUndefined();
    await store.close();
  });
});
