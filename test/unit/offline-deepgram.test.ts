// Contract tests of the offline Deepgram stand-in: `/v1/auth/grant` and the `/v1/listen`
// WebSocket, with real speech (espeak-ng → sox → linear16) recognised against the phrase lists.
// Streams are sent in 100 ms chunks; the main recognition test paces them in real time, the
// others send faster than real time (the stand-in's clock is the audio, not the wall clock).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { DeepgramClient } from '@deepgram/sdk';
import WebSocket from 'ws';
import { Resampler } from '../../src/offline/deepgram/audio.js';
import { parsePhrase } from '../../src/offline/deepgram/phrases.js';
import {
  DEEPGRAM_CLOSE,
  DEFAULT_PHRASES,
  extraPhrasesFrom,
  phraseLists,
  startDeepgramStandIn,
  type DeepgramStandIn,
  type ListenServerMessage,
  type MetadataMessage,
  type ResultsMessage,
  type SpeechStartedMessage,
  type UtteranceEndMessage,
} from '../../src/offline/deepgram/index.js';

const KEY = 'test-deepgram-key';
const PHRASE = 'what is the weather like today';
const work = mkdtempSync(join(tmpdir(), 'offline-deepgram-test-'));
let dg: DeepgramStandIn;

/**
 * `text` spoken by espeak-ng's `voice` (150 words a minute) as raw linear16, with `padBefore` and
 * `padAfter` seconds of silence around it; `padAfter: 0` also trims espeak's own trailing silence.
 */
function speech(text: string, { rate = 16_000, channels = 1, padBefore = 0.5, padAfter = 0, voice = 'en-us' } = {}): Buffer {
  const name = createHash('sha1').update(`${voice}:${text}`).digest('hex').slice(0, 12);
  const wav = join(work, `${name}.wav`);
  const raw = join(work, `${name}-${rate}-${channels}-${padBefore}-${padAfter}.raw`);
  execFileSync('espeak-ng', ['-v', voice, '-s', '150', '-w', wav, text]);
  const trim = padAfter === 0 ? ['reverse', 'silence', '1', '0.01', '-45d', 'reverse'] : [];
  execFileSync('sox', [wav, '-r', String(rate), '-c', String(channels), '-b', '16', '-e', 'signed-integer', raw, ...trim, 'pad', String(padBefore), String(padAfter)]);
  return readFileSync(raw);
}

type Message = ListenServerMessage;

interface Listen {
  ws: WebSocket;
  messages: Message[];
  /** Wall-clock arrival (performance.now()) of each message. */
  arrivals: number[];
  requestId: string | undefined;
  closed: Promise<{ code: number; reason: string }>;
  /** Resolves with the first message (arrived or arriving) that matches. */
  waitFor<T extends Message>(match: (m: Message) => m is T, timeoutMs?: number): Promise<T>;
  waitFor(match: (m: Message) => boolean, timeoutMs?: number): Promise<Message>;
}

const isResults = (m: Message): m is ResultsMessage => m.type === 'Results';
const isFinal = (m: Message): m is ResultsMessage => m.type === 'Results' && m.is_final;

function listenUrl(query: Record<string, string | number | boolean> = {}): string {
  const params = new URLSearchParams({ encoding: 'linear16', sample_rate: '16000', ...Object.fromEntries(Object.entries(query).map(([k, v]) => [k, String(v)])) });
  return `${dg.wsUrl}/v1/listen?${params}`;
}

/** Opens a listen socket; rejects with the HTTP status if the upgrade is refused. */
function listen(url: string, protocols: string[] = ['token', KEY], headers: Record<string, string> = {}): Promise<Listen> {
  const ws = new WebSocket(url, protocols, { headers });
  const messages: Message[] = [];
  const arrivals: number[] = [];
  const waiters = new Set<() => void>();
  let requestId: string | undefined;
  ws.on('upgrade', (res: IncomingMessage) => (requestId = res.headers['dg-request-id'] as string));
  ws.on('message', (data) => {
    messages.push(JSON.parse(String(data)) as Message);
    arrivals.push(performance.now());
    for (const wake of waiters) wake();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: String(reason) })));
  function waitFor(match: (m: Message) => boolean, timeoutMs = 5000): Promise<Message> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = messages.find(match);
        if (!found) return false;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(found);
        return true;
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`no matching message within ${timeoutMs} ms; got ${JSON.stringify(messages.map((m) => m.type))}`));
      }, timeoutMs);
      if (!check()) waiters.add(check);
    });
  }
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, messages, arrivals, get requestId() { return requestId; }, closed, waitFor } as Listen));
    ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`upgrade refused: ${res.statusCode}`), { status: res.statusCode })));
    ws.once('error', reject);
  });
}

/** The HTTP answer to a refused upgrade: status, headers, JSON body. */
function refusedUpgrade(url: string, protocols: string[] = ['token', KEY], headers: Record<string, string> = {}) {
  return new Promise<{ status: number; headers: IncomingMessage['headers']; body: Record<string, unknown> }>((resolve, reject) => {
    const ws = new WebSocket(url, protocols, { headers });
    ws.once('open', () => {
      ws.terminate();
      reject(new Error('the upgrade was accepted'));
    });
    ws.once('error', () => undefined);
    ws.once('unexpected-response', (_req, res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(text) as Record<string, unknown> });
        ws.terminate();
      });
    });
  });
}

