// A dropped STT socket mid-utterance loses no words: DeepgramTranscriber (the browser's code, run
// here in Node through @deepgram/sdk's listen/v1 client and the `ws` package) against the offline
// Deepgram stand-in, with a real `drop` fault that destroys the socket (no close frame) while the
// espeak-ng phrase is being streamed in real time, 100 ms per frame. And, on an unbroken socket,
// the results' word times: the pause after the last word, and when that word was captured; and the
// pause flush (`flushOnPauseMs`), in 20 ms frames as the session sends them.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startDeepgramStandIn, type DeepgramStandIn } from '../../src/offline/deepgram/index.js';
import { DeepgramTranscriber } from '../../src/transcriber/deepgram.js';

const KEY = 'transcriber-reconnect-key';
const PHRASE = 'what is the weather like today';
/** 100 ms of 16 kHz mono Int16. */
const FRAME_BYTES = 3200;
/** The socket dies this long after its first audio frame reached the stand-in: mid-phrase (see `speechSpan`). */
const DROP_AFTER_MS = 1400;

const work = mkdtempSync(join(tmpdir(), 'transcriber-reconnect-'));
let dg: DeepgramStandIn;
let frames: ArrayBuffer[];
/** First and last frame index with speech in it. */
let speechSpan: { first: number; last: number };
let grants = 0;

/** The phrase spoken by espeak-ng, as 16 kHz mono linear16 with 0.5 s of silence before and after. */
function speechPcm(text: string): Buffer {
  const wav = join(work, 'phrase.wav');
  const raw = join(work, 'phrase.raw');
  execFileSync('espeak-ng', ['-v', 'en-us', '-s', '150', '-w', wav, text]);
  execFileSync('sox', [wav, '-r', '16000', '-c', '1', '-b', '16', '-e', 'signed-integer', '-t', 'raw', raw, 'pad', '0.5', '0.5']);
  return readFileSync(raw);
}

function toFrames(pcm: Buffer, bytes = FRAME_BYTES): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  for (let i = 0; i < pcm.length; i += bytes) {
    const frame = new ArrayBuffer(bytes);
    new Uint8Array(frame).set(pcm.subarray(i, i + bytes));
    out.push(frame);
  }
  return out;
}

function isSpeech(frame: ArrayBuffer): boolean {
  return new Int16Array(frame).some((s) => Math.abs(s) > 300);
}

