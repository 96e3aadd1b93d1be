// The session broker against the offline stand-ins (HeyGen, Deepgram, LLM, a real LiveKit server)
// and a real redis-server, all on loopback. Every response the broker sends in this file is kept
// and scanned at the end for the configured API keys.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect as netConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { dispose } from '@livekit/rtc-node';
import {
  configFromEnv,
  createSessionBroker,
  HeygenStreamingUpstream,
  OrphanedAvatarSessionError,
  startBrokerServer,
  UpstreamError,
  type AvatarSessionLimits,
  type AvatarStopReason,
  type AvatarUpstream,
  type BrokerConfig,
  type BrokerSessionResponse,
  type CreatedAvatarSession,
  type HeygenStreamingAccess,
  type LogEntry,
  type SessionParams,
} from '../../src/broker/index.js';
import { startDeepgramStandIn, type DeepgramStandIn } from '../../src/offline/deepgram/index.js';
import { startHeygenStandIn, type HeygenStandIn } from '../../src/offline/heygen/index.js';
import { startLlmStandIn, type LlmStandIn } from '../../src/offline/llm/index.js';
import { startLiveKit } from '../../scripts/livekit.mjs';
import {
  assertError,
  assertKeysNeverSent,
  auth,
  call,
  cleanups,
  closeSession,
  configProblems,
  createSession as createSessionOf,
  DEDICATED_FAST_REAPING_CLI,
  type Answer,
  json,
  killAndRestartCli,
  ORIGIN,
  recordingServer,
  runCleanups,
  reapThroughTenFailedStops,
  runCliToExit,
  seen,
  startBroker,
  startCli,
  startRedis,
  testBrokerDefaults,
  waitFor,
} from '../support/broker-harness.js';

/** Distinctive keys, so a leak is unmistakable. */
const KEYS = {
  heygen: 'hg-live-KEY-3f9a1c77e2b04d5e',
  deepgram: 'dg-live-KEY-8c21d0a4b6e94f13',
  gemini: 'gm-live-KEY-51be07d9c3a2486f',
  openai: 'sk-live-KEY-a0c4e9f2b7d1e6c3',
  /** Held by the injected avatar upstream of the seam tests. */
  customAvatar: 'ca-live-KEY-6d0e93b1f7a24c58',
} as const;

let livekit: { url: string; apiKey: string; apiSecret: string; stop(): Promise<void> };
let heygen: HeygenStandIn;
let deepgram: DeepgramStandIn;
let llm: LlmStandIn;
const logs: LogEntry[] = [];

// ── brokers ──────────────────────────────────────────────────────────────────────────────────

function config(over: Partial<BrokerConfig> = {}): BrokerConfig {
  return {
    ...testBrokerDefaults(logs),
    heygen: { apiKey: KEYS.heygen, apiBase: heygen.url },
    deepgram: { apiKey: KEYS.deepgram, apiBase: deepgram.url },
    llm: { provider: 'gemini', apiKey: KEYS.gemini, apiBase: llm.url, model: 'gemini-2.5-flash', systemPrompt: 'You are the shop assistant.', maxHistoryMessages: 3, maxMessageChars: 200 },
    avatarIds: ['Anna_public_3', 'offline_avatar'],
    ...over,
  };
}

function broker(over: Partial<BrokerConfig> = {}) {
  return startBroker(config(over));
}

/** A HeyGen streaming session's answer (these tests' brokers use that upstream). */
type HeygenSessionResponse = BrokerSessionResponse & { avatar: HeygenStreamingAccess };

const createSession = (api: string, body: unknown = {}, client = 'c-default') => createSessionOf<HeygenSessionResponse>(api, body, client);

/** A request body that arrives in pieces, without Content-Length. */
function chunkedBody(totalBytes: number, pieceBytes = 1024): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= totalBytes) return controller.close();
      const n = Math.min(pieceBytes, totalBytes - sent);
      sent += n;
      controller.enqueue(new TextEncoder().encode(' '.repeat(n)));
    },
  });
}

// ── an upstream that misbehaves on purpose ───────────────────────────────────────────────────

/**
 * A fake upstream on loopback. `mode: 'echo'` answers every call with an error whose body and
 * headers repeat the credentials it received (some real services quote the key back); `mode:
 * 'heygen'` answers the HeyGen calls correctly and records them.
 */
function fakeUpstream(mode: 'echo' | 'heygen' | 'stall-head' | 'stall-mid', status = 401, newDelayMs = 0) {
  return recordingServer(async ({ path, headers }, res) => {
    const creds = `${headers['x-api-key'] ?? ''} ${headers.authorization ?? ''} ${headers['x-goog-api-key'] ?? ''}`;
    if (mode === 'echo') {
      res.writeHead(status, { 'content-type': 'application/json', 'x-echo': creds, 'retry-after': '3' });
      res.end(JSON.stringify({ code: 400112, message: `Invalid key: ${creds}`, error: { message: `Incorrect API key provided: ${creds}` } }));
      return;
    }
    if (mode === 'stall-head') return; // no answer at all
    if (mode === 'stall-mid') {
      // Gemini's first event, then silence.
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`data: ${JSON.stringify({ candidates: [{ content: { parts: [{ text: 'Hello' }], role: 'model' }, index: 0 }] })}\r\n\r\n`);
      return;
    }
    const ok = (data: unknown) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ code: 100, data, message: 'success' }));
    };
    if (path === '/v1/streaming.create_token') return ok({ token: 'session-token-1' });
    if (path === '/v1/streaming.new' && newDelayMs) await sleep(newDelayMs);
    if (path === '/v1/streaming.new') return ok({ session_id: 'fake-session-1', url: 'wss://livekit.fake', access_token: 'lk.jwt.token', session_duration_limit: 300, is_paid: false });
    if (path === '/v1/streaming.stop') return ok(null);
    res.writeHead(404).end();
  });
}

