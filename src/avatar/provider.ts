// The seam between the element and an avatar service. The HeyGen streaming provider implements
// it; a LiveAvatar provider would sit beside it without touching the element.

export interface AvatarProviderEvents {
  /** The avatar started (true) or stopped (false) talking. */
  talking(talking: boolean): void;
  /** Media connection: `connected`, `reconnecting` (recovering by itself), `disconnected`. */
  connection(state: 'connected' | 'reconnecting' | 'disconnected'): void;
  /** Whether the browser lets the avatar's audio play (autoplay policy). */
  audioPlayback(allowed: boolean): void;
  /** The session ended on the service's side (idle timeout, duration limit, network). */
  ended(reason: string): void;
}

export interface SpeakResult {
  taskId: string;
  durationMs: number;
}

export interface AvatarProvider {
  /** Starts the avatar session and joins its media room; media plays into the given elements. */
  start(video: HTMLVideoElement, audio: HTMLAudioElement, signal: AbortSignal): Promise<void>;
  /** The avatar says `text` verbatim; resolves when the service accepted the task. */
  speak(text: string): Promise<SpeakResult>;
  /** Stops the current speech. */
  interrupt(): Promise<void>;
  /** Resets the service's idle timer. */
  keepAlive(): Promise<void>;
  /** Resumes audio after a user gesture when autoplay was refused. */
  startAudio(): Promise<void>;
  /** Ends the session (always call it: sessions are billed until closed). */
  stop(): Promise<void>;
  on<E extends keyof AvatarProviderEvents>(event: E, listener: AvatarProviderEvents[E]): () => void;
}

/** A failed call to the avatar service. */
export class AvatarError extends Error {
  constructor(
    message: string,
    /** The service's error code (HeyGen `code`), or the HTTP status. */
    readonly code: number,
    readonly recoverable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'AvatarError';
  }
}
