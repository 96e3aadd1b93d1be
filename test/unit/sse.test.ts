// The SSE parser against the WHATWG event-stream rules, and readSse over real ReadableStreams.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SseParser, readSse, type SseEvent } from '../../src/shared/sse.js';

/** Every line ending (LF, CRLF, CR), comments, multi-line data, id, retry, a field without colon, non-ASCII. */
const SAMPLE =
  'data: {"a":1}\r\n\r\n' +
  ': a comment\n' +
  'event: delta\ndata: line one\ndata: line two\nid: 7\n\n' +
  'data\n\n' +
  'retry: 300\ndata:  two spaces\r\r' +
  'data:no space\r\n\n' +
  'event: 🙂\rdata: Привет, мир 👋\n\n';
const EXPECTED: SseEvent[] = [
  { event: 'message', data: '{"a":1}' },
  { event: 'delta', data: 'line one\nline two', id: '7' },
  { event: 'message', data: '', id: '7' },
  { event: 'message', data: ' two spaces', id: '7', retry: 300 },
  { event: 'message', data: 'no space', id: '7', retry: 300 },
  { event: '🙂', data: 'Привет, мир 👋', id: '7', retry: 300 },
];

/** A stuck stream fails its suite instead of hanging the run. */
const SUITE = { timeout: 10_000 };

function parseChunks(chunks: string[]): SseEvent[] {
  const p = new SseParser();
  return [...chunks.flatMap((c) => p.push(c)), ...p.end()];
}

function streamOf(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const c of chunks) controller.enqueue(c);
      controller.close();
    },
  });
}

async function collect(body: ReadableStream<Uint8Array>, signal?: AbortSignal): Promise<SseEvent[]> {
  const got: SseEvent[] = [];
  for await (const e of readSse(body, signal)) got.push(e);
  return got;
}

describe('SseParser', SUITE, () => {
  it('parses LF, CRLF and CR line ends, comments, multi-line data, id, retry and a field without colon', () => {
    assert.deepEqual(parseChunks([SAMPLE]), EXPECTED);
  });

  it('gives the same events for every split position of the stream, and for one character at a time', () => {
    for (let cut = 0; cut <= SAMPLE.length; cut++) {
      assert.deepEqual(parseChunks([SAMPLE.slice(0, cut), SAMPLE.slice(cut)]), EXPECTED, `split at ${cut}`);
    }
    assert.deepEqual(parseChunks([...SAMPLE]), EXPECTED);
  });

  it('counts a CRLF split across chunks as one line end, not two', () => {
    // Were the LF after the chunk-final CR read as a second line end, it would be a blank line
    // and dispatch "a" on its own.
    assert.deepEqual(parseChunks(['data: a\r', '\ndata: b\r', '\n\r', '\n']), [{ event: 'message', data: 'a\nb' }]);
    // A CR then a chunk not starting with LF: the CR alone ended the line.
    assert.deepEqual(parseChunks(['data: a\r', '\r', 'data: b\n\n']), [
      { event: 'message', data: 'a' },
      { event: 'message', data: 'b' },
    ]);
    // An empty chunk between CR and LF keeps the pending CR.
    assert.deepEqual(parseChunks(['data: a\r', '', '\n', 'data: b\n\n']), [{ event: 'message', data: 'a\nb' }]);
  });

  it('strips exactly one leading BOM, even when it arrives alone', () => {
    assert.deepEqual(parseChunks(['\uFEFFdata: x\n\n']), [{ event: 'message', data: 'x' }]);
    assert.deepEqual(parseChunks(['\uFEFF', 'data: x\n\n']), [{ event: 'message', data: 'x' }]);
    // A second BOM is part of the field name "\uFEFFdata", an unknown field.
    assert.deepEqual(parseChunks(['\uFEFF\uFEFFdata: x\n\n']), []);
    // A BOM later in the stream is data.
    assert.deepEqual(parseChunks(['data: \uFEFFx\n\n']), [{ event: 'message', data: '\uFEFFx' }]);
  });

  it('strips only one space after the colon, and keeps colons inside the value', () => {
    assert.deepEqual(parseChunks(['data:   three\ndata: a: b\n\n']), [{ event: 'message', data: '  three\na: b' }]);
  });

  it('does not dispatch an event without data, and resets the event type after a blank line', () => {
    assert.deepEqual(parseChunks(['event: ping\n\n', 'data: after\n\n']), [{ event: 'message', data: 'after' }]);
    assert.deepEqual(parseChunks(['event: named\ndata: 1\n\ndata: 2\n\n']), [
      { event: 'named', data: '1' },
      { event: 'message', data: '2' },
    ]);
  });

  it('ignores unknown fields, an id with NUL, and a retry that is not all digits; an empty id clears the id', () => {
    assert.deepEqual(
      parseChunks(['foo: bar\nid: 1\ndata: a\n\n', 'id: 2\0x\nretry: 10ms\ndata: b\n\n', 'id\nretry: 25\ndata: c\n\n']),
      [
        { event: 'message', data: 'a', id: '1' },
        { event: 'message', data: 'b', id: '1' },
        { event: 'message', data: 'c', retry: 25 },
      ],
    );
  });

  it('discards an unterminated last event at the end, and can parse a new stream after end()', () => {
    const p = new SseParser();
    assert.deepEqual(p.push('id: 5\ndata: x\n\ndata: unfinished'), [{ event: 'message', data: 'x', id: '5' }]);
    assert.deepEqual(p.end(), []);
    // New stream: no leftover line, no leftover id, and its BOM is stripped again.
    assert.deepEqual(p.push('\uFEFFdata: fresh\n\n'), [{ event: 'message', data: 'fresh' }]);
  });
});