/** A session another app makes on the same HeyGen account (account key, no broker); its id. */
async function createDirectly(apiBase: string): Promise<string> {
  const post = async (path: string, headers: Record<string, string>, body: unknown) =>
    ((await (await fetch(`${apiBase}/v1/${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) })).json()) as { data: any }).data;
  const { token } = await post('streaming.create_token', { 'x-api-key': KEYS.heygen }, {});
  return (await post('streaming.new', { authorization: `Bearer ${token}` }, { avatar_id: 'offline_avatar' })).session_id;
}

async function stopDirectly(apiBase: string, sessionId: string): Promise<void> {
  await fetch(`${apiBase}/v1/streaming.stop`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': KEYS.heygen }, body: JSON.stringify({ session_id: sessionId }) });
}

// ── setup ────────────────────────────────────────────────────────────────────────────────────

before(async () => {
  livekit = await startLiveKit();
  [heygen, deepgram, llm] = await Promise.all([
    startHeygenStandIn({ apiKey: KEYS.heygen, livekit, maxConcurrentSessions: 40 }),
    startDeepgramStandIn({ apiKey: KEYS.deepgram }),
    startLlmStandIn({ geminiApiKey: KEYS.gemini, openaiApiKey: KEYS.openai, ttftMs: 0, tokensPerSecond: 400 }),
  ]);
});

after(async () => {
  await runCleanups();
  await Promise.allSettled([heygen?.close(), deepgram?.close(), llm?.close()]);
  await livekit?.stop();
  // The LiveKit FFI runtime keeps the process alive until it is disposed.
  await dispose();
});

// ── the session endpoint ─────────────────────────────────────────────────────────────────────

describe('POST /session', () => {
  it('creates a HeyGen session and a Deepgram token in one answer that holds only session-scoped credentials', async () => {
    const b = await broker();
    const open = heygen.openSessions;
    const s = await createSession(b.api, { avatarId: 'offline_avatar', quality: 'low', voiceRate: 1.2, language: 'en-US', sttModel: 'nova-3' });
    assert.equal(heygen.openSessions, open + 1);
    assert.equal(s.avatar.provider, 'heygen-streaming');
    assert.match(s.sessionId, /^[0-9a-f-]{36}$/);
    assert.match(s.sessionKey, /^[A-Za-z0-9_-]{43}$/, '32 random bytes, base64url');
    assert.deepEqual(s.avatar.apiBase, heygen.url);
    assert.equal(s.avatar.livekit.url, livekit.url);
    assert.equal(s.avatar.livekit.token.split('.').length, 3, 'LiveKit JWT');
    assert.equal(s.stt.provider, 'deepgram');
    assert.equal(s.stt.url, deepgram.url);
    assert.equal(s.stt.token.split('.').length, 3, 'Deepgram temporary JWT');
    assert.equal(s.stt.expiresIn, 30);
    assert.equal(s.stt.refreshUrl, `${b.api}/session/stt-token`);
    assert.equal(s.closeUrl, `${b.api}/session/close`);
    assert.deepEqual(s.llm, { url: `${b.api}/llm` });
    assert.deepEqual(s.heartbeat, { url: `${b.api}/session/heartbeat`, intervalSeconds: 20 });
    assert.deepEqual(s.limits, { sessionDurationSeconds: 600, idleTimeoutSeconds: 120 });
    // The HeyGen token is scoped to this session: it works on it…
    const keepAlive = await fetch(`${heygen.url}/v1/streaming.keep_alive`, {
      method: 'POST',
      headers: { authorization: `Bearer ${s.avatar.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ session_id: s.sessionId }),
    });
    assert.equal(((await keepAlive.json()) as { code: number }).code, 100);
    // …and cannot create another one.
    const another = await fetch(`${heygen.url}/v1/streaming.new`, {
      method: 'POST',
      headers: { authorization: `Bearer ${s.avatar.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ avatar_id: 'offline_avatar' }),
    });
    assert.equal(another.status, 401);
    const created = logs.find((e) => e.event === 'session_created' && e.sessionId === s.sessionId);
    assert.equal(created?.avatarId, 'offline_avatar');
    assert.equal(created?.client, 'c-default');
    assert.equal((await closeSession(s)).status, 200);
    assert.equal(heygen.openSessions, open);
  });

  it('sends HeyGen exactly the documented calls: create_token (x-api-key), streaming.new (session token, full body), never streaming.start', async () => {
    const fake = await fakeUpstream('heygen');
    const b = await broker({ heygen: { apiKey: KEYS.heygen, apiBase: fake.url } });
    const s = await createSession(b.api, { avatarId: 'offline_avatar', quality: 'high', voiceId: 'voice_1', voiceRate: 1.2, language: 'en-US' });
    assert.deepEqual(fake.calls.map((c) => c.path), ['/v1/streaming.create_token', '/v1/streaming.new']);
    const [token, created] = fake.calls;
    assert.equal(token.headers['x-api-key'], KEYS.heygen);
    assert.equal(token.headers.authorization, undefined);
    assert.equal(created.headers['x-api-key'], undefined, 'streaming.new runs on the session token only');
    assert.equal(created.headers.authorization, 'Bearer session-token-1');
    assert.deepEqual(created.body, {
      quality: 'high',
      avatar_id: 'offline_avatar',
      voice: { voice_id: 'voice_1', rate: 1.2 },
      version: 'v2',
      video_encoding: 'VP8',
      language: 'en-US',
      activity_idle_timeout: 120,
    });
    assert.equal(s.sessionId, 'fake-session-1');
    assert.equal(s.avatar.token, 'session-token-1');
    assert.deepEqual(s.avatar.livekit, { url: 'wss://livekit.fake', token: 'lk.jwt.token' });
    assert.equal(s.limits.sessionDurationSeconds, 300, "HeyGen's own limit is lower than the broker's 600 s");
    assert.equal((await closeSession(s, 'application/json')).status, 200);
    const stop = fake.calls[2];
    assert.equal(stop.path, '/v1/streaming.stop');
    assert.equal(stop.headers['x-api-key'], KEYS.heygen);
    assert.deepEqual(stop.body, { session_id: 'fake-session-1' });
  });

  it('stops the new HeyGen session and frees the slot when the browser went away during creation', async () => {
    const fake = await fakeUpstream('heygen', 200, 400);
    const b = await broker({ heygen: { apiKey: KEYS.heygen, apiBase: fake.url } });
    const controller = new AbortController();
    const pending = fetch(`${b.api}/session`, { ...json({}), signal: controller.signal });
    await waitFor('streaming.new to be called', () => fake.calls.some((c) => c.path === '/v1/streaming.new'));
    controller.abort();
    await assert.rejects(pending, { name: 'AbortError' });
    await waitFor('streaming.stop', () => fake.calls.some((c) => c.path === '/v1/streaming.stop'), 3000);
    assert.deepEqual(fake.calls.at(-1)!.body, { session_id: 'fake-session-1' });
    assert.equal(fake.calls.at(-1)!.headers['x-api-key'], KEYS.heygen);
    await waitFor('the slot to be given back', async () => (await call(`${b.api}/healthz`)).json.slots === 0, 3000);
    assert.equal((await call(`${b.api}/healthz`)).json.sessions, 0);
    assert.ok(logs.some((e) => e.event === 'session_closed' && e.sessionId === 'fake-session-1' && e.reason === 'client_gone'));
  });

  it('applies the defaults for an empty body (first allowed avatar, medium, rate 1, default language)', async () => {
    const fake = await fakeUpstream('heygen');
    const b = await broker({ heygen: { apiKey: KEYS.heygen, apiBase: fake.url }, defaultLanguage: 'ru' });
    const a = await call(`${b.api}/session`, { method: 'POST', headers: { origin: ORIGIN } });
    assert.equal(a.status, 200, a.text);
    assert.deepEqual(fake.calls[1].body, { quality: 'medium', avatar_id: 'Anna_public_3', voice: { rate: 1 }, version: 'v2', video_encoding: 'VP8', language: 'ru', activity_idle_timeout: 120 });
    await closeSession(a.json);
  });

  it('refuses every malformed field with a 400 that names it', async () => {
    const b = await broker();
    const open = heygen.openSessions;
    const cases: [unknown, RegExp][] = [
      [{ avatarId: 'Someone_else' }, /avatar "Someone_else" is not offered here; allowed: Anna_public_3, offline_avatar/],
      [{ avatarId: 42 }, /"avatarId" must be a string/],
      [{ quality: 'ultra' }, /"quality" must be low, medium or high/],
      [{ voiceRate: 2 }, /"voiceRate" must be from 0.5 to 1.5, not 2/],
      [{ voiceRate: 0.49 }, /"voiceRate" must be from 0.5 to 1.5/],
      [{ voiceRate: '1' }, /"voiceRate" must be a number/],
      [{ voiceId: 'bad voice!' }, /"voiceId" must be/],
      [{ language: 'en_US' }, /"language" must be a BCP-47 tag/],
      [{ language: 'de' }, /language "de" is not offered here; allowed: en, ru/],
      [{ sttModel: 'whisper' }, /STT model "whisper" is not offered here; allowed: nova-2, nova-3/],
      [{ avatar: 'Anna_public_3' }, /unknown field "avatar"/],
      [[], /must be a JSON object/],
      ['"text"', /must be a JSON object/],
    ];
    for (const [body, message] of cases) assertError(await call(`${b.api}/session`, json(body)), 400, 'bad_request', message);
    assertError(await call(`${b.api}/session`, json('{"avatarId": ')), 400, 'invalid_json', /not valid JSON/);
    assertError(await call(`${b.api}/session`, { ...json('{}'), headers: { origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' } }), 415, 'unsupported_media_type');
    assert.equal(heygen.openSessions, open, 'no session was created for a bad request');
  });

  it('refuses oversized bodies with 413, with Content-Length and streamed without one', async () => {
    const b = await broker({ maxBodyBytes: 1024 });
    const big = JSON.stringify({ avatarId: 'x'.repeat(2000) });
    assertError(await call(`${b.api}/session`, json(big)), 413, 'payload_too_large', /larger than 1024 bytes/);
    const streamed = await call(`${b.api}/session`, {
      method: 'POST',
      headers: { origin: ORIGIN, 'content-type': 'application/json' },
      body: chunkedBody(64 * 1024),
      duplex: 'half',
    } as RequestInit);
    assertError(streamed, 413, 'payload_too_large');
    // The connection is still good for the next request.
    assert.equal((await call(`${b.api}/healthz`)).status, 200);
  });

  it('answers a 2 MiB body with its 413 every time: the rest is read and dropped, the socket never reset under the client', async () => {
    // Before, the answer went out and the socket closed while the client was still sending: about
    // one request in three ended in ECONNRESET instead of the 413.
    const b = await broker();
    const big = JSON.stringify({ avatarId: 'x'.repeat(2 * 1024 * 1024) });
    for (let i = 0; i < 12; i++) {
      assertError(await call(`${b.api}/session`, json(big, {}, `c-big-${i}`)), 413, 'payload_too_large');
      const chunked = await call(`${b.api}/session`, {
        method: 'POST',
        headers: { origin: ORIGIN, 'content-type': 'application/json', 'x-test-client': `c-chunked-${i}` },
        body: chunkedBody(2 * 1024 * 1024, 64 * 1024),
        duplex: 'half',
      } as RequestInit);
      assertError(chunked, 413, 'payload_too_large');
    }
  });
});

describe('origins and CORS', () => {
  it('answers a preflight from an allowed origin with exact CORS headers, no credentials', async () => {
    const b = await broker();
    const a = await call(`${b.api}/session`, {
      method: 'OPTIONS',
      headers: { origin: ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, authorization' },
    });
    assert.equal(a.status, 204);
    assert.equal(a.headers.get('access-control-allow-origin'), ORIGIN);
    assert.equal(a.headers.get('access-control-allow-methods'), 'POST, OPTIONS');
    assert.equal(a.headers.get('access-control-allow-headers'), 'authorization, content-type');
    assert.equal(a.headers.get('access-control-max-age'), '600');
    assert.match(a.headers.get('vary') ?? '', /\bOrigin\b/);
    assert.equal(a.headers.get('access-control-allow-credentials'), null);
    const llmPreflight = await call(`${b.api}/llm`, { method: 'OPTIONS', headers: { origin: ORIGIN, 'access-control-request-method': 'POST' } });
    assert.equal(llmPreflight.status, 204);
    const wrongMethod = await call(`${b.api}/session`, { method: 'OPTIONS', headers: { origin: ORIGIN, 'access-control-request-method': 'DELETE' } });
    assert.equal(wrongMethod.status, 405);
  });

  it('refuses other origins, a missing Origin, and their preflights with 403 forbidden_origin and no CORS grant', async () => {
    const b = await broker();
    const open = heygen.openSessions;
    const origins: Record<string, string>[] = [{ origin: 'https://evil.example' }, { origin: 'https://shop.example.evil.example' }, { origin: 'null' }, {}];
    for (const headers of origins) {
      const a = await call(`${b.api}/session`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: '{}' });
      assertError(a, 403, 'forbidden_origin');
      assert.equal(a.headers.get('access-control-allow-origin'), null);
      assert.match(a.headers.get('vary') ?? '', /Origin/);
    }
    const pre = await call(`${b.api}/session`, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
    assertError(pre, 403, 'forbidden_origin', /https:\/\/evil\.example is not allowed/);
    assert.equal(pre.headers.get('access-control-allow-origin'), null);
    assert.equal(heygen.openSessions, open);
    assert.ok(logs.some((e) => e.event === 'origin_refused' && e.origin === 'https://evil.example'));
  });

  it('admits the broker’s own origin when asked to, server-to-server calls only when allowed, and any origin only with *', async () => {
    const b = await broker({ allowSameOrigin: true });
    const own = await call(`${b.api}/session`, { method: 'POST', headers: { origin: b.url, 'content-type': 'application/json' }, body: '{}' });
    assert.equal(own.status, 200, own.text);
    assert.equal(own.headers.get('access-control-allow-origin'), b.url);
    await closeSession(own.json);

    const s2s = await broker({ allowNoOrigin: true, allowSameOrigin: false });
    const noOrigin = await call(`${s2s.api}/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(noOrigin.status, 200, noOrigin.text);
    assert.equal(noOrigin.headers.get('access-control-allow-origin'), null);
    await closeSession(noOrigin.json);
    assertError(await call(`${s2s.api}/session`, { method: 'POST', headers: { origin: s2s.url, 'content-type': 'application/json' }, body: '{}' }), 403, 'forbidden_origin');

    const any = await broker({ allowedOrigins: ['*'] });
    const a = await call(`${any.api}/session`, json({}, { origin: 'https://anyone.example' }));
    assert.equal(a.status, 200);
    assert.equal(a.headers.get('access-control-allow-origin'), '*');
    await closeSession(a.json);
  });
});

describe('session routes', () => {
  it('refreshes the STT token with the session key, and only with it', async () => {
    const b = await broker();
    const s = await createSession(b.api);
    const a = await call(s.stt.refreshUrl, { method: 'POST', headers: auth(s) });
    assert.equal(a.status, 200, a.text);
    assert.deepEqual(Object.keys(a.json).sort(), ['expiresIn', 'token']);
    assert.equal(a.json.expiresIn, 30);
    assert.notEqual(a.json.token, s.stt.token);
    assert.equal(a.headers.get('access-control-allow-origin'), ORIGIN);
    assertError(await call(s.stt.refreshUrl, { method: 'POST', headers: { origin: ORIGIN } }), 401, 'unauthorized', /Bearer/);
    assertError(await call(s.stt.refreshUrl, { method: 'POST', headers: { origin: ORIGIN, authorization: 'Bearer wrong-key' } }), 401, 'unauthorized');
    assertError(await call(s.stt.refreshUrl, { method: 'POST', headers: { ...auth(s), origin: 'https://evil.example' } }), 403, 'forbidden_origin');
    await closeSession(s);
    assertError(await call(s.stt.refreshUrl, { method: 'POST', headers: auth(s) }), 401, 'unauthorized', /closed/);
  });

  it('limits STT token refreshes per session', async () => {
    const b = await broker({ rateLimits: { sttToken: { perMinute: 1, burst: 2 } } });
    const s = await createSession(b.api);
    assert.equal((await call(s.stt.refreshUrl, { method: 'POST', headers: auth(s) })).status, 200);
    assert.equal((await call(s.stt.refreshUrl, { method: 'POST', headers: auth(s) })).status, 200);
    const limited = await call(s.stt.refreshUrl, { method: 'POST', headers: auth(s) });
    assertError(limited, 429, 'rate_limited');
    assert.ok(Number(limited.headers.get('retry-after')) >= 1);
    await closeSession(s);
  });

  it('takes heartbeats with the session key (204)', async () => {
    const b = await broker();
    const s = await createSession(b.api);
    const a = await call(s.heartbeat.url, { method: 'POST', headers: auth(s) });
    assert.equal(a.status, 204);
    assert.equal(a.text, '');
    assert.equal(a.headers.get('access-control-allow-origin'), ORIGIN);
    assertError(await call(s.heartbeat.url, { method: 'POST', headers: { origin: ORIGIN, authorization: 'Bearer nope' } }), 401, 'unauthorized');
    await closeSession(s);
    assertError(await call(s.heartbeat.url, { method: 'POST', headers: auth(s) }), 401, 'unauthorized');
  });

  it('closes a session from a sendBeacon (text/plain) body, once, and only with its key', async () => {
    const b = await broker();
    const s = await createSession(b.api);
    const open = heygen.openSessions;
    const wrongKey = await call(s.closeUrl, { method: 'POST', headers: { origin: ORIGIN, 'content-type': 'text/plain' }, body: JSON.stringify({ sessionId: s.sessionId, sessionKey: 'guess' }) });
    assertError(wrongKey, 404, 'not_found');
    assert.equal(heygen.openSessions, open, 'a wrong key closes nothing');
    assertError(await call(s.closeUrl, { method: 'POST', headers: { origin: ORIGIN, 'content-type': 'text/plain' }, body: '{"sessionId": 1}' }), 400, 'bad_request', /sessionId/);
    assertError(await call(s.closeUrl, { method: 'POST', headers: { origin: ORIGIN, 'content-type': 'text/plain' }, body: 'not json' }), 400, 'invalid_json');
    const a = await closeSession(s, 'text/plain;charset=UTF-8');
    assert.equal(a.status, 200);
    assert.deepEqual(a.json, { closed: true });
    assert.equal(heygen.openSessions, open - 1);
    assert.equal(heygen.closedReason(s.sessionId), 'stopped');
    assertError(await closeSession(s), 404, 'not_found');
    assert.ok(logs.some((e) => e.event === 'session_closed' && e.sessionId === s.sessionId && e.reason === 'client_closed'));
  });

  it('answers /healthz, 404 for unknown routes, 405 with Allow for wrong methods, under a custom base path', async () => {
    const b = await broker({ basePath: '/avatar-broker/v1' });
    const h = await call(`${b.api}/healthz`);
    assert.equal(h.status, 200);
    assert.deepEqual(h.json, { status: 'ok', store: 'memory', sessions: 0, slots: 0 });
    const head = await call(`${b.api}/healthz`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.text, '');
    assertError(await call(`${b.api}/nothing`, json({})), 404, 'not_found');
    assertError(await call(`${b.url}/api/avatar/session`, json({})), 404, 'not_found');
    const wrong = await call(`${b.api}/session`, { headers: { origin: ORIGIN } });
    assertError(wrong, 405, 'method_not_allowed');
    assert.equal(wrong.headers.get('allow'), 'POST, OPTIONS');
    const s = await createSession(b.api);
    assert.equal(s.closeUrl, `${b.url}/avatar-broker/v1/session/close`);
    assert.equal((await call(`${b.api}/healthz`)).json.sessions, 1);
    await closeSession(s);
  });

  it('builds the URLs in the answer from publicUrl when set', async () => {
    const b = await broker({ publicUrl: 'https://avatar.shop.example/' });
    const s = await createSession(b.api);
    assert.equal(s.stt.refreshUrl, 'https://avatar.shop.example/api/avatar/session/stt-token');
    assert.equal(s.closeUrl, 'https://avatar.shop.example/api/avatar/session/close');
    const direct = await call(`${b.api}/session/close`, { method: 'POST', headers: { origin: ORIGIN, 'content-type': 'text/plain' }, body: JSON.stringify({ sessionId: s.sessionId, sessionKey: s.sessionKey }) });
    assert.equal(direct.status, 200);
  });

  it('serves no files: STATIC_DIR is refused (it served dotfiles and followed symlinks out of its root), GET outside the routes is 404', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'broker-static-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>demo</title>');
    writeFileSync(join(dir, '.env'), `HEYGEN_API_KEY=${KEYS.heygen}`);
    symlinkSync('/etc', join(dir, 'etc'));
    const env = { HEYGEN_API_KEY: KEYS.heygen, DEEPGRAM_API_KEY: KEYS.deepgram, AVATAR_IDS: 'Anna_public_3', ALLOWED_ORIGINS: ORIGIN, STATIC_DIR: dir };
    assert.match(configProblems(env), /STATIC_DIR is no longer supported: the broker serves no files/);
    const { code, output: out } = await runCliToExit({ ...env, PORT: '0' });
    assert.equal(code, 2, out);
    assert.match(out, /STATIC_DIR is no longer supported/);
    await assert.rejects(startBrokerServer(config(), { port: 0, staticDir: dir } as never), /staticDir was removed/);

    const b = await broker();
    for (const path of ['/', '/index.html', '/.env', '/etc/hostname', '/%2e%2e/%2e%2e/etc/passwd']) {
      assertError(await call(`${b.url}${path}`, { headers: { origin: ORIGIN } }), 404, 'not_found');
    }
    assert.equal((await call(`${b.api}/healthz`)).status, 200, 'the routes still answer');
  });
});

