// Server-Sent Events, parsed as the WHATWG HTML standard's "event stream interpretation" says
// (https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation),
// for streams read with `fetch` (EventSource cannot POST). DOM-free: runs in browsers and in Node.

/** One dispatched event. */
export interface SseEvent {
  /** The `event:` field, or `'message'` when the event named none. */
  event: string;
  /** The `data:` lines, joined with `\n`. */
  data: string;
  /** The last event ID in effect when this event was dispatched (it carries over to later events), if not empty. */
  id?: string;
  /** The reconnection time in ms most recently set by a `retry:` field (it carries over too), if any. */
  retry?: number;
}

const LF = 0x0a;
const CR = 0x0d;

/**
 * A streaming SSE parser: feed it decoded text in chunks of any size, get the events that each
 * chunk completed. Lines may end in LF, CRLF or CR (a CRLF split across chunks counts once); a
 * leading BOM is skipped; `:` lines are comments; a field without a colon has an empty value;
 * one space after the colon is stripped. An event is dispatched by a blank line, and only if it
 * had `data`.
 */
export class SseParser {
  /** The unfinished last line of the text pushed so far. */
  #line = '';
  /** The previous chunk ended with CR: an LF starting the next one belongs to that line end. */
  #afterCr = false;
  #started = false;
  #data = '';
  #hasData = false;
  #eventType = '';
  #lastEventId = '';
  #retry: number | undefined;

  /** Parses the next piece of the stream; returns the events it completed, in order. */
  push(text: string): SseEvent[] {
    if (!this.#started && text.length > 0) {
      this.#started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    const events: SseEvent[] = [];
    let start = 0;
    if (this.#afterCr && text.charCodeAt(0) === LF) start = 1;
    if (text.length > 0) this.#afterCr = false;
    for (let i = start; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c !== LF && c !== CR) continue;
      const line = this.#line + text.slice(start, i);
      this.#line = '';
      if (c === CR) {
        if (i + 1 === text.length) this.#afterCr = true;
        else if (text.charCodeAt(i + 1) === LF) i++;
      }
      start = i + 1;
      const event = this.#processLine(line);
      if (event) events.push(event);
    }
    this.#line += text.slice(start);
    return events;
  }

  /**
   * Ends the stream and resets the parser for a new one. As the standard says, an event is only
   * dispatched by a blank line: an unterminated last event is discarded, so this returns `[]`
   * for any stream; the return type mirrors `push` so callers can concatenate both.
   */
  end(): SseEvent[] {
    this.#line = '';
    this.#afterCr = false;
    this.#started = false;
    this.#data = '';
    this.#hasData = false;
    this.#eventType = '';
    this.#lastEventId = '';
    this.#retry = undefined;
    return [];
  }

  #processLine(line: string): SseEvent | undefined {
    if (line === '') return this.#dispatch();
    if (line.charCodeAt(0) === 0x3a /* : */) return undefined;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 0x20) value = value.slice(1);
    switch (field) {
      case 'event':
        this.#eventType = value;
        break;
      case 'data':
        this.#data += this.#hasData ? `\n${value}` : value;
        this.#hasData = true;
        break;
      case 'id':
        if (!value.includes('\0')) this.#lastEventId = value;
        break;
      case 'retry':
        if (/^[0-9]+$/.test(value)) this.#retry = Number(value);
        break;
      // Other fields are ignored.
    }
    return undefined;
  }

  #dispatch(): SseEvent | undefined {
    const hasData = this.#hasData;
    const event: SseEvent = { event: this.#eventType || 'message', data: this.#data };
    this.#data = '';
    this.#hasData = false;
    this.#eventType = '';
    if (!hasData) return undefined;
    if (this.#lastEventId !== '') event.id = this.#lastEventId;
    if (this.#retry !== undefined) event.retry = this.#retry;
    return event;
  }
}

/**
 * Reads an SSE response body (`fetch(...).body`) as events. UTF-8 is decoded across chunk
 * boundaries. When `signal` aborts, the generator cancels the reader and returns without
 * throwing (an abort is the caller's decision, not a stream failure); leaving the loop early
 * cancels the reader too. Other read errors are thrown.
 */
export async function* readSse(body: ReadableStream<Uint8Array>, signal?: AbortSignal): AsyncGenerator<SseEvent> {
  const reader = body.getReader();
  // Keep a BOM in the text: the parser strips exactly one, as the standard says.
  const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  const parser = new SseParser();
  let finished = false;
  const onAbort = () => {
    reader.cancel(signal?.reason).catch(() => {
      // The stream already failed or closed: nothing more to cancel.
    });
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    while (!signal?.aborted) {
      let result: ReadableStreamReadResult<Uint8Array>;
      try {
        result = await reader.read();
      } catch (err) {
        if (signal?.aborted) return;
        throw err;
      }
      if (signal?.aborted) return;
      if (result.done) {
        finished = true;
        yield* parser.push(decoder.decode());
        yield* parser.end();
        return;
      }
      for (const event of parser.push(decoder.decode(result.value, { stream: true }))) {
        yield event;
        if (signal?.aborted) return;
      }
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    if (!finished) {
      await reader.cancel(signal?.reason).catch(() => {
        // Already errored or cancelled by the abort listener.
      });
    }
    reader.releaseLock();
  }
}