describe('readSse', SUITE, () => {
  const bytes = new TextEncoder().encode(SAMPLE);

  it('decodes multi-byte UTF-8 (Cyrillic, emoji) split at every byte position', async () => {
    for (let cut = 0; cut <= bytes.length; cut++) {
      const got = await collect(streamOf([bytes.slice(0, cut), bytes.slice(cut)]));
      assert.deepEqual(got, EXPECTED, `split at byte ${cut}`);
    }
    assert.deepEqual(await collect(streamOf([...bytes].map((b) => new Uint8Array([b])))), EXPECTED);
  });

  it('strips a UTF-8 BOM once when its bytes are split', async () => {
    const withBom = new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode('data: x\n\n')]);
    const got = await collect(streamOf([withBom.slice(0, 1), withBom.slice(1, 2), withBom.slice(2)]));
    assert.deepEqual(got, [{ event: 'message', data: 'x' }]);
    // Only one: the decoder must not strip a BOM of its own before the parser strips another.
    const twoBoms = new Uint8Array([0xef, 0xbb, 0xbf, ...withBom]);
    assert.deepEqual(await collect(streamOf([twoBoms])), []);
  });

  it('stops without throwing and cancels the body with the reason when the signal aborts', async () => {
    let cancelReason: unknown;
    let pulls = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        pulls++;
        await new Promise((r) => setTimeout(r, 2));
        controller.enqueue(new TextEncoder().encode(`data: ${pulls}\n\n`));
      },
      cancel(reason) {
        cancelReason = reason;
      },
    });
    const controller = new AbortController();
    const got: string[] = [];
    for await (const e of readSse(body, controller.signal)) {
      got.push(e.data);
      if (got.length === 3) controller.abort(new Error('barge-in'));
    }
    assert.deepEqual(got, ['1', '2', '3']);
    assert.equal((cancelReason as Error).message, 'barge-in');
  });

  it('ends a read that is waiting for data when the signal aborts', async () => {
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('data: only\n\n'));
      },
      cancel() {
        cancelled = true;
      },
    });
    const controller = new AbortController();
    const got: string[] = [];
    const started = performance.now();
    setTimeout(() => controller.abort(), 50);
    for await (const e of readSse(body, controller.signal)) got.push(e.data);
    assert.deepEqual(got, ['only']);
    assert.equal(cancelled, true);
    assert.ok(performance.now() - started < 1000, 'returned promptly after the abort');
  });

  it('yields nothing for an already aborted signal, and cancels the body', async () => {
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('data: x\n\n'));
      },
      cancel() {
        cancelled = true;
      },
    });
    assert.deepEqual(await collect(body, AbortSignal.abort()), []);
    assert.equal(cancelled, true);
  });

  it('cancels the body when the consumer leaves the loop early', async () => {
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('data: 1\n\ndata: 2\n\n'));
      },
      cancel() {
        cancelled = true;
      },
    });
    for await (const e of readSse(body)) {
      assert.equal(e.data, '1');
      break;
    }
    assert.equal(cancelled, true);
  });

  it('throws a stream error when no abort was asked for', async () => {
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('data: 1\n\n'));
        controller.error(new Error('socket hang up'));
      },
    });
    const got: string[] = [];
    await assert.rejects(async () => {
      for await (const e of readSse(body)) got.push(e.data);
    }, /socket hang up/);
    // error() empties the stream's queue (Streams standard), so the queued event never arrives.
    assert.deepEqual(got, []);
  });
});