/**
 * Sends `pcm` in 100 ms chunks, `speed` times faster than real time; returns when each chunk went
 * out (performance.now()), so latency can be measured against the audio clock.
 */
async function send(ws: WebSocket, pcm: Buffer, { rate = 16_000, channels = 1, speed = 1 } = {}): Promise<number[]> {
  const chunk = (rate * channels * 2) / 10;
  const sentAt: number[] = [];
  const start = performance.now();
  for (let i = 0, n = 0; i < pcm.length; i += chunk, n++) {
    ws.send(pcm.subarray(i, i + chunk));
    sentAt.push(performance.now());
    const due = start + ((n + 1) * 100) / speed;
    await sleep(Math.max(0, due - performance.now()));
  }
  return sentAt;
}

async function grant(body?: unknown, headers: Record<string, string> = { authorization: `Token ${KEY}` }) {
  const res = await fetch(`${dg.url}/v1/auth/grant`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: JSON.parse(text) as Record<string, unknown> };
}

const keys = (value: object) => Object.keys(value).sort();
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function assertDeepgramError(json: Record<string, unknown>, errCode: string) {
  assert.deepEqual(keys(json), ['err_code', 'err_msg', 'request_id']);
  assert.equal(json.err_code, errCode);
  assert.equal(typeof json.err_msg, 'string');
  assert.ok((json.err_msg as string).length > 0);
  assert.match(json.request_id as string, UUID);
}

function assertResultsShape(m: ResultsMessage, punctuated: boolean) {
  assert.deepEqual(keys(m), ['channel', 'channel_index', 'duration', 'from_finalize', 'is_final', 'metadata', 'speech_final', 'start', 'type']);
  assert.deepEqual(m.channel_index, [0, 1]);
  for (const field of ['duration', 'start'] as const) assert.equal(typeof m[field], 'number');
  for (const field of ['is_final', 'speech_final', 'from_finalize'] as const) assert.equal(typeof m[field], 'boolean');
  assert.deepEqual(keys(m.channel), ['alternatives']);
  assert.equal(m.channel.alternatives.length, 1);
  const alt = m.channel.alternatives[0];
  assert.deepEqual(keys(alt), ['confidence', 'transcript', 'words']);
  assert.equal(typeof alt.transcript, 'string');
  assert.ok(alt.confidence >= 0 && alt.confidence <= 1);
  for (const w of alt.words) {
    assert.deepEqual(keys(w), punctuated ? ['confidence', 'end', 'punctuated_word', 'start', 'word'] : ['confidence', 'end', 'start', 'word']);
    assert.ok(w.start < w.end, JSON.stringify(w));
  }
  assert.deepEqual(keys(m.metadata), ['model_info', 'model_uuid', 'request_id']);
  assert.deepEqual(keys(m.metadata.model_info), ['arch', 'name', 'version']);
  assert.match(m.metadata.model_uuid, UUID);
}

before(async () => {
  dg = await startDeepgramStandIn({ apiKey: KEY });
});

after(async () => {
  await dg.close();
  rmSync(work, { recursive: true, force: true });
});

