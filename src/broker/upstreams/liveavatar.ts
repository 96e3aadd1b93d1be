// LiveAvatar (`api.liveavatar.com`, HeyGen's successor to its streaming API) behind the broker's
// AvatarUpstream, in FULL mode without a `context_id`: LiveAvatar renders the avatar and speaks
// with its voice, and says only what the widget sends (our STT, our LLM). The account key stays
// here; the browser gets the session token and calls `POST /v1/sessions/start` itself.
import type { LiveAvatarAccess } from '../../shared/contract.js';
import { UpstreamError } from '../errors.js';
import type { SessionParams } from '../validate.js';
import { OrphanedAvatarSessionError, type AvatarSessionLimits, type AvatarStopReason, type AvatarUpstream, type CreatedAvatarSession } from './avatar-upstream.js';
import { callJson, type Redact } from './http-json.js';

/** LiveAvatar's API base. */
export const LIVEAVATAR_API_BASE = 'https://api.liveavatar.com';
/** The public avatar "Wayne": the only one sandbox sessions accept. */
export const LIVEAVATAR_SANDBOX_AVATAR_ID = 'dd73ea75-1218-4ef3-92ce-606d5f7fbc0a';
/** Sandbox sessions end after about a minute (as "max duration reached"), whatever was asked. */
export const LIVEAVATAR_SANDBOX_SECONDS = 60;

export interface LiveAvatarOptions {
  apiKey: string;
  /** e.g. https://api.liveavatar.com; the browser gets it too. */
  apiBase: string;
  /** `is_sandbox: true`: no credits, only the sandbox avatar, about a minute per session. */
  sandbox: boolean;
  /** ms each call may take. */
  timeoutMs: number;
  redact: Redact;
}

/** The widget's quality names are LiveAvatar's (which also has `very_high`, not offered). */
const QUALITY: Record<SessionParams['quality'], 'low' | 'medium' | 'high'> = { low: 'low', medium: 'medium', high: 'high' };

/**
 * The broker's stop reasons as LiveAvatar's `SessionEndReasonEnum` (LiveAvatar keeps it with the
 * session, for the account's records):
 * - `client_closed` (the widget's close route) → `USER_CLOSED`
 * - `client_gone` (the browser left while the session was being created) → `USER_DISCONNECTED`
 * - `abandoned` (no heartbeat for `abandonAfterSeconds`) → `ZOMBIE_SESSION_REAP`
 * - `stop_retry` (the reaper retrying a stop that failed) → `ZOMBIE_SESSION_REAP`
 * - `duration_limit` (the broker's deadline) → `MAX_DURATION_REACHED`
 * - `create_failed` (something after the token call failed, e.g. the STT grant) → `SERVER_ERROR`
 * - `shutdown` (the broker is stopping) → `UNKNOWN`: nothing went wrong and no user left, and the
 *   enum has no "server shut down"
 * - `untracked` (open at LiveAvatar, created by the broker, no longer in its records) → `ZOMBIE_SESSION_REAP`
 */
const STOP_REASON: Record<AvatarStopReason, string> = {
  client_closed: 'USER_CLOSED',
  client_gone: 'USER_DISCONNECTED',
  abandoned: 'ZOMBIE_SESSION_REAP',
  stop_retry: 'ZOMBIE_SESSION_REAP',
  duration_limit: 'MAX_DURATION_REACHED',
  create_failed: 'SERVER_ERROR',
  shutdown: 'UNKNOWN',
  untracked: 'ZOMBIE_SESSION_REAP',
};

/** `GET /v1/sessions` pages read at the most (of `LIST_PAGE_SIZE`): a bound, should the service keep answering `next`. */
const LIST_MAX_PAGES = 50;
const LIST_PAGE_SIZE = 100;

export class LiveAvatarUpstream implements AvatarUpstream<LiveAvatarAccess> {
  readonly provider = 'liveavatar';
  readonly secrets: readonly string[];
  readonly #options: LiveAvatarOptions;

  constructor(options: LiveAvatarOptions) {
    this.#options = options;
    this.secrets = [options.apiKey];
  }

