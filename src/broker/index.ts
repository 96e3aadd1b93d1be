// The session broker's public API (server side, Node ≥ 20 or any Fetch API runtime).
export { createSessionBroker } from './handler.js';
export type { BrokerSessionResponse, SessionBroker } from './handler.js';
export { BrokerConfigError, configFromEnv, resolveConfig, DEFAULT_LANGUAGES, DEFAULT_STT_MODELS } from './config.js';
export type { BrokerConfig, LlmRouteConfig, RateLimit, ResolvedBrokerConfig, ServerSettings } from './config.js';
export { createNodeListener, startBrokerServer } from './node-server.js';
export type { BrokerServer, BrokerServerOptions, NodeListenerOptions } from './node-server.js';
export { MemoryStore } from './store.js';
export type { SessionRecord, SessionStore, SlotCaps, TokenBucket, TokenResult } from './store.js';
export { RedisStore } from './redis-store.js';
export type { RedisStoreOptions } from './redis-store.js';
export { BROKER_ERRORS, BrokerHttpError } from './errors.js';
export type { BrokerErrorCode } from './errors.js';
export { jsonLineLogger } from './log.js';
export type { BrokerLogger, LogEntry, LogLevel } from './log.js';
export type { HandlerInfo } from './http.js';
export type {
  BrokerError,
  CloseRequest,
  LlmRouteEvent,
  LlmRouteRequest,
  SessionRequest,
  SessionResponse,
  SttTokenResponse,
} from '../shared/contract.js';