describe('POST /v1/auth/grant', () => {
  it('mints a JWT for the API key: 30 s by default, ttl_seconds when given', async () => {
    const r = await grant();
    assert.equal(r.status, 200);
    assert.deepEqual(keys(r.json), ['access_token', 'expires_in']);
    assert.equal(r.json.expires_in, 30);
    const [header, payload, signature] = (r.json.access_token as string).split('.');
    assert.deepEqual(JSON.parse(Buffer.from(header, 'base64url').toString()), { alg: 'HS256', typ: 'JWT' });
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as { iat: number; exp: number };
    assert.ok(claims.exp - Date.now() / 1000 > 29 && claims.exp - Date.now() / 1000 <= 31, JSON.stringify(claims));
    assert.ok(signature.length > 20);
    assert.match(r.headers.get('dg-request-id') ?? '', UUID);

    const long = await grant({ ttl_seconds: 600 });
    assert.equal(long.status, 200);
    assert.equal(long.json.expires_in, 600);
  });

  it('answers a wrong, missing or temporary credential with 401 INVALID_AUTH', async () => {
    const wrong = await grant({}, { authorization: 'Token not-the-key' });
    assert.equal(wrong.status, 401);
    assertDeepgramError(wrong.json, 'INVALID_AUTH');
    assert.equal(wrong.json.err_msg, 'Invalid credentials.');
    assert.equal(wrong.json.request_id, wrong.headers.get('dg-request-id'));

    const missing = await grant({}, {});
    assert.equal(missing.status, 401);
    assertDeepgramError(missing.json, 'INVALID_AUTH');

    const token = (await grant()).json.access_token as string;
    const bearer = await grant({}, { authorization: `Bearer ${token}` });
    assert.equal(bearer.status, 401);
    assertDeepgramError(bearer.json, 'INVALID_AUTH');
  });

  it('refuses a bad ttl_seconds or body with 400, a large body with 413, other methods with 405; 426 and 404 elsewhere', async () => {
    for (const body of [{ ttl_seconds: 0 }, { ttl_seconds: 3601 }, { ttl_seconds: '30' }, [1], 'not json']) {
      const r = await grant(body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assertDeepgramError(r.json, 'Bad Request');
    }
    const large = await grant({ ttl_seconds: 30, padding: 'x'.repeat(4096) });
    assert.equal(large.status, 413);
    assertDeepgramError(large.json, 'PAYLOAD_TOO_LARGE');

    const get = await fetch(`${dg.url}/v1/auth/grant`, { headers: { authorization: `Token ${KEY}` } });
    assert.equal(get.status, 405);
    assert.equal(get.headers.get('allow'), 'POST');
    assertDeepgramError((await get.json()) as Record<string, unknown>, 'METHOD_NOT_ALLOWED');

    const plainListen = await fetch(`${dg.url}/v1/listen`);
    assert.equal(plainListen.status, 426);
    assertDeepgramError((await plainListen.json()) as Record<string, unknown>, 'Bad Request');

    const unknown = await fetch(`${dg.url}/v1/nothing`);
    assert.equal(unknown.status, 404);
    assertDeepgramError((await unknown.json()) as Record<string, unknown>, 'NOT_FOUND');
  });
});

describe('GET /v1/listen', () => {
  it('transcribes a spoken phrase paced in real time: SpeechStarted, interims, speech_final, UtteranceEnd, Metadata', async (t) => {
    // 0.5 s silence, the phrase (~1.8 s), 1.6 s silence: enough for endpointing and UtteranceEnd.
    const pcm = speech(PHRASE, { padBefore: 0.5, padAfter: 1.6 });
    const before = dg.openStreams;
    const s = await listen(listenUrl({ model: 'nova-2', language: 'en', smart_format: true, interim_results: true, utterance_end_ms: 1000, vad_events: true, endpointing: 300 }));
    assert.equal(s.ws.protocol, 'token');
    assert.match(s.requestId ?? '', UUID);
    const opened = performance.now();
    const sentAt = await send(s.ws, pcm);
    await s.waitFor((m): m is UtteranceEndMessage => m.type === 'UtteranceEnd');
    s.ws.send(JSON.stringify({ type: 'CloseStream' }));
    const metadata = (await s.waitFor((m): m is MetadataMessage => m.type === 'Metadata')) as MetadataMessage;
    assert.deepEqual(await s.closed, { code: 1000, reason: '' });

    const types = s.messages.map((m) => m.type);
    assert.equal(types[0], 'SpeechStarted');
    assert.equal(types.at(-1), 'Metadata');
    assert.equal(types.at(-2), 'UtteranceEnd');

    const started = s.messages[0] as SpeechStartedMessage;
    assert.deepEqual(keys(started), ['channel', 'timestamp', 'type']);
    assert.deepEqual(started.channel, [0, 1]);
    assert.ok(Math.abs(started.timestamp - 0.5) <= 0.06, `SpeechStarted at ${started.timestamp}`);

    const results = s.messages.filter(isResults);
    for (const r of results) {
      assertResultsShape(r, true);
      assert.equal(r.metadata.request_id, s.requestId);
      assert.equal(r.metadata.model_info.name, 'nova-2');
    }
    const interims = results.filter((r) => !r.is_final);
    assert.ok(interims.length >= 2, `${interims.length} interim results`);
    for (const r of interims) {
      assert.equal(r.speech_final, false);
      // An interim is the phrase so far: capitalised, no final period.
      const text = r.channel.alternatives[0].transcript.toLowerCase();
      assert.ok(PHRASE.startsWith(text), `interim "${text}"`);
    }
    const finals = results.filter((r) => r.is_final);
    assert.equal(finals.length, 1);
    const final = finals[0];
    const alt = final.channel.alternatives[0];
    assert.equal(alt.transcript, 'What is the weather like today?');
    assert.equal(final.speech_final, true);
    assert.equal(final.from_finalize, false);
    assert.deepEqual(alt.words.map((w) => w.word), PHRASE.split(' '));
    assert.deepEqual(alt.words.map((w) => w.punctuated_word), ['What', 'is', 'the', 'weather', 'like', 'today?']);
    for (let i = 1; i < alt.words.length; i++) assert.ok(alt.words[i].start >= alt.words[i - 1].end, 'words in order');
    // Times come from the audio: speech starts after 0.5 s of silence and lasts under 2 s.
    assert.ok(alt.words[0].start >= 0.35 && alt.words[0].start <= 0.6, `first word at ${alt.words[0].start}`);
    assert.ok(alt.words.at(-1)!.end > 1.6 && alt.words.at(-1)!.end < 2.6, `last word ends at ${alt.words.at(-1)!.end}`);
    assert.equal(final.start, 0);
    // speech_final comes after `endpointing` (300 ms) of silence following the last word.
    const endpoint = final.start + final.duration;
    assert.ok(endpoint - alt.words.at(-1)!.end >= 0.25 && endpoint - alt.words.at(-1)!.end <= 0.5, `endpoint at ${endpoint}`);

    const utteranceEnd = s.messages.at(-2) as UtteranceEndMessage;
    assert.deepEqual(keys(utteranceEnd), ['channel', 'last_word_end', 'type']);
    assert.deepEqual(utteranceEnd.channel, [0, 1]);
    assert.equal(utteranceEnd.last_word_end, alt.words.at(-1)!.end);

    assert.deepEqual(keys(metadata), ['channels', 'created', 'duration', 'model_info', 'models', 'request_id', 'sha256', 'transaction_key', 'type']);
    assert.equal(metadata.transaction_key, 'deprecated');
    assert.equal(metadata.request_id, s.requestId);
    assert.equal(metadata.channels, 1);
    assert.equal(metadata.duration, pcm.length / 2 / 16_000);
    assert.equal(metadata.sha256, createHash('sha256').update(pcm).digest('hex'));
    assert.ok(Math.abs(Date.parse(metadata.created) - (Date.now() - (performance.now() - opened))) < 1000);
    assert.equal(metadata.models.length, 1);
    assert.deepEqual(metadata.model_info[metadata.models[0]], final.metadata.model_info);

    // Latency: from the chunk that completed the endpoint's audio to the final's arrival.
    const endpointChunk = Math.ceil(endpoint * 10) - 1;
    const finalArrival = s.arrivals[s.messages.indexOf(final)];
    t.diagnostic(`final result ${(finalArrival - sentAt[endpointChunk]).toFixed(0)} ms after the chunk holding its endpoint was sent`);
    const interimLatencies = interims.map((r) => s.arrivals[s.messages.indexOf(r)] - sentAt[Math.ceil((r.start + r.duration) * 10) - 1]);
    t.diagnostic(`interim results ${interimLatencies.map((v) => v.toFixed(0)).join(', ')} ms after their last chunk was sent`);
    assert.equal(await waitForOpenStreams(before), before, 'the closed stream is no longer counted');
  });

  it('resamples 48 kHz stereo and leaves transcripts unformatted without smart_format', async () => {
    const pcm = speech(PHRASE, { rate: 48_000, channels: 2, padBefore: 0.3, padAfter: 0.6 });
    const s = await listen(listenUrl({ sample_rate: 48_000, channels: 2, endpointing: 300 }));
    await send(s.ws, pcm, { rate: 48_000, channels: 2, speed: 5 });
    const final = (await s.waitFor(isFinal)) as ResultsMessage;
    assertResultsShape(final, false);
    assert.equal(final.channel.alternatives[0].transcript, PHRASE);
    assert.equal(final.speech_final, true);
    assert.equal(s.messages.filter((m) => !isFinal(m)).length, 0, 'no interims, SpeechStarted or UtteranceEnd unless asked for');
    s.ws.send(JSON.stringify({ type: 'CloseStream' }));
    const metadata = (await s.waitFor((m): m is MetadataMessage => m.type === 'Metadata')) as MetadataMessage;
    assert.equal(metadata.channels, 2);
    assert.equal(metadata.duration, pcm.length / 4 / 48_000);
    await s.closed;
  });

  it('answers Finalize with a from_finalize final, of the speech so far or empty', async () => {
    // The phrase with no silence after it: only Finalize can end it.
    const pcm = speech(PHRASE, { padBefore: 0.3, padAfter: 0 });
    const s = await listen(listenUrl({ endpointing: 300 }));
    await send(s.ws, pcm, { speed: 10 });
    s.ws.send(JSON.stringify({ type: 'Finalize' }));
    const flushed = (await s.waitFor((m): m is ResultsMessage => isResults(m) && m.from_finalize)) as ResultsMessage;
    assertResultsShape(flushed, false);
    assert.equal(flushed.is_final, true);
    assert.equal(flushed.speech_final, false);
    assert.equal(flushed.channel.alternatives[0].transcript, PHRASE);
    assert.equal(flushed.start, 0);
    assert.equal(flushed.duration, pcm.length / 2 / 16_000);

    s.ws.send(JSON.stringify({ type: 'Finalize' }));
    await s.waitFor((m) => isResults(m) && m.from_finalize && m !== flushed);
    const empty = s.messages.filter(isResults).at(-1)!;
    assert.equal(empty.from_finalize, true);
    assert.equal(empty.channel.alternatives[0].transcript, '');
    assert.deepEqual(empty.channel.alternatives[0].words, []);
    assert.equal(empty.start, flushed.start + flushed.duration, 'finals tile the audio');
    s.ws.close();
  });

  it('closes with 1008 on a text frame that is not a control message, 1009 on one over 1 MiB, 1000 on an empty one', async () => {
    const s = await listen(listenUrl());
    s.ws.send('{"type":"Flush"}');
    assert.deepEqual(await s.closed, { code: DEEPGRAM_CLOSE.badMessage.code, reason: DEEPGRAM_CLOSE.badMessage.reason });
    const big = await listen(listenUrl());
    big.ws.send(Buffer.alloc(1024 * 1024 + 2));
    assert.equal((await big.closed).code, 1009);
    // An empty binary frame is upstream's legacy CloseStream.
    const after = await listen(listenUrl());
    after.ws.send(Buffer.alloc(0));
    assert.equal((await after.closed).code, 1000, 'the server survived, and closed normally');
    assert.deepEqual(after.messages.map((m) => m.type), ['Metadata']);
  });

  it('refuses an unknown or undecodable encoding, a missing or bad sample_rate, a bad flag with 400', async () => {
    const cases: Array<Record<string, string>> = [
      { encoding: 'wav-ish' },
      { encoding: 'mulaw', sample_rate: '8000' },
      { encoding: 'linear16', sample_rate: '' },
      { sample_rate: '96000' },
      { interim_results: 'maybe' },
      { endpointing: 'soon' },
    ];
    for (const query of cases) {
      const params = new URLSearchParams({ encoding: 'linear16', sample_rate: '16000', ...query });
      const r = await refusedUpgrade(`${dg.wsUrl}/v1/listen?${params}`);
      assert.equal(r.status, 400, JSON.stringify(query));
      assertDeepgramError(r.body, 'Bad Request');
      assert.equal(r.body.request_id, r.headers['dg-request-id']);
    }
    const noSampleRate = await refusedUpgrade(`${dg.wsUrl}/v1/listen?encoding=linear16`);
    assert.equal(noSampleRate.status, 400);
    assert.match(noSampleRate.body.err_msg as string, /sample_rate/);
  });
});

describe('auth on /v1/listen', () => {
  it('accepts the key as subprotocol or header, and a granted token as bearer subprotocol or header', async () => {
    const before = dg.openStreams;
    const token = (await grant({ ttl_seconds: 60 })).json.access_token as string;
    const viaToken = await listen(listenUrl(), ['token', KEY]);
    assert.equal(viaToken.ws.protocol, 'token');
    const viaBearer = await listen(listenUrl(), ['bearer', token]);
    assert.equal(viaBearer.ws.protocol, 'bearer');
    const viaKeyHeader = await listen(listenUrl(), [], { authorization: `Token ${KEY}` });
    assert.equal(viaKeyHeader.ws.protocol, '');
    const viaBearerHeader = await listen(listenUrl(), [], { authorization: `Bearer ${token}` });
    assert.equal(viaBearerHeader.ws.protocol, '');
    assert.equal(await waitForOpenStreams(before + 4), before + 4);
    for (const s of [viaToken, viaBearer, viaKeyHeader, viaBearerHeader]) s.ws.close();
    assert.equal(await waitForOpenStreams(before), before);
  });

  it('refuses a bad key, no credentials, a forged or an expired token with 401 INVALID_AUTH', async () => {
    const token = (await grant({ ttl_seconds: 1 })).json.access_token as string;
    const [head, payload] = token.split('.');
    const forgedPayload = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), exp: 9e9 })).toString('base64url');
    for (const [protocols, headers] of [
      [['token', 'wrong-key'], {}],
      [[], {}],
      [[], { authorization: 'Token wrong-key' }],
      [['bearer', `${head}.${forgedPayload}.${token.split('.')[2]}`], {}],
      [['bearer', 'not-a-jwt'], {}],
    ] as Array<[string[], Record<string, string>]>) {
      const r = await refusedUpgrade(listenUrl(), protocols, headers);
      assert.equal(r.status, 401, JSON.stringify(protocols));
      assertDeepgramError(r.body, 'INVALID_AUTH');
      assert.equal(r.body.err_msg, 'Invalid credentials.');
    }
    // The same token works until it expires, then is refused.
    const fresh = await listen(listenUrl(), ['bearer', token]);
    fresh.ws.close();
    const { exp } = JSON.parse(Buffer.from(payload, 'base64url').toString()) as { exp: number };
    await sleep(exp * 1000 - Date.now() + 50);
    const expired = await refusedUpgrade(listenUrl(), ['bearer', token]);
    assert.equal(expired.status, 401);
    assertDeepgramError(expired.body, 'INVALID_AUTH');
  });
});

