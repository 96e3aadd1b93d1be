import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULTS, parseAttributes } from '../../src/element/config.ts';

describe('parseAttributes', () => {
  it('gives the seed defaults when nothing is set', () => {
    const { config, problems } = parseAttributes({});
    assert.deepEqual(problems, []);
    assert.equal(config.quality, 'medium');
    assert.equal(config.voiceRate, 1);
    assert.equal(config.language, 'ru');
    assert.equal(config.sttModel, 'nova-2');
    assert.equal(config.utteranceEndMs, 1000);
    assert.equal(config.endpointing, DEFAULTS.endpointing);
    assert.ok(config.endpointing >= 300 && config.endpointing <= 500);
  });

  it('takes valid values', () => {
    const { config, problems } = parseAttributes({
      avatarId: 'Anna_public_3', quality: 'high', voiceRate: '1.25', language: 'en-US', sttModel: 'nova-3',
      endpointing: '300', utteranceEndMs: '1500', layout: 'floating', tokenEndpoint: '/api/avatar/session',
    });
    assert.deepEqual(problems, []);
    assert.equal(config.avatarId, 'Anna_public_3');
    assert.equal(config.quality, 'high');
    assert.equal(config.voiceRate, 1.25);
    assert.equal(config.language, 'en-US');
    assert.equal(config.endpointing, 300);
    assert.equal(config.utteranceEndMs, 1500);
    assert.equal(config.layout, 'floating');
    assert.equal(config.tokenEndpoint, '/api/avatar/session');
  });

  it('names every bad value and falls back to the default', () => {
    const { config, problems } = parseAttributes({
      quality: 'ultra', voiceRate: 'fast', language: 'not a tag', endpointing: '-5', utteranceEndMs: '12.5',
      layout: 'sideways', tokenEndpoint: 'javascript:alert(1)', avatarId: '<b>x</b>',
    });
    assert.equal(problems.length, 8, problems.join('\n'));
    for (const attr of ['quality="ultra"', 'voice-rate="fast"', 'language="not a tag"', 'endpointing="-5"', 'utterance-end-ms="12.5"', 'layout="sideways"', 'token-endpoint="javascript:alert(1)"', 'avatar-id="<b>x</b>"']) {
      assert.ok(problems.some((p) => p.startsWith(attr)), `a problem for ${attr}`);
    }
    assert.equal(config.quality, 'medium');
    assert.equal(config.voiceRate, 1);
    assert.equal(config.language, 'ru');
    assert.equal(config.endpointing, DEFAULTS.endpointing);
    assert.equal(config.layout, 'inline');
    assert.equal(config.tokenEndpoint, undefined);
    assert.equal(config.avatarId, undefined);
  });

  it('uses the page language when the attribute is absent', () => {
    assert.equal(parseAttributes({}, 'en-GB').config.language, 'en-GB');
    assert.equal(parseAttributes({ language: 'de' }, 'en-GB').config.language, 'de');
    assert.equal(parseAttributes({}, '').config.language, 'ru');
  });
});
