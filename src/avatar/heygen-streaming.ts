// HeyGen's streaming avatar (API v2): session calls over HTTPS with the session token, media and
// avatar events over LiveKit. livekit-client is loaded on first use.
import { createNanoEvents } from 'nanoevents';
import { AvatarError, type AvatarProvider, type AvatarProviderEvents, type SpeakResult } from './provider.js';
import { loadLiveKit } from './load-livekit.js';

export interface HeygenStreamingOptions {
  apiBase: string;
  token: string;
  sessionId: string;
  livekitUrl: string;
  livekitToken: string;
}

type Room = import('./livekit.js').Room;

export class HeygenStreamingAvatar implements AvatarProvider {
  readonly #events = createNanoEvents<AvatarProviderEvents>();
  readonly #o: HeygenStreamingOptions;
  #room: Room | undefined;
  #stopped = false;

  constructor(options: HeygenStreamingOptions) {
    this.#o = options;
  }

  on<E extends keyof AvatarProviderEvents>(event: E, listener: AvatarProviderEvents[E]): () => void {
    return this.#events.on(event, listener);
  }

  async #call<T>(path: string, body: Record<string, unknown> = {}, signal?: AbortSignal): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.#o.apiBase.replace(/\/$/, '')}/v1/${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${this.#o.token}` },
        body: JSON.stringify({ session_id: this.#o.sessionId, ...body }),
        ...(signal ? { signal } : {}),
      });
    } catch (cause) {
      if (signal?.aborted) throw cause;
      throw new AvatarError(`the avatar service could not be reached (${path})`, 0, true, { cause });
    }
    let json: { code?: number; data?: T; message?: string };
    try {
      json = await res.json();
    } catch {
      throw new AvatarError(`the avatar service answered HTTP ${res.status} to ${path} with a body that is not JSON`, res.status, res.status >= 500);
    }
    if (!res.ok || json.code !== 100) {
      const code = json.code ?? res.status;
      const transient = res.status === 429 || res.status >= 500;
      throw new AvatarError(`${path} failed: ${json.message ?? `HTTP ${res.status}`} (code ${code})`, code, transient);
    }
    return json.data as T;
  }

  async start(video: HTMLVideoElement, audio: HTMLAudioElement, signal: AbortSignal): Promise<void> {
    const lk = await loadLiveKit();
    const room = new lk.Room({ adaptiveStream: false, dynacast: false });
    this.#room = room;
    room
      .on(lk.RoomEvent.TrackSubscribed, (track) => {
        if (track.kind === lk.Track.Kind.Video) track.attach(video);
        else if (track.kind === lk.Track.Kind.Audio) track.attach(audio);
      })
      .on(lk.RoomEvent.DataReceived, (payload) => this.#onData(payload))
      .on(lk.RoomEvent.Reconnecting, () => this.#events.emit('connection', 'reconnecting'))
      .on(lk.RoomEvent.Reconnected, () => this.#events.emit('connection', 'connected'))
      .on(lk.RoomEvent.AudioPlaybackStatusChanged, () => this.#events.emit('audioPlayback', room.canPlaybackAudio))
      .on(lk.RoomEvent.Disconnected, () => {
        this.#events.emit('connection', 'disconnected');
        if (!this.#stopped) this.#events.emit('ended', 'disconnected');
      })
      .on(lk.RoomEvent.ParticipantDisconnected, (p) => {
        // The avatar left the room: the service ended the session (idle timeout, duration limit).
        if (!this.#stopped && p.identity.startsWith('heygen')) this.#events.emit('ended', 'avatar-left');
      });
    // The avatar joins when the session starts; join the room at the same time.
    await Promise.all([this.#call('streaming.start', {}, signal), room.connect(this.#o.livekitUrl, this.#o.livekitToken)]);
    if (signal.aborted) throw signal.reason;
    this.#events.emit('connection', 'connected');
    this.#events.emit('audioPlayback', room.canPlaybackAudio);
  }

  #onData(payload: Uint8Array): void {
    let message: { type?: string };
    try {
      message = JSON.parse(new TextDecoder().decode(payload));
    } catch {
      return;
    }
    if (message.type === 'avatar_start_talking') this.#events.emit('talking', true);
    else if (message.type === 'avatar_stop_talking') this.#events.emit('talking', false);
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
    await this.#room?.startAudio();
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    const room = this.#room;
    this.#room = undefined;
    await Promise.allSettled([this.#call('streaming.stop'), room?.disconnect()]);
  }
}