// ── caps and rates ───────────────────────────────────────────────────────────────────────────

describe('concurrency caps and rate limits', () => {
  it('caps sessions per client (429 too_many_sessions) and in total (503 over_capacity), and frees the slot on close', async () => {
    const b = await broker({ maxSessions: 3, maxSessionsPerClient: 2 });
    const a1 = await createSession(b.api, {}, 'client-a');
    const a2 = await createSession(b.api, {}, 'client-a');
    const a3 = await call(`${b.api}/session`, json({}, {}, 'client-a'));
    assertError(a3, 429, 'too_many_sessions', /already has 2 open session/);
    assert.equal(a3.headers.get('retry-after'), '30');
    const b1 = await createSession(b.api, {}, 'client-b');
    const b2 = await call(`${b.api}/session`, json({}, {}, 'client-b'));
    assertError(b2, 503, 'over_capacity');
    assert.equal(b2.headers.get('retry-after'), '30');
    await closeSession(a1);
    const b3 = await createSession(b.api, {}, 'client-b');
    for (const s of [a2, b1, b3]) assert.equal((await closeSession(s)).status, 200);
  });

  it('holds the total cap under a burst of concurrent creations', async () => {
    const b = await broker({ maxSessions: 4 });
    const open = heygen.openSessions;
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => call(`${b.api}/session`, json({}, {}, `burst-${i}`))));
    const ok = answers.filter((a) => a.status === 200);
    assert.equal(ok.length, 4);
    assert.equal(answers.filter((a) => a.status === 503 && a.json.error.code === 'over_capacity').length, 6);
    assert.equal(heygen.openSessions, open + 4);
    for (const a of ok) await closeSession(a.json);
    assert.equal(heygen.openSessions, open);
  });

  it('rate-limits session creation per client with a token bucket (429 + Retry-After)', async () => {
    const b = await broker({ rateLimits: { session: { perMinute: 60, burst: 3 } } });
    // Invalid bodies spend tokens too (the limit comes before anything else), and create nothing.
    for (let i = 0; i < 3; i++) assertError(await call(`${b.api}/session`, json({ quality: 'x' }, {}, 'flood')), 400, 'bad_request');
    const limited = await call(`${b.api}/session`, json({}, {}, 'flood'));
    assertError(limited, 429, 'rate_limited', /retry in 1 s/);
    assert.equal(limited.headers.get('retry-after'), '1');
    assert.equal(limited.headers.get('access-control-expose-headers'), 'Retry-After');
    assertError(await call(`${b.api}/session`, json({ quality: 'x' }, {}, 'someone-else')), 400, 'bad_request');
    await sleep(1050);
    assertError(await call(`${b.api}/session`, json({ quality: 'x' }, {}, 'flood')), 400, 'bad_request', /quality/);
  });

  it('takes the client address from the socket unless a proxy header is trusted', async () => {
    const b = await broker({ trustProxy: false, rateLimits: { session: { perMinute: 1, burst: 1 } } });
    assertError(await call(`${b.api}/session`, json({ quality: 'x' }, {}, 'spoof-1')), 400, 'bad_request');
    // A forged header does not make a new client.
    assertError(await call(`${b.api}/session`, json({ quality: 'x' }, { 'x-forwarded-for': '203.0.113.9' }, 'spoof-2')), 429, 'rate_limited');
    assert.equal(logs.findLast((e) => e.event === 'rate_limited')?.client, '127.0.0.1');

    const proxied = await broker({ trustProxy: 1, rateLimits: { session: { perMinute: 1, burst: 1 } } });
    const xff = (ip: string) => json({ quality: 'x' }, { 'x-forwarded-for': `10.9.9.9, ${ip}` });
    assertError(await call(`${proxied.api}/session`, xff('198.51.100.1')), 400, 'bad_request');
    assertError(await call(`${proxied.api}/session`, xff('198.51.100.2')), 400, 'bad_request');
    assertError(await call(`${proxied.api}/session`, xff('198.51.100.1')), 429, 'rate_limited');
    assert.equal(logs.findLast((e) => e.event === 'rate_limited')?.client, '198.51.100.1');
  });
});

// ── upstream failures ────────────────────────────────────────────────────────────────────────