describe('idle timeout and KeepAlive', () => {
  let quick: DeepgramStandIn;
  before(async () => {
    quick = await startDeepgramStandIn({ apiKey: KEY, idleTimeoutMs: 300 });
  });
  after(() => quick.close());

  it('keeps a stream open past the idle timeout while KeepAlive arrives, then closes it 1011 NET-0001', async () => {
    const s = await listen(`${quick.wsUrl}/v1/listen?encoding=linear16&sample_rate=16000`);
    const opened = performance.now();
    let lastKeepAlive = opened;
    while (performance.now() - opened < 1000) {
      s.ws.send(JSON.stringify({ type: 'KeepAlive' }));
      lastKeepAlive = performance.now();
      await sleep(100);
    }
    assert.equal(s.ws.readyState, WebSocket.OPEN, 'open after 1 s of KeepAlive with a 300 ms idle timeout');
    const closed = await s.closed;
    const idleFor = performance.now() - lastKeepAlive;
    assert.equal(closed.code, 1011);
    assert.equal(closed.reason, DEEPGRAM_CLOSE.idle.reason);
    assert.match(closed.reason, /net0001/);
    assert.ok(idleFor >= 250 && idleFor < 1000, `closed ${idleFor.toFixed(0)} ms after the last KeepAlive`);
    assert.equal(s.messages.length, 0, 'KeepAlive has no answer');
  });

  it('closes a stream that never sends anything after the idle timeout', async () => {
    const s = await listen(`${quick.wsUrl}/v1/listen?encoding=linear16&sample_rate=16000`);
    const opened = performance.now();
    assert.equal((await s.closed).code, 1011);
    assert.ok(performance.now() - opened >= 250);
  });
});

