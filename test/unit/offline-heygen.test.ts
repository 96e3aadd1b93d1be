// Contract tests of the HeyGen streaming API stand-in: paths, auth, envelopes, session life.
// A real LiveKit server carries the synthetic avatar.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { dispose } from '@livekit/rtc-node';
import { startHeygenStandIn, type HeygenStandIn } from '../../src/offline/heygen/index.ts';
import { startLiveKit } from '../../scripts/livekit.mjs';

let livekit: { url: string; apiKey: string; apiSecret: string; stop(): Promise<void> };
let heygen: HeygenStandIn;
const KEY = 'test-heygen-key';

async function call(path: string, body?: unknown, headers: Record<string, string> = { 'x-api-key': KEY }, method = 'POST') {
  const res = await fetch(`${heygen.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text ? JSON.parse(text) : undefined };
}

function assertError(r: { status: number; json: any }, status: number, code: number) {
  assert.equal(r.status, status, JSON.stringify(r.json));
  assert.equal(r.json.code, code);
  assert.equal(typeof r.json.message, 'string');
  assert.ok(r.json.message.length > 0);
}

async function newSession(extra: Record<string, unknown> = {}, headers?: Record<string, string>) {
  const r = await call('/v1/streaming.new', { quality: 'low', avatar_id: 'Anna_public_3', version: 'v2', ...extra }, headers);
  assert.equal(r.status, 200, JSON.stringify(r.json));
  return r.json.data as Record<string, unknown> & { session_id: string };
}

before(async () => {
  livekit = await startLiveKit();
  heygen = await startHeygenStandIn({ apiKey: KEY, livekit, maxConcurrentSessions: 2, idleTimeoutSeconds: 2 });
});

after(async () => {
  await heygen?.close();
  await livekit?.stop();
  // The LiveKit FFI runtime keeps the process alive until it is disposed.
  await dispose();
});

describe('HeyGen stand-in: auth and envelopes', () => {
  it('streaming.create_token needs the account key and returns {code: 100, data: {token}, message}', async () => {
    const r = await call('/v1/streaming.create_token', {});
    assert.equal(r.status, 200);
    assert.equal(r.json.code, 100);
    assert.equal(r.json.message, 'success');
    assert.equal(typeof r.json.data.token, 'string');
    assert.ok(r.json.data.token.length >= 20);
    assertError(await call('/v1/streaming.create_token', {}, { 'x-api-key': 'wrong' }), 401, 400112);
    assertError(await call('/v1/streaming.create_token', {}, {}), 401, 400112);
  });

  it('a session token may create one session and act only on it', async () => {
    const token = (await call('/v1/streaming.create_token', {})).json.data.token;
    const bearer = { authorization: `Bearer ${token}` };
    const data = await newSession({}, bearer);
    assert.deepEqual(Object.keys(data).sort(), ['access_token', 'is_paid', 'realtime_endpoint', 'session_duration_limit', 'session_id', 'url']);
    assert.equal(typeof data.session_id, 'string');
    assert.match(String(data.url), /^ws:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(String(data.access_token).split('.').length, 3, 'LiveKit JWT');
    assert.equal(data.session_duration_limit, 600);
    assert.equal(data.is_paid, false);
    assertError(await call('/v1/streaming.new', { avatar_id: 'Anna_public_3' }, bearer), 401, 400112);
    const other = await newSession();
    assertError(await call('/v1/streaming.keep_alive', { session_id: other.session_id }, bearer), 401, 400112);
    assert.equal((await call('/v1/streaming.keep_alive', { session_id: data.session_id }, bearer)).json.code, 100);
    const list = await call('/v1/streaming.list', undefined, bearer, 'GET');
    assert.deepEqual(list.json.data.sessions.map((s: any) => s.session_id), [data.session_id]);
    assert.equal((await call('/v1/streaming.stop', { session_id: data.session_id }, bearer)).json.code, 100);
    assert.equal((await call('/v1/streaming.stop', { session_id: other.session_id })).json.code, 100);
  });

  it('validates streaming.new fields with the error envelope', async () => {
    assertError(await call('/v1/streaming.new', { avatar_id: 'nobody' }), 400, 10013);
    assertError(await call('/v1/streaming.new', { quality: 'ultra' }), 400, 400100);
    assertError(await call('/v1/streaming.new', { video_encoding: 'AV1' }), 400, 400100);
    assertError(await call('/v1/streaming.new', { activity_idle_timeout: 5 }), 400, 400100);
    assertError(await call('/v1/streaming.new', { voice: { rate: 3 } }), 400, 400100);
    assertError(await call('/v1/streaming.new', { version: 'v1' }), 400, 400100);
    assertError(await call('/v1/streaming.new', '{not json'), 400, 400100);
    assertError(await call('/v1/streaming.new', { text: 'x'.repeat(70_000) }), 413, 413);
  });

  it('answers unknown paths with 404, wrong methods with 405, and CORS preflights', async () => {
    assertError(await call('/v1/streaming.nothing', {}), 404, 404);
    assertError(await call('/v1/streaming.new', undefined, { 'x-api-key': KEY }, 'GET'), 405, 405);
    const pre = await fetch(`${heygen.url}/v1/streaming.task`, { method: 'OPTIONS' });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get('access-control-allow-origin'), '*');
    assert.match(pre.headers.get('access-control-allow-headers') ?? '', /authorization/);
  });

  it('lists avatars', async () => {
    const r = await call('/v1/streaming/avatar.list', undefined, { 'x-api-key': KEY }, 'GET');
    assert.equal(r.json.code, 100);
    assert.ok(Array.isArray(r.json.data));
    assert.deepEqual(Object.keys(r.json.data[0]).sort(), ['avatar_id', 'default_voice', 'is_public', 'normal_preview', 'pose_name', 'status']);
    assert.ok(r.json.data.some((a: any) => a.avatar_id === 'Anna_public_3'));
  });
});

describe('HeyGen stand-in: session life', () => {
  it('new → start → task → interrupt → stop, with errors for unknown sessions and tasks before start', async () => {
    const { session_id } = await newSession();
    assertError(await call('/v1/streaming.task', { session_id, text: 'Hello.' }), 400, 10006);
    assertError(await call('/v1/streaming.start', { session_id: 'nope' }), 400, 10005);
    assert.equal((await call('/v1/streaming.start', { session_id })).json.code, 100);
    assertError(await call('/v1/streaming.task', { session_id, text: '   ' }), 400, 400100);
    assertError(await call('/v1/streaming.task', { session_id, text: 'x'.repeat(1001) }), 400, 400100);
    assertError(await call('/v1/streaming.task', { session_id, text: 'Hi', task_type: 'sing' }), 400, 400100);
    const t = await call('/v1/streaming.task', { session_id, text: 'Hello there, this is a test.', task_type: 'repeat' });
    assert.equal(t.json.code, 100);
    assert.deepEqual(Object.keys(t.json.data).sort(), ['duration_ms', 'task_id']);
    assert.equal(typeof t.json.data.task_id, 'string');
    assert.ok(t.json.data.duration_ms > 800 && t.json.data.duration_ms < 4000, `duration_ms ${t.json.data.duration_ms}`);
    assert.equal((await call('/v1/streaming.interrupt', { session_id })).json.code, 100);
    const sync = Date.now();
    const s = await call('/v1/streaming.task', { session_id, text: 'One two.', task_mode: 'sync' });
    assert.ok(Date.now() - sync >= s.json.data.duration_ms * 0.9, 'sync mode answers after speaking');
    assert.equal((await call('/v1/streaming.stop', { session_id })).json.code, 100);
    assertError(await call('/v1/streaming.task', { session_id, text: 'Hello.' }), 400, 10007);
    assert.equal(heygen.closedReason(session_id), 'stopped');
  });

  it('serves the seed document names as aliases', async () => {
    const r = await call('/v1/streaming/create_session', { avatar_id: 'Anna_public_3' });
    assert.equal(r.json.code, 100);
    const { session_id } = r.json.data;
    assert.equal((await call('/v1/streaming/start_session', { session_id })).json.code, 100);
    assert.equal((await call('/v1/streaming/send_task', { session_id, text: 'Hi.' })).json.code, 100);
    assert.equal((await call('/v1/streaming/submit_ice', { session_id, candidate: {} })).json.code, 100);
    const list = await call('/v1/streaming/list_sessions', undefined, { 'x-api-key': KEY }, 'GET');
    assert.ok(list.json.data.sessions.some((s: any) => s.session_id === session_id && s.status === 'connected'));
    assert.equal((await call('/v1/streaming/close_session', { session_id })).json.code, 100);
    assert.equal(heygen.openSessions, 0);
  });

  it('caps concurrent sessions', async () => {
    const a = await newSession();
    const b = await newSession();
    assertError(await call('/v1/streaming.new', { avatar_id: 'Anna_public_3' }), 400, 10004);
    await call('/v1/streaming.stop', { session_id: a.session_id });
    const c = await newSession();
    await call('/v1/streaming.stop', { session_id: b.session_id });
    await call('/v1/streaming.stop', { session_id: c.session_id });
    assert.equal(heygen.openSessions, 0);
  });

  it('closes a started session after its idle timeout, and keep_alive holds it open', async () => {
    const { session_id } = await newSession();
    await call('/v1/streaming.start', { session_id });
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setTimeout(r, 1000));
      assert.equal((await call('/v1/streaming.keep_alive', { session_id })).json.code, 100);
    }
    await new Promise((r) => setTimeout(r, 2600));
    assertError(await call('/v1/streaming.keep_alive', { session_id }), 400, 10007);
    assert.equal(heygen.closedReason(session_id), 'idle_timeout');
  });
});

describe('HeyGen stand-in: faults on demand', () => {
  it('answers 429 with Retry-After, then 5xx, then works again', async () => {
    const arm = await fetch(`${heygen.url}/_faults`, {
      method: 'POST',
      body: JSON.stringify({ faults: [{ kind: 'rate-limit', path: 'streaming.new', retryAfter: 7 }, { kind: 'server-error', status: 503, path: 'streaming.new' }] }),
    });
    assert.equal(arm.status, 204);
    const limited = await call('/v1/streaming.new', { avatar_id: 'Anna_public_3' });
    assertError(limited, 429, 429);
    assert.equal(limited.headers.get('retry-after'), '7');
    const down = await call('/v1/streaming.new', { avatar_id: 'Anna_public_3' });
    assert.equal(down.status, 503);
    assert.equal(down.json.code, 500);
    const { session_id } = await newSession();
    await call('/v1/streaming.stop', { session_id });
  });

  it('drops the connection, and expires a session on demand', async () => {
    await fetch(`${heygen.url}/_faults`, { method: 'POST', body: JSON.stringify({ kind: 'drop', path: 'streaming.list' }) });
    await assert.rejects(call('/v1/streaming.list', undefined, { 'x-api-key': KEY }, 'GET'));
    const { session_id } = await newSession();
    await fetch(`${heygen.url}/_faults`, { method: 'POST', body: JSON.stringify({ kind: 'expire' }) });
    assertError(await call('/v1/streaming.keep_alive', { session_id }), 400, 10007);
    assert.equal(heygen.closedReason(session_id), 'expired');
    assert.equal(heygen.openSessions, 0);
  });
});
