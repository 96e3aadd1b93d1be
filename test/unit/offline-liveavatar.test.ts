// Contract tests of the LiveAvatar stand-in (FULL mode): every REST shape, status and error the
// widget and the broker meet, the session limits, CORS for the official browser client, faults; and,
// in a real LiveKit room joined with @livekit/rtc-node, the avatar and agent participants, commands
// on `agent-control` and events on `agent-response`, heard in the avatar's audio.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { AudioStream, dispose, Room, RoomEvent, TrackKind, type RemoteTrack } from '@livekit/rtc-node';
import { SANDBOX_AVATAR_ID, startLiveAvatarStandIn, type LiveAvatarStandIn } from '../../src/offline/liveavatar/index.ts';
import { startLiveKit } from '../../scripts/livekit.mjs';

let livekit: { url: string; apiKey: string; apiSecret: string; stop(): Promise<void> };
/** Default limits: the room tests. */
let la: LiveAvatarStandIn;
/** Small limits: idle timeout, sandbox duration, concurrency. */
let limited: LiveAvatarStandIn;
const KEY = 'test-liveavatar-key';
const JUDY = '0930fd59-c8ad-434d-ad53-b391a1768720';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const IDLE_MS = 2500;
const SANDBOX_MS = 1500;

type Answer = { status: number; headers: Headers; json: any };

