// Every event <heygen-avatar> fires: one prefix, a typed detail each, all bubbling and composed.
import type { ChatMessage } from '../conversation/llm.js';
import type { TurnMetrics } from '../conversation/turn-metrics.js';
import type { AvatarErrorType } from '../shared/errors.js';

/** Every state the element can be in. */
export type AvatarState = 'idle' | 'connecting' | 'listening' | 'thinking' | 'speaking' | 'ended' | 'error';

/** What failed, and whether the element can go on without the page doing anything. */
export interface AvatarErrorDetail {
  /**
   * What failed: `attribute` (a bad attribute value, ignored), `token-endpoint`, `microphone`,
   * `avatar` (the avatar service), `transcriber`, `llm`, `livekit` (media connection), `load`
   * (a lazy chunk failed to load), `session` (the session ended unexpectedly), `unsupported` (this
   * browser lacks what the avatar needs, e.g. WebRTC; no session was created).
   */
  type: AvatarErrorType;
  message: string;
  /** True when the session goes on (or a new `start()` may work); false when it had to end. */
  recoverable: boolean;
  cause?: unknown;
}

export interface AvatarStateDetail {
  state: AvatarState;
  previous: AvatarState;
}

export interface AvatarTranscriptDetail {
  /** The user's words so far in this utterance (finals + the latest interim). */
  text: string;
  /** True for a final segment (Deepgram `is_final`). */
  final: boolean;
}

export interface AvatarTurnDetail {
  /** The user's whole turn, as sent to the LLM. */
  text: string;
  /** `voice` when spoken, `text` when typed or sent with `send()`. */
  source: 'voice' | 'text';
}

export interface AvatarReplyDeltaDetail {
  /** The chunk just received. */
  delta: string;
  /** The reply so far. */
  text: string;
}

export interface AvatarReplyDetail {
  text: string;
  /** True when barge-in or `interrupt()` cut the reply short. */
  interrupted: boolean;
}

export interface AvatarTalkingDetail {
  talking: boolean;
}

export interface AvatarSessionStartDetail {
  sessionId: string;
}

export interface AvatarSessionEndDetail {
  sessionId: string;
  /** `stopped` (stop()), `removed` (element removed), `pagehide`, `error`, `ended-by-service`, `duration-limit`. */
  reason: string;
  history: readonly ChatMessage[];
}

/**
 * Latency of one turn in whole milliseconds, `null` where a step did not happen: end of speech →
 * turn → first reply chunk, first sentence → the avatar's task accepted → avatar talking, end of
 * speech → avatar talking; whether the reply was preemptive, and the speculative LLM calls cancelled.
 */
export type AvatarMetricsDetail = TurnMetrics;

/** Detail types of every event the element fires, keyed by event name. */
export interface HeygenAvatarEventDetails {
  'heygen-avatar:state': AvatarStateDetail;
  'heygen-avatar:error': AvatarErrorDetail;
  'heygen-avatar:transcript': AvatarTranscriptDetail;
  'heygen-avatar:turn': AvatarTurnDetail;
  'heygen-avatar:reply-delta': AvatarReplyDeltaDetail;
  'heygen-avatar:reply': AvatarReplyDetail;
  'heygen-avatar:talking': AvatarTalkingDetail;
  'heygen-avatar:session-start': AvatarSessionStartDetail;
  'heygen-avatar:session-end': AvatarSessionEndDetail;
  'heygen-avatar:metrics': AvatarMetricsDetail;
}

export type HeygenAvatarEventName = keyof HeygenAvatarEventDetails;

declare global {
  interface GlobalEventHandlersEventMap {
    'heygen-avatar:state': CustomEvent<AvatarStateDetail>;
    'heygen-avatar:error': CustomEvent<AvatarErrorDetail>;
    'heygen-avatar:transcript': CustomEvent<AvatarTranscriptDetail>;
    'heygen-avatar:turn': CustomEvent<AvatarTurnDetail>;
    'heygen-avatar:reply-delta': CustomEvent<AvatarReplyDeltaDetail>;
    'heygen-avatar:reply': CustomEvent<AvatarReplyDetail>;
    'heygen-avatar:talking': CustomEvent<AvatarTalkingDetail>;
    'heygen-avatar:session-start': CustomEvent<AvatarSessionStartDetail>;
    'heygen-avatar:session-end': CustomEvent<AvatarSessionEndDetail>;
    'heygen-avatar:metrics': CustomEvent<AvatarMetricsDetail>;
  }
}