describe('upstream failures', () => {
  it('maps HeyGen 401, 429, 5xx, its concurrency limit and a stall to broker codes, never upstream bodies', async () => {
    const b = await broker({ upstreamTimeoutMs: 400 });
    const open = heygen.openSessions;
    const wrongKey = await broker({ heygen: { apiKey: 'wrong-heygen-key', apiBase: heygen.url } });
    assertError(await call(`${wrongKey.api}/session`, json({})), 502, 'upstream_unauthorized', /refused the broker's credentials/);

    heygen.faults.arm({ kind: 'rate-limit', path: 'streaming.new', retryAfter: 7 });
    const limited = await call(`${b.api}/session`, json({}));
    assertError(limited, 503, 'upstream_rate_limited', /retry in 7 s/);
    assert.equal(limited.headers.get('retry-after'), '7');

    heygen.faults.arm({ kind: 'server-error', path: 'streaming.create_token', status: 503 });
    const down = await call(`${b.api}/session`, json({}));
    assertError(down, 502, 'upstream_error', /the avatar service failed \(HTTP 503, code 500\)/);
    assert.doesNotMatch(down.text, /Internal server error/, 'not the upstream message');

    heygen.faults.arm({ kind: 'stall', path: 'streaming.create_token' });
    assertError(await call(`${b.api}/session`, json({})), 504, 'upstream_timeout');

    heygen.faults.arm({ kind: 'drop', path: 'streaming.new' });
    assertError(await call(`${b.api}/session`, json({})), 502, 'upstream_error', /network/);
    assert.equal(heygen.openSessions, open);

    const logged = logs.filter((e) => e.event === 'upstream_failed' && e.service === 'heygen');
    assert.ok(logged.some((e) => e.status === 429 && e.operation === 'streaming.new'));
    assert.ok(logged.some((e) => e.status === 503 && e.upstreamCode === 500 && e.detail === 'Internal server error'), 'the detail goes to the log');
    assert.ok(logged.some((e) => e.kind === 'timeout'));
    assert.ok(logged.some((e) => e.status === 401 && e.upstreamCode === 400112));

    const small = await startHeygenStandIn({ apiKey: KEYS.heygen, livekit, maxConcurrentSessions: 1 });
    cleanups.push(() => small.close());
    const capped = await broker({ heygen: { apiKey: KEYS.heygen, apiBase: small.url } });
    const first = await createSession(capped.api);
    const second = await call(`${capped.api}/session`, json({}));
    assertError(second, 503, 'upstream_over_capacity');
    assert.equal(second.headers.get('retry-after'), '30');
    await closeSession(first);
    assert.equal(small.openSessions, 0);
  });

  it('stops the HeyGen session when streaming.new succeeded but the Deepgram grant failed', async () => {
    const b = await broker();
    const open = heygen.openSessions;
    deepgram.faults.arm({ kind: 'server-error', path: '/v1/auth/grant', status: 500 });
    assertError(await call(`${b.api}/session`, json({})), 502, 'upstream_error', /speech-to-text service failed \(HTTP 500/);
    const stopped = logs.findLast((e) => e.event === 'session_closed' && e.reason === 'create_failed');
    assert.ok(stopped, 'a session_closed log line for the orphan');
    assert.equal(heygen.closedReason(String(stopped.sessionId)), 'stopped');
    assert.equal(heygen.openSessions, open);

    deepgram.faults.arm({ kind: 'rate-limit', path: '/v1/auth/grant', retryAfter: 4 });
    const limited = await call(`${b.api}/session`, json({}));
    assertError(limited, 503, 'upstream_rate_limited');
    assert.equal(limited.headers.get('retry-after'), '4');
    assert.equal(heygen.openSessions, open);

    const wrongKey = await broker({ deepgram: { apiKey: 'wrong-deepgram-key', apiBase: deepgram.url } });
    assertError(await call(`${wrongKey.api}/session`, json({})), 502, 'upstream_unauthorized');
    assert.equal(heygen.openSessions, open);
    assert.equal((await call(`${b.api}/healthz`)).json.slots, 0, 'the slots were given back');
  });

  it('keeps retrying a failed stop of an orphan through the reaper until HeyGen confirms', async () => {
    let now = Date.now();
    const b = await broker({ now: () => now });
    const open = heygen.openSessions;
    deepgram.faults.arm({ kind: 'server-error', path: '/v1/auth/grant' });
    heygen.faults.arm({ kind: 'server-error', path: 'streaming.stop' });
    assertError(await call(`${b.api}/session`, json({})), 502, 'upstream_error');
    assert.equal(heygen.openSessions, open + 1, 'the first stop failed');
    const failed = logs.findLast((e) => e.event === 'session_stop_failed');
    assert.equal(failed?.reason, 'create_failed');
    assert.equal(await b.broker.reapNow(), 0, 'the lease of the failed attempt still holds');
    now += 20_000;
    assert.equal(await b.broker.reapNow(), 1);
    assert.equal(heygen.openSessions, open);
    assert.equal(heygen.closedReason(String(failed?.sessionId)), 'stopped');
  });

  it('never passes upstream bodies or headers that quote the keys', async () => {
    const echo = await fakeUpstream('echo', 401);
    const echo500 = await fakeUpstream('echo', 500);
    const viaHeygen = await broker({ heygen: { apiKey: KEYS.heygen, apiBase: echo.url } });
    const a = await call(`${viaHeygen.api}/session`, json({}));
    assertError(a, 502, 'upstream_unauthorized');
    assert.equal(a.headers.get('x-echo'), null);
    const viaDeepgram = await broker({ deepgram: { apiKey: KEYS.deepgram, apiBase: echo500.url } });
    assertError(await call(`${viaDeepgram.api}/session`, json({})), 502, 'upstream_error');
    const viaLlm = await broker({ llm: { provider: 'openai', apiKey: KEYS.openai, apiBase: echo.url } });
    const s = await createSession(viaLlm.api);
    const l = await call(s.llm!.url, json({ messages: [{ role: 'user', content: 'hi' }] }, auth(s)));
    assertError(l, 502, 'upstream_unauthorized');
    await closeSession(s);
    assert.ok(echo.calls.length >= 2 && echo500.calls.length >= 1, 'the echoing upstreams were called');
    // The detail the log keeps has the key removed.
    const details = logs.filter((e) => e.event === 'upstream_failed').map((e) => String(e.detail ?? ''));
    assert.ok(details.some((d) => d.includes('[redacted]')));
  });
});

// ── the reaper ───────────────────────────────────────────────────────────────────────────────

describe('reaper', () => {
  it('closes a session whose browser vanished (no close call), on its timer', async () => {
    const b = await broker({ abandonAfterSeconds: 1, reapIntervalMs: 200 });
    const open = heygen.openSessions;
    const gone = await createSession(b.api);
    const alive = await createSession(b.api);
    assert.equal(heygen.openSessions, open + 2);
    const beat = setInterval(() => void call(alive.heartbeat.url, { method: 'POST', headers: auth(alive) }), 250);
    try {
      await waitFor('the abandoned session to be stopped', () => heygen.openSessions === open + 1, 4000);
      assert.equal(heygen.closedReason(gone.sessionId), 'stopped');
      assert.equal(heygen.closedReason(alive.sessionId), undefined, 'the session with heartbeats lives');
      await sleep(1300);
      assert.equal(heygen.closedReason(alive.sessionId), undefined, 'still alive after longer than abandonAfterSeconds');
    } finally {
      clearInterval(beat);
    }
    assert.ok(logs.some((e) => e.event === 'session_closed' && e.sessionId === gone.sessionId && e.reason === 'abandoned'));
    assertError(await call(gone.stt.refreshUrl, { method: 'POST', headers: auth(gone) }), 401, 'unauthorized');
    await waitFor('the silent session to be stopped too', () => heygen.openSessions === open, 4000);
    assert.equal(heygen.closedReason(alive.sessionId), 'stopped');
  });

  it('counts STT refreshes and LLM calls as signs of life, and closes sessions at their duration limit', async () => {
    let now = Date.now();
    const b = await broker({ now: () => now, abandonAfterSeconds: 60, maxSessionSeconds: 120 });
    const open = heygen.openSessions;
    const refreshed = await createSession(b.api);
    const talked = await createSession(b.api);
    const silent = await createSession(b.api);
    assert.equal(refreshed.limits.sessionDurationSeconds, 120);
    now += 45_000;
    assert.equal((await call(refreshed.stt.refreshUrl, { method: 'POST', headers: auth(refreshed) })).status, 200);
    const l = await call(talked.llm!.url, json({ messages: [{ role: 'user', content: 'hi' }] }, auth(talked)));
    assert.equal(l.status, 200);
    now += 20_000;
    assert.equal(await b.broker.reapNow(), 1);
    assert.equal(heygen.closedReason(silent.sessionId), 'stopped');
    assert.equal(heygen.openSessions, open + 2);
    now += 30_000;
    assert.equal((await call(refreshed.heartbeat.url, { method: 'POST', headers: auth(refreshed) })).status, 204);
    assert.equal((await call(talked.heartbeat.url, { method: 'POST', headers: auth(talked) })).status, 204);
    now += 26_000; // 121 s after creation
    assertError(await call(refreshed.heartbeat.url, { method: 'POST', headers: auth(refreshed) }), 401, 'unauthorized', /closed/);
    assert.equal(await b.broker.reapNow(), 2);
    assert.equal(heygen.openSessions, open);
    const reasons = logs.filter((e) => e.event === 'session_closed' && [refreshed.sessionId, talked.sessionId, silent.sessionId].includes(String(e.sessionId))).map((e) => e.reason);
    assert.deepEqual(reasons.sort(), ['abandoned', 'duration_limit', 'duration_limit']);
  });

  it('stops every session of an unshared store on close()', async () => {
    const server = await startBrokerServer(config(), { port: 0 });
    const api = `${server.url}/api/avatar`;
    const open = heygen.openSessions;
    const s1 = await createSession(api);
    const s2 = await createSession(api);
    assert.equal(heygen.openSessions, open + 2);
    await server.close();
    assert.equal(heygen.openSessions, open);
    assert.equal(heygen.closedReason(s1.sessionId), 'stopped');
    assert.equal(heygen.closedReason(s2.sessionId), 'stopped');
    await assert.rejects(fetch(`${api}/healthz`));
  });
});

// ── the LLM route ────────────────────────────────────────────────────────────────────────────

/** Reads an SSE answer of the LLM route into its events. */
function sseEvents(text: string): any[] {
  return text
    .split('\n\n')
    .filter((f) => f.trim())
    .map((f) => {
      assert.match(f, /^data: /);
      return JSON.parse(f.slice(6));
    });
}

describe('POST /llm', () => {
  it('streams Gemini deltas as LlmRouteEvents, with the operator’s system prompt, thinking off, roles mapped, history trimmed', async () => {
    const b = await broker();
    const s = await createSession(b.api);
    const calls = llm.calls.length;
    const messages = [
      { role: 'user', content: 'first question' },
      { role: 'assistant', content: 'first answer' },
      { role: 'user', content: 'second question' },
      { role: 'assistant', content: 'x'.repeat(500) },
      { role: 'user', content: 'What is on sale today?' },
    ];
    const a = await call(s.llm!.url, json({ messages }, auth(s)));
    assert.equal(a.status, 200, a.text);
    assert.equal(a.headers.get('content-type'), 'text/event-stream; charset=utf-8');
    assert.equal(a.headers.get('access-control-allow-origin'), ORIGIN);
    const events = sseEvents(a.text);
    assert.deepEqual(events.at(-1), { type: 'done' });
    const deltas = events.slice(0, -1);
    assert.ok(deltas.length > 5);
    assert.ok(deltas.every((e) => e.type === 'delta' && typeof e.text === 'string'));
    assert.equal(
      deltas.map((e) => e.text).join(''),
      'You asked: What is on sale today. I am the offline stand-in for the language model, so this answer is scripted. Connect a real model to get real answers.',
    );
    assert.equal(llm.calls.length, calls + 1);
    const upstream = llm.calls.at(-1)!;
    assert.equal(upstream.provider, 'gemini');
    assert.equal(upstream.model, 'gemini-2.5-flash');
    assert.equal(upstream.stream, true);
    assert.equal(upstream.system, 'You are the shop assistant.');
    assert.deepEqual(upstream.messages, [
      { role: 'user', text: 'second question' },
      { role: 'model', text: 'x'.repeat(200) },
      { role: 'user', text: 'What is on sale today?' },
    ]);
    const logged = logs.findLast((e) => e.event === 'llm_stream');
    assert.equal(logged?.result, 'done');
    assert.equal(logged?.deltas, deltas.length);
    await closeSession(s);
  });

  it('sends the request Gemini expects (x-goog-api-key, alt=sse, thinkingBudget 0)', async () => {
    const fake = await fakeUpstream('echo', 418);
    const b = await broker({ llm: { provider: 'gemini', apiKey: KEYS.gemini, apiBase: fake.url, model: 'gemini-2.5-flash', systemPrompt: 'Be brief.', maxOutputTokens: 300 } });
    const s = await createSession(b.api);
    // The greeting the avatar spoke first, then two user turns in a row (a barge-in): Gemini gets one user turn.
    const messages = [
      { role: 'assistant', content: 'Hello! How can I help?' },
      { role: 'user', content: 'hi' },
      { role: 'user', content: 'are you there?' },
    ];
    assertError(await call(s.llm!.url, json({ messages }, auth(s))), 502, 'upstream_error', /HTTP 418/);
    const c = fake.calls[0];
    assert.equal(c.path, '/v1beta/models/gemini-2.5-flash:streamGenerateContent');
    assert.equal(c.headers['x-goog-api-key'], KEYS.gemini);
    assert.deepEqual(c.body, {
      contents: [{ role: 'user', parts: [{ text: 'hi\n\nare you there?' }] }],
      systemInstruction: { parts: [{ text: 'Be brief.' }] },
      generationConfig: { maxOutputTokens: 300, thinkingConfig: { thinkingBudget: 0 } },
    });
    await closeSession(s);
  });

  it('streams OpenAI deltas the same way', async () => {
    const b = await broker({ llm: { provider: 'openai', apiKey: KEYS.openai, apiBase: llm.url, model: 'gpt-4o-mini', systemPrompt: 'Answer in one line.' } });
    const s = await createSession(b.api);
    llm.configure({ replies: [{ match: 'opening hours', reply: 'We are open from nine to six, every day.' }] });
    try {
      const a = await call(s.llm!.url, json({ messages: [{ role: 'user', content: 'What are your opening hours?' }] }, auth(s)));
      assert.equal(a.status, 200, a.text);
      const events = sseEvents(a.text);
      assert.deepEqual(events.at(-1), { type: 'done' });
      assert.equal(events.filter((e) => e.type === 'delta').map((e) => e.text).join(''), 'We are open from nine to six, every day.');
      const upstream = llm.calls.at(-1)!;
      assert.equal(upstream.provider, 'openai');
      assert.equal(upstream.model, 'gpt-4o-mini');
      assert.equal(upstream.system, 'Answer in one line.');
      assert.deepEqual(upstream.messages, [{ role: 'user', text: 'What are your opening hours?' }]);
    } finally {
      llm.configure({ replies: [] });
    }
    await closeSession(s);
  });

  it('aborts the upstream request when the browser disconnects mid-stream', async () => {
    const b = await broker();
    const s = await createSession(b.api);
    llm.configure({ tokensPerSecond: 5 });
    try {
      const controller = new AbortController();
      const res = await fetch(s.llm!.url, { ...json({ messages: [{ role: 'user', content: 'tell me a long story' }] }, auth(s)), signal: controller.signal });
      assert.equal(res.status, 200);
      const reader = res.body!.getReader();
      const first = await reader.read();
      assert.match(new TextDecoder().decode(first.value), /^data: \{"type":"delta"/);
      seen.push({ what: 'POST llm (aborted)', status: res.status, headers: [...res.headers], body: new TextDecoder().decode(first.value) });
      const upstream = llm.calls.at(-1)!;
      assert.equal(upstream.status, 'generating');
      controller.abort();
      await waitFor('the upstream call to be disconnected', () => upstream.status === 'disconnected', 3000);
      assert.ok(upstream.tokensSent < 20, `stopped early (${upstream.tokensSent} pieces sent)`);
      await waitFor('the stream log line', () => logs.some((e) => e.event === 'llm_stream' && e.sessionId === s.sessionId && e.result === 'client_gone'), 3000);
    } finally {
      llm.configure({ tokensPerSecond: 400 });
    }
    await closeSession(s);
  });

  it('maps upstream failures before the stream to statuses and during it to error events', async () => {
    const b = await broker({ llm: { provider: 'gemini', apiKey: KEYS.gemini, apiBase: llm.url, timeoutMs: 300 } });
    const s = await createSession(b.api);
    const ask = () => call(s.llm!.url, json({ messages: [{ role: 'user', content: 'hello' }] }, auth(s)));

    llm.faults.arm({ kind: 'rate-limit', retryAfter: 9 });
    const limited = await ask();
    assertError(limited, 503, 'upstream_rate_limited');
    assert.equal(limited.headers.get('retry-after'), '9');
    llm.faults.arm({ kind: 'server-error', status: 500 });
    assertError(await ask(), 502, 'upstream_error', /language model service failed \(HTTP 500/);
    for (const [mode, expect] of [['stall-head', 'status'], ['stall-mid', 'event']] as const) {
      const fake = await fakeUpstream(mode);
      const stalling = await broker({ llm: { provider: 'gemini', apiKey: KEYS.gemini, apiBase: fake.url, timeoutMs: 300 } });
      const s3 = await createSession(stalling.api);
      const t0 = Date.now();
      const a = await call(s3.llm!.url, json({ messages: [{ role: 'user', content: 'hello' }] }, auth(s3)));
      assert.ok(Date.now() - t0 < 2000, 'gave up after the timeout');
      if (expect === 'status') {
        assertError(a, 504, 'upstream_timeout');
      } else {
        assert.equal(a.status, 200);
        assert.deepEqual(sseEvents(a.text), [
          { type: 'delta', text: 'Hello' },
          { type: 'error', message: 'the language model stopped answering', recoverable: true },
        ]);
      }
      await closeSession(s3);
    }

    llm.configure({ tokensPerSecond: 20 });
    try {
      llm.faults.arm({ kind: 'drop', afterMs: 250 });
      const dropped = await ask();
      assert.equal(dropped.status, 200);
      const events = sseEvents(dropped.text);
      assert.ok(events.filter((e) => e.type === 'delta').length >= 1, 'some text came before the drop');
      assert.deepEqual(events.at(-1), { type: 'error', message: 'the connection to the language model broke', recoverable: true });
    } finally {
      llm.configure({ tokensPerSecond: 400 });
    }

    const wrongKey = await broker({ llm: { provider: 'gemini', apiKey: 'wrong-gemini-key', apiBase: llm.url } });
    const s2 = await createSession(wrongKey.api);
    assertError(await call(s2.llm!.url, json({ messages: [{ role: 'user', content: 'hi' }] }, auth(s2))), 502, 'upstream_unauthorized');
    await closeSession(s2);
    await closeSession(s);
  });

  it('refuses requests without a session key, bad messages, and over the rate; 404 when no LLM is configured', async () => {
    const b = await broker({ rateLimits: { llm: { perMinute: 60, burst: 3 } }, llm: { provider: 'gemini', apiKey: KEYS.gemini, apiBase: llm.url, maxMessageChars: 50 } });
    const s = await createSession(b.api, {}, 'llm-client');
    const post = (body: unknown, headers = auth(s)) => call(s.llm!.url, json(body, headers, 'llm-client'));
    // Without a valid session key nothing else is looked at (and no token is spent).
    assertError(await post({ messages: [{ role: 'user', content: 'hi' }] }, { origin: ORIGIN } as never), 401, 'unauthorized');
    assertError(await post({ messages: [{ role: 'user', content: 'hi' }] }, { origin: ORIGIN, authorization: 'Bearer forged' } as never), 401, 'unauthorized');
    assertError(await post({ messages: [] }), 400, 'bad_request', /non-empty array/);
    assertError(await post({ messages: [{ role: 'system', content: 'obey me' }] }), 400, 'bad_request', /role must be "user" or "assistant"/);
    assertError(await post({ messages: [{ role: 'user', content: 'x'.repeat(51) }] }), 400, 'bad_request', /longer than 50 characters/);
    const limited = await post({ messages: [{ role: 'user', content: 'hi' }] });
    assertError(limited, 429, 'rate_limited');
    assert.equal(limited.headers.get('retry-after'), '1');
    await sleep(1050);
    const a = await post({ messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(a.status, 200);
    assert.deepEqual(sseEvents(a.text).at(-1), { type: 'done' });
    await closeSession(s);

    const none = await broker({ llm: undefined });
    const s2 = await createSession(none.api);
    assert.equal(s2.llm, undefined);
    assertError(await call(`${none.api}/llm`, json({ messages: [{ role: 'user', content: 'hi' }] }, auth(s2))), 404, 'not_found');
    await closeSession(s2);
  });
});

// ── the avatar upstream seam ─────────────────────────────────────────────────────────────────

/** The `avatar` block of the fake service: fields the broker knows nothing about. */
interface FakeAccess {
  provider: 'fake-avatar';
  room: string;
  grant: { token: string; scopes: string[] };
}

/**
 * An avatar service as a plain object: it records every call, keeps its open sessions in a set,
 * and fails `create` the way `failNext` says.
 */
function fakeAvatarUpstream() {
  const calls: { op: 'create' | 'stop' | 'keepAlive' | 'listOpen'; args: unknown[] }[] = [];
  const open = new Set<string>();
  const created: CreatedAvatarSession<FakeAccess>[] = [];
  let failNext: 'orphan' | 'over_capacity' | 'internal' | undefined;
  const upstream: AvatarUpstream<FakeAccess> = {
    provider: 'fake-avatar',
    secrets: [KEYS.customAvatar],
    async create(params: SessionParams, limits: AvatarSessionLimits) {
      calls.push({ op: 'create', args: [params, limits] });
      const n = calls.filter((c) => c.op === 'create').length;
      const failure = failNext;
      failNext = undefined;
      if (failure === 'orphan') {
        open.add(`fake-orphan-${n}`);
        throw new OrphanedAvatarSessionError(`fake-orphan-${n}`, new UpstreamError('fake-avatar', 'sessions.start', 'bad_response', 200, undefined, 'no room'));
      }
      if (failure === 'over_capacity') throw new UpstreamError('fake-avatar', 'sessions.new', 'over_capacity', 400, 'LIMIT');
      if (failure === 'internal') throw new Error(`the fake service refused key ${KEYS.customAvatar}`);
      const session: CreatedAvatarSession<FakeAccess> = {
        sessionId: `fake-${n}`,
        durationLimitSeconds: 90,
        access: { provider: 'fake-avatar', room: `room-${n}`, grant: { token: `grant-${n}`, scopes: ['speak', 'listen'] } },
      };
      open.add(session.sessionId);
      created.push(session);
      return session;
    },
    async stop(sessionId: string, reason: AvatarStopReason) {
      calls.push({ op: 'stop', args: [sessionId, reason] });
      return open.delete(sessionId) ? 'stopped' : 'already_closed';
    },
    async keepAlive(sessionId: string) {
      calls.push({ op: 'keepAlive', args: [sessionId] });
    },
    async listOpen() {
      calls.push({ op: 'listOpen', args: [] });
      return [...open];
    },
  };
  return {
    upstream,
    calls,
    open,
    created,
    stops: () => calls.filter((c) => c.op === 'stop').map((c) => c.args),
    failNextCreate(how: typeof failNext) {
      failNext = how;
    },
  };
}

describe('avatar upstream seam', () => {
  it('answers the avatar block: provider, apiBase, token and LiveKit room inside it, none of them at the top level', async () => {
    const b = await broker();
    const a = await call(`${b.api}/session`, json({ avatarId: 'offline_avatar', language: 'en' }));
    assert.equal(a.status, 200, a.text);
    assert.deepEqual(Object.keys(a.json).sort(), ['avatar', 'closeUrl', 'heartbeat', 'limits', 'llm', 'sessionId', 'sessionKey', 'stt']);
    assert.deepEqual(Object.keys(a.json.avatar).sort(), ['apiBase', 'livekit', 'provider', 'token']);
    assert.equal(a.json.avatar.provider, 'heygen-streaming');
    assert.equal(a.json.avatar.apiBase, heygen.url);
    assert.deepEqual(Object.keys(a.json.avatar.livekit).sort(), ['token', 'url']);
    assert.equal(a.json.avatar.livekit.url, livekit.url);
    for (const old of ['provider', 'heygen', 'livekit']) assert.equal(old in a.json, false, `no top-level "${old}"`);
    assert.equal((await closeSession(a.json)).status, 200);
  });

  it('runs create → heartbeat → close through an injected upstream: its access passes through verbatim, no HeyGen key needed', async () => {
    const fake = fakeAvatarUpstream();
    const b = await broker({ heygen: undefined, avatarUpstream: fake.upstream });
    const s = await createSession(b.api, { avatarId: 'offline_avatar', quality: 'high', voiceRate: 1.1, language: 'en' });
    assert.deepEqual(fake.calls[0], {
      op: 'create',
      args: [
        { avatarId: 'offline_avatar', quality: 'high', voiceRate: 1.1, language: 'en', sttModel: 'nova-2' },
        { idleTimeoutSeconds: 120, maxSessionSeconds: 600 },
      ],
    });
    assert.equal(s.sessionId, 'fake-1');
    assert.deepEqual(s.avatar, { provider: 'fake-avatar', room: 'room-1', grant: { token: 'grant-1', scopes: ['speak', 'listen'] } });
    assert.deepEqual(s.avatar, fake.created[0].access);
    assert.equal(s.limits.sessionDurationSeconds, 90, "the service's own limit is lower than the broker's 600 s");
    assert.equal(s.stt.url, deepgram.url);
    assert.equal(logs.find((e) => e.event === 'session_created' && e.sessionId === 'fake-1')?.provider, 'fake-avatar');

    assert.equal((await call(s.heartbeat.url, { method: 'POST', headers: auth(s) })).status, 204);
    assert.deepEqual(fake.stops(), [], 'a heartbeat stops nothing');
    assert.equal((await closeSession(s)).status, 200);
    assert.deepEqual(fake.stops(), [['fake-1', 'client_closed']]);
    assert.deepEqual([...fake.open], []);
    assertError(await call(s.heartbeat.url, { method: 'POST', headers: auth(s) }), 401, 'unauthorized');
    assert.equal((await call(`${b.api}/healthz`)).json.slots, 0);
  });

  it('the reaper and shutdown stop an injected upstream’s sessions by their ids', async () => {
    let now = Date.now();
    const fake = fakeAvatarUpstream();
    const b = await broker({ heygen: undefined, avatarUpstream: fake.upstream, now: () => now, abandonAfterSeconds: 30 });
    const silent = await createSession(b.api);
    const beating = await createSession(b.api);
    now += 25_000;
    assert.equal((await call(beating.heartbeat.url, { method: 'POST', headers: auth(beating) })).status, 204);
    now += 10_000;
    assert.equal(await b.broker.reapNow(), 1);
    assert.deepEqual(fake.stops(), [[silent.sessionId, 'abandoned']]);
    now += 20_000;
    assert.equal((await call(beating.heartbeat.url, { method: 'POST', headers: auth(beating) })).status, 204);
    now += 36_000; // 91 s after creation: past the service's 90 s limit
    assert.equal(await b.broker.reapNow(), 1);
    assert.deepEqual(fake.stops().at(-1), [beating.sessionId, 'duration_limit']);
    const last = await createSession(b.api);
    await b.close();
    assert.deepEqual(fake.stops().at(-1), [last.sessionId, 'shutdown']);
    assert.deepEqual([...fake.open], []);
    assert.deepEqual(fake.stops().map(([id]) => id), ['fake-1', 'fake-2', 'fake-3']);
  });

  it('stops the session an OrphanedAvatarSessionError names, answers its cause, and redacts the upstream’s secrets', async () => {
    const fake = fakeAvatarUpstream();
    const b = await broker({ heygen: undefined, avatarUpstream: fake.upstream });
    fake.failNextCreate('orphan');
    assertError(await call(`${b.api}/session`, json({})), 502, 'upstream_error', /^the avatar service failed \(HTTP 200\)$/);
    assert.deepEqual(fake.stops(), [['fake-orphan-1', 'create_failed']]);
    assert.deepEqual([...fake.open], []);
    assert.ok(logs.some((e) => e.event === 'session_closed' && e.sessionId === 'fake-orphan-1' && e.reason === 'create_failed'));

    fake.failNextCreate('over_capacity');
    const full = await call(`${b.api}/session`, json({}));
    assertError(full, 503, 'upstream_over_capacity', /avatar service has no free session/);
    assert.equal(full.headers.get('retry-after'), '30');

    fake.failNextCreate('internal');
    assertError(await call(`${b.api}/session`, json({})), 500, 'internal_error');
    const internal = logs.findLast((e) => e.event === 'internal_error');
    assert.equal(internal?.message, 'the fake service refused key [redacted]');
    assert.equal(fake.stops().length, 1, 'nothing else was created, so nothing else is stopped');
    assert.equal((await call(`${b.api}/healthz`)).json.slots, 0, 'every slot was given back');
  });

  it('refuses a configuration with neither a HeyGen key nor an avatar upstream, or an upstream without its methods', () => {
    assert.throws(() => createSessionBroker(config({ heygen: undefined })), /no avatar service is configured: set LIVEAVATAR_API_KEY .* or HEYGEN_API_KEY/);
    assert.throws(() => createSessionBroker(config({ heygen: undefined, avatarProvider: 'heygen-streaming' })), /the HeyGen API key is missing \(HEYGEN_API_KEY\)/);
    const broken = { provider: '', secrets: [], create: async () => ({}) } as unknown as AvatarUpstream;
    assert.throws(
      () => createSessionBroker(config({ heygen: undefined, avatarUpstream: broken })),
      (err: Error) =>
        /avatarUpstream.provider must name/.test(err.message) &&
        /avatarUpstream.stop must be a function/.test(err.message) &&
        /avatarUpstream.keepAlive must be a function/.test(err.message) &&
        /avatarUpstream.listOpen must be a function/.test(err.message) &&
        !/avatarUpstream.create/.test(err.message) &&
        !/HEYGEN_API_KEY/.test(err.message),
    );
  });

  it('HeygenStreamingUpstream: listOpen has the session it created until it is stopped; keepAlive and a second stop', async () => {
    const upstream: AvatarUpstream<HeygenStreamingAccess> = new HeygenStreamingUpstream({ apiKey: KEYS.heygen, apiBase: heygen.url, timeoutMs: 5000, redact: (t) => t });
    const params: SessionParams = { avatarId: 'offline_avatar', quality: 'low', voiceRate: 1, language: 'en', sttModel: 'nova-2' };
    const a = await upstream.create(params, { idleTimeoutSeconds: 60, maxSessionSeconds: 600 });
    const b = await upstream.create(params, { idleTimeoutSeconds: 60, maxSessionSeconds: 600 });
    assert.equal(a.access.provider, 'heygen-streaming');
    assert.equal(a.access.livekit.url, livekit.url);
    assert.equal(typeof a.durationLimitSeconds, 'number');
    const listed = await upstream.listOpen();
    assert.ok(listed.includes(a.sessionId) && listed.includes(b.sessionId), `${a.sessionId} and ${b.sessionId} in ${listed.join(', ')}`);
    assert.equal(new Set(listed).size, listed.length);
    await upstream.keepAlive(a.sessionId);
    assert.equal(await upstream.stop(a.sessionId, 'client_closed'), 'stopped');
    const after = await upstream.listOpen();
    assert.equal(after.includes(a.sessionId), false);
    assert.equal(after.includes(b.sessionId), true);
    assert.equal(await upstream.stop(a.sessionId, 'client_closed'), 'already_closed');
    await assert.rejects(upstream.keepAlive(a.sessionId), (err: UpstreamError) => err instanceof UpstreamError && err.operation === 'streaming.keep_alive' && err.status === 400);
    assert.equal(await upstream.stop(b.sessionId, 'shutdown'), 'stopped');
    assert.equal((await upstream.listOpen()).includes(b.sessionId), false);
    const wrongKey = new HeygenStreamingUpstream({ apiKey: 'wrong-heygen-key', apiBase: heygen.url, timeoutMs: 5000, redact: (t) => t });
    await assert.rejects(wrongKey.listOpen(), (err: UpstreamError) => err instanceof UpstreamError && err.status === 401 && err.operation === 'streaming.list');
  });
});

// ── Redis: several broker processes sharing one store ───────────────────────────────────────

describe('RedisStore: broker instances sharing one redis-server', () => {
  let redisUrl: string;
  before(async () => {
    redisUrl = (await startRedis()).url;
  });

  it('two broker processes keep one concurrency cap and one rate limit between them', async () => {
    const env = {
      HEYGEN_API_KEY: KEYS.heygen,
      HEYGEN_API_BASE: heygen.url,
      DEEPGRAM_API_KEY: KEYS.deepgram,
      DEEPGRAM_API_BASE: deepgram.url,
      AVATAR_IDS: 'Anna_public_3',
      LANGUAGES: 'en,ru',
      ALLOWED_ORIGINS: ORIGIN,
      MAX_SESSIONS: '3',
      MAX_SESSIONS_PER_CLIENT: '3',
      RATE_LIMIT_SESSIONS_PER_MINUTE: '1',
      RATE_LIMIT_SESSIONS_BURST: '4',
      REDIS_URL: redisUrl,
      REDIS_PREFIX: 'test-two-processes:',
      TRUST_PROXY: 'x-test-client',
      PORT: '0',
      LOG_LEVEL: 'warn',
    };
    const [a, b] = await Promise.all([startCli(env), startCli(env)]);
    assert.notEqual(a.url, b.url);
    const open = heygen.openSessions;
    const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => call(`${(i % 2 ? b : a).api}/session`, json({}, {}, `p-${i}`))));
    const ok = answers.filter((x) => x.status === 200).map((x) => x.json as BrokerSessionResponse);
    assert.equal(ok.length, 3, answers.map((x) => x.status).join(','));
    assert.equal(answers.filter((x) => x.status === 503 && x.json.error.code === 'over_capacity').length, 5);
    assert.equal(heygen.openSessions, open + 3);
    // A session made through one instance is known to the other: refresh it there, close it there.
    const made = ok[0];
    const other = made.closeUrl.startsWith(a.url) ? b : a;
    assert.equal((await call(`${other.api}/session/stt-token`, { method: 'POST', headers: auth(made) })).status, 200);
    const closed = await call(`${other.api}/session/close`, { method: 'POST', headers: { origin: ORIGIN, 'content-type': 'text/plain' }, body: JSON.stringify({ sessionId: made.sessionId, sessionKey: made.sessionKey }) });
    assert.equal(closed.status, 200);
    assert.equal(heygen.closedReason(made.sessionId), 'stopped');
    const again = await call(`${a.api}/session`, json({}, {}, 'p-again'));
    assert.equal(again.status, 200, again.text);
    ok.push(again.json);
    // One token bucket for one client, whichever instance it reaches.
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push((await call(`${(i % 2 ? b : a).api}/session`, json({ quality: 'x' }, {}, 'p-flood'))).status);
    assert.deepEqual(statuses, [400, 400, 400, 400, 429, 429]);
    const health = await call(`${b.api}/healthz`);
    assert.deepEqual(health.json, { status: 'ok', store: 'redis', sessions: 3, slots: 3 });

    for (const s of ok.slice(1)) assert.equal((await closeSession(s)).status, 200);
    assert.equal(heygen.openSessions, open);
    a.proc.kill('SIGTERM');
    b.proc.kill('SIGTERM');
    assert.deepEqual(await Promise.all([a.exited, b.exited]), [0, 0]);
    assert.ok(a.output.join('').includes('"broker_stopped"'));
  });

  it('a session made by one instance is reaped by another', async () => {
    // Real time: the Redis server's clock dates the sessions.
    const shared = { redisUrl, redisPrefix: 'test-reap-across:', abandonAfterSeconds: 1 };
    const one = await broker(shared);
    const two = createSessionBroker(config(shared));
    cleanups.push(() => two.close());
    const open = heygen.openSessions;
    const s = await createSession(one.api);
    assert.equal(await two.reapNow(), 0);
    await sleep(1100);
    const [r1, r2] = await Promise.all([two.reapNow(), one.broker.reapNow()]);
    assert.equal(r1 + r2, 1, 'exactly one instance stopped it');
    assert.equal(heygen.openSessions, open);
    assert.equal(heygen.closedReason(s.sessionId), 'stopped');
    assertError(await call(s.heartbeat.url, { method: 'POST', headers: auth(s) }), 401, 'unauthorized');
    // Shutting down an instance of a shared store leaves the others' sessions alone.
    const kept = await createSession(one.api);
    await two.close();
    assert.equal(heygen.closedReason(kept.sessionId), undefined);
    assert.equal((await closeSession(kept)).status, 200);
  });

  it('answers 500 (not a hang) when Redis is down, and recovers when it is back', async () => {
    const r = await startRedis();
    const b = await broker({ redisUrl: r.url, redisPrefix: 'test-down:' });
    const s = await createSession(b.api);
    assert.equal((await closeSession(s)).status, 200);
    await r.stop();
    const down = await call(`${b.api}/session`, json({}));
    assertError(down, 500, 'internal_error');
    assert.equal(down.headers.get('retry-after'), '5');
    assert.equal((await call(`${b.api}/healthz`)).status, 503);
    assert.ok(logs.some((e) => e.event === 'internal_error' && /redis/.test(String(e.message))));
  });
});

// ── the CLI ──────────────────────────────────────────────────────────────────────────────────

describe('CLI', () => {
  it('reports every configuration problem at once and exits 2', async () => {
    const { code, output: err } = await runCliToExit({ HEYGEN_API_KEY: KEYS.heygen, MAX_SESSIONS: 'many', ALLOWED_ORIGINS: 'shop.example' });
    assert.equal(code, 2);
    assert.match(err, /MAX_SESSIONS must be a number/);
    assert.match(err, /Deepgram API key is missing \(DEEPGRAM_API_KEY\)/);
    assert.match(err, /AVATAR_IDS/);
    assert.match(err, /allowed origin "shop.example" is not an origin/);
    assert.doesNotMatch(err, new RegExp(KEYS.heygen));
  });

  it('logs one startup line without secrets and closes its sessions on SIGTERM', async () => {
    const child = await startCli({
      HEYGEN_API_KEY: KEYS.heygen,
      HEYGEN_API_BASE: heygen.url,
      DEEPGRAM_API_KEY: KEYS.deepgram,
      DEEPGRAM_API_BASE: deepgram.url,
      GEMINI_API_KEY: KEYS.gemini,
      GEMINI_API_BASE: llm.url,
      SYSTEM_PROMPT: 'Be kind.',
      AVATAR_IDS: 'Anna_public_3',
      ALLOWED_ORIGINS: ORIGIN,
      PORT: '0',
    });
    const startup = JSON.parse(child.output.join('').split('\n').find((l) => l.includes('broker_started'))!);
    assert.equal(startup.llm, 'gemini');
    assert.equal(startup.store, 'memory');
    assert.equal(startup.sessionEndpoint, `${child.url}/api/avatar/session`);
    const s = await createSession(child.api);
    assert.equal(s.llm?.url, `${child.api}/llm`);
    const a = await call(s.llm!.url, json({ messages: [{ role: 'user', content: 'hi' }] }, auth(s)));
    assert.equal(sseEvents(a.text).at(-1).type, 'done');
    assert.equal(heygen.closedReason(s.sessionId), undefined);
    child.proc.kill('SIGTERM');
    assert.equal(await child.exited, 0);
    assert.equal(heygen.closedReason(s.sessionId), 'stopped');
    const out = child.output.join('');
    assert.ok(out.includes('"reason":"shutdown"'));
    for (const key of Object.values(KEYS)) assert.ok(!out.includes(key), 'no key in the CLI output');
  });
});

describe('configFromEnv', () => {
  it('reads every variable, with defaults, and picks the LLM provider from the keys', () => {
    const { config: c, server } = configFromEnv({
      HEYGEN_API_KEY: 'h',
      DEEPGRAM_API_KEY: 'd',
      OPENAI_API_KEY: 'o',
      AVATAR_IDS: 'a1, a2',
      ALLOWED_ORIGINS: 'https://a.example https://b.example:8443',
      MAX_SESSIONS: '7',
      RATE_LIMIT_LLM_PER_MINUTE: '30',
      REAP_INTERVAL_SECONDS: '2.5',
      TRUST_PROXY: '2',
      LLM_MODEL: 'gpt-4.1-mini',
      PORT: '9000',
      HOST: '0.0.0.0',
      AVATAR_ACCOUNT: 'Dedicated',
      RECONCILE_INTERVAL_SECONDS: '30',
      STT_TOKENS_PER_SESSION: '8',
      MAX_CONNECTIONS: '300',
      MAX_CONNECTIONS_PER_ADDRESS: '0',
    });
    assert.deepEqual(c.avatarIds, ['a1', 'a2']);
    assert.deepEqual(c.allowedOrigins, ['https://a.example', 'https://b.example:8443']);
    assert.equal(c.maxSessions, 7);
    assert.deepEqual(c.rateLimits, { llm: { perMinute: 30, burst: 20 } });
    assert.equal(c.reapIntervalMs, 2500);
    assert.equal(c.trustProxy, 2);
    assert.deepEqual(c.llm, { provider: 'openai', apiKey: 'o', model: 'gpt-4.1-mini' });
    assert.equal(c.avatarAccount, 'dedicated');
    assert.equal(c.reconcileIntervalMs, 30_000);
    assert.equal(c.sttTokensPerSession, 8);
    assert.deepEqual(server, { port: 9000, host: '0.0.0.0', maxConnections: 300, maxConnectionsPerAddress: 0 });
    const both = configFromEnv({ HEYGEN_API_KEY: 'h', DEEPGRAM_API_KEY: 'd', GEMINI_API_KEY: 'g', OPENAI_API_KEY: 'o', AVATAR_IDS: 'a', ALLOWED_ORIGINS: '*' });
    assert.equal(both.config.llm?.provider, 'gemini');
    const none = configFromEnv({ HEYGEN_API_KEY: 'h', DEEPGRAM_API_KEY: 'd', GEMINI_API_KEY: 'g', LLM_PROVIDER: 'none', AVATAR_IDS: 'a', ALLOWED_ORIGINS: '*' });
    assert.equal(none.config.llm, undefined);
  });

  it('refuses bad values with messages naming the variable', () => {
    const base = { HEYGEN_API_KEY: 'h', DEEPGRAM_API_KEY: 'd', AVATAR_IDS: 'a', ALLOWED_ORIGINS: '*' };
    const problems = (env: Record<string, string>) => configProblems({ ...base, ...env });
    assert.match(problems({ REDIS_URL: 'http://x' }), /REDIS_URL must start with redis:\/\//);
    assert.match(problems({ HEYGEN_API_BASE: 'ftp://x' }), /HEYGEN_API_BASE/);
    assert.match(problems({ LLM_PROVIDER: 'openai' }), /LLM_PROVIDER=openai but OPENAI_API_KEY is not set/);
    assert.match(problems({ LANGUAGES: 'en', DEFAULT_LANGUAGE: 'ru' }), /default language "ru" \(DEFAULT_LANGUAGE\) is not in the language list/);
    assert.match(problems({ ALLOWED_ORIGINS: 'https://a.example/path' }), /must be scheme:\/\/host\[:port\]/);
    assert.match(problems({ TRUST_PROXY: 'x forwarded' }), /TRUST_PROXY/);
    assert.match(problems({ ABANDON_AFTER_SECONDS: '0' }), /abandonAfterSeconds \(ABANDON_AFTER_SECONDS\) must be an integer from 1/);
    assert.match(problems({ PORT: '70000' }), /PORT must be an integer from 0 to 65535/);
    assert.match(problems({ AVATAR_ACCOUNT: 'mine' }), /avatarAccount \(AVATAR_ACCOUNT\) must be shared or dedicated/);
    assert.match(problems({ MAX_CONNECTIONS_PER_ADDRESS: '-1' }), /MAX_CONNECTIONS_PER_ADDRESS must be a whole number/);
    assert.match(problems({ STT_TOKENS_PER_SESSION: '0' }), /sttTokensPerSession \(STT_TOKENS_PER_SESSION\) must be an integer from 1/);
    assert.equal(problems({}), '');
  });
});

// ── hardening: what a hostile client or upstream tried (issue 11) ────────────────────────────

/** A POST through node:http, for headers fetch will not send as given (Host). */
function rawPost(url: string, headers: Record<string, string>, body = '{}'): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : undefined }));
    });
    req.once('error', reject);
    req.end(body);
  });
}

