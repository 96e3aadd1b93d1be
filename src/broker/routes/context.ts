// What every route is handed: the broker's parts, and what the router learned about the request.
import type { ResolvedBrokerConfig } from '../config.js';
import type { SessionLedger } from '../ledger.js';
import type { EventLog } from '../log.js';
import type { RateLimiter } from '../rate-limit.js';
import type { SessionStore } from '../store.js';
import type { AvatarUpstream } from '../upstreams/avatar-upstream.js';
import type { DeepgramClient } from '../upstreams/deepgram.js';
import type { Redact } from '../upstreams/http-json.js';

/** Where each route lives, under the base path. */
export const PATHS = {
  session: '/session',
  sttToken: '/session/stt-token',
  heartbeat: '/session/heartbeat',
  close: '/session/close',
  llm: '/llm',
  healthz: '/healthz',
} as const;

/** The broker's parts, shared by every request. */
export interface BrokerContext {
  readonly config: ResolvedBrokerConfig;
  readonly store: SessionStore;
  readonly ledger: SessionLedger;
  readonly avatar: AvatarUpstream;
  readonly deepgram: DeepgramClient;
  readonly rateLimit: RateLimiter;
  readonly log: EventLog;
  readonly redact: Redact;
}

/** One request as the router judged it. */
export interface RequestContext {
  /** The `Origin` header (already allowed). */
  origin: string | null;
  /** CORS headers every answer to this request carries. */
  cors: Record<string, string>;
  /** The client address (caps and rate limits). */
  client: string;
}

export type RouteHandler = (req: Request, ctx: RequestContext, broker: BrokerContext) => Promise<Response>;
