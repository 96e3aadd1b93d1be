// Size budgets of the script-tag bundle, measured on the real build in dist/ (npm test builds first).
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { BUDGETS, LAZY_LANGUAGES, PROVIDERS, measureBundle } from '../../scripts/size.mjs';

describe('script bundle size (gzip)', () => {
  const m = measureBundle();

  it(`the up-front file stays within ${BUDGETS.upFront / 1024} KB`, () => {
    assert.ok(m.upFront.gzip <= BUDGETS.upFront, `heygen-avatar.js is ${m.upFront.gzip} bytes gzip`);
  });

  for (const provider of PROVIDERS) {
    it(`everything one ${provider} session loads stays within ${BUDGETS.session / 1024} KB`, () => {
      assert.ok(m.chunks.some((c) => c.name.startsWith(`chunks/${provider}-`)), `a lazy chunk of its own for ${provider}`);
      assert.ok(m.sessions[provider] <= BUDGETS.session, `a session loads ${m.sessions[provider]} bytes gzip: ${m.chunks.map((c) => `${c.name} ${c.gzip}`).join(', ')}`);
    });
  }

  it('carries the English UI strings up front, and every other UI language (Russian too) as a chunk of its own', () => {
    const upFront = readFileSync(new URL('../../dist/heygen-avatar.js', import.meta.url), 'utf8');
    assert.ok(upFront.includes('Conversation ended'), 'English built in');
    assert.ok(LAZY_LANGUAGES.includes('ru'), 'Russian loaded when needed');
    assert.ok(LAZY_LANGUAGES.length >= 10, `${LAZY_LANGUAGES.length} lazy languages`);
    for (const language of LAZY_LANGUAGES) assert.equal(m.languageChunks.filter((c) => c.name.startsWith(`chunks/${language}-`)).length, 1, `one chunk for ${language}`);
    for (const text of ['Разговор завершён', 'Gespräch beendet', 'Conversación terminada', '对话已结束', 'انتهت المحادثة']) assert.ok(!upFront.includes(text), `"${text}" up front`);
  });

  it('keeps livekit-client and the Deepgram client out of the up-front file', () => {
    const upFront = readFileSync(new URL('../../dist/heygen-avatar.js', import.meta.url), 'utf8');
    assert.ok(!upFront.includes('RoomEvent'), 'livekit-client code in the up-front file');
    assert.ok(!upFront.includes('KeepAlive'), 'Deepgram code in the up-front file');
    assert.ok(m.chunks.some((c) => c.name.includes('livekit')), 'a lazy livekit-client chunk');
    assert.ok(existsSync(new URL('../../dist/npm/index.d.ts', import.meta.url)), 'npm build with types');
  });
});
