// The widget's check of a session answer: the current shape, the deprecated 0.1 flat shape, and a
// clear error naming the first bad field. DOM-free, so it runs in Node.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateSessionResponse } from '../../src/session/session-client.ts';
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