async function call(
  standIn: LiveAvatarStandIn,
  path: string,
  { method = 'POST', body, headers = { 'x-api-key': KEY } }: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const res = await fetch(`${standIn.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text ? JSON.parse(text) : undefined };
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

function assertOk(r: Answer, status = 200) {
  assert.equal(r.status, status, JSON.stringify(r.json));
  assert.equal(r.json.code, 1000);
  assert.equal(typeof r.json.message, 'string');
}

function assertError(r: Answer, status: number, code: number, message?: RegExp) {
  assert.equal(r.status, status, JSON.stringify(r.json));
  assert.deepEqual(Object.keys(r.json).sort(), ['code', 'data', 'message']);
  assert.equal(r.json.code, code);
  assert.equal(r.json.data, null);
  assert.ok(r.json.message.length > 0);
  if (message) assert.match(r.json.message, message);
}

const FULL = { mode: 'FULL', avatar_id: JUDY, avatar_persona: { language: 'en' } };

async function mint(standIn: LiveAvatarStandIn, body: Record<string, unknown> = FULL): Promise<{ session_id: string; session_token: string }> {
  const r = await call(standIn, '/v1/sessions/token', { body });
  assertOk(r);
  return r.json.data;
}

/** Mints and starts a session; returns the start answer's data and the session token. */
async function startSession(standIn: LiveAvatarStandIn, body: Record<string, unknown> = FULL) {
  const { session_token } = await mint(standIn, body);
  const r = await call(standIn, '/v1/sessions/start', { headers: bearer(session_token) });
  assertOk(r, 201);
  return { ...(r.json.data as { session_id: string; livekit_url: string; livekit_client_token: string; max_session_duration: number | null }), token: session_token };
}

/** The payload as the official client reads it: base64url → base64 → atob, no padding added. */
function clientDecode(token: string): any {
  return JSON.parse(atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
}

async function waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

before(async () => {
  livekit = await startLiveKit();
  [la, limited] = await Promise.all([
    startLiveAvatarStandIn({ apiKey: KEY, livekit }),
    startLiveAvatarStandIn({ apiKey: KEY, livekit, idleTimeoutMs: IDLE_MS, sandboxDurationMs: SANDBOX_MS, maxConcurrentSessions: 2 }),
  ]);
});

after(async () => {
  await Promise.all([la?.close(), limited?.close()]);
  await livekit?.stop();
  // The LiveKit FFI runtime keeps the process alive until it is disposed.
  await dispose();
});

describe('LiveAvatar stand-in: session token', () => {
  it('POST /v1/sessions/token answers 200 {code: 1000, data: {session_id, session_token}, message} with a JWT the official client reads', async () => {
    const r = await call(la, '/v1/sessions/token', {
      body: { ...FULL, is_sandbox: false, video_settings: { quality: 'high', encoding: 'VP8' }, max_session_duration: 300, interactivity_type: 'CONVERSATIONAL' },
    });
    assertOk(r);
    assert.deepEqual(Object.keys(r.json).sort(), ['code', 'data', 'message']);
    assert.deepEqual(Object.keys(r.json.data).sort(), ['session_id', 'session_token']);
    assert.match(r.json.data.session_id, UUID);
    const parts = r.json.data.session_token.split('.');
    assert.equal(parts.length, 3);
    assert.deepEqual(JSON.parse(Buffer.from(parts[0], 'base64url').toString()), { alg: 'HS256', typ: 'JWT' });
    const payload = clientDecode(r.json.data.session_token);
    assert.equal(payload.start_session_data.mode, 'FULL');
    assert.equal(payload.start_session_data.avatar_id, JUDY);
    assert.equal(payload.start_session_data.is_sandbox, false);
    assert.equal(payload.start_session_data.max_session_duration, 300);
    assert.equal(payload.session_id, r.json.data.session_id);
    assert.ok(payload.exp > Date.now() / 1000);
    assert.equal(la.tokens.at(-1)?.sessionToken, r.json.data.session_token);
    // The docs' default mode is FULL; avatar_persona is optional (language en).
    const bare = await mint(la, { avatar_id: JUDY });
    assert.equal(clientDecode(bare.session_token).start_session_data.avatar_persona.language, 'en');
  });

  it('answers 403 {code: 4003, "Not authenticated"} without the account key', async () => {
    const own = await mint(la);
    assertError(await call(la, '/v1/sessions/token', { body: FULL, headers: {} }), 403, 4003, /^Not authenticated$/);
    assertError(await call(la, '/v1/sessions/token', { body: FULL, headers: { 'x-api-key': 'wrong' } }), 403, 4003);
    // A session token cannot mint another.
    assertError(await call(la, '/v1/sessions/token', { body: FULL, headers: bearer(own.session_token) }), 403, 4003);
  });

  it('answers 422 {code: 4000, "Request validation errors. …"} for bad bodies', async () => {
    const bad = async (body: unknown, field: RegExp) => assertError(await call(la, '/v1/sessions/token', { body }), 422, 4000, field);
    await bad({ ...FULL, avatar_id: '11111111-2222-4333-8444-555555555555' }, /^Request validation errors\. avatar_id/);
    await bad({ ...FULL, avatar_id: 'Wayne' }, /avatar_id/);
    await bad({ mode: 'FULL' }, /avatar_id/);
    await bad({ ...FULL, mode: 'CUSTOM' }, /mode/);
    await bad({ ...FULL, mode: 'LITE' }, /mode: LITE/);
    await bad({ ...FULL, video_settings: { quality: 'ultra' } }, /video_settings\.quality/);
    await bad({ ...FULL, video_settings: { encoding: 'AV1' } }, /video_settings\.encoding/);
    await bad({ ...FULL, is_sandbox: true }, /is_sandbox/);
    await bad({ ...FULL, is_sandbox: 'yes' }, /is_sandbox/);
    await bad({ ...FULL, avatar_persona: { language: 'xx' } }, /language/);
    await bad({ ...FULL, avatar_persona: { language: 'en', voice_id: '11111111-2222-4333-8444-555555555555' } }, /voice_id/);
    await bad({ ...FULL, avatar_persona: { language: 'en', voice_settings: { speed: 2 } } }, /speed/);
    await bad({ ...FULL, interactivity_type: 'SHOUTING' }, /interactivity_type/);
    await bad({ ...FULL, max_session_duration: -5 }, /max_session_duration/);
    await bad('{not json', /JSON/);
    await bad([FULL], /body/);
    assertError(await call(la, '/v1/sessions/token', { body: { ...FULL, pad: 'x'.repeat(70_000) } }), 413, 4013);
  });
});

describe('LiveAvatar stand-in: session life over REST', () => {
  it('start answers 201 {session_id, livekit_url, livekit_client_token, max_session_duration} (no ws_url in FULL), once', async () => {
    const { session_id, session_token } = await mint(la, { ...FULL, max_session_duration: 120 });
    assertError(await call(la, '/v1/sessions/start', { headers: {} }), 403, 4003);
    assertError(await call(la, '/v1/sessions/start'), 403, 4003, /Not authenticated/);
    assertError(await call(la, '/v1/sessions/start', { headers: bearer('not.a.jwt') }), 403, 4003);
    // The same claims signed with another secret, and this token's payload altered: both refused.
    const [h, p] = session_token.split('.');
    const forged = `${h}.${p}.${createHmac('sha256', 'another-secret').update(`${h}.${p}`).digest('base64url')}`;
    assertError(await call(la, '/v1/sessions/start', { headers: bearer(forged) }), 403, 4003);
    const claims = clientDecode(session_token);
    const altered = `${h}.${Buffer.from(JSON.stringify({ ...claims, exp: claims.exp + 10 })).toString('base64url')}.${session_token.split('.')[2]}`;
    assertError(await call(la, '/v1/sessions/start', { headers: bearer(altered) }), 403, 4003);

    const r = await call(la, '/v1/sessions/start', { headers: bearer(session_token) });
    assertOk(r, 201);
    assert.deepEqual(Object.keys(r.json.data).sort(), ['livekit_client_token', 'livekit_url', 'max_session_duration', 'session_id']);
    assert.equal(r.json.data.session_id, session_id);
    assert.equal(r.json.data.livekit_url, livekit.url);
    assert.equal(r.json.data.livekit_client_token.split('.').length, 3);
    assert.equal(r.json.data.max_session_duration, 120);
    assert.equal(la.openSessions, 1);
    assertError(await call(la, '/v1/sessions/start', { headers: bearer(session_token) }), 400, 4001, /already started/);
    assertOk(await call(la, '/v1/sessions/stop', { headers: bearer(session_token) }));
    assert.equal(la.openSessions, 0);
  });

  it('keep-alive and stop take the session token or the account key with session_id; stop is idempotent and checks its reason', async () => {
    const a = await startSession(la);
    const b = await mint(la);
    assertOk(await call(la, '/v1/sessions/keep-alive', { headers: bearer(a.token) }));
    assertOk(await call(la, '/v1/sessions/keep-alive', { body: { session_id: a.session_id } }));
    assertOk(await call(la, '/v1/sessions/keep-alive', { headers: bearer(a.token), body: { session_id: a.session_id } }));
    assertError(await call(la, '/v1/sessions/keep-alive', { body: {} }), 422, 4000, /session_id/);
    assertError(await call(la, '/v1/sessions/keep-alive', { body: { session_id: 'abc' } }), 422, 4000, /session_id/);
    assertError(await call(la, '/v1/sessions/keep-alive', { body: { session_id: '11111111-2222-4333-8444-555555555555' } }), 404, 4004);
    // One session's token acts on that session only.
    assertError(await call(la, '/v1/sessions/keep-alive', { headers: bearer(b.session_token), body: { session_id: a.session_id } }), 403, 4003);
    assertError(await call(la, '/v1/sessions/keep-alive', { headers: { 'x-api-key': 'wrong' }, body: { session_id: a.session_id } }), 403, 4003);

    assertError(await call(la, '/v1/sessions/stop', { body: { session_id: a.session_id, reason: 'BORED' } }), 422, 4000, /reason/);
    assert.equal(la.openSessions, 1);
    assertOk(await call(la, '/v1/sessions/stop', { body: { session_id: a.session_id, reason: 'AGENT_HANG_UP' } }));
    assert.equal(la.stopReason(a.session_id), 'AGENT_HANG_UP');
    assertOk(await call(la, '/v1/sessions/stop', { body: { session_id: a.session_id, reason: 'USER_CLOSED' } }));
    assertOk(await call(la, '/v1/sessions/stop', { headers: bearer(a.token) }));
    assert.equal(la.stopReason(a.session_id), 'AGENT_HANG_UP', 'the first stop decides the reason');
    assertError(await call(la, '/v1/sessions/keep-alive', { headers: bearer(a.token) }), 400, 4001, /ended/);
    assertError(await call(la, '/v1/sessions/start', { headers: bearer(a.token) }), 400, 4001, /ended/);

    // HeyGen's demo: DELETE /v1/sessions with the session token; a session never started ends too.
    assertOk(await call(la, '/v1/sessions', { method: 'DELETE', headers: bearer(b.session_token) }));
    assertOk(await call(la, '/v1/sessions', { method: 'DELETE', headers: bearer(b.session_token) }));
    assert.equal(la.stopReason(b.session_id), 'USER_CLOSED');
    assertError(await call(la, '/v1/sessions', { method: 'DELETE' }), 403, 4003);
    assert.equal(la.openSessions, 0);
  });

  it('GET /v1/sessions?type=active|historic pages {count, next, previous, results} with the account key', async () => {
    const a = await startSession(la);
    const b = await startSession(la);
    const active = await call(la, '/v1/sessions?type=active', { method: 'GET' });
    assertOk(active);
    assert.deepEqual(Object.keys(active.json.data).sort(), ['count', 'next', 'previous', 'results']);
    assert.equal(active.json.data.count, 2);
    assert.deepEqual(active.json.data.results.map((s: any) => s.id), [b.session_id, a.session_id], 'newest first');
    const entry = active.json.data.results[0];
    for (const k of ['id', 'created_at', 'updated_at', 'duration', 'mode', 'is_sandbox', 'credits_consumed']) assert.ok(k in entry, k);
    assert.equal(entry.mode, 'FULL');
    assert.equal(entry.is_sandbox, false);
    assert.equal(typeof entry.duration, 'number');
    assert.ok(!Number.isNaN(Date.parse(entry.created_at)));

    const first = await call(la, '/v1/sessions?type=active&page=1&page_size=1', { method: 'GET' });
    assert.equal(first.json.data.results.length, 1);
    assert.equal(first.json.data.previous, null);
    assert.match(first.json.data.next, /[?&]page=2\b/);
    const second = await call(la, new URL(first.json.data.next).pathname + new URL(first.json.data.next).search, { method: 'GET' });
    assert.deepEqual(second.json.data.results.map((s: any) => s.id), [a.session_id]);
    assert.equal(second.json.data.next, null);
    assert.match(second.json.data.previous, /[?&]page=1\b/);

    await call(la, '/v1/sessions/stop', { body: { session_id: a.session_id } });
    const historic = await call(la, '/v1/sessions?type=historic&page_size=100', { method: 'GET' });
    assertOk(historic);
    assert.ok(historic.json.data.results.some((s: any) => s.id === a.session_id));
    assert.ok(!historic.json.data.results.some((s: any) => s.id === b.session_id));
    const one = await call(la, `/v1/sessions/${b.session_id}`, { method: 'GET' });
    assertOk(one);
    assert.equal(one.json.data.id, b.session_id);

    assertError(await call(la, '/v1/sessions', { method: 'GET' }), 422, 4000, /type/);
    assertError(await call(la, '/v1/sessions?type=all', { method: 'GET' }), 422, 4000, /type/);
    assertError(await call(la, '/v1/sessions?type=active&page_size=101', { method: 'GET' }), 422, 4000, /page_size/);
    assertError(await call(la, '/v1/sessions?type=active&page=0', { method: 'GET' }), 422, 4000, /page/);
    assertError(await call(la, '/v1/sessions?type=active', { method: 'GET', headers: bearer(b.token) }), 403, 4003);
    await call(la, '/v1/sessions/stop', { body: { session_id: b.session_id } });
    assert.equal((await call(la, '/v1/sessions?type=active', { method: 'GET' })).json.data.count, 0);
  });

  it('lists public avatars (Wayne, the sandbox one, and more), the account avatars, voices and languages', async () => {
    const pub = await call(la, '/v1/avatars/public', { method: 'GET', headers: {} });
    assertOk(pub);
    assert.ok(pub.json.data.count >= 2);
    const wayne = pub.json.data.results.find((a: any) => a.id === SANDBOX_AVATAR_ID);
    assert.equal(wayne.name, 'Wayne');
    for (const k of ['id', 'name', 'preview_url', 'status', 'default_voice', 'is_expired']) assert.ok(k in wayne, k);
    assert.deepEqual(Object.keys(wayne.default_voice).sort(), ['id', 'name']);
    assert.ok(pub.json.data.results.some((a: any) => a.id === JUDY));
    const mine = await call(la, '/v1/avatars', { method: 'GET' });
    assertOk(mine);
    assert.ok(mine.json.data.results.length >= 1);
    assert.ok(!mine.json.data.results.some((a: any) => a.id === SANDBOX_AVATAR_ID));
    assertError(await call(la, '/v1/avatars', { method: 'GET', headers: {} }), 403, 4003);
    const voices = await call(la, '/v1/voices', { method: 'GET' });
    assertOk(voices);
    for (const k of ['id', 'name', 'language', 'gender']) assert.ok(k in voices.json.data.results[0], k);
    assertError(await call(la, '/v1/voices', { method: 'GET', headers: {} }), 403, 4003);
    const languages = await call(la, '/v1/languages', { method: 'GET', headers: {} });
    assertOk(languages);
    assert.ok(Array.isArray(languages.json.data));
    assert.deepEqual(languages.json.data.find((l: any) => l.code === 'en'), { language: 'English', code: 'en' });
    assertError(await call(la, '/v1/nothing', { method: 'GET' }), 404, 4004);
    assertError(await call(la, '/v1/sessions/token', { method: 'GET' }), 405, 4005);
  });

  it('answers CORS for the official client: preflight, the concrete origin, credentials allowed', async () => {
    const origin = 'http://widget.example.test:8000';
    const pre = await fetch(`${la.url}/v1/sessions/start`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
    });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get('access-control-allow-origin'), origin);
    assert.equal(pre.headers.get('access-control-allow-credentials'), 'true');
    assert.match(pre.headers.get('access-control-allow-methods') ?? '', /POST/);
    assert.match(pre.headers.get('access-control-allow-headers') ?? '', /authorization/);
    const denied = await call(la, '/v1/sessions/start', { headers: { origin } });
    assertError(denied, 403, 4003);
    assert.equal(denied.headers.get('access-control-allow-origin'), origin);
    assert.equal(denied.headers.get('access-control-allow-credentials'), 'true');
    const minted = await call(la, '/v1/sessions/token', { body: FULL, headers: { 'x-api-key': KEY, origin } });
    assert.equal(minted.headers.get('access-control-allow-origin'), origin);
    assert.match(minted.headers.get('vary') ?? '', /Origin/);
  });
});

describe('LiveAvatar stand-in: limits', () => {
  it('ends a started session after its idle timeout; keep-alive holds it open', async () => {
    const s = await startSession(limited);
    for (let i = 0; i < 3; i++) {
      await sleep(IDLE_MS / 2);
      assertOk(await call(limited, '/v1/sessions/keep-alive', { headers: bearer(s.token) }));
    }
    assert.equal(limited.stopReason(s.session_id), undefined, 'kept alive past one idle timeout');
    await sleep(IDLE_MS + 700);
    assert.equal(limited.stopReason(s.session_id), 'IDLE_TIMEOUT');
    assertError(await call(limited, '/v1/sessions/keep-alive', { headers: bearer(s.token) }), 400, 4001);
    const historic = await call(limited, '/v1/sessions?type=historic', { method: 'GET' });
    assert.ok(historic.json.data.results.some((e: any) => e.id === s.session_id));
  });

  it('ends a sandbox session (Wayne only) after the sandbox duration, and a session at its max_session_duration, as MAX_DURATION_REACHED', async () => {
    const sandboxStart = Date.now();
    const sandbox = await startSession(limited, { ...FULL, avatar_id: SANDBOX_AVATAR_ID, is_sandbox: true });
    assert.equal(sandbox.max_session_duration, SANDBOX_MS / 1000);
    const shortStart = Date.now();
    const short = await startSession(limited, { ...FULL, max_session_duration: 1 });
    assert.equal(short.max_session_duration, 1);
    const ended = async (id: string, from: number) => {
      await waitFor(`${id} to end`, () => limited.stopReason(id), 5000);
      return Date.now() - from;
    };
    const [sandboxLasted, shortLasted] = await Promise.all([ended(sandbox.session_id, sandboxStart), ended(short.session_id, shortStart)]);
    assert.equal(limited.stopReason(short.session_id), 'MAX_DURATION_REACHED');
    assert.equal(limited.stopReason(sandbox.session_id), 'MAX_DURATION_REACHED');
    assert.ok(shortLasted >= 1000 && shortLasted < 2000, `max_session_duration 1 s: ended after ${shortLasted} ms`);
    assert.ok(sandboxLasted >= SANDBOX_MS && sandboxLasted < SANDBOX_MS + 1000, `sandbox ${SANDBOX_MS} ms: ended after ${sandboxLasted} ms`);
    const historic = await call(limited, '/v1/sessions?type=historic', { method: 'GET' });
    const entry = historic.json.data.results.find((e: any) => e.id === sandbox.session_id);
    assert.equal(entry.is_sandbox, true);
    assert.equal(entry.credits_consumed, 0);
    assert.ok(entry.duration >= 1 && entry.duration <= 3, `duration ${entry.duration}`);
    assert.equal(limited.openSessions, 0);
  });

  it('caps concurrent sessions at start with 429 {code: 4029}', async () => {
    const a = await startSession(limited);
    const b = await startSession(limited);
    const c = await mint(limited);
    const refused = await call(limited, '/v1/sessions/start', { headers: bearer(c.session_token) });
    assertError(refused, 429, 4029, /Concurrent session limit/);
    assert.equal(refused.headers.get('retry-after'), null);
    assert.equal(limited.openSessions, 2);
    await call(limited, '/v1/sessions/stop', { headers: bearer(a.token) });
    assertOk(await call(limited, '/v1/sessions/start', { headers: bearer(c.session_token) }), 201);
    await call(limited, '/v1/sessions/stop', { headers: bearer(b.token) });
    await call(limited, '/v1/sessions/stop', { headers: bearer(c.session_token) });
    assert.equal(limited.openSessions, 0);
  });
});

describe('LiveAvatar stand-in: faults on demand', () => {
  it('answers 429 with Retry-After, then 5xx, in the envelope; then works again', async () => {
    const arm = await fetch(`${la.url}/_faults`, {
      method: 'POST',
      body: JSON.stringify({ faults: [{ kind: 'rate-limit', path: '/v1/sessions/token', retryAfter: 7 }, { kind: 'server-error', status: 503, path: '/v1/sessions/token' }] }),
    });
    assert.equal(arm.status, 204);
    const limitedAnswer = await call(la, '/v1/sessions/token', { body: FULL });
    assertError(limitedAnswer, 429, 4029);
    assert.equal(limitedAnswer.headers.get('retry-after'), '7');
    assertError(await call(la, '/v1/sessions/token', { body: FULL }), 503, 5000);
    await mint(la);
  });

  it('drops or stalls a call, and expires a session on demand', async () => {
    la.faults.arm({ kind: 'drop', path: '/v1/languages' });
    await assert.rejects(call(la, '/v1/languages', { method: 'GET' }));
    la.faults.arm({ kind: 'stall', path: '/v1/languages' });
    await assert.rejects(fetch(`${la.url}/v1/languages`, { signal: AbortSignal.timeout(300) }), /TimeoutError|aborted/);
    const s = await startSession(la);
    la.faults.arm({ kind: 'expire' });
    assertError(await call(la, '/v1/sessions/keep-alive', { headers: bearer(s.token) }), 400, 4001);
    assert.equal(la.stopReason(s.session_id), 'MAX_DURATION_REACHED');
    assert.equal(la.openSessions, 0);
  });
});

// ---- the room ----

interface ReceivedEvent {
  at: number;
  from: string | undefined;
  event: any;
}

/** A viewer in a session's room: the events received on `agent-response`, the avatar's audio level. */
async function joinRoom(session: { session_id: string; livekit_url: string; livekit_client_token: string }) {
  const room = new Room();
  const events: ReceivedEvent[] = [];
  const otherTopics: string[] = [];
  const tracks = new Map<TrackKind, RemoteTrack>();
  /** Per received 10 ms audio frame: Date.now() and RMS. */
  const audio: { at: number; rms: number }[] = [];
  let disconnected = false;
  room.on(RoomEvent.DataReceived, (payload, participant, _kind, topic) => {
    if (topic !== 'agent-response') return void otherTopics.push(String(topic));
    events.push({ at: Date.now(), from: participant?.identity, event: JSON.parse(new TextDecoder().decode(payload)) });
  });
  room.on(RoomEvent.TrackSubscribed, (track, _pub, participant) => {
    if (participant.identity === 'heygen' && track.kind !== undefined) tracks.set(track.kind, track);
  });
  room.on(RoomEvent.Disconnected, () => (disconnected = true));
  await room.connect(session.livekit_url, session.livekit_client_token, { autoSubscribe: true, dynacast: false });
  await waitFor('the avatar video and audio tracks', () => tracks.size === 2);
  const reader = new AudioStream(tracks.get(TrackKind.KIND_AUDIO)!, { sampleRate: 48_000, numChannels: 1 }).getReader();
  const reading = (async () => {
    for (;;) {
      const { done, value: frame } = await reader.read();
      if (done) return;
      let sum = 0;
      for (const s of frame.data) sum += s * s;
      audio.push({ at: Date.now(), rms: Math.sqrt(sum / frame.data.length) });
    }
  })().catch(() => undefined);
  const encoder = new TextEncoder();
  return {
    room,
    events,
    otherTopics,
    tracks,
    audio,
    get disconnected() {
      return disconnected;
    },
    send(command: unknown, topic = 'agent-control') {
      const data = typeof command === 'string' ? encoder.encode(command) : encoder.encode(JSON.stringify(command));
      return room.localParticipant!.publishData(data, { reliable: true, topic });
    },
    of(type: string, source?: string) {
      return events.filter((e) => e.event.event_type === type && (source === undefined || e.event.source_event_id === source));
    },
    async leave() {
      await reader.cancel().catch(() => undefined);
      await reading;
      await room.disconnect();
    },
  };
}

type Viewer = Awaited<ReturnType<typeof joinRoom>>;
type StartedSession = Awaited<ReturnType<typeof startSession>>;

/** Starts a session on `standIn`, joins its room as a viewer, runs `body`, then leaves and stops it. */
async function inRoom(standIn: LiveAvatarStandIn, body: (viewer: Viewer, session: StartedSession) => Promise<void>): Promise<void> {
  const session = await startSession(standIn);
  const viewer = await joinRoom(session);
  try {
    await body(viewer, session);
  } finally {
    await viewer.leave();
    await call(standIn, '/v1/sessions/stop', { headers: bearer(session.token) });
  }
}

/** Loud enough to be speech (espeak's speech is in the thousands). */
const SPEAKING_RMS = 300;
/** Digital silence after Opus: an RMS well below 1 LSB. */
const SILENT_RMS = 5;

describe('LiveAvatar stand-in: the room', () => {
  it('has the avatar `heygen` (video + audio) and the agent `liveavatar-agent-<session_id>`', () =>
    inRoom(la, async (viewer, s) => {
      const identities = [...viewer.room.remoteParticipants.values()].map((p) => p.identity).sort();
      assert.deepEqual(identities, ['heygen', `liveavatar-agent-${s.session_id}`]);
      const avatar = [...viewer.room.remoteParticipants.values()].find((p) => p.identity === 'heygen')!;
      const kinds = [...avatar.trackPublications.values()].map((p) => p.kind).sort();
      assert.deepEqual(kinds, [TrackKind.KIND_AUDIO, TrackKind.KIND_VIDEO].sort());
      const agent = viewer.room.remoteParticipants.get(`liveavatar-agent-${s.session_id}`)!;
      assert.equal(agent.trackPublications.size, 0, 'the agent publishes no media');
      await sleep(300);
      assert.ok(viewer.audio.length > 10, 'audio frames arrive');
      assert.ok(Math.max(...viewer.audio.map((a) => a.rms)) < SILENT_RMS, 'a silent avatar sends silence');
    }));

  it('speaks avatar.speak_text commands in order, with speak_started/speak_ended carrying their event_ids, and ignores other topics', () =>
    inRoom(la, async (viewer, s) => {
      const first = crypto.randomUUID();
      const second = crypto.randomUUID();
      const elsewhere = crypto.randomUUID();
      await waitFor('half a second of the silent avatar', () => viewer.audio.length >= 50);
      await viewer.send('not json at all');
      await viewer.send({ event_id: elsewhere, event_type: 'avatar.speak_text', text: 'This is on another topic.' }, 'chat');
      await viewer.send({ event_id: first, event_type: 'avatar.speak_text', text: 'Hello, I am the offline avatar.' });
      await viewer.send({ event_id: second, event_type: 'avatar.speak_text', text: 'And this is my second sentence.' });
      await waitFor('speak_ended of the second command', () => viewer.of('avatar.speak_ended', second).length === 1, 15_000);
      await sleep(300);

      const order = viewer.events
        .filter((e) => e.event.event_type.startsWith('avatar.speak_'))
        .map((e) => `${e.event.event_type}:${e.event.source_event_id === first ? 1 : 2}`);
      assert.deepEqual(order, ['avatar.speak_started:1', 'avatar.speak_ended:1', 'avatar.speak_started:2', 'avatar.speak_ended:2']);
      assert.deepEqual(viewer.of('avatar.transcription').map((e) => [e.event.source_event_id, e.event.text]), [
        [first, 'Hello, I am the offline avatar.'],
        [second, 'And this is my second sentence.'],
      ]);
      for (const { from, event } of viewer.events) {
        assert.equal(from, `liveavatar-agent-${s.session_id}`, 'events come from the agent');
        assert.match(event.event_id, UUID);
        assert.equal(event.session_id, s.session_id);
      }
      assert.equal(viewer.events.filter((e) => e.event.source_event_id === elsewhere).length, 0, 'the other topic was ignored');
      assert.deepEqual(
        la.commands.filter((c) => c.sessionId === s.session_id).map((c) => [c.eventType, c.eventId, c.text]),
        [
          ['avatar.speak_text', first, 'Hello, I am the offline avatar.'],
          ['avatar.speak_text', second, 'And this is my second sentence.'],
        ],
      );

      // Heard: silence before the first speak_started, speech between it and the last speak_ended.
      const started = viewer.of('avatar.speak_started', first)[0].at;
      const ended = viewer.of('avatar.speak_ended', second)[0].at;
      const before = viewer.audio.filter((a) => a.at < started - 50);
      const during = viewer.audio.filter((a) => a.at > started + 100 && a.at < ended);
      const beforeRms = Math.max(...before.map((a) => a.rms));
      assert.ok(before.length >= 40 && beforeRms < SILENT_RMS, `silent before speaking: ${before.length} frames, RMS up to ${beforeRms}`);
      const loud = during.filter((a) => a.rms > SPEAKING_RMS).length / during.length;
      assert.ok(during.length > 100, `speech lasted ${during.length} frames`);
      assert.ok(loud > 0.4, `share of speaking frames while talking: ${loud.toFixed(2)}`);
      const spoken = (ended - started) / 1000;
      assert.ok(spoken > 2 && spoken < 8, `two sentences took ${spoken} s`);
    }));

  it('avatar.interrupt silences the avatar within 100 ms and drops the queue', () =>
    inRoom(la, async (viewer, s) => {
      const long = crypto.randomUUID();
      const queued = crypto.randomUUID();
      await viewer.send({ event_id: long, event_type: 'avatar.speak_text', text: 'This is a long sentence that the avatar will not be allowed to finish, because it is interrupted.' });
      await viewer.send({ event_id: queued, event_type: 'avatar.speak_text', text: 'This one waits in the queue and is dropped.' });
      const started = (await waitFor('speak_started', () => viewer.of('avatar.speak_started', long)[0], 10_000)).at;
      await waitFor('speech heard', () => viewer.audio.some((a) => a.at > started && a.rms > SPEAKING_RMS), 3000);
      await sleep(600);
      const commandAt = Date.now();
      await viewer.send({ event_type: 'avatar.interrupt' });
      const endedAt = (await waitFor('speak_ended after the interrupt', () => viewer.of('avatar.speak_ended', long)[0], 2000)).at;
      await sleep(1500);
      const loudAfter = viewer.audio.filter((a) => a.at >= commandAt && a.rms > SPEAKING_RMS);
      const lastLoud = loudAfter.length ? loudAfter[loudAfter.length - 1].at : commandAt;
      const toEnded = endedAt - commandAt;
      const toSilence = lastLoud - commandAt;
      console.log(`# interrupt: speak_ended ${toEnded} ms and last audio energy ${toSilence} ms after the avatar.interrupt command`);
      // The agent sends speak_ended at the moment the avatar stops feeding audio (its queued audio
      // dropped too): that is the stand-in's own reaction.
      assert.ok(toEnded < 100, `speak_ended ${toEnded} ms after the interrupt`);
      // What a viewer hears also passes WebRTC's own path, the same with the real service: Opus
      // framing and the receiver's jitter buffer keep ~50–60 ms of audio in flight on loopback (a
      // bare publisher's cut measured the same way), so the bound here is wider than 100 ms. Without
      // the interrupt the speech would go on for seconds. 250 ms: on a loaded 2-core machine the
      // viewer's side lags a little more (152 ms seen at a load average of 15).
      assert.ok(toSilence < 250, `audio energy until ${toSilence} ms after the interrupt`);
      const tail = viewer.audio.filter((a) => a.at > commandAt + 300);
      assert.ok(tail.length > 50 && Math.max(...tail.map((a) => a.rms)) < SILENT_RMS, 'silent after the interrupt');
      assert.equal(viewer.of('avatar.speak_started', queued).length, 0, 'the queued command was dropped');
      assert.equal(viewer.of('avatar.speak_ended', long).length, 1);
      assert.deepEqual(la.commands.filter((c) => c.sessionId === s.session_id).at(-1), {
        sessionId: s.session_id,
        eventType: 'avatar.interrupt',
        receivedAt: la.commands.filter((c) => c.sessionId === s.session_id).at(-1)!.receivedAt,
      });

      // avatar.speak_response: no LLM offline; the stand-in says a fixed echo, with the same events.
      const ask = crypto.randomUUID();
      await viewer.send({ event_id: ask, event_type: 'avatar.speak_response', text: 'Hi.' });
      await waitFor('speak_ended of the speak_response', () => viewer.of('avatar.speak_ended', ask).length === 1, 10_000);
      assert.deepEqual(viewer.of('avatar.transcription', ask).map((e) => e.event.text), ['You said: Hi.']);
      assert.equal(viewer.of('avatar.speak_started', ask).length, 1);
    }));

  it('sends session.stopped (stop_reason and end_reason) when the session is stopped over REST; the avatar and agent leave, the room closes', () =>
    inRoom(la, async (viewer, s) => {
      assertOk(await call(la, '/v1/sessions/stop', { body: { session_id: s.session_id, reason: 'USER_DISCONNECTED' } }));
      const stopped = await waitFor('session.stopped', () => viewer.of('session.stopped')[0], 5000);
      assert.equal(stopped.event.stop_reason, 'USER_DISCONNECTED');
      assert.equal(stopped.event.end_reason, 'USER_DISCONNECTED');
      assert.equal(stopped.event.session_id, s.session_id);
      assert.equal(stopped.event.source_event_id, null);
      assert.match(stopped.event.event_id, UUID);
      await waitFor('the room to close', () => viewer.disconnected || viewer.room.remoteParticipants.size === 0, 5000);
    }));

  it('commands reset the idle timer; an idle session ends with session.stopped IDLE_TIMEOUT', () =>
    inRoom(limited, async (viewer, s) => {
      for (const type of ['avatar.start_listening', 'avatar.stop_listening', 'avatar.start_listening']) {
        await sleep(IDLE_MS / 2);
        await viewer.send({ event_id: crypto.randomUUID(), event_type: type });
      }
      await sleep(IDLE_MS / 2);
      assert.equal(limited.stopReason(s.session_id), undefined, 'commands kept it alive');
      assert.deepEqual(
        limited.commands.filter((c) => c.sessionId === s.session_id).map((c) => c.eventType),
        ['avatar.start_listening', 'avatar.stop_listening', 'avatar.start_listening'],
      );
      assert.equal(viewer.events.length, 0, 'listening commands are accepted without events');
      const stopped = await waitFor('session.stopped', () => viewer.of('session.stopped')[0], IDLE_MS + 3000);
      assert.equal(stopped.event.stop_reason, 'IDLE_TIMEOUT');
      assert.equal(limited.stopReason(s.session_id), 'IDLE_TIMEOUT');
    }));
});
