// The contract's JSON Schema is generated from src/shared/contract.ts: the committed file must be
// what the types say now, and it must say what the widget and the docs say.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { contractSchemaText, SCHEMA_FILE } from '../../scripts/contract-schema.mjs';
import { schemaProblems } from '../../src/conformance/schema.js';

const liveAvatarAnswer = {
  sessionId: 'a1b2',
  sessionKey: 'k'.repeat(43),
  avatar: { provider: 'liveavatar', apiBase: 'https://api.liveavatar.com', token: 'h.p.s' },
  stt: { provider: 'deepgram', url: 'https://api.deepgram.com', token: 'dg', expiresIn: 30, refreshUrl: '/api/avatar/session/stt-token' },
  limits: { sessionDurationSeconds: 600, idleTimeoutSeconds: 120 },
  heartbeat: { url: '/api/avatar/session/heartbeat', intervalSeconds: 20 },
  closeUrl: '/api/avatar/session/close',
};

describe('the session endpoint JSON Schema', { timeout: 60_000 }, () => {
  it('is generated from src/shared/contract.ts (run node scripts/contract-schema.mjs when this fails)', () => {
    assert.equal(readFileSync(SCHEMA_FILE, 'utf8'), contractSchemaText());
  });

  it('takes both avatar blocks and refuses what the widget refuses', () => {
    assert.deepEqual(schemaProblems('SessionResponse', liveAvatarAnswer), []);
    const heygen = { ...liveAvatarAnswer, avatar: { provider: 'heygen-streaming', apiBase: 'https://api.heygen.com', token: 't', livekit: { url: 'wss://x', token: 'j' } } };
    assert.deepEqual(schemaProblems('SessionResponse', heygen), []);
    const { closeUrl: _c, ...noClose } = liveAvatarAnswer;
    assert.match(schemaProblems('SessionResponse', noClose).join(), /required property 'closeUrl'/);
    assert.match(schemaProblems('SessionResponse', { ...liveAvatarAnswer, sessionKey: '' }).join(), /sessionKey must NOT have fewer than 1 characters/);
    assert.match(schemaProblems('SessionResponse', { ...liveAvatarAnswer, stt: { ...liveAvatarAnswer.stt, url: 'wss://api.deepgram.com' } }).join(), /stt\/url must match pattern/);
    assert.match(schemaProblems('SessionResponse', { ...liveAvatarAnswer, limits: { idleTimeoutSeconds: 120 } }).join(), /sessionDurationSeconds/);
    assert.match(schemaProblems('SessionResponse', { ...heygen, avatar: { ...heygen.avatar, livekit: undefined } }).join(), /livekit/);
    // An API key in an extra field is not the contract.
    assert.match(schemaProblems('SessionResponse', { ...liveAvatarAnswer, apiKey: 'x' }).join(), /additional properties "apiKey"/);
    // Optional: llm and heartbeat.
    const { heartbeat: _h, ...noHeartbeat } = liveAvatarAnswer;
    assert.deepEqual(schemaProblems('SessionResponse', noHeartbeat), []);
  });

  it('the 0.1 shape is its own (deprecated) definition', () => {
    const { avatar: _a, ...rest } = liveAvatarAnswer;
    const legacy = { ...rest, provider: 'heygen-streaming', heygen: { apiBase: 'https://api.heygen.com', token: 't' }, livekit: { url: 'wss://x', token: 'j' } };
    assert.deepEqual(schemaProblems('LegacySessionResponse', legacy), []);
    assert.notDeepEqual(schemaProblems('SessionResponse', legacy), []);
  });

  it('the answer in docs/broker.md conforms', () => {
    const doc = readFileSync(new URL('../../docs/broker.md', import.meta.url), 'utf8');
    const example = doc.slice(doc.indexOf('Answer (200):')).match(/```json\n([\s\S]*?)```/)![1];
    const answer = JSON.parse(example.replace(/…/g, ''));
    assert.deepEqual(schemaProblems('SessionResponse', answer), []);
  });

  it('LLM route events and requests', () => {
    assert.deepEqual(schemaProblems('LlmRouteEvent', { type: 'delta', text: 'Hi' }), []);
    assert.deepEqual(schemaProblems('LlmRouteEvent', { type: 'error', message: 'x', recoverable: true }), []);
    assert.notDeepEqual(schemaProblems('LlmRouteEvent', { type: 'delta' }), []);
    assert.deepEqual(schemaProblems('LlmRouteRequest', { messages: [{ role: 'user', content: 'Hi' }] }), []);
    assert.notDeepEqual(schemaProblems('LlmRouteRequest', { messages: [{ role: 'system', content: 'Hi' }] }), []);
  });
});