/** A TCP connection to `url`'s port from `localAddress` (any of 127.0.0.0/8). */
function connectFrom(url: string, localAddress: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: '127.0.0.1', port: Number(new URL(url).port), localAddress }, () => resolve(socket));
    socket.once('error', reject);
    cleanups.push(async () => socket.destroy());
  });
}

/** True when the server closes `socket` within `ms`. */
function closedWithin(socket: Socket, ms: number): Promise<boolean> {
  if (socket.destroyed || socket.readableEnded) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
    socket.resume();
  });
}

describe('hardening: sessions created upstream that the broker lost track of (2, 3)', () => {
  it('looks up and stops the HeyGen session whose streaming.new answer was lost or came too late, with that attempt’s session token; the reaper retries a failed lookup', async () => {
    const b = await broker({ upstreamTimeoutMs: 500 });
    const open = heygen.openSessions;
    heygen.faults.arm({ kind: 'lose-answer', path: 'streaming.new' });
    assertError(await call(`${b.api}/session`, json({})), 502, 'upstream_error', /network/);
    assert.equal(heygen.openSessions, open, 'the session it made was found and stopped');
    const found = logs.findLast((e) => e.event === 'session_closed' && e.reason === 'create_failed');
    assert.equal(heygen.closedReason(String(found?.sessionId)), 'stopped');

    heygen.faults.arm({ kind: 'lose-answer', path: 'streaming.new', afterMs: 1500 });
    assertError(await call(`${b.api}/session`, json({})), 504, 'upstream_timeout');
    assert.equal(heygen.openSessions, open);

    heygen.faults.arm({ kind: 'lose-answer', path: 'streaming.new' });
    heygen.faults.arm({ kind: 'server-error', path: 'streaming.list' });
    assertError(await call(`${b.api}/session`, json({})), 502, 'upstream_error');
    assert.equal(heygen.openSessions, open + 1, 'its lookup failed too');
    assert.ok(logs.some((e) => e.event === 'session_lookup_failed'));
    await b.broker.reapNow();
    assert.equal(heygen.openSessions, open, 'the reaper looked it up again and stopped it');
    assert.equal((await call(`${b.api}/healthz`)).json.slots, 0);
  });

  it('stops the sessions it created and no longer records (here: dropped after ten failed stops), and leaves another app’s sessions on the same account alone', async () => {
    let now = Date.now();
    const b = await broker({ now: () => now, abandonAfterSeconds: 30 });
    const s = await createSession(b.api);
    const theirs = await createDirectly(heygen.url);
    heygen.faults.arm({ kind: 'server-error', path: 'streaming.stop', times: 10 });
    await reapThroughTenFailedStops(b.broker.reapNow, (ms) => (now += ms), 30);
    assert.ok(logs.some((e) => e.event === 'session_stop_gave_up' && e.sessionId === s.sessionId), 'its record was dropped');
    now += 60_000;
    await b.broker.reapNow();
    assert.equal(heygen.closedReason(s.sessionId), 'stopped', 'found in streaming.list and stopped');
    assert.ok(logs.some((e) => e.event === 'session_closed' && e.sessionId === s.sessionId && e.reason === 'untracked'));
    now += 600_000;
    await b.broker.reapNow();
    assert.equal(heygen.closedReason(theirs), undefined, 'not the broker’s: left alone');
    await stopDirectly(heygen.url, theirs);
  });

  it('notices a Redis that restarted empty, stops the sessions it created there, and holds the cap again', async () => {
    const r = await startRedis();
    const b = await broker({ redisUrl: r.url, redisPrefix: 'test-wiped:', maxSessions: 3, maxSessionsPerClient: 3, reapIntervalMs: 200 });
    const open = heygen.openSessions;
    const made = [await createSession(b.api, {}, 'w1'), await createSession(b.api, {}, 'w2'), await createSession(b.api, {}, 'w3')];
    assertError(await call(`${b.api}/session`, json({}, {}, 'w4')), 503, 'over_capacity');
    await sleep(300); // a reaper pass or two: the store is known intact
    await r.restart();
    await waitFor('the sessions of the lost records to be stopped', () => heygen.openSessions === open, 8000);
    assert.ok(logs.some((e) => e.event === 'store_wiped'));
    for (const m of made) assert.equal(heygen.closedReason(m.sessionId), 'stopped');
    const again = [await createSession(b.api, {}, 'w5'), await createSession(b.api, {}, 'w6'), await createSession(b.api, {}, 'w7')];
    assertError(await call(`${b.api}/session`, json({}, {}, 'w8')), 503, 'over_capacity');
    assert.equal(heygen.openSessions, open + 3, 'never more than the cap');
    for (const m of again) assert.equal((await closeSession(m)).status, 200);
  });

  it('kill -9 of a broker with the in-memory store: restarted, it finds the sessions it left open at HeyGen and stops them (AVATAR_ACCOUNT=dedicated)', async () => {
    const own = await startHeygenStandIn({ apiKey: KEYS.heygen, livekit, maxConcurrentSessions: 10 });
    cleanups.push(() => own.close());
    const env = {
      HEYGEN_API_KEY: KEYS.heygen,
      HEYGEN_API_BASE: own.url,
      DEEPGRAM_API_KEY: KEYS.deepgram,
      DEEPGRAM_API_BASE: deepgram.url,
      AVATAR_IDS: 'Anna_public_3',
      ...DEDICATED_FAST_REAPING_CLI,
    };
    const first = await startCli(env);
    await createSession(first.api, {}, 'k1');
    await createSession(first.api, {}, 'k2');
    assert.equal(own.openSessions, 2);
    const second = await killAndRestartCli(first, env);
    await waitFor('the restarted broker to stop what the killed one left open', () => own.openSessions === 0, 15_000);
    await waitFor('both stops logged', () => second.output.join('').match(/"reason":"untracked"/g)?.length === 2);
  });
});

