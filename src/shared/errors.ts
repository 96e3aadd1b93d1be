// The widget's errors: one base class with what failed (`type`) and whether the session goes on
// (`recoverable`), a subclass per part. The element turns any of them into its one error event
// without knowing the parts. DOM-free; used by the browser parts only.

/** What failed. The element's `heygen-avatar:error` event carries it as `detail.type`. */
export type AvatarErrorType =
  | 'attribute'
  | 'token-endpoint'
  | 'microphone'
  | 'avatar'
  | 'transcriber'
  | 'llm'
  | 'livekit'
  | 'load'
  | 'session'
  | 'unsupported';

/** Base of every error the widget's parts throw or report. */
export class HeygenAvatarError extends Error {
  override name = 'HeygenAvatarError';
  constructor(
    /** What failed. */
    readonly type: AvatarErrorType,
    message: string,
    /** True when the session goes on (or a new start may work); false when it cannot. */
    readonly recoverable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The session endpoint (or the page's `tokenProvider`) failed or answered something unusable. */
export class SessionEndpointError extends HeygenAvatarError {
  override name = 'SessionEndpointError';
  constructor(
    message: string,
    /** HTTP status, 0 when the endpoint could not be reached. */
    readonly status: number,
    recoverable: boolean,
    options?: { cause?: unknown },
  ) {
    super('token-endpoint', message, recoverable, options);
  }
}

/** Why the microphone could not be used. */
export type MicrophoneErrorReason = 'denied' | 'not-found' | 'unsupported' | 'failed';

/** The microphone could not be started, or stopped working. The session goes on in text mode. */
export class MicrophoneError extends HeygenAvatarError {
  override name = 'MicrophoneError';
  constructor(
    /** `denied`: the visitor or the page's permissions policy refused; `not-found`: no microphone;
     * `unsupported`: the browser (or an insecure page) lacks getUserMedia/AudioWorklet;
     * `failed`: anything else (device busy, worklet blocked by CSP, audio processing error). */
    readonly reason: MicrophoneErrorReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('microphone', message, true, options);
  }
}

/** A call to the avatar service failed (`type` `avatar`). */
export class AvatarServiceError extends HeygenAvatarError {
  override name = 'AvatarServiceError';
  constructor(
    message: string,
    /** The service's error code (HeyGen `code`), or the HTTP status; 0 when it could not be reached. */
    readonly code: number,
    recoverable: boolean,
    options?: { cause?: unknown },
  ) {
    super('avatar', message, recoverable, options);
  }
}

/** The media connection (LiveKit room) could not be made or was lost (`type` `livekit`). */
export class MediaConnectionError extends HeygenAvatarError {
  override name = 'MediaConnectionError';
  constructor(message: string, recoverable: boolean, options?: { cause?: unknown }) {
    super('livekit', message, recoverable, options);
  }
}

/** Speech recognition failed; the session goes on (typed text still works). */
export class TranscriberError extends HeygenAvatarError {
  override name = 'TranscriberError';
  constructor(
    message: string,
    /** True when speech recognition is gone for the rest of the session. */
    readonly closed = false,
    options?: { cause?: unknown },
  ) {
    super('transcriber', message, true, options);
  }
}

/** The LLM failed; `recoverable` says whether the next turn may work. */
export class LlmError extends HeygenAvatarError {
  override name = 'LlmError';
  constructor(message: string, recoverable = true, options?: { cause?: unknown }) {
    super('llm', message, recoverable, options);
  }
}

/** A lazily loaded part of the widget could not be loaded (network, CSP), or no code exists for it. */
export class LoadError extends HeygenAvatarError {
  override name = 'LoadError';
  constructor(message: string, recoverable = true, options?: { cause?: unknown }) {
    super('load', message, recoverable, options);
  }
}

/** The avatar service ended the session (idle timeout, its own limit, network). */
export class SessionEndedError extends HeygenAvatarError {
  override name = 'SessionEndedError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('session', message, false, options);
  }
}

/** This browser lacks what a session needs (checked before a session is asked for). */
export class UnsupportedBrowserError extends HeygenAvatarError {
  override name = 'UnsupportedBrowserError';
  constructor(
    /** What is missing, e.g. `WebRTC`. */
    readonly missing: readonly string[],
  ) {
    super('unsupported', `this browser cannot show the avatar: it lacks ${missing.join(', ')}`, false);
  }
}

/**
 * Any thrown value as a HeygenAvatarError: ours pass through (they know what failed); anything else
 * gets `type`, its message, and `recoverable` (default true).
 */
export function toAvatarError(error: unknown, type: AvatarErrorType, recoverable = true): HeygenAvatarError {
  if (error instanceof HeygenAvatarError) return error;
  const message = (error as Error)?.message ?? String(error);
  return new HeygenAvatarError(type, message, recoverable, { cause: error });
}
