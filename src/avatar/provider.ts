// The seam between a session and an avatar service. Each service is a provider in its own lazy
// chunk, chosen by the session answer's `avatar.provider` (see registry.ts); the session and the
// element only ever see this interface.
import type { AvatarAccessBase } from '../shared/contract.js';

export interface AvatarProviderEvents {
  /** The avatar started (true) or stopped (false) talking. */
  talking(talking: boolean): void;
  /** Media connection: `connected`, `reconnecting` (recovering by itself), `disconnected`. */
  connection(state: 'connected' | 'reconnecting' | 'disconnected'): void;
  /** Whether the browser lets the avatar's audio play (autoplay policy). */
  audioPlayback(allowed: boolean): void;
  /**
   * The session ended on the service's side: `duration-limit` when it reached its time limit,
   * else a reason for the logs (`avatar-left`, `disconnected`, the service's own).
   */
  ended(reason: string): void;
}

export interface SpeakResult {
  /** The service's id for this utterance, when it gives one. */
  taskId?: string;
  /** How long the service says it will speak, when it says. */
  durationMs?: number;
}

/** Where the avatar's media plays. */
export interface AvatarMedia {
  video: HTMLVideoElement;
  audio: HTMLAudioElement;
}

export interface AvatarProvider {
  /** Starts the avatar session and joins its media; resolves once the avatar can be told to speak. */
  start(media: AvatarMedia, signal: AbortSignal): Promise<void>;
  /** The avatar says `text` verbatim; resolves when the service accepted it. */
  speak(text: string): Promise<SpeakResult>;
  /** Stops the current speech and drops what is queued. */
  interrupt(): Promise<void>;
  /** Resets the service's idle timer. */
  keepAlive(): Promise<void>;
  /** Resumes audio after a user gesture when autoplay was refused. */
  startAudio(): Promise<void>;
  /** Ends the session (always call it: sessions are billed until closed). Idempotent. */
  stop(): Promise<void>;
  on<E extends keyof AvatarProviderEvents>(event: E, listener: AvatarProviderEvents[E]): () => void;
}

/** What a provider's module exports. */
export interface AvatarProviderModule {
  /**
   * Makes the provider for one session from the answer's `avatar` block, whose provider-specific
   * fields nobody has checked yet: checks them, throwing a SessionEndpointError that names the
   * first bad one (`avatar.token`, …).
   */
  createAvatar(access: AvatarAccessBase, session: { sessionId: string }): AvatarProvider;
}