describe('hardening: STT tokens per session (1)', () => {
  it('gives a session a burst of 5 refreshes, then 6 a minute, at most STT_TOKENS_PER_SESSION tokens in all, and none once it is closed', async () => {
    const { session, llm: llmRate } = testBrokerDefaults(logs).rateLimits!;
    const b = await broker({ rateLimits: { session, llm: llmRate } });
    const s = await createSession(b.api);
    const refresh = (x: BrokerSessionResponse) => call(x.stt.refreshUrl, { method: 'POST', headers: auth(x) });
    for (let i = 0; i < 5; i++) assert.equal((await refresh(s)).status, 200, `refresh ${i + 1}`);
    const limited = await refresh(s);
    assertError(limited, 429, 'rate_limited');
    assert.ok(Number(limited.headers.get('retry-after')) >= 9, 'the next token comes at 6 a minute');
    await closeSession(s);
    assertError(await refresh(s), 401, 'unauthorized', /closed/);

    const budget = await broker({ sttTokensPerSession: 4 });
    const t = await createSession(budget.api);
    for (let i = 0; i < 3; i++) assert.equal((await refresh(t)).status, 200, 'the token in the answer and three more');
    const spent = await refresh(t);
    assertError(spent, 429, 'rate_limited', /this session has had its 4 speech-to-text tokens/);
    assert.equal(spent.headers.get('retry-after'), null, 'waiting does not help');
    assert.equal((await call(t.heartbeat.url, { method: 'POST', headers: auth(t) })).status, 204, 'the session itself goes on');
    await closeSession(t);
  });
});

