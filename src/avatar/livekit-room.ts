// The avatar's LiveKit room, the part every provider shares: join, the avatar's tracks into the
// page's media elements, reconnects, the autoplay policy, JSON data packets by topic, and the end
// of the room. What a provider says to its service (REST tasks, data-channel commands) stays in
// the provider. livekit-client is loaded on first use.
import { createNanoEvents } from 'nanoevents';
import { MediaConnectionError } from '../shared/errors.js';
import { loadLiveKit } from './load-livekit.js';
import type { AvatarMedia } from './provider.js';

type Room = import('./livekit.js').Room;

let mediaDebug = false;
/** Whether livekit-client logs every connection step (default: warnings only; pages expect a quiet widget). */
export function setMediaDebug(debug: boolean): void {
  mediaDebug = debug;
}

export interface AvatarRoomOptions {
  url: string;
  token: string;
  /** Whether a participant is the avatar: its leaving ends the session. */
  isAvatar(identity: string): boolean;
  /** Whose tracks play; unset: every participant's. */
  tracksFrom?(identity: string): boolean;
  /** Only data packets on these topics are passed on; unset: every packet. */
  topics?: readonly string[];
}

export interface AvatarRoomEvents {
  /** A data packet that parsed as a JSON object, with its topic. */
  message(message: Record<string, unknown>, topic: string | undefined): void;
  connection(state: 'connected' | 'reconnecting' | 'disconnected'): void;
  audioPlayback(allowed: boolean): void;
  /** The room is gone without us leaving it: `disconnected`, or `avatar-left`. */
  ended(reason: 'disconnected' | 'avatar-left'): void;
}

export class AvatarRoom {
  readonly #events = createNanoEvents<AvatarRoomEvents>();
  readonly #options: AvatarRoomOptions;
  #room: Room | undefined;
  #left = false;

  constructor(options: AvatarRoomOptions) {
    this.#options = options;
  }

  on<E extends keyof AvatarRoomEvents>(event: E, listener: AvatarRoomEvents[E]): () => void {
    return this.#events.on(event, listener);
  }

  /** Joins the room; the avatar's video and audio play into `media` as soon as they arrive. */
  async join(media: AvatarMedia, signal: AbortSignal): Promise<void> {
    let lk: typeof import('./livekit.js');
    try {
      lk = await loadLiveKit();
    } catch (cause) {
      throw new MediaConnectionError('the media library could not be loaded', true, { cause });
    }
    if (signal.aborted) throw signal.reason;
    // Set on each of livekit-client's loggers, not through its setLogLevel, which also writes each
    // logger's level into the page's localStorage (sixteen `loglevel:livekit…` keys on the host's site).
    for (const name of Object.values(lk.LoggerNames)) lk.getLogger(name).setLevel(mediaDebug ? 'debug' : 'warn', false);
    const room = new lk.Room({ adaptiveStream: false, dynacast: false });
    this.#room = room;
    const { isAvatar, tracksFrom, topics } = this.#options;
    room
      .on(lk.RoomEvent.TrackSubscribed, (track, _publication, participant) => {
        if (tracksFrom && !tracksFrom(participant.identity)) return;
        if (track.kind === lk.Track.Kind.Video) track.attach(media.video);
        else if (track.kind === lk.Track.Kind.Audio) track.attach(media.audio);
      })
      .on(lk.RoomEvent.DataReceived, (payload, _participant, _kind, topic) => {
        if (topics && !(topic !== undefined && topics.includes(topic))) return;
        const message = parseJsonObject(payload);
        if (message) this.#events.emit('message', message, topic);
      })
      .on(lk.RoomEvent.Reconnecting, () => this.#events.emit('connection', 'reconnecting'))
      .on(lk.RoomEvent.Reconnected, () => this.#events.emit('connection', 'connected'))
      .on(lk.RoomEvent.AudioPlaybackStatusChanged, () => this.#events.emit('audioPlayback', room.canPlaybackAudio))
      .on(lk.RoomEvent.Disconnected, () => {
        this.#events.emit('connection', 'disconnected');
        if (!this.#left) this.#events.emit('ended', 'disconnected');
      })
      .on(lk.RoomEvent.ParticipantDisconnected, (p) => {
        // The avatar left: the service ended the session (idle timeout, duration limit).
        if (!this.#left && isAvatar(p.identity)) this.#events.emit('ended', 'avatar-left');
      });
    try {
      await room.connect(this.#options.url, this.#options.token);
    } catch (cause) {
      if (signal.aborted) throw signal.reason;
      throw new MediaConnectionError(`the media connection failed: ${(cause as Error)?.message ?? cause}`, true, { cause });
    }
    if (signal.aborted) throw signal.reason;
    this.#events.emit('connection', 'connected');
    this.#events.emit('audioPlayback', room.canPlaybackAudio);
  }

  /**
   * Resolves once every one of `identities` is in the room; rejects with a MediaConnectionError
   * naming the missing ones after `timeoutMs`.
   */
  async waitForParticipants(identities: readonly string[], timeoutMs: number, signal: AbortSignal): Promise<void> {
    const room = this.#room;
    if (!room) throw new MediaConnectionError('the room is not joined', false);
    const missing = new Set(identities);
    const check = () => {
      for (const p of room.remoteParticipants.values()) missing.delete(p.identity);
      return missing.size === 0;
    };
    if (check()) return;
    const lk = await loadLiveKit();
    await new Promise<void>((resolve, reject) => {
      const done = (error?: unknown) => {
        clearTimeout(timer);
        room.off(lk.RoomEvent.ParticipantConnected, onJoin);
        signal.removeEventListener('abort', onAbort);
        if (error === undefined) resolve();
        else reject(error);
      };
      const onJoin = () => {
        if (check()) done();
      };
      const onAbort = () => done(signal.reason);
      const timer = setTimeout(
        () => done(new MediaConnectionError(`the avatar did not join the room within ${timeoutMs / 1000} s (missing: ${[...missing].join(', ')})`, true)),
        timeoutMs,
      );
      room.on(lk.RoomEvent.ParticipantConnected, onJoin);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Sends `message` as JSON on `topic`, reliably. */
  async publish(message: Record<string, unknown>, topic: string): Promise<void> {
    const room = this.#room;
    if (!room) throw new MediaConnectionError('the media connection is closed', false);
    await room.localParticipant.publishData(new TextEncoder().encode(JSON.stringify(message)), { reliable: true, topic });
  }

  /** Resumes audio after a user gesture when autoplay was refused. */
  async startAudio(): Promise<void> {
    await this.#room?.startAudio();
  }

  /** Leaves the room. Idempotent. */
  async leave(): Promise<void> {
    this.#left = true;
    const room = this.#room;
    this.#room = undefined;
    await room?.disconnect();
  }
}

function parseJsonObject(payload: Uint8Array): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(new TextDecoder().decode(payload));
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
