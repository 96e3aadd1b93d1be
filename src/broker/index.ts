// The session broker's public API (server side, Node ≥ 20 or any Fetch API runtime).
export { createSessionBroker } from './handler.js';
export type { SessionBroker } from './handler.js';
export type { BrokerSessionResponse } from './routes/session.js';
export { AvatarSessionInDoubtError, OrphanedAvatarSessionError } from './upstreams/avatar-upstream.js';
export type { AvatarSessionLimits, AvatarStopReason, AvatarUpstream, CreatedAvatarSession } from './upstreams/avatar-upstream.js';
export { HeygenStreamingUpstream } from './upstreams/heygen-streaming.js';
export type { HeygenStreamingOptions } from './upstreams/heygen-streaming.js';
export { LIVEAVATAR_API_BASE, LIVEAVATAR_SANDBOX_AVATAR_ID, LiveAvatarUpstream } from './upstreams/liveavatar.js';
export type { LiveAvatarOptions } from './upstreams/liveavatar.js';
export type { SessionParams } from './validate.js';
export { BrokerConfigError, configFromEnv, resolveConfig, DEFAULT_LANGUAGES, DEFAULT_STT_MODELS } from './config.js';
export type { AvatarProvider, BrokerConfig, LiveAvatarConfig, LlmRouteConfig, RateLimit, ResolvedBrokerConfig, ServerSettings } from './config.js';
export { createNodeListener, startBrokerServer } from './node-server.js';
export type { BrokerServer, BrokerServerOptions } from './node-server.js';
export { MemoryStore } from './store.js';
export type { SessionOwnership, SessionRecord, SessionStore, SlotCaps, TokenBucket, TokenResult } from './store.js';
export { RedisStore } from './redis-store.js';
export type { RedisStoreOptions } from './redis-store.js';
export { BROKER_ERRORS, BrokerHttpError, UpstreamError } from './errors.js';
export type { BrokerErrorCode, UpstreamService } from './errors.js';
export { jsonLineLogger } from './log.js';
export type { BrokerLogger, LogEntry, LogLevel } from './log.js';
export type { HandlerInfo } from './http.js';
export type {
  AvatarAccess,
  AvatarAccessBase,
  BrokerError,
  CloseRequest,
  HeygenStreamingAccess,
  LiveAvatarAccess,
  LlmRouteEvent,
  LlmRouteRequest,
  SessionRequest,
  SessionResponse,
  SttTokenResponse,
} from '../shared/contract.js';