describe('faults', () => {
  async function arm(fault: Record<string, unknown>) {
    const res = await fetch(`${dg.url}/_faults`, { method: 'POST', body: JSON.stringify(fault) });
    assert.equal(res.status, 204);
  }

  it('rate-limit answers the upgrade and the grant with 429 and Retry-After, once each', async () => {
    await arm({ kind: 'rate-limit', path: '/v1/listen', retryAfter: 7 });
    const refused = await refusedUpgrade(listenUrl());
    assert.equal(refused.status, 429);
    assert.equal(refused.headers['retry-after'], '7');
    assertDeepgramError(refused.body, 'TOO_MANY_REQUESTS');
    (await listen(listenUrl())).ws.close();

    await arm({ kind: 'rate-limit', path: '/v1/auth/grant' });
    const limited = await grant();
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get('retry-after'), '1');
    assertDeepgramError(limited.json, 'TOO_MANY_REQUESTS');
    assert.equal((await grant()).status, 200);
  });

  it('server-error answers with the given 5xx; stall never answers', async () => {
    await arm({ kind: 'server-error', status: 503, path: '/v1/auth/grant' });
    const failed = await grant();
    assert.equal(failed.status, 503);
    assertDeepgramError(failed.json, 'INTERNAL_SERVER_ERROR');

    await arm({ kind: 'server-error', path: '/v1/listen' });
    assert.equal((await refusedUpgrade(listenUrl())).status, 500);

    await arm({ kind: 'stall', path: '/v1/auth/grant' });
    await assert.rejects(
      fetch(`${dg.url}/v1/auth/grant`, { method: 'POST', headers: { authorization: `Token ${KEY}` }, signal: AbortSignal.timeout(400) }),
      { name: 'TimeoutError' },
    );
  });

  it('drop destroys a new stream afterMs after it opened, without a close frame', async () => {
    await arm({ kind: 'drop', path: '/v1/listen', afterMs: 150 });
    const s = await listen(listenUrl());
    const opened = performance.now();
    const closed = await s.closed;
    assert.equal(closed.code, 1006, 'abnormal closure: no close frame');
    assert.ok(performance.now() - opened >= 120, 'after afterMs');
  });

  it('drop armed while streaming destroys the stream at its next audio; stall silences it', async () => {
    const dropped = await listen(listenUrl());
    await arm({ kind: 'drop', path: '/v1/listen' });
    dropped.ws.send(Buffer.alloc(3200));
    assert.equal((await dropped.closed).code, 1006);

    const stalled = await listen(listenUrl());
    await arm({ kind: 'stall', path: '/v1/listen' });
    stalled.ws.send(Buffer.alloc(3200));
    stalled.ws.send(JSON.stringify({ type: 'Finalize' }));
    await sleep(400);
    assert.equal(stalled.messages.length, 0, 'a stalled stream answers nothing, not even Finalize');
    assert.equal(stalled.ws.readyState, WebSocket.OPEN);
    stalled.ws.terminate();
    const armed = (await (await fetch(`${dg.url}/_faults`)).json()) as { faults: unknown[] };
    assert.deepEqual(armed.faults, [], 'every fault was used once');
  });
});

