// Per-turn latency: the moments one turn goes through, from the end of the visitor's speech to the
// avatar talking, and the spans a host page charts from them. DOM-free.

/** Latency of one turn, in whole milliseconds; `null` where a step did not happen or is not known. */
export interface TurnMetrics {
  /** `voice` for a spoken turn, `text` for a typed one or `send()`. */
  source: 'voice' | 'text';
  /** The reply was asked for before the turn was confirmed and held back until it was. */
  preemptive: boolean;
  /**
   * Speculative LLM calls cancelled since the previous turn because the visitor went on speaking or
   * the final words differed (at most one per turn).
   */
  cancelledSpeculativeCalls: number;
  /** End of the visitor's speech (the end of the last word) → the turn was confirmed (the `turn` event). Voice turns only. */
  speechEndToTurn: number | null;
  /** Turn → the LLM's first chunk. Negative when a preemptive reply had it before the turn was confirmed. */
  turnToFirstChunk: number | null;
  /** The first sentence handed to the avatar (complete, and the turn confirmed) → the avatar service accepted it. */
  sentenceToTask: number | null;
  /** The avatar service accepted the first sentence → the avatar started talking. */
  taskToTalking: number | null;
  /** End of the visitor's speech → the avatar started talking. Voice turns only. */
  speechEndToTalking: number | null;
}

/** When things happened in one turn, on the conversation's clock (ms). */
export interface TurnStamps {
  source: 'voice' | 'text';
  preemptive: boolean;
  cancelled: number;
  speechEndAt?: number;
  turnAt?: number;
  firstChunkAt?: number;
  sentenceAt?: number;
  acceptedAt?: number;
  talkingAt?: number;
}

const span = (from: number | undefined, to: number | undefined): number | null =>
  from === undefined || to === undefined ? null : Math.round(to - from);

export function turnMetrics(s: TurnStamps): TurnMetrics {
  return {
    source: s.source,
    preemptive: s.preemptive,
    cancelledSpeculativeCalls: s.cancelled,
    speechEndToTurn: span(s.speechEndAt, s.turnAt),
    turnToFirstChunk: span(s.turnAt, s.firstChunkAt),
    sentenceToTask: span(s.sentenceAt, s.acceptedAt),
    taskToTalking: span(s.acceptedAt, s.talkingAt),
    speechEndToTalking: span(s.speechEndAt, s.talkingAt),
  };
}
