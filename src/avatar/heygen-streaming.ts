// HeyGen's streaming avatar (API v2): the session's control calls are REST with the session token
// (`streaming.start`, `.task`, `.interrupt`, `.keep_alive`, `.stop`); media and the avatar's
// talking events arrive in the LiveKit room (livekit-room.ts).
import { createNanoEvents } from 'nanoevents';
import type { AvatarAccessBase, HeygenStreamingAccess } from '../shared/contract.js';
import { AvatarServiceError, SessionEndpointError } from '../shared/errors.js';
import { AvatarRoom } from './livekit-room.js';
import type { AvatarMedia, AvatarProvider, AvatarProviderEvents, SpeakResult } from './provider.js';

/** Checks the answer's `avatar` block for this provider. */
export function createAvatar(access: AvatarAccessBase, session: { sessionId: string }): AvatarProvider {
  const a = access as Partial<HeygenStreamingAccess>;
  const bad = (field: string) => new SessionEndpointError(`the token endpoint's answer lacks a valid "avatar.${field}"`, 200, false);
  const isString = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
  if (!isString(a.apiBase)) throw bad('apiBase');
  if (!isString(a.token)) throw bad('token');
  if (!isString(a.livekit?.url)) throw bad('livekit.url');
  if (!isString(a.livekit?.token)) throw bad('livekit.token');
  return new HeygenStreamingAvatar(a as HeygenStreamingAccess, session.sessionId);
}

export class HeygenStreamingAvatar implements AvatarProvider {
  readonly #events = createNanoEvents<AvatarProviderEvents>();
  readonly #access: HeygenStreamingAccess;
  readonly #sessionId: string;
  readonly #room: AvatarRoom;
  #stopped = false;

  constructor(access: HeygenStreamingAccess, sessionId: string) {
    this.#access = access;
    this.#sessionId = sessionId;
    this.#room = new AvatarRoom({ url: access.livekit.url, token: access.livekit.token, isAvatar: (identity) => identity.startsWith('heygen') });
    this.#room.on('message', (message) => {
      if (message.type === 'avatar_start_talking') this.#events.emit('talking', true);
      else if (message.type === 'avatar_stop_talking') this.#events.emit('talking', false);
    });
    this.#room.on('connection', (state) => this.#events.emit('connection', state));
    this.#room.on('audioPlayback', (allowed) => this.#events.emit('audioPlayback', allowed));
    this.#room.on('ended', (reason) => {
      if (!this.#stopped) this.#events.emit('ended', reason);
    });
  }

  on<E extends keyof AvatarProviderEvents>(event: E, listener: AvatarProviderEvents[E]): () => void {
    return this.#events.on(event, listener);
  }

  async #call<T>(path: string, body: Record<string, unknown> = {}, signal?: AbortSignal): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.#access.apiBase.replace(/\/$/, '')}/v1/${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${this.#access.token}` },
        body: JSON.stringify({ session_id: this.#sessionId, ...body }),
        ...(signal ? { signal } : {}),
      });
    } catch (cause) {
      if (signal?.aborted) throw cause;
      throw new AvatarServiceError(`the avatar service could not be reached (${path})`, 0, true, { cause });
    }
    let json: { code?: number; data?: T; message?: string };
    try {
      json = await res.json();
    } catch {
      throw new AvatarServiceError(`the avatar service answered HTTP ${res.status} to ${path} with a body that is not JSON`, res.status, res.status >= 500);
    }
    if (!res.ok || json.code !== 100) {
      const code = json.code ?? res.status;
      const transient = res.status === 429 || res.status >= 500;
      throw new AvatarServiceError(`${path} failed: ${json.message ?? `HTTP ${res.status}`} (code ${code})`, code, transient);
    }
    return json.data as T;
  }

  async start(media: AvatarMedia, signal: AbortSignal): Promise<void> {
    // The avatar joins when the session starts; join the room at the same time.
    await Promise.all([this.#call('streaming.start', {}, signal), this.#room.join(media, signal)]);
    if (signal.aborted) throw signal.reason;
  }

  async speak(text: string): Promise<SpeakResult> {
    const data = await this.#call<{ task_id: string; duration_ms: number }>('streaming.task', {
      text,
      task_type: 'repeat',
      task_mode: 'async',
    });
    return { taskId: data.task_id, durationMs: data.duration_ms };
  }

  async interrupt(): Promise<void> {
    await this.#call('streaming.interrupt');
  }

  async keepAlive(): Promise<void> {
    await this.#call('streaming.keep_alive');
  }

  async startAudio(): Promise<void> {
    await this.#room.startAudio();
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await Promise.allSettled([this.#call('streaming.stop'), this.#room.leave()]);
  }
}
