// Requests per minute, per caller: a token's bucket is sized by its role; anything without a token that
// authenticates (health checks, the dashboard's files, /docs, failed tokens) is counted per client address.
import type { Role } from '../state/tokens.js';

export type RateLimitClass = Role | 'anonymous';
export type RateLimits = Record<RateLimitClass, number>;

/**
 * A service token is usually a gateway speaking for every user behind it, so it gets the most; a member
 * token is one person (the dashboard, a script); anonymous callers only need health checks and static files.
 */
export const DEFAULT_RATE_LIMITS: RateLimits = {
  admin: 6_000,
  service: 60_000,
  member: 600,
  anonymous: 1_200,
};

export const RATE_LIMIT_CLASSES = Object.keys(DEFAULT_RATE_LIMITS) as RateLimitClass[];

/** Each class's limit: its own setting, else the one for every class, else the default. */
export function rateLimits(own: Partial<RateLimits> = {}, every?: number): RateLimits {
  return Object.fromEntries(
    RATE_LIMIT_CLASSES.map((c) => [c, own[c] ?? every ?? DEFAULT_RATE_LIMITS[c]]),
  ) as RateLimits;
}