/** A temporary token, as the broker's STT refresh route gets one. */
async function grant(): Promise<string> {
  const res = await fetch(`${dg.url}/v1/auth/grant`, {
    method: 'POST',
    headers: { authorization: `Token ${KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ ttl_seconds: 30 }),
  });
  assert.equal(res.status, 200, 'grant');
  grants++;
  return ((await res.json()) as { access_token: string }).access_token;
}

interface Recorded {
  tr: DeepgramTranscriber;
  statuses: { status: string; at: number }[];
  /** Transcripts, each with the number of the socket (1, 2, …) it came from. */
  transcripts: { text: string; isFinal: boolean; speechFinal: boolean; fromFinalize: boolean; audioEnd: number; pauseMs?: number; speechEndAt?: number; socket: number; at: number }[];
  errors: Error[];
  utteranceEnds: number;
  /** When each `endOfSpeech` came. */
  endsOfSpeech: number[];
  /** Index of the first frame handed to `send()` after `reconnecting`, once there was one. */
  firstFrameAfterDrop: number | undefined;
  sent: number;
  /** When each frame was handed to `send()`. */
  sentAt: number[];
}

async function openTranscriber(options: { flushOnPauseMs?: number } = {}): Promise<Recorded> {
  const tr = new DeepgramTranscriber({
    ...options,
    url: dg.url,
    token: await grant(),
    refreshToken: grant,
    endpointing: 400,
    utteranceEndMs: 1000,
    language: 'en',
    model: 'nova-2',
  });
  const r: Recorded = { tr, statuses: [], transcripts: [], errors: [], utteranceEnds: 0, endsOfSpeech: [], firstFrameAfterDrop: undefined, sent: 0, sentAt: [] };
  let socket = 0;
  tr.on('status', (status) => {
    if (status === 'open') socket++;
    if (status === 'reconnecting') r.firstFrameAfterDrop ??= r.sent;
    r.statuses.push({ status, at: performance.now() });
  });
  tr.on('transcript', (u) =>
    r.transcripts.push({
      text: u.text,
      isFinal: u.isFinal,
      speechFinal: u.speechFinal,
      fromFinalize: u.fromFinalize,
      audioEnd: u.start + u.duration,
      pauseMs: u.pauseMs,
      speechEndAt: u.speechEndAt,
      socket,
      at: performance.now(),
    }),
  );
  tr.on('utteranceEnd', () => r.utteranceEnds++);
  tr.on('endOfSpeech', () => r.endsOfSpeech.push(performance.now()));
  tr.on('error', (error) => r.errors.push(error));
  await tr.open();
  return r;
}

/** Sends frames in real time (frame n at start + n × frameMs), as the microphone worklet does. */
async function play(r: Recorded, list: ArrayBuffer[], frameMs = 100): Promise<void> {
  const start = performance.now();
  for (let n = 0; n < list.length; n++) {
    r.sentAt.push(performance.now());
    r.tr.send(list[n].slice(0));
    r.sent++;
    await sleep(Math.max(0, start + (n + 1) * frameMs - performance.now()));
  }
}

async function until(what: string, check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

const normalize = (text: string) => text.toLowerCase().replace(/[^a-z' ]+/g, ' ').replace(/\s+/g, ' ').trim();
const finals = (r: Recorded, socket?: number) =>
  r.transcripts.filter((t) => t.isFinal && t.text.trim() && (socket === undefined || t.socket === socket)).map((t) => t.text);

/** Plays the phrase (plus 1.5 s of silence so the utterance ends) with a drop armed mid-phrase. */
async function playWithDrop(r: Recorded): Promise<void> {
  // Taken by the stand-in at the next audio frame (the first one), which destroys the socket
  // DROP_AFTER_MS later: a network failure, not a close handshake.
  dg.faults.arm({ kind: 'drop', path: '/v1/listen', afterMs: DROP_AFTER_MS });
  await play(r, [...frames, ...Array.from({ length: 15 }, () => new ArrayBuffer(FRAME_BYTES))]);
  assert.deepEqual(dg.faults.pending, [], 'the drop fault was taken');
}

before(async () => {
  dg = await startDeepgramStandIn({ apiKey: KEY });
  frames = toFrames(speechPcm(PHRASE));
  const speech = frames.map(isSpeech);
  speechSpan = { first: speech.indexOf(true), last: speech.lastIndexOf(true) };
});

after(async () => {
  await dg.close();
  rmSync(work, { recursive: true, force: true });
});

describe('DeepgramTranscriber: a socket dropped mid-utterance', () => {
  before(() => {
    // The drop lands inside the speech, not in the silence around it.
    assert.ok(speechSpan.first < DROP_AFTER_MS / 100 - 3 && DROP_AFTER_MS / 100 + 3 < speechSpan.last, `speech in frames ${speechSpan.first}–${speechSpan.last}`);
  });

  it('reopens with a fresh token in under 1 s and the utterance comes out whole', async () => {
    grants = 0;
    const r = await openTranscriber();
    await playWithDrop(r);
    await until('the final of the utterance on the new socket', () => r.transcripts.some((t) => t.isFinal && t.speechFinal && t.socket === 2));
    await until('UtteranceEnd', () => r.utteranceEnds > 0, 5000);

    assert.deepEqual(r.statuses.map((s) => s.status), ['open', 'reconnecting', 'open']);
    const reconnectMs = r.statuses[2].at - r.statuses[1].at;
    console.log(`reconnect: ${reconnectMs.toFixed(0)} ms from the drop being seen to the new socket open; dropped at frame ${r.firstFrameAfterDrop} (speech in ${speechSpan.first}–${speechSpan.last})`);
    assert.ok(reconnectMs < 1000, `reopened in ${reconnectMs.toFixed(0)} ms`);
    assert.ok(r.firstFrameAfterDrop! > speechSpan.first && r.firstFrameAfterDrop! < speechSpan.last, `dropped mid-phrase, at frame ${r.firstFrameAfterDrop}`);
    assert.equal(grants, 2, 'the first token, then one fresh token for the reconnect');
    assert.equal(normalize(finals(r).join(' ')), PHRASE);
    assert.equal(finals(r, 2).length, finals(r).length, 'every final came from the new socket');
    assert.deepEqual(r.errors, []);
    assert.equal(dg.openStreams, 1);

    r.tr.close();
    assert.equal(r.statuses.at(-1)!.status, 'closed');
    await until('the stand-in sees the stream closed', () => dg.openStreams === 0, 5000);
  });

  it('control: nothing of the phrase was confirmed before the drop, and the audio after it alone is not the phrase', async () => {
    // Without the resend, the new socket would get only what was captured from the drop on.
    // This shows that audio cannot give the phrase, so the test above passes only by the resend.
    const r = await openTranscriber();
    await playWithDrop(r);
    await until('the final of the utterance on the new socket', () => r.transcripts.some((t) => t.isFinal && t.speechFinal && t.socket === 2));
    assert.deepEqual(r.statuses.map((s) => s.status), ['open', 'reconnecting', 'open']);
    const dropAt = r.statuses[1].at;
    assert.deepEqual(
      r.transcripts.filter((t) => t.at < dropAt && t.isFinal).map((t) => t.text),
      [],
      'the first socket confirmed nothing before it died',
    );
    const before = r.transcripts.filter((t) => t.at < dropAt);
    console.log(`the first socket, before the drop: ${JSON.stringify(before.map((t) => t.text))}`);
    assert.ok(before.every((t) => t.socket === 1 && !t.isFinal));
    // What it had heard, if anything, was the start of the phrase: the drop cut the utterance.
    for (const t of before) assert.ok(PHRASE.startsWith(normalize(t.text)) && normalize(t.text) !== PHRASE, t.text);
    r.tr.close();

    const from = r.firstFrameAfterDrop!;
    assert.ok(from > speechSpan.first && from < speechSpan.last, `dropped mid-phrase, at frame ${from}`);
    const tail = await openTranscriber();
    await play(tail, [...frames.slice(from), ...Array.from({ length: 15 }, () => new ArrayBuffer(FRAME_BYTES))]);
    await until('the final of the tail', () => tail.transcripts.some((t) => t.isFinal), 8000);
    const heard = normalize(finals(tail).join(' '));
    console.log(`the audio from frame ${from} on, alone, is heard as ${JSON.stringify(heard)}`);
    assert.notEqual(heard, PHRASE);
    assert.deepEqual(tail.statuses.map((s) => s.status), ['open']);
    tail.tr.close();
    await until('the stand-in sees the streams closed', () => dg.openStreams === 0, 5000);
  });
});

describe('DeepgramTranscriber: word times', () => {
  it('a result says how long the visitor has paused after the last word, and when that word was captured', async () => {
    const r = await openTranscriber();
    await play(r, [...frames, ...Array.from({ length: 10 }, () => new ArrayBuffer(FRAME_BYTES))]);
    await until('the end of the utterance', () => r.transcripts.some((t) => t.speechFinal));
    const worded = r.transcripts.filter((t) => t.text.trim());
    console.log(`results: ${JSON.stringify(worded.map((t) => ({ text: t.text, final: t.isFinal, audioEnd: t.audioEnd, pauseMs: t.pauseMs })))}`);
    assert.ok(worded.length >= 3);
    for (const t of worded) {
      assert.ok(Number.isFinite(t.pauseMs) && t.pauseMs! >= 0, `pauseMs ${t.pauseMs}`);
      assert.ok(Number.isFinite(t.speechEndAt) && t.speechEndAt! <= t.at, `speechEndAt ${t.speechEndAt} before the result (${t.at})`);
    }
    // While the phrase is being spoken, the silence after the last word named so far is a word not
    // named yet: no pause. Once the phrase is over, the pause shows before the turn ends.
    const speechEnd = (speechSpan.last + 1) * 0.1;
    const during = worded.filter((t) => t.audioEnd <= speechEnd);
    assert.ok(during.length >= 2, 'interims while speaking');
    for (const t of during) assert.ok(t.pauseMs! < 150, `"${t.text}" while speaking: pause ${t.pauseMs} ms`);
    const after = worded.filter((t) => t.audioEnd >= speechEnd + 0.15 && !t.speechFinal);
    assert.ok(after.length >= 1, 'an interim after the phrase, before the turn ended');
    for (const t of after) assert.ok(t.pauseMs! >= 150, `"${t.text}" after the phrase: pause ${t.pauseMs} ms`);
    const end = r.transcripts.find((t) => t.speechFinal)!;
    // The stand-in ends speech after 400 ms of silence (endpointing).
    assert.ok(end.pauseMs! >= 300, `pause before speech_final: ${end.pauseMs} ms`);
    // The last loud frame was handed over at sentAt[last] and holds 100 ms of audio before it.
    const lastLoud = r.sentAt[speechSpan.last];
    const offset = end.speechEndAt! - lastLoud;
    console.log(`the last word ended ${offset.toFixed(0)} ms from the hand-over of the last loud frame`);
    assert.ok(offset > -250 && offset < 150, `speechEndAt ${offset.toFixed(0)} ms from the last loud frame`);
    r.tr.close();
    await until('the stand-in sees the stream closed', () => dg.openStreams === 0, 5000);
  });
});

describe('DeepgramTranscriber: the pause flush', () => {
  /** 20 ms of 16 kHz mono Int16, the session's frame. */
  const SMALL = 640;
  const silence = (ms: number) => Array.from({ length: ms / 20 }, () => new ArrayBuffer(SMALL));
  let small: ArrayBuffer[];
  let lastLoud: number;
  before(() => {
    small = toFrames(Buffer.concat(frames.map((f) => Buffer.from(f))), SMALL);
    lastLoud = small.map(isSpeech).lastIndexOf(true);
  });

  it('a pause after the voice brings the words back at once as a flushed final; the end of speech follows the endpointing silence', async () => {
    const r = await openTranscriber({ flushOnPauseMs: 100 });
    await play(r, [...small, ...silence(1000)], 20);
    await until('the end of speech', () => r.endsOfSpeech.length > 0, 5000);
    await sleep(300);
    const flushed = r.transcripts.filter((t) => t.fromFinalize && t.text.trim());
    console.log(`flushed: ${JSON.stringify(flushed.map((t) => t.text))}; ${(flushed[0]?.at - r.sentAt[lastLoud]).toFixed(0)} ms after the last loud frame; end of speech ${(r.endsOfSpeech[0] - r.sentAt[lastLoud]).toFixed(0)} ms after it`);
    assert.equal(flushed.length, 1, 'one flush for one stretch of voice');
    assert.equal(normalize(flushed[0].text), PHRASE);
    assert.ok(flushed[0].isFinal && !flushed[0].speechFinal);
    // The flush came at the pause, ahead of both the next interim (every 500 ms of audio) and Deepgram's
    // own end of speech (which the flush replaces: no speech_final for audio already finalised).
    assert.ok(!r.transcripts.some((t) => t.speechFinal && t.text.trim()), 'no worded speech_final after the flush');
    assert.equal(r.endsOfSpeech.length, 1);
    assert.ok(r.endsOfSpeech[0] > flushed[0].at, 'the end of speech waits for the flushed words');
    // The last loud frame holds up to 20 ms of voice: the silence after it is at least endpointing − 20 ms.
    assert.ok(r.endsOfSpeech[0] - r.sentAt[lastLoud] >= 400 - 20, `end of speech ${(r.endsOfSpeech[0] - r.sentAt[lastLoud]).toFixed(0)} ms after the voice`);
    assert.deepEqual(r.errors, []);
    r.tr.close();
    await until('the stand-in sees the stream closed', () => dg.openStreams === 0, 5000);
  });

  it('a short pause and more speech: one flush per stretch of voice, one end of speech after the last', async () => {
    const r = await openTranscriber({ flushOnPauseMs: 100 });
    // The phrase again (without the silence before it) after a 200 ms pause.
    const phrase = small.slice(0, lastLoud + 1);
    const again = phrase.slice(small.findIndex(isSpeech));
    await play(r, [...phrase, ...silence(200), ...again, ...silence(1000)], 20);
    await until('the end of speech', () => r.endsOfSpeech.length > 0, 5000);
    await sleep(300);
    const flushed = r.transcripts.filter((t) => t.fromFinalize && t.text.trim()).map((t) => normalize(t.text));
    assert.deepEqual(flushed, [PHRASE, PHRASE], 'each stretch of voice flushed at its pause');
    assert.equal(r.endsOfSpeech.length, 1, 'a 200 ms pause is no end of speech');
    const secondEnd = r.sentAt[phrase.length + 10 + again.length - 1];
    assert.ok(r.endsOfSpeech[0] > secondEnd, 'the end of speech came after the second stretch');
    r.tr.close();
    await until('the stand-in sees the stream closed', () => dg.openStreams === 0, 5000);
  });

  it('push-to-talk released: finalize(true) brings the words back and ends the speech with them, no silence needed', async () => {
    const r = await openTranscriber();
    // The visitor lets go right after the last word: no audio follows (the microphone is muted).
    await play(r, small.slice(0, lastLoud + 1), 20);
    const releasedAt = performance.now();
    r.tr.finalize(true);
    await until('the end of speech', () => r.endsOfSpeech.length > 0, 5000);
    await sleep(300);
    const flushed = r.transcripts.filter((t) => t.fromFinalize && t.text.trim());
    console.log(`released: the flushed words ${(flushed[0]?.at - releasedAt).toFixed(0)} ms and the end of speech ${(r.endsOfSpeech[0] - releasedAt).toFixed(0)} ms after the release`);
    assert.deepEqual(flushed.map((t) => normalize(t.text)), [PHRASE]);
    assert.equal(r.endsOfSpeech.length, 1);
    assert.ok(r.endsOfSpeech[0] >= flushed[0].at, 'the end of speech comes with the flushed words, not before');
    assert.ok(!r.transcripts.some((t) => t.speechFinal), 'no speech_final: no audio came after the release');
    r.tr.close();
    await until('the stand-in sees the stream closed', () => dg.openStreams === 0, 5000);
  });

  it('silence alone flushes nothing, and without flushOnPauseMs a pause is left to Deepgram', async () => {
    const quiet = await openTranscriber({ flushOnPauseMs: 100 });
    await play(quiet, silence(800), 20);
    await sleep(300);
    assert.deepEqual(quiet.transcripts.filter((t) => t.fromFinalize), []);
    assert.deepEqual(quiet.endsOfSpeech, []);
    quiet.tr.close();

    const off = await openTranscriber();
    await play(off, [...small, ...silence(1000)], 20);
    await until('speech_final', () => off.transcripts.some((t) => t.speechFinal), 5000);
    assert.deepEqual(off.transcripts.filter((t) => t.fromFinalize), []);
    assert.deepEqual(off.endsOfSpeech, []);
    assert.equal(normalize(finals(off).join(' ')), PHRASE);
    off.tr.close();
    await until('the stand-in sees the streams closed', () => dg.openStreams === 0, 5000);
  });
});