  /** One call with the account key (`X-API-KEY`); resolves with the envelope's `data`. */
  #call(operation: string, path: string, body?: unknown, method: 'GET' | 'POST' = 'POST'): Promise<unknown> {
    const { apiBase, apiKey, timeoutMs, redact } = this.#options;
    return callJson({ service: 'liveavatar', operation, method, url: `${apiBase}${path}`, headers: { 'x-api-key': apiKey }, body, timeoutMs, redact }).then((json) =>
      liveAvatarData(json, operation),
    );
  }

  /**
   * `POST /v1/sessions/token`: a FULL-mode session without a context, so the avatar speaks only
   * the text the widget sends. Its `session_id` is the broker's session id from now on; the
   * `session_token` (a JWT scoped to this one session) goes to the browser, which starts the
   * session when it is ready to join the room.
   */
  async create(params: SessionParams, limits: AvatarSessionLimits): Promise<CreatedAvatarSession<LiveAvatarAccess>> {
    const { sandbox, apiBase } = this.#options;
    const data = record(
      await this.#call('sessions.token', '/v1/sessions/token', {
        mode: 'FULL',
        avatar_id: params.avatarId,
        // LiveAvatar's languages are primary subtags (`en`, `ru`); its voices have no rate.
        avatar_persona: { ...(params.voiceId ? { voice_id: params.voiceId } : {}), language: params.language.split('-')[0].toLowerCase() },
        video_settings: { quality: QUALITY[params.quality], encoding: 'VP8' },
        max_session_duration: limits.maxSessionSeconds,
        is_sandbox: sandbox,
      }),
    );
    const { session_id, session_token } = data;
    if (typeof session_id !== 'string' || !session_id) throw new UpstreamError('liveavatar', 'sessions.token', 'bad_response', 200, undefined, 'no session_id');
    if (typeof session_token !== 'string' || session_token.split('.').length !== 3) {
      // The session exists (and may hold escrowed credits) but the browser could not start it.
      throw new OrphanedAvatarSessionError(session_id, new UpstreamError('liveavatar', 'sessions.token', 'bad_response', 200, undefined, 'no session_token JWT'));
    }
    return {
      sessionId: session_id,
      ...(sandbox ? { durationLimitSeconds: Math.min(LIVEAVATAR_SANDBOX_SECONDS, limits.maxSessionSeconds) } : {}),
      access: { provider: this.provider, apiBase, token: session_token },
    };
  }

  /**
   * `POST /v1/sessions/stop` with the account key and the reason (see STOP_REASON). LiveAvatar's
   * stop is idempotent: a session that already ended answers success too, and one the service
   * does not know (HTTP 404) is as good as closed.
   */
  async stop(sessionId: string, reason: AvatarStopReason): Promise<'stopped' | 'already_closed'> {
    try {
      await this.#call('sessions.stop', '/v1/sessions/stop', { session_id: sessionId, reason: STOP_REASON[reason] });
      return 'stopped';
    } catch (err) {
      if (err instanceof UpstreamError && err.status === 404) return 'already_closed';
      throw err;
    }
  }

  /** `POST /v1/sessions/keep-alive` with the account key (LiveAvatar's idle timeout is 5 minutes). */
  async keepAlive(sessionId: string): Promise<void> {
    await this.#call('sessions.keep_alive', '/v1/sessions/keep-alive', { session_id: sessionId });
  }

  /**
   * `GET /v1/sessions?type=active`, page after page while the answer has a `next`. The pages are
   * counted here rather than `next` followed: the key goes only to the configured API base.
   */
  async listOpen(): Promise<string[]> {
    const ids: string[] = [];
    for (let page = 1; page <= LIST_MAX_PAGES; page++) {
      const data = record(await this.#call('sessions.list', `/v1/sessions?type=active&page=${page}&page_size=${LIST_PAGE_SIZE}`, undefined, 'GET'));
      if (!Array.isArray(data.results)) throw new UpstreamError('liveavatar', 'sessions.list', 'bad_response', 200, undefined, 'no results list');
      for (const s of data.results as { id?: unknown }[]) if (typeof s?.id === 'string' && s.id && !ids.includes(s.id)) ids.push(s.id);
      if (!data.next || data.results.length === 0) break;
    }
    return ids;
  }
}

/**
 * LiveAvatar's `{code, data, message}` envelope: its `data` when `code` is 1000 (the official
 * client's rule; the OpenAPI examples say 100, which the service does not send), else an UpstreamError.
 */
function liveAvatarData(json: unknown, operation: string): unknown {
  const o = json as { code?: unknown; data?: unknown } | null;
  if (!o || typeof o !== 'object' || o.code !== 1000) {
    throw new UpstreamError('liveavatar', operation, 'bad_response', 200, typeof o?.code === 'number' ? o.code : undefined, 'envelope code is not 1000');
  }
  return o.data;
}

function record(data: unknown): Record<string, unknown> {
  return (data && typeof data === 'object' ? data : {}) as Record<string, unknown>;
}
