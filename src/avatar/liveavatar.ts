// LiveAvatar (api.liveavatar.com), FULL mode without a context: the avatar says only what we send.
// The session token starts the session over REST (`/v1/sessions/start` answers the LiveKit room);
// sentences and interruptions go over the room's data channel on topic `agent-control`, and the
// avatar's events come back on `agent-response`. Keep-alive and stop are REST again. The visitor's
// microphone is never published into the room: our speech recognition is Deepgram.
//
// Where LiveAvatar's docs and its official browser client (@heygen/liveavatar-web-sdk 0.0.18)
// disagree, this follows the client: success is envelope code 1000 (the docs' examples say 100);
// `session.stopped` is read for `stop_reason`, then `end_reason` (the docs' name); stop is
// `POST /v1/sessions/stop` with the session token (HeyGen's demo uses `DELETE /v1/sessions`).
import { createNanoEvents } from 'nanoevents';
import type { AvatarAccessBase, LiveAvatarAccess } from '../shared/contract.js';
import { AvatarServiceError } from '../shared/errors.js';
import { checkAccess } from './access.js';
import { AvatarRoom } from './livekit-room.js';
import type { AvatarMedia, AvatarProvider, AvatarProviderEvents, SpeakResult } from './provider.js';
import { callAvatarService } from './service-call.js';

/** The avatar's participant identity in the room. */
const AVATAR_IDENTITY = 'heygen';
/** The agent that executes our commands joins as this plus the session id. */
const AGENT_PREFIX = 'liveavatar-agent-';
const COMMAND_TOPIC = 'agent-control';
const EVENT_TOPIC = 'agent-response';
/** How long the official client waits for the avatar and the agent to join. */
const JOIN_TIMEOUT_MS = 30_000;

/** `POST /v1/sessions/start` → `data`. */
interface StartedSession {
  session_id?: string;
  livekit_url?: string;
  livekit_client_token?: string;
  max_session_duration?: number;
}

/** Makes the provider from the answer's `avatar` block. */
export function createAvatar(access: AvatarAccessBase, session: { sessionId: string }): AvatarProvider {
  return new LiveAvatarAvatar(checkAccess<LiveAvatarAccess>(access, ['apiBase', 'token']), session.sessionId);
}

/** `session.stopped`'s reason as the session's end: the duration limit is the one a visitor is told about. */
function endReason(stopReason: unknown): string {
  if (stopReason === 'MAX_DURATION_REACHED') return 'duration-limit';
  return typeof stopReason === 'string' && stopReason ? `stopped by the service: ${stopReason}` : 'stopped by the service';
}

export class LiveAvatarAvatar implements AvatarProvider {
  readonly #events = createNanoEvents<AvatarProviderEvents>();
  readonly #access: LiveAvatarAccess;
  readonly #sessionId: string;
  #room: AvatarRoom | undefined;
  #started = false;
  #stopped = false;
  /** Commands the avatar is speaking or has queued (event ids): talking while any is unfinished. */
  readonly #speaking = new Set<string>();

  constructor(access: LiveAvatarAccess, sessionId: string) {
    this.#access = access;
    this.#sessionId = sessionId;
  }

  on<E extends keyof AvatarProviderEvents>(event: E, listener: AvatarProviderEvents[E]): () => void {
    return this.#events.on(event, listener);
  }

  #call<T>(path: string, signal?: AbortSignal): Promise<T> {
    return callAvatarService<T>({
      url: `${this.#access.apiBase.replace(/\/$/, '')}/v1/sessions/${path}`,
      token: this.#access.token,
      okCode: 1000,
      name: `sessions/${path}`,
      ...(signal ? { signal } : {}),
    });
  }

  async start(media: AvatarMedia, signal: AbortSignal): Promise<void> {
    this.#started = true;
    const started = await this.#call<StartedSession | null>('start', signal);
    if (signal.aborted) throw signal.reason;
    if (!started?.livekit_url || !started.livekit_client_token) {
      throw new AvatarServiceError('sessions/start answered without livekit_url and livekit_client_token (is the session in FULL mode?)', 200, false);
    }
    const room = new AvatarRoom({
      url: started.livekit_url,
      token: started.livekit_client_token,
      isAvatar: (identity) => identity === AVATAR_IDENTITY,
      tracksFrom: (identity) => identity === AVATAR_IDENTITY,
      topics: [EVENT_TOPIC],
    });
    this.#room = room;
    room.on('message', (message) => this.#onEvent(message));
    room.on('connection', (state) => this.#events.emit('connection', state));
    room.on('audioPlayback', (allowed) => this.#events.emit('audioPlayback', allowed));
    room.on('ended', (reason) => {
      if (!this.#stopped) this.#events.emit('ended', reason);
    });
    await room.join(media, signal);
    // Commands sent before the agent is in the room are lost: wait for it and the avatar, as the official client does.
    await room.waitForParticipants([AVATAR_IDENTITY, `${AGENT_PREFIX}${started.session_id ?? this.#sessionId}`], JOIN_TIMEOUT_MS, signal);
  }

  #onEvent(message: Record<string, unknown>): void {
    const source = typeof message.source_event_id === 'string' ? message.source_event_id : '';
    switch (message.event_type) {
      case 'avatar.speak_started':
        if (this.#speaking.size === 0) this.#events.emit('talking', true);
        this.#speaking.add(source);
        break;
      case 'avatar.speak_ended':
        this.#speaking.delete(source);
        if (this.#speaking.size === 0) this.#events.emit('talking', false);
        break;
      case 'session.stopped':
        if (!this.#stopped) this.#events.emit('ended', endReason(message.stop_reason ?? message.end_reason));
        break;
    }
  }

  async speak(text: string): Promise<SpeakResult> {
    const eventId = crypto.randomUUID();
    await this.#command({ event_id: eventId, event_type: 'avatar.speak_text', text });
    return { taskId: eventId };
  }

  async interrupt(): Promise<void> {
    await this.#command({ event_type: 'avatar.interrupt' });
    if (this.#speaking.size) {
      this.#speaking.clear();
      this.#events.emit('talking', false);
    }
  }

  async #command(command: Record<string, unknown>): Promise<void> {
    const room = this.#room;
    if (!room || this.#stopped) throw new AvatarServiceError('the avatar session is not running', 0, false);
    await room.publish(command, COMMAND_TOPIC);
  }

  async keepAlive(): Promise<void> {
    await this.#call('keep-alive');
  }

  async startAudio(): Promise<void> {
    await this.#room?.startAudio();
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    // Never started: the broker stops the session it created when told it is closed.
    if (!this.#started) return;
    await Promise.allSettled([this.#call('stop'), this.#room?.leave()]);
  }
}