describe('phrases', () => {
  it('refuses a list without words; recognises only the phrases set, and nothing for speech not on the list', async () => {
    await assert.rejects(dg.setPhrases(['   ', '?!']), { name: 'TypeError' });
    const pcm = speech(PHRASE, { padBefore: 0.3, padAfter: 0.5 });
    try {
      await dg.setPhrases(['Goodbye.', 'Thank you.']);
      const s = await listen(listenUrl({ endpointing: 300 }));
      await send(s.ws, pcm, { speed: 10 });
      const final = (await s.waitFor(isFinal)) as ResultsMessage;
      assert.equal(final.channel.alternatives[0].transcript, '', 'not a phrase it did not hear');
      assert.deepEqual(final.channel.alternatives[0].words, []);
      s.ws.close();
      await dg.setPhrases(['What is the weather like, today?', 'hello']);
      assert.deepEqual(dg.phrases('en-US'), ['What is the weather like, today?', 'hello']);
      const again = await listen(listenUrl({ endpointing: 300 }));
      await send(again.ws, pcm, { speed: 10 });
      assert.equal(((await again.waitFor(isFinal)) as ResultsMessage).channel.alternatives[0].transcript, PHRASE);
      again.ws.close();
    } finally {
      await dg.setPhrases(DEFAULT_PHRASES.en);
    }
  });
});

