// LiveAvatar as the broker's avatar service: the broker against the offline LiveAvatar stand-in
// (with a real LiveKit server, and the Deepgram stand-in), and against fake servers on loopback for
// the exact wire shapes and the answers the stand-in does not give (not JSON, a wrong envelope, a
// key quoted back). Every answer the broker sends in this file is kept and scanned at the end for
// the configured keys.
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { dispose } from '@livekit/rtc-node';
import {
  configFromEnv,
  createSessionBroker,
  LIVEAVATAR_SANDBOX_AVATAR_ID,
  LiveAvatarUpstream,
  resolveConfig,
  UpstreamError,
  type AvatarUpstream,
  type BrokerConfig,
  type BrokerSessionResponse,
  type LiveAvatarAccess,
  type LogEntry,
  type SessionParams,
} from '../../src/broker/index.js';
import { startDeepgramStandIn, type DeepgramStandIn } from '../../src/offline/deepgram/index.js';
import { SANDBOX_AVATAR_ID, startLiveAvatarStandIn, type LiveAvatarStandIn } from '../../src/offline/liveavatar/index.js';
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
  json,
  killAndRestartCli,
  ORIGIN,
  recordingServer,
  reapThroughTenFailedStops,
  runCleanups,
  seen,
  startBroker,
  startCli,
  testBrokerDefaults,
  waitFor,
  type Recorded,
} from '../support/broker-harness.js';

/** Distinctive keys, so a leak is unmistakable. */
const KEYS = {
  liveavatar: 'la-live-KEY-7e2d94c1a05b3f68',
  deepgram: 'dg-live-KEY-0b5e8a13c7f24d96',
  /** Set beside the LiveAvatar key in the CLI test, and never used. */
  heygen: 'hg-live-KEY-c4a1f07d2e9b8356',
} as const;

/** "Wayne": public, and the only avatar of sandbox sessions. */
const WAYNE = LIVEAVATAR_SANDBOX_AVATAR_ID;
/** In the broker's allow-list but unknown to the service: LiveAvatar refuses it with 422 `{code: 4000}`. */
const RETIRED_AVATAR = '00000000-0000-4000-8000-00000000dead';

let livekit: { url: string; apiKey: string; apiSecret: string; stop(): Promise<void> };
let liveavatar: LiveAvatarStandIn;
let deepgram: DeepgramStandIn;
const logs: LogEntry[] = [];

function config(over: Partial<BrokerConfig> = {}): BrokerConfig {
  return {
    ...testBrokerDefaults(logs),
    liveavatar: { apiKey: KEYS.liveavatar, apiBase: liveavatar.url },
    deepgram: { apiKey: KEYS.deepgram, apiBase: deepgram.url },
    avatarIds: [WAYNE, RETIRED_AVATAR],
    ...over,
  };
}

const broker = (over: Partial<BrokerConfig> = {}) => startBroker(config(over));

type LiveAvatarSessionResponse = BrokerSessionResponse & { avatar: LiveAvatarAccess };

const createSession = (api: string, body: unknown = {}, client = 'c-default') => createSessionOf<LiveAvatarSessionResponse>(api, body, client);

/** What the widget does next: `POST {apiBase}/v1/sessions/start` with the session token. */
async function startAsBrowser(s: LiveAvatarSessionResponse): Promise<{ status: number; body: any }> {
  const res = await fetch(`${s.avatar.apiBase}/v1/sessions/start`, { method: 'POST', headers: { origin: ORIGIN, authorization: `Bearer ${s.avatar.token}` } });
  return { status: res.status, body: await res.json() };
}

function jwtPayload(token: string): any {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
}

/** The stand-in's session id of the latest token it minted. */
const lastMinted = () => liveavatar.tokens.at(-1)?.sessionId;

// ── a fake LiveAvatar, for exact requests and odd answers ───────────────────────────────────

