// The widget's check of a session answer: the current shape, the deprecated 0.1 flat shape, and a
// clear error naming the first bad field; and the request itself against a real loopback server
// that is busy for a moment. DOM-free, so it runs in Node.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { requestSession, validateSessionResponse } from '../../src/session/session-client.ts';
import { SessionEndpointError } from '../../src/shared/errors.ts';

const common = {
  sessionId: 'sess-1',
  sessionKey: 'key-1',
  stt: { provider: 'deepgram', url: 'https://api.deepgram.com', token: 'dg', expiresIn: 30, refreshUrl: '/session/stt-token' },
  limits: { sessionDurationSeconds: 600, idleTimeoutSeconds: 120 },
  closeUrl: '/session/close',
};
const avatar = { provider: 'heygen-streaming', apiBase: 'https://api.heygen.com', token: 'hg', livekit: { url: 'wss://lk', token: 'lk' } };

function capture<T>(fn: () => T): { result: T; warnings: string[] } {
  const warnings: string[] = [];
  const original = console.warn;
  console.warn = (...args: unknown[]) => warnings.push(args.map(String).join(' '));
  try {
    return { result: fn(), warnings };
  } finally {
    console.warn = original;
  }
}

describe('validateSessionResponse', () => {
  it('passes the current shape through untouched, without a notice', () => {
    const body = { ...common, avatar };
    const { result, warnings } = capture(() => validateSessionResponse(body));
    assert.deepEqual(result, body);
    assert.deepEqual(warnings, []);
  });

  it('accepts any provider name: the provider checks its own block', () => {
    const body = { ...common, avatar: { provider: 'my-service', anything: 1 } };
    assert.deepEqual(validateSessionResponse(body).avatar, { provider: 'my-service', anything: 1 });
  });

  it('turns the 0.1 flat shape into the current one, with one notice per page', () => {
    const flat = { ...common, provider: 'heygen-streaming', heygen: { apiBase: avatar.apiBase, token: avatar.token }, livekit: avatar.livekit };
    const first = capture(() => validateSessionResponse(flat));
    assert.deepEqual(first.result, { ...common, avatar });
    assert.equal(first.warnings.length, 1);
    assert.match(first.warnings[0], /deprecated 0\.1 shape/);
    const second = capture(() => validateSessionResponse(flat));
    assert.deepEqual(second.result, { ...common, avatar });
    assert.deepEqual(second.warnings, [], 'one notice per page');
  });

  for (const [field, body] of [
    ['body', null],
    ['body', []],
    ['avatar.provider', { ...common }],
    ['avatar.provider', { ...common, avatar: { provider: '' } }],
    ['sessionId', { ...common, sessionId: 42, avatar }],
    ['sessionKey', { ...common, sessionKey: '', avatar }],
    ['stt.refreshUrl', { ...common, stt: { ...common.stt, refreshUrl: undefined }, avatar }],
    ['closeUrl', { ...common, closeUrl: undefined, avatar }],
    ['llm.url', { ...common, llm: {}, avatar }],
    ['limits.sessionDurationSeconds', { ...common, limits: {}, avatar }],
  ] as const) {
    it(`names "${field}" when it is missing or wrong (${JSON.stringify(body)?.slice(0, 40)})`, () => {
      assert.throws(
        () => validateSessionResponse(body),
        (err: unknown) =>
          err instanceof SessionEndpointError &&
          err.type === 'token-endpoint' &&
          err.recoverable === false &&
          err.message === `the token endpoint's answer lacks a valid "${field}"`,
      );
    });
  }
});

describe('requestSession against a busy endpoint', () => {
  const servers: Server[] = [];
  after(() => Promise.all(servers.map((s) => new Promise((r) => s.close(r)))));

  /** An endpoint that answers `busy` (status, Retry-After) to the first `times` requests, then a session. */
  async function endpoint(busy: { status: number; retryAfter?: string }, times: number) {
    const seen: number[] = [];
    const server = createServer((req, res) => {
      req.resume();
      seen.push(Date.now());
      if (seen.length <= times) {
        res.writeHead(busy.status, { 'content-type': 'application/json', ...(busy.retryAfter !== undefined ? { 'retry-after': busy.retryAfter } : {}) });
        res.end(JSON.stringify({ error: { code: busy.status === 429 ? 'rate_limited' : 'over_capacity', message: 'busy' } }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ...common, avatar }));
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/session`, seen };
  }

  it('asks again after a short Retry-After (429 or 503), twice at most, and gets the session', async () => {
    for (const status of [429, 503]) {
      const e = await endpoint({ status, retryAfter: '1' }, 2);
      const answer = await requestSession(e.url, {}, new AbortController().signal);
      assert.equal(answer.sessionId, 'sess-1');
      assert.equal(e.seen.length, 3);
      assert.ok(e.seen[1] - e.seen[0] >= 950 && e.seen[2] - e.seen[1] >= 950, `asked again after ${e.seen[1] - e.seen[0]} and ${e.seen[2] - e.seen[1]} ms`);
    }
  });

  it('gives up with the recoverable error after two tries, and at once when Retry-After is long, absent or a date', async () => {
    const three = await endpoint({ status: 429, retryAfter: '0' }, 3);
    await assert.rejects(requestSession(three.url, {}, new AbortController().signal), (err: unknown) => {
      assert.ok(err instanceof SessionEndpointError && err.status === 429 && err.recoverable, String(err));
      assert.match(err.message, /HTTP 429: busy/);
      return true;
    });
    assert.equal(three.seen.length, 3, 'the first request and two more');
    for (const retryAfter of ['30', undefined, 'Wed, 21 Oct 2026 07:28:00 GMT']) {
      const e = await endpoint({ status: 429, retryAfter }, 1);
      await assert.rejects(requestSession(e.url, {}, new AbortController().signal), SessionEndpointError);
      assert.equal(e.seen.length, 1, `Retry-After ${retryAfter}: not asked again`);
    }
  });

  it('a stop while it waits ends the wait at once', async () => {
    const e = await endpoint({ status: 429, retryAfter: '3' }, 5);
    const controller = new AbortController();
    const started = Date.now();
    const request = requestSession(e.url, {}, controller.signal);
    setTimeout(() => controller.abort(new Error('stopped')), 200);
    await assert.rejects(request, /stopped/);
    assert.ok(Date.now() - started < 1000, `ended after ${Date.now() - started} ms`);
    assert.equal(e.seen.length, 1);
  });
});
