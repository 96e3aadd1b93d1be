// An idle session with KeepAlive stays open: DeepgramTranscriber (run in Node through
// @deepgram/sdk's listen/v1 client and `ws`) against the offline Deepgram stand-in, which closes a
// stream that receives neither audio nor text for its idle timeout (1011 NET-0001), as upstream does.
//
// Time is scaled. Upstream closes after ~10 s of nothing and the widget sends KeepAlive every 4 s
// without audio; the case to prove is a visitor who stays silent for 10 minutes. Here the stand-in
// closes after 1 s (idleTimeoutMs: 1000, upstream's 10 s scaled down 10×), the transcriber sends
// KeepAlive after 300 ms without sending anything (keepAliveMs: 300, 4 s scaled down ~13×, so
// KeepAlive still comes well inside the idle window), and the silence lasts 12 s (the 10 minutes
// scaled down 50×). That is 12 consecutive idle windows, each of which alone closes a silent
// socket (the control shows it); surviving all of them on one socket shows KeepAlive resets the
// stand-in's idle timer every time, which is all a longer run would repeat.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startDeepgramStandIn, type DeepgramStandIn } from '../../src/offline/deepgram/index.js';
import { DeepgramTranscriber } from '../../src/transcriber/deepgram.js';

const KEY = 'transcriber-keepalive-key';
const PHRASE = 'what is the weather like today';
const IDLE_TIMEOUT_MS = 1000;
const SILENCE_MS = 12_000;
const FRAME_BYTES = 3200;

const work = mkdtempSync(join(tmpdir(), 'transcriber-keepalive-'));
let dg: DeepgramStandIn;

async function grant(): Promise<string> {
  const res = await fetch(`${dg.url}/v1/auth/grant`, {
    method: 'POST',
    headers: { authorization: `Token ${KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ ttl_seconds: 60 }),
  });
  assert.equal(res.status, 200, 'grant');
  return ((await res.json()) as { access_token: string }).access_token;
}

interface Recorded {
  tr: DeepgramTranscriber;
  statuses: { status: string; at: number }[];
  finals: string[];
  errors: Error[];
}

async function openTranscriber(keepAliveMs: number): Promise<Recorded> {
  const tr = new DeepgramTranscriber({
    url: dg.url,
    token: await grant(),
    refreshToken: grant,
    endpointing: 400,
    utteranceEndMs: 1000,
    language: 'en',
    model: 'nova-2',
    keepAliveMs,
  });
  const r: Recorded = { tr, statuses: [], finals: [], errors: [] };
  tr.on('status', (status) => r.statuses.push({ status, at: performance.now() }));
  tr.on('transcript', (u) => {
    if (u.isFinal && u.text.trim()) r.finals.push(u.text);
  });
  tr.on('error', (error) => r.errors.push(error));
  await tr.open();
  return r;
}

async function until(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('DeepgramTranscriber: KeepAlive on an idle socket', () => {
  before(async () => {
    dg = await startDeepgramStandIn({ apiKey: KEY, idleTimeoutMs: IDLE_TIMEOUT_MS });
  });

  after(async () => {
    await dg.close();
    rmSync(work, { recursive: true, force: true });
  });

  it(`keeps one socket open through ${SILENCE_MS / 1000} s without audio (${SILENCE_MS / IDLE_TIMEOUT_MS} idle timeouts), and it still transcribes`, async () => {
    const r = await openTranscriber(300);
    const samples: number[] = [];
    const end = performance.now() + SILENCE_MS;
    while (performance.now() < end) {
      samples.push(dg.openStreams);
      await sleep(100);
    }
    assert.ok(samples.length >= SILENCE_MS / 150, `${samples.length} samples`);
    assert.deepEqual([...new Set(samples)], [1], 'the stand-in had exactly one stream open at every sample');
    assert.deepEqual(r.statuses.map((s) => s.status), ['open'], 'never reconnecting');

    // The same socket still works: the phrase, sent faster than real time (the stand-in's clock is the audio).
    const wav = join(work, 'phrase.wav');
    const raw = join(work, 'phrase.raw');
    execFileSync('espeak-ng', ['-v', 'en-us', '-s', '150', '-w', wav, PHRASE]);
    execFileSync('sox', [wav, '-r', '16000', '-c', '1', '-b', '16', '-e', 'signed-integer', '-t', 'raw', raw, 'pad', '0.5', '1.5']);
    const pcm = readFileSync(raw);
    for (let i = 0; i < pcm.length; i += FRAME_BYTES) {
      const frame = new ArrayBuffer(FRAME_BYTES);
      new Uint8Array(frame).set(pcm.subarray(i, i + FRAME_BYTES));
      r.tr.send(frame);
      await sleep(20);
    }
    await until('the phrase transcribed', () => r.finals.length > 0, 10_000);
    assert.equal(r.finals.join(' ').toLowerCase().replace(/[^a-z ]/g, ''), PHRASE);
    assert.deepEqual(r.statuses.map((s) => s.status), ['open']);
    assert.equal(dg.openStreams, 1);
    assert.deepEqual(r.errors, []);
    r.tr.close();
    await until('the stream closed', () => dg.openStreams === 0, 5000);
  });

  it('control: with KeepAlive less often than the idle timeout, the stand-in closes the silent socket', async () => {
    const r = await openTranscriber(3000);
    await until('reconnecting', () => r.statuses.some((s) => s.status === 'reconnecting'), 5000);
    const closedAfter = r.statuses.find((s) => s.status === 'reconnecting')!.at - r.statuses[0].at;
    console.log(`silent socket closed by the stand-in ${closedAfter.toFixed(0)} ms after it opened (idle timeout ${IDLE_TIMEOUT_MS} ms)`);
    // The stand-in's idle timer started at the upgrade, a little before the client saw the socket open.
    assert.ok(closedAfter > IDLE_TIMEOUT_MS - 200 && closedAfter < 3000, `${closedAfter.toFixed(0)} ms`);
    assert.deepEqual(dg.faults.pending, [], 'no fault armed: the idle timeout closed it');
    await until('reopened', () => r.statuses.filter((s) => s.status === 'open').length === 2, 5000);
    assert.deepEqual(r.statuses.slice(0, 3).map((s) => s.status), ['open', 'reconnecting', 'open']);
    r.tr.close();
    await until('the stream closed', () => dg.openStreams === 0, 5000);
  });
});