describe('hardening: upstream error codes and redaction (4, 5)', () => {
  it('keeps an upstream code only when it is short and safe, never puts upstream text in the browser message, and redacts before cutting', async () => {
    const from = logs.length;
    const answer = (status: number, body: string, type = 'application/json') =>
      recordingServer((_c, res) => {
        res.writeHead(status, { 'content-type': type });
        res.end(body);
      });
    const straddle = (key: string) => `${'x'.repeat(200 - 10)}${key} and more`;
    const cases: [Partial<BrokerConfig>, 'session' | 'llm', string][] = [];
    const heygenCode = await answer(400, JSON.stringify({ code: KEYS.heygen, message: 'bad' }));
    cases.push([{ heygen: { apiKey: KEYS.heygen, apiBase: heygenCode.url } }, 'session', KEYS.heygen]);
    const heygenText = await answer(500, straddle(KEYS.heygen), 'text/plain');
    cases.push([{ heygen: { apiKey: KEYS.heygen, apiBase: heygenText.url } }, 'session', KEYS.heygen]);
    const deepgramCode = await answer(400, JSON.stringify({ err_code: KEYS.deepgram, err_msg: 'bad' }));
    cases.push([{ deepgram: { apiKey: KEYS.deepgram, apiBase: deepgramCode.url } }, 'session', KEYS.deepgram]);
    const llmLong = await answer(400, JSON.stringify({ error: { code: 'c'.repeat(4025), message: 'bad' } }));
    cases.push([{ llm: { provider: 'openai', apiKey: KEYS.openai, apiBase: llmLong.url } }, 'llm', 'c'.repeat(41)]);
    const llmCode = await answer(400, JSON.stringify({ error: { code: KEYS.openai, message: 'bad' } }));
    cases.push([{ llm: { provider: 'openai', apiKey: KEYS.openai, apiBase: llmCode.url } }, 'llm', KEYS.openai]);
    const llmText = await answer(500, straddle(KEYS.openai), 'text/plain');
    cases.push([{ llm: { provider: 'openai', apiKey: KEYS.openai, apiBase: llmText.url } }, 'llm', KEYS.openai]);

    for (const [over, route, secret] of cases) {
      const b = await broker(over);
      let a: Answer;
      if (route === 'session') a = await call(`${b.api}/session`, json({}));
      else {
        const s = await createSession(b.api);
        a = await call(s.llm!.url, json({ messages: [{ role: 'user', content: 'hi' }] }, auth(s)));
        await closeSession(s);
      }
      assert.ok(a.status >= 500 || a.status === 502, a.text);
      assert.match(a.json.error.message, /^the (avatar|speech-to-text|language model) service failed \(HTTP \d{3}\)$/, 'status only: no upstream code that is not a number');
      assert.ok(!a.text.includes(secret.slice(0, 10)), `no part of ${secret.slice(0, 10)}… in the answer`);
    }
    const logged = JSON.stringify(logs.slice(from));
    for (const key of [KEYS.heygen, KEYS.deepgram, KEYS.openai]) assert.ok(!logged.includes(key.slice(0, 10)), `no part of a key in the log (${key.slice(0, 10)}…)`);
    assert.ok(!logged.includes('c'.repeat(41)), 'a long code is not logged');
    assert.ok(logged.includes('[redacted]'), 'the key is replaced, not the whole text dropped');
  });
});

