// The LLM seam: the host page's `llm` callback, or the broker's default route, both turned into
// one async stream of text chunks. DOM-free.
import type { LlmRouteEvent, LlmRouteRequest } from '../shared/contract.js';
import { LlmError } from '../shared/errors.js';
import { readSse } from '../shared/sse.js';

export interface ChatMessage {
  role: 'user' | 'assistant';
  content: string;
}

/** What the `llm` callback receives for each user turn. */
export interface LlmTurn {
  /** The user's text for this turn. */
  text: string;
  /** The conversation before this turn, oldest first. */
  history: readonly ChatMessage[];
  /**
   * Fires when the visitor interrupts (barge-in) or the session stops, and when a preemptive call
   * turns out wrong: stop generating.
   */
  signal: AbortSignal;
  /**
   * True when the call is preemptive: made at the visitor's first pause, before the turn was
   * confirmed. Its reply is held back until the turn ends with these words, and used then; if the
   * visitor goes on speaking or the final words differ, `signal` aborts it and the confirmed turn
   * gets a call of its own. An `llm` whose calls act (tools with side effects) should act only once
   * the turn is confirmed (the `heygen-avatar:turn` event), or the page sets `no-preemptive`.
   */
  preemptive?: boolean;
  /** The `system-prompt` attribute, if set. */
  systemPrompt?: string;
  /** The conversation language (BCP-47). */
  language: string;
}

/** A reply as a whole string, a promise of one, or text chunks as they are generated. */
export type LlmResult = string | Promise<string> | AsyncIterable<string> | Iterable<string>;
export type LlmFunction = (turn: LlmTurn) => LlmResult | Promise<string | AsyncIterable<string> | Iterable<string>>;

export { LlmError };

/** Calls `llm` and yields its reply as text chunks, whatever shape it returned. */
export async function* llmChunks(llm: LlmFunction, turn: LlmTurn): AsyncGenerator<string> {
  const result = await llm(turn);
  if (typeof result === 'string') {
    yield result;
    return;
  }
  if (result && typeof (result as AsyncIterable<string>)[Symbol.asyncIterator] === 'function') {
    // Race every read against the abort, so an interrupted stream is not read one chunk further.
    const iterator = (result as AsyncIterable<string>)[Symbol.asyncIterator]();
    const { signal } = turn;
    const aborted = new Promise<'aborted'>((resolve) => {
      if (signal.aborted) resolve('aborted');
      else signal.addEventListener('abort', () => resolve('aborted'), { once: true });
    });
    try {
      for (;;) {
        const next = await Promise.race([iterator.next(), aborted]);
        if (next === 'aborted' || next.done) return;
        if (typeof next.value === 'string') yield next.value;
      }
    } finally {
      if (signal.aborted) void Promise.resolve(iterator.return?.()).catch(() => undefined);
    }
  }
  if (result && typeof (result as Iterable<string>)[Symbol.iterator] === 'function') {
    for (const chunk of result as Iterable<string>) if (typeof chunk === 'string') yield chunk;
    return;
  }
  throw new LlmError('the llm callback must return a string, a Promise of a string, or an (async) iterable of strings', false);
}

/**
 * The broker's default LLM route as an `llm` function: POSTs the history and the turn, reads the
 * SSE stream of `LlmRouteEvent`s.
 */
export function llmRoute(url: string, sessionKey: string, fetchImpl: typeof fetch = fetch): LlmFunction {
  return async function* ({ text, history, signal }) {
    const body: LlmRouteRequest = { messages: [...history, { role: 'user', content: text }] };
    let res: Response;
    try {
      res = await fetchImpl(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${sessionKey}`, accept: 'text/event-stream' },
        body: JSON.stringify(body),
        signal,
      });
    } catch (cause) {
      if (signal.aborted) return;
      throw new LlmError('the LLM route could not be reached', true, { cause });
    }
    if (!res.ok || !res.body) {
      let message = `the LLM route answered HTTP ${res.status}`;
      try {
        const err = (await res.json()) as { error?: { message?: string } };
        if (err.error?.message) message += `: ${err.error.message}`;
      } catch {
        // not JSON: keep the status line
      }
      throw new LlmError(message, res.status === 429 || res.status >= 500);
    }
    let done = false;
    for await (const event of readSse(res.body, signal)) {
      let data: LlmRouteEvent;
      try {
        data = JSON.parse(event.data) as LlmRouteEvent;
      } catch {
        throw new LlmError('the LLM route sent an event that is not JSON');
      }
      if (data.type === 'delta') yield data.text;
      else if (data.type === 'error') throw new LlmError(data.message, data.recoverable);
      else if (data.type === 'done') {
        done = true;
        break;
      }
    }
    if (!done && !signal.aborted) throw new LlmError('the LLM stream ended before it was done');
  };
}
