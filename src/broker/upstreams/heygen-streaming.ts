// HeyGen's streaming avatar API (`/v1/streaming.*`, API v2: media over LiveKit) behind the
// broker's AvatarUpstream. The account key stays here; the browser gets a session-scoped token
// and the LiveKit room, and calls `streaming.start`, `task`, … itself.
import type { HeygenStreamingAccess } from '../../shared/contract.js';
import { UpstreamError } from '../errors.js';
import type { SessionParams } from '../validate.js';
import { AvatarSessionInDoubtError, OrphanedAvatarSessionError, type AvatarSessionLimits, type AvatarUpstream, type CreatedAvatarSession } from './avatar-upstream.js';
import { callJson, type Redact } from './http-json.js';

export interface HeygenStreamingOptions {
  apiKey: string;
  /** e.g. https://api.heygen.com; the browser gets it too. */
  apiBase: string;
  /** ms each call may take. */
  timeoutMs: number;
  redact: Redact;
}

export class HeygenStreamingUpstream implements AvatarUpstream<HeygenStreamingAccess> {
  readonly provider = 'heygen-streaming';
  readonly secrets: readonly string[];
  readonly #options: HeygenStreamingOptions;

  constructor(options: HeygenStreamingOptions) {
    this.#options = options;
    this.secrets = [options.apiKey];
  }

  #call(operation: string, auth: 'account' | { token: string }, body?: unknown, method: 'GET' | 'POST' = 'POST'): Promise<Record<string, unknown>> {
    const { apiBase, apiKey, timeoutMs, redact } = this.#options;
    const headers: Record<string, string> = auth === 'account' ? { 'x-api-key': apiKey } : { authorization: `Bearer ${auth.token}` };
    return callJson({ service: 'heygen', operation, method, url: `${apiBase}/v1/${operation}`, headers, body, timeoutMs, redact }).then(
      (json) => heygenData(json, operation),
      (err: unknown) => {
        // 10004: the account's concurrent-session limit, which the browser hears as "retry later".
        if (err instanceof UpstreamError && String(err.upstreamCode) === '10004') {
          throw new UpstreamError(err.service, err.operation, 'over_capacity', err.status, err.upstreamCode, err.detail, err.retryAfter);
        }
        throw err;
      },
    );
  }

  /**
   * `streaming.create_token` with the account key, then `streaming.new` with that session-scoped
   * token (so the token the browser gets cannot create another session). Not `streaming.start`:
   * the browser starts the session when it is ready to join the room.
   */
  async create(params: SessionParams, limits: AvatarSessionLimits): Promise<CreatedAvatarSession<HeygenStreamingAccess>> {
    const { token } = await this.#call('streaming.create_token', 'account', {});
    if (typeof token !== 'string' || !token) throw new UpstreamError('heygen', 'streaming.create_token', 'bad_response', 200, undefined, 'no token');
    let data: Record<string, unknown>;
    try {
      data = await this.#call('streaming.new', { token }, {
        quality: params.quality,
        avatar_id: params.avatarId,
        voice: { ...(params.voiceId ? { voice_id: params.voiceId } : {}), rate: params.voiceRate },
        version: 'v2',
        video_encoding: 'VP8',
        language: params.language,
        activity_idle_timeout: limits.idleTimeoutSeconds,
      });
    } catch (err) {
      // A refusal (4xx) created nothing; after a lost answer, a timeout or a 5xx the session may
      // exist: the session token, which can create one session only, finds it.
      if (err instanceof UpstreamError && err.status >= 400 && err.status < 500) throw err;
      throw new AvatarSessionInDoubtError(err, () => this.#listOpen({ token }));
    }
    const { session_id, url, access_token, session_duration_limit } = data;
    if (typeof session_id !== 'string' || !session_id) {
      throw new AvatarSessionInDoubtError(new UpstreamError('heygen', 'streaming.new', 'bad_response', 200, undefined, 'no session_id'), () => this.#listOpen({ token }));
    }
    if (typeof url !== 'string' || typeof access_token !== 'string') {
      throw new OrphanedAvatarSessionError(session_id, new UpstreamError('heygen', 'streaming.new', 'bad_response', 200, undefined, 'no LiveKit url/access_token'));
    }
    return {
      sessionId: session_id,
      ...(typeof session_duration_limit === 'number' && session_duration_limit > 0 ? { durationLimitSeconds: session_duration_limit } : {}),
      access: { provider: this.provider, apiBase: this.#options.apiBase, token, livekit: { url, token: access_token } },
    };
  }

  /** `streaming.stop` with the account key; HeyGen's codes 10005 (closed) and 10007 (unknown) mean already closed. */
  async stop(sessionId: string): Promise<'stopped' | 'already_closed'> {
    try {
      await this.#call('streaming.stop', 'account', { session_id: sessionId });
      return 'stopped';
    } catch (err) {
      if (err instanceof UpstreamError && err.status === 400 && (String(err.upstreamCode) === '10005' || String(err.upstreamCode) === '10007')) {
        return 'already_closed';
      }
      throw err;
    }
  }

  /** `streaming.keep_alive` with the account key. */
  async keepAlive(sessionId: string): Promise<void> {
    await this.#call('streaming.keep_alive', 'account', { session_id: sessionId });
  }

  /** `GET streaming.list` with the account key → `data.sessions[].session_id`. */
  listOpen(): Promise<string[]> {
    return this.#listOpen('account');
  }

  /** `GET streaming.list` with the account key, or with a session token (then: the session that token created). */
  async #listOpen(auth: 'account' | { token: string }): Promise<string[]> {
    const { sessions } = await this.#call('streaming.list', auth, undefined, 'GET');
    if (!Array.isArray(sessions)) throw new UpstreamError('heygen', 'streaming.list', 'bad_response', 200, undefined, 'no sessions list');
    return sessions.map((s: { session_id?: unknown }) => s?.session_id).filter((id): id is string => typeof id === 'string' && id.length > 0);
  }
}

/** HeyGen's `{code: 100, data, message}` envelope: its `data`, or an UpstreamError. */
function heygenData(json: unknown, operation: string): Record<string, unknown> {
  const o = json as { code?: unknown; data?: unknown } | null;
  if (!o || typeof o !== 'object' || (o.code !== undefined && o.code !== 100)) {
    throw new UpstreamError('heygen', operation, 'bad_response', 200, typeof o?.code === 'number' ? o.code : undefined, 'envelope code is not 100');
  }
  return (o.data && typeof o.data === 'object' ? o.data : {}) as Record<string, unknown>;
}
