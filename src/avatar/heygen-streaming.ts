// HeyGen's streaming avatar (API v2): the session's control calls are REST with the session token
// (`streaming.start`, `.task`, `.interrupt`, `.keep_alive`, `.stop`); media and the avatar's
// talking events arrive in the LiveKit room (livekit-room.ts).
import { createNanoEvents } from 'nanoevents';
import type { AvatarAccessBase, HeygenStreamingAccess } from '../shared/contract.js';
import { checkAccess } from './access.js';
import { AvatarRoom } from './livekit-room.js';
import { callAvatarService } from './service-call.js';
import type { AvatarMedia, AvatarProvider, AvatarProviderEvents, SpeakResult } from './provider.js';

/** Makes the provider from the answer's `avatar` block. */
export function createAvatar(access: AvatarAccessBase, session: { sessionId: string }): AvatarProvider {
  return new HeygenStreamingAvatar(checkAccess<HeygenStreamingAccess>(access, ['apiBase', 'token', 'livekit.url', 'livekit.token']), session.sessionId);
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

  #call<T>(path: string, body: Record<string, unknown> = {}, signal?: AbortSignal): Promise<T> {
    return callAvatarService<T>({
      url: `${this.#access.apiBase.replace(/\/$/, '')}/v1/${path}`,
      token: this.#access.token,
      body: { session_id: this.#sessionId, ...body },
      okCode: 100,
      name: path,
      ...(signal ? { signal } : {}),
    });
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