describe('languages', () => {
  const RU_PHRASE = 'Какая сегодня погода?';
  const ruUrl = (query: Record<string, string | number | boolean> = {}) =>
    listenUrl({ model: 'nova-2', language: 'ru', smart_format: true, endpointing: 300, ...query });

  /** The finals of `text` spoken by `voice` into a stream opened with `query`. */
  async function finals(text: string, voice: string, url: string): Promise<ResultsMessage[]> {
    const s = await listen(url);
    await send(s.ws, speech(text, { voice, padBefore: 0.3, padAfter: 0.6 }), { speed: 10 });
    s.ws.send(JSON.stringify({ type: 'CloseStream' }));
    await s.closed;
    return s.messages.filter(isFinal);
  }

  it('transcribes Russian speech with language=ru in Cyrillic, in smart_format\'s shape, with interims of the words so far', async () => {
    const s = await listen(ruUrl({ interim_results: true }));
    const record = dg.listens.find((l) => l.requestId === s.requestId);
    assert.deepEqual(record?.query, { encoding: 'linear16', sample_rate: '16000', model: 'nova-2', language: 'ru', smart_format: 'true', endpointing: '300', interim_results: 'true' });
    await send(s.ws, speech(RU_PHRASE, { voice: 'ru', padBefore: 0.3, padAfter: 0.6 }), { speed: 2 });
    const final = (await s.waitFor(isFinal)) as ResultsMessage;
    assertResultsShape(final, true);
    const alt = final.channel.alternatives[0];
    assert.equal(alt.transcript, RU_PHRASE);
    assert.deepEqual(alt.words.map((w) => w.word), ['какая', 'сегодня', 'погода']);
    assert.deepEqual(alt.words.map((w) => w.punctuated_word), ['Какая', 'сегодня', 'погода?']);
    for (let i = 1; i < alt.words.length; i++) assert.ok(alt.words[i].start >= alt.words[i - 1].end, 'words in order');
    assert.ok(alt.words[0].start >= 0.2 && alt.words[0].start <= 0.45, `first word at ${alt.words[0].start}`);
    assert.equal(final.speech_final, true);
    const interims = s.messages.filter((m): m is ResultsMessage => isResults(m) && !m.is_final);
    assert.ok(interims.length >= 1, `${interims.length} interim results`);
    for (const r of interims) {
      const text = r.channel.alternatives[0].transcript;
      assert.ok(text === '' || RU_PHRASE.startsWith(text), `interim "${text}"`);
    }
    s.ws.close();
  });

  it('never transcribes an unlisted Russian phrase as a listed one: a new question, a listed one with a word added, English speech', async () => {
    for (const [text, voice] of [
      ['Где ближайшая станция метро?', 'ru'],
      ['Как твои дела?', 'ru'],
      ['Расскажи сказку.', 'ru'],
      [PHRASE, 'en-us'],
    ]) {
      const got = await finals(text, voice, ruUrl());
      assert.ok(got.length >= 1, text);
      assert.deepEqual(got.map((r) => r.channel.alternatives[0].transcript).filter(Boolean), [], `"${text}" came out as a phrase`);
    }
    // Russian speech in an English stream is not English either.
    const crossed = await finals(RU_PHRASE, 'ru', listenUrl({ language: 'en', endpointing: 300 }));
    assert.deepEqual(crossed.map((r) => r.channel.alternatives[0].transcript).filter(Boolean), []);
  });

  it('reports a listed phrase as Deepgram words: lower case, numbers with their comma, smart_format as listed', () => {
    const phrase = parsePhrase('Сегодня около +3,5 °C, т. е. прохладно', 'ru')!;
    assert.deepEqual(phrase.words, ['сегодня', 'около', '3,5', 'c', 'т', 'е', 'прохладно']);
    assert.deepEqual(phrase.punctuated, ['Сегодня', 'около', '+3,5', '°C,', 'т.', 'е.', 'прохладно.']);
    assert.deepEqual(phrase.spoken, ['Сегодня', 'около', '+3,5', '°C,', 'т.', 'е.', 'прохладно']);
    assert.deepEqual(parsePhrase("what's up, Doc?", 'en')!.punctuated, ["What's", 'up,', 'Doc?']);
    assert.equal(parsePhrase(' ?! — ', 'en'), undefined);
  });

  it('takes extra phrases per language, and language=multi hears every list', async () => {
    const own = await startDeepgramStandIn({ apiKey: KEY, extraPhrases: { ru: ['Который час?'] } });
    try {
      assert.deepEqual(own.phrases('ru'), [...DEFAULT_PHRASES.ru, 'Который час?']);
      assert.deepEqual(own.phrases('en'), DEFAULT_PHRASES.en);
      const url = (language: string) => `${own.wsUrl}/v1/listen?encoding=linear16&sample_rate=16000&smart_format=true&endpointing=300&language=${language}`;
      const ru = await finals('Который час?', 'ru', url('ru-RU'));
      assert.deepEqual(ru.map((r) => r.channel.alternatives[0].transcript).filter(Boolean), ['Который час?']);
      const multi = await finals(RU_PHRASE, 'ru', url('multi'));
      assert.deepEqual(multi.map((r) => r.channel.alternatives[0].transcript).filter(Boolean), [RU_PHRASE]);
    } finally {
      await own.close();
    }
    assert.deepEqual(phraseLists({ phrases: ['one'], extraPhrases: { EN: ['two'], de: ['drei'] } }), { en: ['one', 'two'], ru: [...DEFAULT_PHRASES.ru], de: ['drei'] });
    // heygen-avatar-dev --phrases LANG=FILE: one phrase a line, blank lines and # comments skipped.
    const file = join(work, 'phrases-ru.txt');
    writeFileSync(file, '# extra Russian phrases\nКоторый час?\n\n  Где метро?  \r\n');
    assert.deepEqual(extraPhrasesFrom(['--ttft', '5', '--phrases', `ru=${file}`, '--phrases', `ru-RU=${file}`]), {
      ru: ['Который час?', 'Где метро?'],
      'ru-RU': ['Который час?', 'Где метро?'],
    });
    assert.throws(() => extraPhrasesFrom(['--phrases', file]), /LANG=FILE/);
  });

  it('refuses a language the model does not take as Deepgram does (400, no such model/language/tier); takes one it has no phrases for', async () => {
    for (const query of [
      { model: 'nova-2', language: 'ga' },
      { model: 'nova-2', language: 'xx-YY' },
      { model: 'nova-2-phonecall', language: 'ru' },
      { model: 'nova-3', language: 'ar' },
    ]) {
      const r = await refusedUpgrade(listenUrl(query));
      assert.equal(r.status, 400, JSON.stringify(query));
      assertDeepgramError(r.body, 'Bad Request');
      assert.equal(r.body.err_msg, 'No such model/language/tier combination found.');
    }
    const warnings: string[] = [];
    const warn = console.warn;
    console.warn = (message: string) => warnings.push(message);
    try {
      const german = await finals('Wie spät ist es?', 'de', listenUrl({ model: 'nova-2', language: 'de', endpointing: 300 }));
      assert.ok(german.length >= 1);
      assert.deepEqual(german.map((r) => r.channel.alternatives[0].transcript).filter(Boolean), []);
      (await listen(listenUrl({ model: 'nova-2', language: 'de' }))).ws.close();
    } finally {
      console.warn = warn;
    }
    assert.equal(warnings.length, 1, 'said once');
    assert.match(warnings[0], /no phrases for language "de"/);
  });
});

