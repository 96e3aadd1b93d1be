// Per-client and per-session rate limits: one token bucket per key, kept in the session store so
// broker instances sharing it share the limits.
import type { RateLimit } from './config.js';
import { BrokerHttpError } from './errors.js';
import type { EventLog } from './log.js';
import type { SessionStore } from './store.js';

/** Takes a token from the `kind:key` bucket, or throws 429 `rate_limited` with the wait. */
export type RateLimiter = (kind: 'session' | 'stt' | 'llm', key: string, limit: RateLimit, client: string) => Promise<void>;

export function createRateLimiter(store: SessionStore, clock: () => number, log: EventLog): RateLimiter {
  return async (kind, key, limit, client) => {
    const r = await store.takeToken(`${kind}:${key}`, { capacity: limit.burst, refillPerSecond: limit.perMinute / 60 }, clock());
    if (r.ok) return;
    const after = Math.max(1, Math.ceil(r.retryAfterMs / 1000));
    log('warn', 'rate_limited', { kind, client, retryAfter: after });
    throw new BrokerHttpError('rate_limited', `too many requests; retry in ${after} s`, after);
  };
}
