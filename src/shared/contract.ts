// The session endpoint contract between the widget and a session broker (DESIGN.md §5).
// Any back end can implement it; the shipped broker (src/broker) does. Shared by both sides:
// types only, no runtime code.

/** Body of `POST <token-endpoint>` (JSON). Every field is optional; the broker validates each. */
export interface SessionRequest {
  /** The avatar service's avatar id (LiveAvatar: a UUID), checked against the broker's allow-list. */
  avatarId?: string;
  quality?: 'low' | 'medium' | 'high';
  voiceId?: string;
  /** 0.5–1.5. */
  voiceRate?: number;
  /** BCP-47, e.g. `ru`, `en-US`. */
  language?: string;
  /** Deepgram model, e.g. `nova-2`. */
  sttModel?: string;
}

/**
 * The `avatar` block of each avatar service, by provider name. A provider of your own adds its
 * block by declaration merging: `declare module 'heygen-avatar' { interface AvatarAccessByProvider
 * { 'my-service': MyAccess } }`.
 */
export interface AvatarAccessByProvider {
  'heygen-streaming': HeygenStreamingAccess;
  liveavatar: LiveAvatarAccess;
}

/**
 * What the browser needs to drive one avatar session, by avatar service. `provider` names the
 * service; the widget loads that provider's code (its own lazy chunk) only when an answer names it.
 */
export type AvatarAccess = AvatarAccessByProvider[keyof AvatarAccessByProvider];

/** Fields every provider's block has. A back end with a provider of its own adds its own fields. */
export interface AvatarAccessBase {
  /** The avatar service: `heygen-streaming`, or a provider registered with `registerAvatarProvider`. */
  provider: string;
}

/** HeyGen's streaming avatar API (`api.heygen.com/v1/streaming.*`, API v2): REST tasks, media over LiveKit. */
export interface HeygenStreamingAccess extends AvatarAccessBase {
  provider: 'heygen-streaming';
  /**
   * API base, e.g. `https://api.heygen.com` (the widget appends `/v1/streaming.start` …).
   * @minLength 1
   */
  apiBase: string;
  /**
   * Session-scoped HeyGen token (`streaming.create_token`): `Authorization: Bearer <token>`.
   * @minLength 1
   */
  token: string;
  /** The LiveKit room `streaming.new` created: its `url` (wss) and `access_token` (a subscribe-only JWT). */
  livekit: {
    /** @minLength 1 */
    url: string;
    /** @minLength 1 */
    token: string;
  };
}

/**
 * LiveAvatar (`api.liveavatar.com`), FULL mode without a context: the avatar says only what the
 * widget sends. The widget itself calls `POST /v1/sessions/start` with the token, which answers the
 * LiveKit room to join, and sends each sentence over the room's data channel.
 */
export interface LiveAvatarAccess extends AvatarAccessBase {
  provider: 'liveavatar';
  /**
   * API base, e.g. `https://api.liveavatar.com` (the widget appends `/v1/sessions/start` …).
   * @minLength 1
   */
  apiBase: string;
  /**
   * The `session_token` of `POST /v1/sessions/token`: `Authorization: Bearer <token>`.
   * @minLength 1
   */
  token: string;
}

/** Answer of `POST <token-endpoint>`: everything one session needs, and nothing long-lived. */
export interface SessionResponse {
  /**
   * The avatar session's id at the avatar service (LiveAvatar and HeyGen streaming `session_id`).
   * @minLength 1
   */
  sessionId: string;
  /**
   * Bearer token for this session's calls to the broker (STT refresh, LLM route, heartbeat, close).
   * @minLength 1
   */
  sessionKey: string;
  /** The avatar service and its session-scoped credentials. */
  avatar: AvatarAccess;
  stt: {
    provider: 'deepgram';
    /**
     * Base URL of Deepgram's API, e.g. `https://api.deepgram.com`: absolute http(s); the widget
     * opens `wss://…/v1/listen` (`ws://` for `http://`) under it.
     * @pattern ^https?://
     * @minLength 1
     */
    url: string;
    /**
     * Temporary token, sent as WebSocket subprotocols `['bearer', token]`.
     * @minLength 1
     */
    token: string;
    /**
     * Seconds the token stays valid for opening a socket.
     * @exclusiveMinimum 0
     */
    expiresIn: number;
    /**
     * `POST` with `Authorization: Bearer <sessionKey>` → `SttTokenResponse`. Absolute, or a path
     * (`/api/avatar/…`), which the browser resolves against the page: only for a same-origin endpoint.
     * @minLength 1
     */
    refreshUrl: string;
  };
  /** The broker's default LLM route, when it has one: `POST` an `LlmRouteRequest`, read SSE. */
  llm?: {
    /** @minLength 1 */
    url: string;
  };
  limits: {
    /**
     * Seconds the avatar session may last.
     * @exclusiveMinimum 0
     */
    sessionDurationSeconds: number;
    /**
     * Seconds of inactivity after which the avatar service closes the session.
     * @exclusiveMinimum 0
     */
    idleTimeoutSeconds: number;
  };
  /**
   * Optional: a route the widget POSTs to every `intervalSeconds` (`Authorization: Bearer
   * <sessionKey>`, answer 204) while the session runs, so the broker can tell a live session from
   * one the browser abandoned (crash, lost network) and close the latter.
   */
  heartbeat?: {
    /** @minLength 1 */
    url: string;
    /** @exclusiveMinimum 0 */
    intervalSeconds: number;
  };
  /**
   * Where to report the session closed: `POST` a `CloseRequest` as `text/plain` JSON (what
   * `navigator.sendBeacon` sends on `pagehide`) or `application/json`. The broker then stops the
   * avatar session.
   * @minLength 1
   */
  closeUrl: string;
}

/**
 * The answer shape of version 0.1 (HeyGen streaming only, provider fields at the top level).
 * @deprecated Send `SessionResponse`'s `avatar` block instead. The widget still accepts this shape,
 * with a console notice, and will stop accepting it in a later release.
 */
export interface LegacySessionResponse extends Omit<SessionResponse, 'avatar'> {
  provider: 'heygen-streaming';
  heygen: { apiBase: string; token: string };
  livekit: { url: string; token: string };
}

/** Answer of `POST stt.refreshUrl`. */
export interface SttTokenResponse {
  /** @minLength 1 */
  token: string;
  /** @exclusiveMinimum 0 */
  expiresIn: number;
}

/** Body of `POST closeUrl`. */
export interface CloseRequest {
  sessionId: string;
  sessionKey: string;
}

/** Body of `POST llm.url` (JSON, `Authorization: Bearer <sessionKey>`). */
export interface LlmRouteRequest {
  /** The conversation so far, oldest first, ending with the user's turn. */
  messages: { role: 'user' | 'assistant'; content: string }[];
}

/**
 * The LLM route answers `text/event-stream`; each event's `data:` is one of these as JSON.
 * A stream ends with `done` or `error`.
 */
export type LlmRouteEvent =
  | { type: 'delta'; text: string }
  | { type: 'done' }
  | { type: 'error'; message: string; recoverable: boolean };

/** Error body of every broker route (HTTP 4xx/5xx). */
export interface BrokerError {
  error: {
    /** Stable code: `bad_request`, `forbidden_origin`, `rate_limited`, `over_capacity`, `upstream_error`, … */
    code: string;
    message: string;
  };
}
