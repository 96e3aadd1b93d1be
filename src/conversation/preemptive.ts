// Preemptive replies, the rules: when a transcript result is a pause worth answering on, and when
// a turn is the same as the one a speculative reply was asked for. DOM-free; the conversation
// holds the state (conversation.ts).
import type { TranscriptUpdate } from './conversation.js';

export interface PreemptiveOptions {
  /**
   * Silence (ms) after the last word that starts a speculative reply (default 100; see `isPause`).
   * The turn itself ends at the transcriber's endpointing (400 ms by default). Most gaps between
   * words are shorter; a stop consonant's closure or a hesitation may not be, and costs that turn
   * one cancelled call. Shorter asks sooner but is cancelled more often.
   */
  minPauseMs?: number;
}

export const DEFAULT_MIN_PAUSE_MS = 100;

/**
 * Whether `update` shows the visitor pausing before the turn is confirmed: at least `minPauseMs`
 * of silence after its last word (an interim or a final segment alike; see
 * `TranscriptUpdate.pauseMs`), or the transcriber flushed on request (push-to-talk released).
 * Without word times there is no telling a pause (Deepgram also finalises segments in the middle
 * of long speech). A result that ends the turn (`speech_final`) is no pause: the turn is confirmed
 * with it.
 */
export function isPause(update: TranscriptUpdate, minPauseMs = DEFAULT_MIN_PAUSE_MS): boolean {
  if (update.speechFinal) return false;
  if (update.fromFinalize) return true;
  return update.pauseMs !== undefined && update.pauseMs >= minPauseMs;
}

/**
 * The words of a transcript, for comparing a speculative turn with the final one: lower case,
 * punctuation dropped (a final gets smart_format's capital and full stop where the interim had
 * none), hyphens split, typographic apostrophes made plain. Any other difference (a word more,
 * less or changed) makes it another turn.
 */
export function turnWords(text: string): string {
  return text
    .toLowerCase()
    .replace(/’/g, "'")
    .replace(/[^\p{L}\p{N}'\s]+/gu, ' ')
    .split(/\s+/)
    .map((word) => word.replace(/^'+|'+$/g, ''))
    .filter(Boolean)
    .join(' ');
}

/** Whether two transcripts say the same words (see `turnWords`). */
export function sameWords(a: string, b: string): boolean {
  return turnWords(a) === turnWords(b);
}
