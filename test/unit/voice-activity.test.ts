// The transcriber's voice detection: where the voice was last heard in a linear16 stream, over an
// adaptive noise floor.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VoiceActivity } from '../../src/transcriber/voice-activity.ts';

const RATE = 16_000;

/** 100 ms of a 220 Hz tone at `dbfs` (silence below -120), plus white noise at `noiseDbfs`. */
function frame(dbfs: number, noiseDbfs = -120): ArrayBuffer {
  const samples = new Int16Array(RATE / 10);
  const amplitude = 32767 * 10 ** (dbfs / 20) * Math.SQRT2;
  const noise = 32767 * 10 ** (noiseDbfs / 20) * Math.sqrt(3);
  for (let i = 0; i < samples.length; i++) {
    const tone = dbfs > -120 ? amplitude * Math.sin((2 * Math.PI * 220 * i) / RATE) : 0;
    samples[i] = Math.round(tone + noise * (2 * Math.random() - 1));
  }
  return samples.buffer;
}

describe('VoiceActivity', () => {
  it('gives the end of the last voiced 10 ms block, in seconds of the stream', () => {
    const v = new VoiceActivity(RATE);
    assert.equal(v.lastVoiceEnd, 0);
    for (let i = 0; i < 5; i++) v.push(frame(-120));
    assert.equal(v.lastVoiceEnd, 0, 'silence is not voice');
    for (let i = 0; i < 3; i++) v.push(frame(-20));
    for (let i = 0; i < 4; i++) v.push(frame(-120));
    assert.equal(v.lastVoiceEnd, 0.8);
  });

  it('hears neither a quiet hiss nor a steady background as voice, and voice over them', () => {
    const v = new VoiceActivity(RATE);
    for (let i = 0; i < 10; i++) v.push(frame(-120, -55));
    assert.equal(v.lastVoiceEnd, 0, 'below -50 dBFS');
    // A louder room: after the floor has followed it, it is no longer voice.
    for (let i = 0; i < 50; i++) v.push(frame(-120, -38));
    const settled = v.lastVoiceEnd;
    for (let i = 0; i < 10; i++) v.push(frame(-120, -38));
    assert.equal(v.lastVoiceEnd, settled, 'the steady background is not voice');
    v.push(frame(-15, -38));
    assert.equal(v.lastVoiceEnd, 7.1);
  });

  it('starts again at 0 for a new stream', () => {
    const v = new VoiceActivity(RATE);
    v.push(frame(-20));
    v.push(frame(-120));
    v.restart();
    assert.equal(v.lastVoiceEnd, 0);
    v.push(frame(-120));
    v.push(frame(-20));
    assert.equal(v.lastVoiceEnd, 0.2);
  });
});