const FAKE_SESSION = '3b1f6f0e-2c4d-4e8a-9f1b-7d5c3a2e1f00';
const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const FAKE_TOKEN = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ session_id: FAKE_SESSION, start_session_data: { mode: 'FULL' } })}.c2lnbmF0dXJl`;

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
}
const success = (res: ServerResponse, data: unknown) => send(res, 200, { code: 1000, data, message: 'Success' });

/**
 * A LiveAvatar on loopback that records every call: the token call answers a session (or what
 * `token` answers instead), stop and keep-alive succeed, anything else is 404.
 */
function fakeLiveAvatar(token: (res: ServerResponse, call: Recorded) => void = (res) => success(res, { session_id: FAKE_SESSION, session_token: FAKE_TOKEN })) {
  return recordingServer((c, res) => {
    if (c.path === '/v1/sessions/token') return token(res, c);
    if (c.path === '/v1/sessions/stop' || c.path === '/v1/sessions/keep-alive') return success(res, null);
    send(res, 404, { code: 4004, data: null, message: 'Not found' });
  });
}

// ── setup ────────────────────────────────────────────────────────────────────────────────────

before(async () => {
  livekit = await startLiveKit();
  [liveavatar, deepgram] = await Promise.all([
    startLiveAvatarStandIn({ apiKey: KEYS.liveavatar, livekit, maxConcurrentSessions: 20 }),
    startDeepgramStandIn({ apiKey: KEYS.deepgram }),
  ]);
});

after(async () => {
  await runCleanups();
  await Promise.allSettled([liveavatar?.close(), deepgram?.close()]);
  await livekit?.stop();
  // The LiveKit FFI runtime keeps the process alive until it is disposed.
  await dispose();
});

// ── sessions ─────────────────────────────────────────────────────────────────────────────────

describe('LiveAvatar sessions through the broker', () => {
  it('create → the browser starts it with the session token → heartbeat → close: LiveAvatar ends it as USER_CLOSED', async () => {
    assert.equal(LIVEAVATAR_SANDBOX_AVATAR_ID, SANDBOX_AVATAR_ID, "the broker's sandbox avatar is the service's");
    const b = await broker();
    const open = liveavatar.openSessions;
    const a = await call(`${b.api}/session`, json({ avatarId: WAYNE, quality: 'low', language: 'en-US' }));
    assert.equal(a.status, 200, a.text);
    const s = a.json as LiveAvatarSessionResponse;
    assert.deepEqual(Object.keys(a.json).sort(), ['avatar', 'closeUrl', 'heartbeat', 'limits', 'sessionId', 'sessionKey', 'stt']);
    assert.deepEqual(Object.keys(s.avatar).sort(), ['apiBase', 'provider', 'token']);
    assert.equal(s.avatar.provider, 'liveavatar');
    assert.equal(s.avatar.apiBase, liveavatar.url);
    // The token is the session token LiveAvatar minted for this session: a JWT the official client can read.
    assert.equal(liveavatar.tokens.at(-1)?.sessionToken, s.avatar.token);
    assert.equal(s.avatar.token.split('.').length, 3);
    const claims = jwtPayload(s.avatar.token);
    assert.equal(claims.session_id, s.sessionId);
    assert.equal(claims.start_session_data.mode, 'FULL');
    assert.equal(claims.start_session_data.avatar_id, WAYNE);
    assert.equal(claims.start_session_data.avatar_persona.language, 'en');
    assert.equal(claims.start_session_data.avatar_persona.context_id, undefined, 'no context: the avatar says only what it is sent');
    assert.deepEqual(claims.start_session_data.video_settings, { quality: 'low', encoding: 'VP8' });
    assert.equal(claims.start_session_data.is_sandbox, false);
    assert.equal(claims.start_session_data.max_session_duration, 600);
    assert.deepEqual(s.limits, { sessionDurationSeconds: 600, idleTimeoutSeconds: 120 });
    assert.equal(logs.find((e) => e.event === 'session_created' && e.sessionId === s.sessionId)?.provider, 'liveavatar');
    assert.equal(liveavatar.openSessions, open, 'created, not started: the browser starts it');

    const started = await startAsBrowser(s);
    assert.equal(started.status, 201, JSON.stringify(started.body));
    assert.equal(started.body.code, 1000);
    assert.equal(started.body.data.session_id, s.sessionId);
    assert.equal(started.body.data.livekit_url, livekit.url);
    assert.equal(started.body.data.livekit_client_token.split('.').length, 3);
    assert.equal(started.body.data.max_session_duration, 600);
    assert.equal('ws_url' in started.body.data, false);
    assert.equal(liveavatar.openSessions, open + 1);

    assert.equal((await call(s.heartbeat.url, { method: 'POST', headers: auth(s) })).status, 204);
    assert.equal(liveavatar.stopReason(s.sessionId), undefined, 'a heartbeat stops nothing');
    const closed = await closeSession(s);
    assert.equal(closed.status, 200);
    assert.deepEqual(closed.json, { closed: true });
    assert.equal(liveavatar.openSessions, open);
    assert.equal(liveavatar.stopReason(s.sessionId), 'USER_CLOSED');
    assert.ok(logs.some((e) => e.event === 'session_closed' && e.sessionId === s.sessionId && e.reason === 'client_closed' && e.result === 'stopped'));
    assertError(await call(s.heartbeat.url, { method: 'POST', headers: auth(s) }), 401, 'unauthorized');
    assertError(await closeSession(s), 404, 'not_found');
    assert.equal((await call(`${b.api}/healthz`)).json.slots, 0);
  });

  it('sends LiveAvatar exactly POST /v1/sessions/token (X-API-KEY, FULL, no context), never start; close sends /v1/sessions/stop with the key and a reason', async () => {
    const fake = await fakeLiveAvatar();
    const b = await broker({ liveavatar: { apiKey: KEYS.liveavatar, apiBase: fake.url }, maxSessionSeconds: 300, voiceIds: ['9d3c1a7e-5b2f-4e6d-8c4a-1f0e2d3c4b5a'] });
    const s = await createSession(b.api, { avatarId: RETIRED_AVATAR, quality: 'high', voiceId: '9d3c1a7e-5b2f-4e6d-8c4a-1f0e2d3c4b5a', voiceRate: 1.2, language: 'en-US' });
    assert.deepEqual(fake.calls.map((c) => `${c.method} ${c.path}`), ['POST /v1/sessions/token']);
    const [token] = fake.calls;
    assert.equal(token.headers['x-api-key'], KEYS.liveavatar);
    assert.equal(token.headers.authorization, undefined);
    assert.equal(token.headers['content-type'], 'application/json');
    assert.deepEqual(token.body, {
      mode: 'FULL',
      avatar_id: RETIRED_AVATAR,
      avatar_persona: { voice_id: '9d3c1a7e-5b2f-4e6d-8c4a-1f0e2d3c4b5a', language: 'en' },
      video_settings: { quality: 'high', encoding: 'VP8' },
      max_session_duration: 300,
      is_sandbox: false,
    });
    assert.equal(s.sessionId, FAKE_SESSION);
    assert.deepEqual(s.avatar, { provider: 'liveavatar', apiBase: fake.url, token: FAKE_TOKEN });
    assert.equal(s.limits.sessionDurationSeconds, 300);
    assert.equal((await closeSession(s, 'application/json')).status, 200);
    const stop = fake.calls[1];
    assert.equal(`${stop.method} ${stop.path}`, 'POST /v1/sessions/stop');
    assert.equal(stop.headers['x-api-key'], KEYS.liveavatar);
    assert.equal(stop.headers.authorization, undefined);
    assert.deepEqual(stop.body, { session_id: FAKE_SESSION, reason: 'USER_CLOSED' });

    // An empty request: the first allowed avatar, medium, the default language, the avatar's own voice.
    const defaults = await createSession(b.api, {});
    assert.deepEqual(fake.calls[2].body, {
      mode: 'FULL',
      avatar_id: WAYNE,
      avatar_persona: { language: 'ru' },
      video_settings: { quality: 'medium', encoding: 'VP8' },
      max_session_duration: 300,
      is_sandbox: false,
    });
    await closeSession(defaults);
    const low = await createSession(b.api, { quality: 'low' });
    assert.deepEqual(fake.calls.at(-1)!.body.video_settings, { quality: 'low', encoding: 'VP8' });
    await closeSession(low);
  });

  it('sandbox: is_sandbox true with Wayne by default, a one-minute limit, and the session starts at LiveAvatar', async () => {
    const fake = await fakeLiveAvatar();
    const onFake = await broker({ liveavatar: { apiKey: KEYS.liveavatar, apiBase: fake.url, sandbox: true }, avatarIds: undefined });
    const f = await createSession(onFake.api);
    assert.equal(fake.calls[0].body.avatar_id, WAYNE);
    assert.equal(fake.calls[0].body.is_sandbox, true);
    assert.deepEqual(f.limits, { sessionDurationSeconds: 60, idleTimeoutSeconds: 120 });
    assertError(await call(`${onFake.api}/session`, json({ avatarId: RETIRED_AVATAR })), 400, 'bad_request', new RegExp(`allowed: ${WAYNE}$`));
    await closeSession(f);

    const b = await broker({ liveavatar: { apiKey: KEYS.liveavatar, apiBase: liveavatar.url, sandbox: true }, avatarIds: [] });
    const s = await createSession(b.api, { language: 'en' });
    assert.equal(jwtPayload(s.avatar.token).start_session_data.is_sandbox, true);
    const started = await startAsBrowser(s);
    assert.equal(started.status, 201, JSON.stringify(started.body));
    assert.equal(started.body.data.max_session_duration, 60, "the service's sandbox limit");
    assert.equal((await closeSession(s)).status, 200);
    assert.equal(liveavatar.stopReason(s.sessionId), 'USER_CLOSED');
  });
});

// ── failures ─────────────────────────────────────────────────────────────────────────────────

describe('LiveAvatar failures', () => {
  it('maps 403 {code 4003}, 422 {code 4000}, 5xx, 429 + Retry-After, a stall and a dropped connection to broker codes, never upstream text', async () => {
    const b = await broker({ upstreamTimeoutMs: 400 });
    const minted = liveavatar.tokens.length;

    const wrongKey = await broker({ liveavatar: { apiKey: 'wrong-liveavatar-key', apiBase: liveavatar.url } });
    const refused = await call(`${wrongKey.api}/session`, json({}));
    assertError(refused, 502, 'upstream_unauthorized', /^the avatar service refused the broker's credentials \(the operator must check the API key\)$/);
    assert.doesNotMatch(refused.text, /Not authenticated/);

    const invalid = await call(`${b.api}/session`, json({ avatarId: RETIRED_AVATAR }));
    assertError(invalid, 502, 'upstream_error', /^the avatar service failed \(HTTP 422, code 4000\)$/);
    assert.equal(invalid.headers.get('retry-after'), null, 'not worth retrying');
    assert.doesNotMatch(invalid.text, /validation|avatar_id/i);

    liveavatar.faults.arm({ kind: 'server-error', path: '/v1/sessions/token', status: 503 });
    const down = await call(`${b.api}/session`, json({}));
    assertError(down, 502, 'upstream_error', /^the avatar service failed \(HTTP 503, code 5000\)$/);
    assert.equal(down.headers.get('retry-after'), '2');
    assert.doesNotMatch(down.text, /Internal server error/);

    liveavatar.faults.arm({ kind: 'rate-limit', path: '/v1/sessions/token', retryAfter: 7 });
    const limited = await call(`${b.api}/session`, json({}));
    assertError(limited, 503, 'upstream_rate_limited', /retry in 7 s/);
    assert.equal(limited.headers.get('retry-after'), '7');
    assert.doesNotMatch(limited.text, /Too many requests/);

    liveavatar.faults.arm({ kind: 'stall', path: '/v1/sessions/token' });
    const t0 = Date.now();
    const stalled = await call(`${b.api}/session`, json({}));
    assertError(stalled, 504, 'upstream_timeout', /did not answer in time/);
    assert.ok(Date.now() - t0 < 2000, 'gave up after the 400 ms timeout');
    assert.equal(stalled.headers.get('retry-after'), '5');

    liveavatar.faults.arm({ kind: 'drop', path: '/v1/sessions/token' });
    assertError(await call(`${b.api}/session`, json({})), 502, 'upstream_error', /network/);

    assert.equal(liveavatar.tokens.length, minted, 'no session was created');
    assert.equal((await call(`${b.api}/healthz`)).json.slots, 0, 'every slot was given back');
    const logged = logs.filter((e) => e.event === 'upstream_failed' && e.service === 'liveavatar' && e.operation === 'sessions.token');
    assert.ok(logged.some((e) => e.status === 403 && e.upstreamCode === 4003 && e.detail === 'Not authenticated'));
    assert.ok(logged.some((e) => e.status === 422 && e.upstreamCode === 4000 && /^Request validation errors\. avatar_id/.test(String(e.detail))), 'the detail goes to the log');
    assert.ok(logged.some((e) => e.status === 503 && e.upstreamCode === 5000));
    assert.ok(logged.some((e) => e.status === 429 && e.upstreamCode === 4029));
    assert.ok(logged.some((e) => e.kind === 'timeout'));
    assert.ok(logged.some((e) => e.kind === 'network'));
  });

  it('answers upstream_error for a non-JSON answer and for an envelope code other than 1000, and stops a session whose token is missing (SERVER_ERROR)', async () => {
    const html = await fakeLiveAvatar((res) => send(res, 200, '<html>maintenance</html>', { 'content-type': 'text/html' }));
    const viaHtml = await broker({ liveavatar: { apiKey: KEYS.liveavatar, apiBase: html.url } });
    const notJson = await call(`${viaHtml.api}/session`, json({}));
    assertError(notJson, 502, 'upstream_error', /^the avatar service failed \(HTTP 200\)$/);
    assert.doesNotMatch(notJson.text, /maintenance/);
    assert.ok(logs.some((e) => e.event === 'upstream_failed' && e.service === 'liveavatar' && e.kind === 'bad_response' && e.detail === 'answer is not JSON'));

    // The OpenAPI examples' code 100 is not success: the official client accepts only 1000.
    const hundred = await fakeLiveAvatar((res) => send(res, 200, { code: 100, data: { session_id: FAKE_SESSION, session_token: FAKE_TOKEN }, message: 'success' }));
    const viaHundred = await broker({ liveavatar: { apiKey: KEYS.liveavatar, apiBase: hundred.url } });
    assertError(await call(`${viaHundred.api}/session`, json({})), 502, 'upstream_error', /^the avatar service failed \(HTTP 200, code 100\)$/);
    assert.deepEqual(hundred.calls.map((c) => c.path), ['/v1/sessions/token'], 'an unread answer names no session to stop');

    const tokenless = await fakeLiveAvatar((res) => success(res, { session_id: FAKE_SESSION }));
    const viaTokenless = await broker({ liveavatar: { apiKey: KEYS.liveavatar, apiBase: tokenless.url } });
    assertError(await call(`${viaTokenless.api}/session`, json({})), 502, 'upstream_error', /^the avatar service failed \(HTTP 200\)$/);
    assert.deepEqual(tokenless.calls.map((c) => c.path), ['/v1/sessions/token', '/v1/sessions/stop']);
    assert.deepEqual(tokenless.calls[1].body, { session_id: FAKE_SESSION, reason: 'SERVER_ERROR' });
    assert.equal(tokenless.calls[1].headers['x-api-key'], KEYS.liveavatar);
    assert.equal((await call(`${viaTokenless.api}/healthz`)).json.slots, 0);
  });

  it('never passes on an answer that quotes the key back; the log keeps it redacted', async () => {
    const echo = await fakeLiveAvatar((res, c) =>
      send(res, 403, { code: 4003, data: null, message: `Not authenticated: X-API-KEY ${c.headers['x-api-key']}` }, { 'x-echo': String(c.headers['x-api-key']) }),
    );
    const b = await broker({ liveavatar: { apiKey: KEYS.liveavatar, apiBase: echo.url } });
    const a = await call(`${b.api}/session`, json({}));
    assertError(a, 502, 'upstream_unauthorized');
    assert.equal(a.headers.get('x-echo'), null);
    assert.equal(echo.calls[0].headers['x-api-key'], KEYS.liveavatar, 'the key was sent, and quoted back');
    assert.equal(logs.findLast((e) => e.event === 'upstream_failed' && e.service === 'liveavatar')?.detail, 'Not authenticated: X-API-KEY [redacted]');
  });
});

// ── caps, rates, the reaper ──────────────────────────────────────────────────────────────────

describe('caps, rate limits and the reaper with LiveAvatar', () => {
  it('caps sessions per client and in total, under a burst too; a refused request mints no LiveAvatar session', async () => {
    const b = await broker({ maxSessions: 3, maxSessionsPerClient: 2 });
    const minted = liveavatar.tokens.length;
    const a1 = await createSession(b.api, {}, 'client-a');
    const a2 = await createSession(b.api, {}, 'client-a');
    assertError(await call(`${b.api}/session`, json({}, {}, 'client-a')), 429, 'too_many_sessions', /already has 2 open session/);
    const b1 = await createSession(b.api, {}, 'client-b');
    const full = await call(`${b.api}/session`, json({}, {}, 'client-b'));
    assertError(full, 503, 'over_capacity');
    assert.equal(full.headers.get('retry-after'), '30');
    assert.equal(liveavatar.tokens.length, minted + 3);
    await closeSession(a1);
    assert.equal(liveavatar.stopReason(a1.sessionId), 'USER_CLOSED');
    const b2 = await createSession(b.api, {}, 'client-b');
    for (const s of [a2, b1, b2]) assert.equal((await closeSession(s)).status, 200);
    for (const s of [a2, b1, b2]) assert.equal(liveavatar.stopReason(s.sessionId), 'USER_CLOSED');

    const burst = await broker({ maxSessions: 4 });
    const before = liveavatar.tokens.length;
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => call(`${burst.api}/session`, json({}, {}, `burst-${i}`))));
    const ok = answers.filter((x) => x.status === 200);
    assert.equal(ok.length, 4);
    assert.equal(answers.filter((x) => x.status === 503 && x.json.error.code === 'over_capacity').length, 6);
    assert.equal(liveavatar.tokens.length, before + 4);
    for (const x of ok) assert.equal((await closeSession(x.json)).status, 200);
    assert.equal((await call(`${burst.api}/healthz`)).json.slots, 0);
  });

  it('rate-limits session creation per client before LiveAvatar is called', async () => {
    const b = await broker({ rateLimits: { session: { perMinute: 60, burst: 2 } } });
    const minted = liveavatar.tokens.length;
    const s1 = await createSession(b.api, {}, 'flood');
    const s2 = await createSession(b.api, {}, 'flood');
    const limited = await call(`${b.api}/session`, json({}, {}, 'flood'));
    assertError(limited, 429, 'rate_limited', /retry in 1 s/);
    assert.equal(limited.headers.get('retry-after'), '1');
    assert.equal(liveavatar.tokens.length, minted + 2);
    await closeSession(s1);
    await closeSession(s2);
  });

  it('the reaper stops an abandoned LiveAvatar session on its timer (ZOMBIE_SESSION_REAP) and leaves the one with heartbeats', async () => {
    const b = await broker({ abandonAfterSeconds: 2, reapIntervalMs: 200 });
    const open = liveavatar.openSessions;
    // Heartbeats from its creation on: starting the two sessions at LiveAvatar takes a while.
    const alive = await createSession(b.api, { language: 'en' });
    const beat = setInterval(() => void call(alive.heartbeat.url, { method: 'POST', headers: auth(alive) }), 250);
    try {
      const gone = await createSession(b.api, { language: 'en' });
      for (const s of [gone, alive]) assert.equal((await startAsBrowser(s)).status, 201);
      assert.equal(liveavatar.openSessions, open + 2);
      await waitFor('the abandoned session to be stopped', () => liveavatar.stopReason(gone.sessionId) !== undefined, 5000);
      assert.equal(liveavatar.stopReason(gone.sessionId), 'ZOMBIE_SESSION_REAP');
      assert.equal(liveavatar.openSessions, open + 1);
      await waitFor('its log line', () => logs.some((e) => e.event === 'session_closed' && e.sessionId === gone.sessionId && e.reason === 'abandoned'));
      assertError(await call(gone.stt.refreshUrl, { method: 'POST', headers: auth(gone) }), 401, 'unauthorized');
      await sleep(2300);
      assert.equal(liveavatar.stopReason(alive.sessionId), undefined, 'still running after longer than abandonAfterSeconds');
    } finally {
      clearInterval(beat);
    }
    await waitFor('the now silent session to be stopped too', () => liveavatar.stopReason(alive.sessionId) !== undefined, 5000);
    assert.equal(liveavatar.stopReason(alive.sessionId), 'ZOMBIE_SESSION_REAP');
    assert.equal(liveavatar.openSessions, open);
  });

  it('stops sessions at the duration limit (MAX_DURATION_REACHED), after a failed creation (SERVER_ERROR) and at shutdown (UNKNOWN)', async () => {
    let now = Date.now();
    const b = await broker({ now: () => now, maxSessionSeconds: 120, abandonAfterSeconds: 60 });
    const s = await createSession(b.api);
    assert.equal(s.limits.sessionDurationSeconds, 120);
    for (let i = 0; i < 4; i++) {
      now += 30_000;
      if (i < 3) assert.equal((await call(s.heartbeat.url, { method: 'POST', headers: auth(s) })).status, 204);
    }
    assert.equal(await b.broker.reapNow(), 1);
    assert.equal(liveavatar.stopReason(s.sessionId), 'MAX_DURATION_REACHED');

    deepgram.faults.arm({ kind: 'server-error', path: '/v1/auth/grant', status: 500 });
    assertError(await call(`${b.api}/session`, json({})), 502, 'upstream_error', /speech-to-text service failed/);
    const orphan = lastMinted()!;
    assert.equal(liveavatar.stopReason(orphan), 'SERVER_ERROR');
    assert.ok(logs.some((e) => e.event === 'session_closed' && e.sessionId === orphan && e.reason === 'create_failed'));

    const last = await createSession(b.api);
    await b.close();
    assert.equal(liveavatar.stopReason(last.sessionId), 'UNKNOWN');
    assert.ok(logs.some((e) => e.event === 'session_closed' && e.sessionId === last.sessionId && e.reason === 'shutdown'));
  });
});

// ── sessions the broker lost track of ────────────────────────────────────────────────────────

describe('LiveAvatar sessions the broker lost track of', () => {
  it('a token call whose answer was lost leaves a session no one can start: never started, no credits, not listed active', async () => {
    const b = await broker({ upstreamTimeoutMs: 500 });
    const minted = liveavatar.tokens.length;
    const open = liveavatar.openSessions;
    liveavatar.faults.arm({ kind: 'lose-answer', path: '/v1/sessions/token' });
    assertError(await call(`${b.api}/session`, json({})), 502, 'upstream_error', /network/);
    assert.equal(liveavatar.tokens.length, minted + 1, 'LiveAvatar made a session');
    const lost = lastMinted()!;
    assert.equal(liveavatar.openSessions, open, 'never started: only the holder of its token could, and that answer never left');
    const entry = await (await fetch(`${liveavatar.url}/v1/sessions/${lost}`, { headers: { 'x-api-key': KEYS.liveavatar } })).json();
    assert.equal(entry.data.credits_consumed, 0);
    assert.equal(entry.data.duration, 0);
    assert.equal((await call(`${b.api}/healthz`)).json.slots, 0);
  });

  it('stops a started session it created and no longer records (dropped after ten failed stops) as ZOMBIE_SESSION_REAP', async () => {
    let now = Date.now();
    const b = await broker({ now: () => now, abandonAfterSeconds: 30 });
    const s = await createSession(b.api, { language: 'en' });
    assert.equal((await startAsBrowser(s)).status, 201);
    liveavatar.faults.arm({ kind: 'server-error', path: '/v1/sessions/stop', times: 10 });
    await reapThroughTenFailedStops(b.broker.reapNow, (ms) => (now += ms), 30);
    assert.ok(logs.some((e) => e.event === 'session_stop_gave_up' && e.sessionId === s.sessionId), 'its record was dropped');
    now += 60_000;
    await b.broker.reapNow();
    assert.equal(liveavatar.stopReason(s.sessionId), 'ZOMBIE_SESSION_REAP');
    assert.ok(logs.some((e) => e.event === 'session_closed' && e.sessionId === s.sessionId && e.reason === 'untracked'));
  });

  it('kill -9 of a broker with the in-memory store: restarted, it stops the sessions it left running at LiveAvatar (AVATAR_ACCOUNT=dedicated)', async () => {
    const own = await startLiveAvatarStandIn({ apiKey: KEYS.liveavatar, livekit, maxConcurrentSessions: 5 });
    cleanups.push(() => own.close());
    const env = {
      LIVEAVATAR_API_KEY: KEYS.liveavatar,
      LIVEAVATAR_API_BASE: own.url,
      DEEPGRAM_API_KEY: KEYS.deepgram,
      DEEPGRAM_API_BASE: deepgram.url,
      AVATAR_IDS: WAYNE,
      ...DEDICATED_FAST_REAPING_CLI,
    };
    const first = await startCli(env);
    const made = [await createSession(first.api, { language: 'en' }, 'k1'), await createSession(first.api, { language: 'en' }, 'k2')];
    for (const s of made) assert.equal((await startAsBrowser(s)).status, 201);
    assert.equal(own.openSessions, 2);
    await killAndRestartCli(first, env);
    await waitFor('the restarted broker to stop what the killed one left running', () => own.openSessions === 0, 15_000);
    for (const s of made) assert.equal(own.stopReason(s.sessionId), 'ZOMBIE_SESSION_REAP');
  });
});

// ── the upstream on its own ──────────────────────────────────────────────────────────────────

describe('LiveAvatarUpstream', () => {
  const params: SessionParams = { avatarId: WAYNE, quality: 'medium', voiceRate: 1, language: 'en', sttModel: 'nova-2' };
  const limits = { idleTimeoutSeconds: 120, maxSessionSeconds: 600 };
  const upstreamOn = (apiBase: string, apiKey: string = KEYS.liveavatar) => new LiveAvatarUpstream({ apiKey, apiBase, sandbox: false, timeoutMs: 5000, redact: (t) => t });

  it('listOpen has the sessions started at LiveAvatar until they are stopped; keepAlive; a second stop; an unknown session is already closed', async () => {
    const upstream: AvatarUpstream<LiveAvatarAccess> = upstreamOn(liveavatar.url);
    assert.deepEqual(upstream.secrets, [KEYS.liveavatar]);
    const a = await upstream.create(params, limits);
    const b = await upstream.create(params, limits);
    assert.equal(a.durationLimitSeconds, undefined, 'no limit of its own beyond the one asked for');
    assert.equal((await upstreamOn(liveavatar.url).listOpen()).includes(a.sessionId), false, 'not listed before it starts');
    for (const created of [a, b]) {
      const res = await fetch(`${created.access.apiBase}/v1/sessions/start`, { method: 'POST', headers: { authorization: `Bearer ${created.access.token}` } });
      assert.equal(res.status, 201);
    }
    const listed = await upstream.listOpen();
    assert.ok(listed.includes(a.sessionId) && listed.includes(b.sessionId), `${a.sessionId} and ${b.sessionId} in ${listed.join(', ')}`);
    assert.equal(new Set(listed).size, listed.length);
    await upstream.keepAlive(a.sessionId);
    assert.equal(await upstream.stop(a.sessionId, 'client_closed'), 'stopped');
    assert.equal(liveavatar.stopReason(a.sessionId), 'USER_CLOSED');
    const afterStop = await upstream.listOpen();
    assert.equal(afterStop.includes(a.sessionId), false);
    assert.equal(afterStop.includes(b.sessionId), true);
    // LiveAvatar's stop is idempotent: it answers success again, and the first reason stays.
    assert.equal(await upstream.stop(a.sessionId, 'abandoned'), 'stopped');
    assert.equal(liveavatar.stopReason(a.sessionId), 'USER_CLOSED');
    assert.equal(await upstream.stop('6d1f0c9a-0000-4000-8000-000000000000', 'stop_retry'), 'already_closed', 'unknown to the service (404)');
    await assert.rejects(upstream.keepAlive(a.sessionId), (err: UpstreamError) => err instanceof UpstreamError && err.operation === 'sessions.keep_alive' && err.status === 400);
    assert.equal(await upstream.stop(b.sessionId, 'duration_limit'), 'stopped');
    assert.equal(liveavatar.stopReason(b.sessionId), 'MAX_DURATION_REACHED');
    assert.equal((await upstream.listOpen()).includes(b.sessionId), false);
    await assert.rejects(upstreamOn(liveavatar.url, 'wrong-liveavatar-key').listOpen(), (err: UpstreamError) => err instanceof UpstreamError && err.status === 403 && err.upstreamCode === 4003);
  });

  it('listOpen reads every page, from the configured API base only, and keepAlive and stop send the key', async () => {
    const ids = Array.from({ length: 5 }, (_, i) => `0000000${i}-aaaa-4bbb-8ccc-dddddddddddd`);
    const pages: Record<string, unknown> = {
      '1': { count: 5, next: 'https://elsewhere.example/v1/sessions?type=active&page=2', previous: null, results: [{ id: ids[0] }, { id: ids[1] }] },
      '2': { count: 5, next: 'https://elsewhere.example/v1/sessions?type=active&page=3', previous: 'x', results: [{ id: ids[2] }, { id: ids[3] }] },
      '3': { count: 5, next: null, previous: 'x', results: [{ id: ids[4] }, { id: ids[0] }] },
    };
    const fake = await recordingServer((c, res) => {
      const page = new URLSearchParams(c.search).get('page') ?? '';
      if (c.path === '/v1/sessions' && pages[page]) return success(res, pages[page]);
      if (c.path === '/v1/sessions/keep-alive' || c.path === '/v1/sessions/stop') return success(res, null);
      send(res, 404, { code: 4004, data: null, message: 'Not found' });
    });
    const upstream = upstreamOn(fake.url);
    assert.deepEqual(await upstream.listOpen(), ids);
    assert.deepEqual(
      fake.calls.map((c) => `${c.method} ${c.path}${c.search}`),
      [1, 2, 3].map((p) => `GET /v1/sessions?type=active&page=${p}&page_size=100`),
    );
    assert.ok(fake.calls.every((c) => c.headers['x-api-key'] === KEYS.liveavatar));
    await upstream.keepAlive(ids[1]);
    assert.equal(await upstream.stop(ids[1], 'client_gone'), 'stopped');
    assert.deepEqual(fake.calls.slice(3).map((c) => [c.path, c.headers['x-api-key'], c.body]), [
      ['/v1/sessions/keep-alive', KEYS.liveavatar, { session_id: ids[1] }],
      ['/v1/sessions/stop', KEYS.liveavatar, { session_id: ids[1], reason: 'USER_DISCONNECTED' }],
    ]);
  });
});

// ── configuration ────────────────────────────────────────────────────────────────────────────

describe('choosing LiveAvatar: configFromEnv and the configuration', () => {
  const base = { DEEPGRAM_API_KEY: 'd', ALLOWED_ORIGINS: '*', AVATAR_IDS: WAYNE };
  it('AVATAR_PROVIDER decides; else LIVEAVATAR_API_KEY, also beside HEYGEN_API_KEY; else HEYGEN_API_KEY', () => {
    const la = configFromEnv({ ...base, LIVEAVATAR_API_KEY: 'l', LIVEAVATAR_API_BASE: 'http://127.0.0.1:9' }).config;
    assert.equal(la.avatarProvider, 'liveavatar');
    assert.deepEqual(la.liveavatar, { apiKey: 'l', apiBase: 'http://127.0.0.1:9' });
    assert.equal(la.heygen, undefined);
    const hg = configFromEnv({ ...base, HEYGEN_API_KEY: 'h', AVATAR_IDS: 'Anna_public_3' }).config;
    assert.equal(hg.avatarProvider, 'heygen-streaming');
    assert.deepEqual(hg.heygen, { apiKey: 'h' });
    assert.equal(hg.liveavatar, undefined);
    const both = configFromEnv({ ...base, LIVEAVATAR_API_KEY: 'l', HEYGEN_API_KEY: 'h' }).config;
    assert.equal(both.avatarProvider, 'liveavatar', 'both keys: LiveAvatar, what new accounts have');
    assert.deepEqual(both.liveavatar, { apiKey: 'l' });
    assert.equal(both.heygen, undefined, 'the HeyGen key is not used');
    const chosen = configFromEnv({ ...base, LIVEAVATAR_API_KEY: 'l', HEYGEN_API_KEY: 'h', AVATAR_PROVIDER: 'heygen-streaming', AVATAR_IDS: 'Anna_public_3' }).config;
    assert.equal(chosen.avatarProvider, 'heygen-streaming');
    assert.deepEqual(chosen.heygen, { apiKey: 'h' });
    assert.equal(chosen.liveavatar, undefined);
    assert.equal(configFromEnv({ ...base, LIVEAVATAR_API_KEY: 'l', HEYGEN_API_KEY: 'h', AVATAR_PROVIDER: 'LiveAvatar' }).config.avatarProvider, 'liveavatar');
    assert.equal(resolveConfig(both).liveavatar?.apiBase, 'https://api.liveavatar.com');
    assert.equal(resolveConfig(both).liveavatar?.sandbox, false);
  });

  it('refuses a missing key and an unknown AVATAR_PROVIDER with messages naming the variables', () => {
    assert.match(configProblems({ ...base }), /no avatar service is configured: set LIVEAVATAR_API_KEY \(LiveAvatar, new accounts at app\.liveavatar\.com\) or HEYGEN_API_KEY \(HeyGen streaming\)/);
    assert.match(configProblems({ ...base, HEYGEN_API_KEY: 'h', AVATAR_PROVIDER: 'liveavatar' }), /the LiveAvatar API key is missing \(LIVEAVATAR_API_KEY\)/);
    assert.match(configProblems({ ...base, LIVEAVATAR_API_KEY: 'l', AVATAR_PROVIDER: 'heygen-streaming' }), /the HeyGen API key is missing \(HEYGEN_API_KEY\)/);
    const unknown = configProblems({ ...base, LIVEAVATAR_API_KEY: 'l', AVATAR_PROVIDER: 'heygen' });
    assert.match(unknown, /AVATAR_PROVIDER must be liveavatar or heygen-streaming, got "heygen"/);
    assert.doesNotMatch(unknown, /no avatar service is configured/, 'the key still names a service');
    assert.match(configProblems({ ...base, LIVEAVATAR_API_KEY: 'l', LIVEAVATAR_API_BASE: 'ftp://x' }), /the LiveAvatar API base \(LIVEAVATAR_API_BASE\) must be an http\(s\) URL/);
    assert.match(configProblems({ ...base, LIVEAVATAR_API_KEY: 'l', LIVEAVATAR_SANDBOX: 'maybe' }), /LIVEAVATAR_SANDBOX must be true or false/);
    assert.equal(configProblems({ ...base, LIVEAVATAR_API_KEY: 'l' }), '');
  });

  it('LIVEAVATAR_SANDBOX: Wayne by default, other avatars refused, not with HeyGen streaming; HeyGen avatar ids refused with LiveAvatar', () => {
    const sandbox = configFromEnv({ DEEPGRAM_API_KEY: 'd', ALLOWED_ORIGINS: '*', LIVEAVATAR_API_KEY: 'l', LIVEAVATAR_SANDBOX: '1' }).config;
    assert.deepEqual(sandbox.liveavatar, { apiKey: 'l', sandbox: true });
    assert.equal(sandbox.avatarIds, undefined);
    assert.deepEqual(resolveConfig(sandbox).avatarIds, [WAYNE]);
    assert.equal(configProblems({ ...base, LIVEAVATAR_API_KEY: 'l', LIVEAVATAR_SANDBOX: 'true' }), '', 'Wayne listed: fine');
    assert.match(
      configProblems({ ...base, LIVEAVATAR_API_KEY: 'l', LIVEAVATAR_SANDBOX: '1', AVATAR_IDS: `${WAYNE},${RETIRED_AVATAR}` }),
      new RegExp(`LiveAvatar's sandbox \\(LIVEAVATAR_SANDBOX\\) works only with its avatar "Wayne" \\(${WAYNE}\\): leave AVATAR_IDS empty or list only that one, not "${RETIRED_AVATAR}"`),
    );
    assert.match(configProblems({ ...base, HEYGEN_API_KEY: 'h', LIVEAVATAR_SANDBOX: '1', AVATAR_IDS: 'Anna_public_3' }), /LIVEAVATAR_SANDBOX is set but the avatar service is HeyGen streaming/);
    assert.match(configProblems({ ...base, LIVEAVATAR_API_KEY: 'l', AVATAR_IDS: 'Anna_public_3' }), /avatar id "Anna_public_3" is not a LiveAvatar avatar id \(a UUID; HeyGen streaming avatar ids do not work with LiveAvatar\) \(AVATAR_IDS\)/);
    assert.match(configProblems({ DEEPGRAM_API_KEY: 'd', ALLOWED_ORIGINS: '*', LIVEAVATAR_API_KEY: 'l' }), /no avatar is allowed: list at least one avatar id \(AVATAR_IDS\)/, 'only the sandbox has a default avatar');
  });

  it('in code: liveavatar beside heygen picks LiveAvatar, avatarProvider overrides, avatarUpstream replaces both', async () => {
    const both = { heygen: { apiKey: 'h' }, avatarIds: [WAYNE] };
    assert.equal(resolveConfig(config(both)).avatarProvider, 'liveavatar');
    assert.equal(resolveConfig(config(both)).heygen, undefined);
    const chosen = resolveConfig(config({ ...both, avatarProvider: 'heygen-streaming' }));
    assert.equal(chosen.avatarProvider, 'heygen-streaming');
    assert.deepEqual(chosen.heygen, { apiKey: 'h', apiBase: 'https://api.heygen.com' });
    assert.equal(chosen.liveavatar, undefined);
    assert.throws(() => createSessionBroker(config({ liveavatar: { apiKey: '' } })), /the LiveAvatar API key is missing \(LIVEAVATAR_API_KEY\)/);
    const custom = { provider: 'mine', secrets: [], create: async () => ({}), stop: async () => 'stopped', keepAlive: async () => {}, listOpen: async () => [] } as unknown as AvatarUpstream;
    const replaced = resolveConfig(config({ avatarUpstream: custom, avatarProvider: 'liveavatar' }));
    assert.equal(replaced.avatarUpstream, custom);
    assert.equal(replaced.avatarProvider, undefined);
    assert.equal(replaced.liveavatar, undefined);

    // A broker given both keys runs its sessions on LiveAvatar.
    const b = await broker(both);
    const s = await createSession(b.api);
    assert.equal(s.avatar.provider, 'liveavatar');
    assert.equal(lastMinted(), s.sessionId);
    await closeSession(s);
  });

  it('the CLI runs LiveAvatar from the environment (its key beside a HeyGen one): startup line, a session, SIGTERM stops it', async () => {
    const child = await startCli({
      LIVEAVATAR_API_KEY: KEYS.liveavatar,
      LIVEAVATAR_API_BASE: liveavatar.url,
      HEYGEN_API_KEY: KEYS.heygen,
      DEEPGRAM_API_KEY: KEYS.deepgram,
      DEEPGRAM_API_BASE: deepgram.url,
      AVATAR_IDS: WAYNE,
      ALLOWED_ORIGINS: ORIGIN,
      PORT: '0',
    });
    assert.equal(child.startup.avatarProvider, 'liveavatar');
    assert.equal(child.startup.avatarApiBase, liveavatar.url);
    assert.deepEqual(child.startup.avatarIds, [WAYNE]);
    assert.equal(child.startup.sandbox, undefined);
    const s = await createSession(child.api, { language: 'en' });
    assert.equal(s.avatar.provider, 'liveavatar');
    assert.equal(liveavatar.stopReason(s.sessionId), undefined);
    child.proc.kill('SIGTERM');
    assert.equal(await child.exited, 0);
    assert.equal(liveavatar.stopReason(s.sessionId), 'UNKNOWN', 'shutdown stops it');
    const out = child.output.join('');
    assert.ok(out.includes('"reason":"shutdown"'));
    for (const key of Object.values(KEYS)) assert.ok(!out.includes(key), 'no key in the CLI output');
  });
});

// ── last: the secret scan over everything above ─────────────────────────────────────────────

describe('secrets', () => {
  it('no configured key appears in any response body or header the broker sent, nor in its logs', () => {
    assert.ok(seen.length > 60, `enough responses were collected (${seen.length})`);
    for (const status of [200, 401, 429, 502, 503, 504]) assert.ok(seen.some((r) => r.status === status), `an answer with status ${status} was scanned`);
    assert.ok(logs.length > 50);
    assertKeysNeverSent(KEYS, logs);
  });
});
