// The session broker as a Fetch API handler (`Request → Response`): mints one avatar session's
// short-lived credentials, records the session, caps concurrency, limits rates, reaps abandoned
// sessions, and serves the optional LLM route. Every API key stays here (DESIGN.md §3, §5).
// This file wires the parts: routes.ts answers requests, ledger.ts keeps the sessions, upstreams/
// talks to the services.
import { resolveConfig, type BrokerConfig, type ResolvedBrokerConfig } from './config.js';
import type { HandlerInfo } from './http.js';
import { SessionLedger } from './ledger.js';
import { eventLog, makeRedactor, type EventLog } from './log.js';
import { createRateLimiter } from './rate-limit.js';
import { RedisStore } from './redis-store.js';
import { route } from './routes.js';
import type { BrokerContext } from './routes/context.js';
import { MemoryStore, type SessionStore } from './store.js';
import type { AvatarUpstream } from './upstreams/avatar-upstream.js';
import { DeepgramClient } from './upstreams/deepgram.js';
import { HeygenStreamingUpstream } from './upstreams/heygen-streaming.js';
import type { Redact } from './upstreams/http-json.js';
import { LiveAvatarUpstream } from './upstreams/liveavatar.js';

export interface SessionBroker {
  /**
   * Answers one request. `info` is what a runtime knows beside the request: Node adapters pass
   * `{clientIp}`, Deno's `serve` passes `{remoteAddr}`; both are optional.
   */
  handle(req: Request, info?: HandlerInfo): Promise<Response>;
  /**
   * Stops the reaper (and closes the store if the broker made it). `closeSessions` (default: true
   * for a store no other instance shares) stops every recorded avatar session first.
   */
  close(options?: { closeSessions?: boolean }): Promise<void>;
  /** Runs the reaper once now; resolves with the number of sessions it closed. */
  reapNow(): Promise<number>;
}

/** Creates the broker. Throws a BrokerConfigError listing every configuration problem. */
export function createSessionBroker(config: BrokerConfig): SessionBroker {
  const cfg: ResolvedBrokerConfig = resolveConfig(config);
  const ownStore = !cfg.store;
  const store: SessionStore = cfg.store ?? (cfg.redisUrl ? new RedisStore({ url: cfg.redisUrl, prefix: cfg.redisPrefix }) : new MemoryStore());
  const log: EventLog = eventLog(cfg.logger);
  // A shipped upstream redacts its errors with the broker's redactor, which is made from every
  // upstream's secrets (its own included): hence the indirection.
  const shipped = { timeoutMs: cfg.upstreamTimeoutMs, redact: (text: string) => redact(text) };
  const avatar: AvatarUpstream =
    cfg.avatarUpstream ?? (cfg.liveavatar ? new LiveAvatarUpstream({ ...cfg.liveavatar, ...shipped }) : new HeygenStreamingUpstream({ ...cfg.heygen!, ...shipped }));
  const redact: Redact = makeRedactor([...avatar.secrets, cfg.deepgram.apiKey, ...(cfg.llm ? [cfg.llm.apiKey] : [])]);
  const ledger = new SessionLedger({
    store,
    avatar,
    caps: { total: cfg.maxSessions, perClient: cfg.maxSessionsPerClient },
    upstreamTimeoutMs: cfg.upstreamTimeoutMs,
    abandonAfterSeconds: cfg.abandonAfterSeconds,
    maxSessionSeconds: cfg.maxSessionSeconds,
    avatarAccount: cfg.avatarAccount,
    reconcileIntervalMs: cfg.reconcileIntervalMs,
    clock: cfg.now,
    log,
    redact,
  });
  const broker: BrokerContext = {
    config: cfg,
    store,
    ledger,
    avatar,
    deepgram: new DeepgramClient(cfg.deepgram.apiBase, cfg.deepgram.apiKey, cfg.deepgram.tokenTtlSeconds, cfg.upstreamTimeoutMs, redact),
    rateLimit: createRateLimiter(store, cfg.now, log),
    log,
    redact,
  };

  const timer = cfg.reapIntervalMs > 0 ? setInterval(() => void ledger.reap(), cfg.reapIntervalMs) : undefined;
  timer?.unref();
  let closed = false;

  return {
    handle: (req, info) => route(req, info, broker),
    reapNow: () => ledger.reapNow(),
    async close(options = {}) {
      if (closed) return;
      closed = true;
      if (timer) clearInterval(timer);
      await ledger.settled();
      if (options.closeSessions ?? !store.shared) await ledger.closeAll();
      if (ownStore) await store.close();
    },
  };
}