describe('@deepgram/sdk against the stand-in', () => {
  it('grants a token with the key and streams with it, pointed at the stand-in by baseUrl', async () => {
    const backend = new DeepgramClient({ apiKey: KEY, baseUrl: dg.url });
    const granted = await backend.auth.v1.tokens.grant({ ttl_seconds: 60 });
    assert.equal(granted.expires_in, 60);

    const browserLike = new DeepgramClient({ accessToken: granted.access_token, baseUrl: dg.url });
    const socket = await browserLike.listen.v1.connect({
      model: 'nova-2',
      encoding: 'linear16',
      sample_rate: 16_000,
      smart_format: 'true',
      interim_results: 'true',
      endpointing: 300,
      reconnectAttempts: 0,
    });
    const messages: Array<{ type: string; is_final?: boolean; channel?: { alternatives: Array<{ transcript: string }> } }> = [];
    const final = new Promise<string>((resolve) =>
      socket.on('message', (m) => {
        messages.push(m as (typeof messages)[number]);
        if (m.type === 'Results' && m.is_final) resolve(m.channel.alternatives[0].transcript);
      }),
    );
    const closed = new Promise<number>((resolve) => socket.on('close', (event) => resolve(event.code)));
    socket.connect();
    await socket.waitForOpen();
    const pcm = speech(PHRASE, { padBefore: 0.3, padAfter: 0.5 });
    for (let i = 0; i < pcm.length; i += 3200) {
      socket.sendMedia(pcm.subarray(i, i + 3200));
      await sleep(10);
    }
    assert.equal(await final, 'What is the weather like today?');
    socket.sendCloseStream({ type: 'CloseStream' });
    assert.equal(await closed, 1000);
    assert.equal(messages.at(-1)?.type, 'Metadata');
  });
});

describe('close()', () => {
  it('closes open streams with 1001 and stops listening', async () => {
    const own = await startDeepgramStandIn({ apiKey: KEY });
    const s = await listen(`${own.wsUrl}/v1/listen?encoding=linear16&sample_rate=16000`);
    assert.equal(own.openStreams, 1);
    await own.close();
    assert.deepEqual(await s.closed, { code: 1001, reason: DEEPGRAM_CLOSE.goingAway.reason });
    assert.equal(own.openStreams, 0);
    await assert.rejects(fetch(`${own.url}/v1/auth/grant`, { method: 'POST' }));
  });
});

describe('stand-in Resampler (any rate → 16 kHz for the recogniser)', () => {
  function tone(rate: number, hz: number, seconds: number): Float32Array {
    return Float32Array.from({ length: Math.round(rate * seconds) }, (_, i) => 0.5 * Math.sin((2 * Math.PI * hz * i) / rate));
  }
  function rms(samples: Float32Array): number {
    return Math.sqrt(samples.reduce((sum, v) => sum + v * v, 0) / samples.length);
  }
  function resample(input: Float32Array, from: number): Float32Array {
    const r = new Resampler(from, 16_000);
    const parts = [r.push(input.subarray(0, 1000)), r.push(input.subarray(1000)), r.flush()];
    return Float32Array.from(parts.flatMap((p) => [...p]));
  }

  it('keeps a 1 kHz tone at its level and rejects a 10 kHz tone by over 60 dB (48 kHz → 16 kHz)', () => {
    const pass = resample(tone(48_000, 1000, 1), 48_000);
    assert.equal(pass.length, 16_000);
    assert.ok(Math.abs(rms(pass.subarray(200, -200)) / (0.5 / Math.SQRT2) - 1) < 0.01);
    const stop = resample(tone(48_000, 10_000, 1), 48_000);
    assert.ok(20 * Math.log10(rms(stop.subarray(200, -200)) / (0.5 / Math.SQRT2)) < -60);
  });

  it('upsamples 8 kHz and 44.1 kHz to the exact sample count', () => {
    assert.equal(resample(tone(8000, 440, 1), 8000).length, 16_000);
    assert.equal(resample(tone(44_100, 440, 1), 44_100).length, 16_000);
  });
});

async function waitForOpenStreams(count: number, timeoutMs = 2000): Promise<number> {
  const end = performance.now() + timeoutMs;
  while (dg.openStreams !== count && performance.now() < end) await sleep(10);
  return dg.openStreams;
}