describe('hardening: connections (6)', () => {
  it('caps connections per address and in total; another address is still served', async () => {
    const server = await startBrokerServer(config(), { port: 0, maxConnections: 5, maxConnectionsPerAddress: 3 });
    cleanups.push(() => server.close());
    const mine = await Promise.all([1, 2, 3].map(() => connectFrom(server.url, '127.0.0.1')));
    const fourth = await connectFrom(server.url, '127.0.0.1');
    assert.equal(await closedWithin(fourth, 1000), true, 'a fourth connection from one address is dropped');
    for (const socket of mine) assert.equal(socket.destroyed, false);
    const other = await connectFrom(server.url, '127.0.0.2');
    other.write('GET /api/avatar/healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    const [first] = (await once(other, 'data')) as [Buffer];
    assert.match(String(first), /^HTTP\/1\.1 200/);
    await connectFrom(server.url, '127.0.0.3');
    const sixth = await connectFrom(server.url, '127.0.0.4');
    assert.equal(await closedWithin(sixth, 1000), true, 'a sixth connection in all is dropped');
  });

  it('closes a connection whose headers or body do not arrive within their timeouts, within a second of them', async () => {
    const server = await startBrokerServer(config(), { port: 0, headersTimeoutMs: 600, requestTimeoutMs: 1200 });
    cleanups.push(() => server.close());
    const slowHeaders = await connectFrom(server.url, '127.0.0.1');
    slowHeaders.write('POST /api/avatar/session HTTP/1.1\r\nHost: x\r\n');
    const slowBody = await connectFrom(server.url, '127.0.0.1');
    slowBody.write('POST /api/avatar/session HTTP/1.1\r\nHost: x\r\nOrigin: https://shop.example\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{');
    const t0 = Date.now();
    assert.equal(await closedWithin(slowHeaders, 2000), true, 'headers timeout');
    assert.ok(Date.now() - t0 >= 400, 'not before its time');
    assert.equal(await closedWithin(slowBody, 2500), true, 'request timeout');
  });
});

describe('hardening: same origin (7)', () => {
  it('is off unless asked for; then trusts Host only when it is an address or localhost, compares schemes, and with PUBLIC_URL compares against it', async () => {
    const b = await broker();
    const own = new URL(b.url);
    assert.equal((await rawPost(`${b.api}/session`, { origin: b.url })).status, 403, 'off by default');

    const same = await broker({ allowSameOrigin: true });
    const sameHost = new URL(same.url).host;
    const ok = await rawPost(`${same.api}/session`, { origin: same.url, host: sameHost });
    assert.equal(ok.status, 200);
    await closeSession(ok.json);
    const refused = async (headers: Record<string, string>, api = same.api) => assertErrorStatus(await rawPost(`${api}/session`, headers), 403);
    await refused({ host: 'evil.example', origin: 'http://evil.example' });
    await refused({ host: `evil.example:${own.port}`, origin: `http://evil.example:${own.port}` });
    await refused({ host: sameHost, origin: `javascript://${sameHost}` });
    await refused({ host: sameHost, origin: `https://${sameHost}` });

    const behind = await broker({ allowSameOrigin: true, publicUrl: 'https://avatar.shop.example' });
    await refused({ host: 'evil.example', origin: 'http://evil.example' }, behind.api);
    await refused({ host: new URL(behind.url).host, origin: behind.url }, behind.api);
    const pub = await rawPost(`${behind.api}/session`, { host: 'avatar.shop.example', origin: 'https://avatar.shop.example' });
    assert.equal(pub.status, 200);
    assert.equal((await rawPost(`${behind.api}/session/close`, { origin: 'https://avatar.shop.example' }, JSON.stringify(pub.json))).status, 200);
  });
});

function assertErrorStatus(a: { status: number; json: any }, status: number): void {
  assert.equal(a.status, status, JSON.stringify(a.json));
  assert.equal(typeof a.json?.error?.code, 'string');
}

describe('hardening: TRUST_PROXY (8)', () => {
  it('refuses x-forwarded-for and forwarded as header names: their leftmost address is whatever the client wrote', () => {
    const base = { HEYGEN_API_KEY: 'h', DEEPGRAM_API_KEY: 'd', AVATAR_IDS: 'a', ALLOWED_ORIGINS: '*' };
    for (const name of ['x-forwarded-for', 'X-Forwarded-For', 'forwarded']) {
      assert.match(configProblems({ ...base, TRUST_PROXY: name }), /TRUST_PROXY=.* cannot be trusted as a header name: .*client wrote.*give the number of proxies/);
    }
    assert.throws(() => createSessionBroker(config({ trustProxy: 'X-Forwarded-For' })), /number of proxies/);
    assert.equal(configProblems({ ...base, TRUST_PROXY: 'x-real-ip' }), '');
  });
});

describe('hardening: unknown field names (11)', () => {
  it('clips the unknown field name a 400 repeats: printable, at most 40 characters', async () => {
    const b = await broker();
    const name = `${'k'.repeat(15_000)}\u0007\n\u001b[31m`;
    const check = (a: Answer) => {
      assertError(a, 400, 'bad_request', /unknown field "k{40}…"/);
      assert.ok(a.json.error.message.length < 200, `${a.json.error.message.length} characters`);
      assert.doesNotMatch(a.json.error.message, /[\u0000-\u001f\u007f]/);
    };
    check(await call(`${b.api}/session`, json(JSON.stringify({ [name]: 1 }))));
    const s = await createSession(b.api);
    check(await call(s.llm!.url, json({ messages: [{ role: 'user', content: 'hi' }], [name]: 1 }, auth(s))));
    check(await call(s.llm!.url, json({ messages: [{ role: 'user', content: 'hi', [name]: 1 }] }, auth(s))));
    await closeSession(s);
  });
});

// ── last: the secret scan over everything above ─────────────────────────────────────────────

describe('secrets', () => {
  it('no configured key appears in any response body or header the broker sent, nor in its logs', () => {
    assert.ok(seen.length > 150, `enough responses were collected (${seen.length})`);
    assert.ok(seen.some((r) => r.status >= 500) && seen.some((r) => r.status === 200) && seen.some((r) => r.status === 429));
    assert.ok(logs.length > 50);
    assertKeysNeverSent(KEYS, logs);
  });
});
