import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  FrameAccumulator,
  Linear16Resampler,
  OUTPUT_RATE,
  downmix,
  floatToInt16,
  frameLevelDb,
} from '../../src/capture/resampler.ts';

/** A full-scale sine (phase 0.7 rad, so no tone sits on the zeros of the output grid). */
function tone(freq: number, rate: number, seconds: number): Float32Array {
  const x = new Float32Array(Math.round(rate * seconds));
  for (let i = 0; i < x.length; i++) x[i] = Math.sin((2 * Math.PI * freq * i) / rate + 0.7);
  return x;
}

/** Resamples in 128-sample blocks, as the AudioWorklet does. */
function inBlocks(r: Linear16Resampler, x: Float32Array, block = 128): Float32Array {
  const parts: Float32Array[] = [];
  for (let i = 0; i < x.length; i += block) parts.push(r.process(x.subarray(i, i + block)));
  return concat(parts);
}

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** RMS over output samples 800…16800: one second, after the filter's startup (its delay is < 6 ms). */
function steadyRms(y: Float32Array): number {
  assert.ok(y.length >= 16_800, `need 1.05 s of output, got ${y.length} samples`);
  let s = 0;
  for (let i = 800; i < 16_800; i++) s += y[i]! * y[i]!;
  return Math.sqrt(s / 16_000);
}

/** Output level of a full-scale tone at `freq`, in dB relative to the output level of a 1 kHz tone. */
function gainDb(rate: number, freq: number): number {
  const level = (f: number) => steadyRms(inBlocks(new Linear16Resampler(rate), tone(f, rate, 1.1)));
  return 20 * Math.log10(level(freq) / level(1000));
}

function noise(n: number, seed = 1): Float32Array {
  const x = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1_103_515_245) + 12_345) >>> 0;
    x[i] = s / 2 ** 31 - 1;
  }
  return x;
}

const ALIAS_TONES = [8000, 8250, 8500, 9000, 10_000, 11_000, 12_000, 14_000, 16_000, 18_000, 20_000];

describe('Linear16Resampler: anti-alias filter', () => {
  for (const rate of [48_000, 44_100, 32_000, 22_050, 47_999]) {
    it(`rejects every tone from 8 kHz up by ≥ 80 dB at ${rate} Hz input`, () => {
      for (const f of ALIAS_TONES.filter((f) => f < rate / 2)) {
        const db = gainDb(rate, f);
        assert.ok(db <= -80, `${f} Hz at ${rate} Hz: ${db.toFixed(1)} dB`);
      }
    });
  }

  for (const rate of [48_000, 44_100]) {
    it(`keeps the passband flat within ±0.5 dB up to 7 kHz at ${rate} Hz input`, () => {
      for (const f of [50, 100, 300, 2000, 3000, 4000, 5000, 6000, 6500, 7000]) {
        const db = gainDb(rate, f);
        assert.ok(Math.abs(db) <= 0.5, `${f} Hz at ${rate} Hz: ${db.toFixed(3)} dB`);
      }
    });
  }

  it('has unit gain at DC on every output phase', () => {
    for (const rate of [48_000, 44_100, 47_999]) {
      const y = new Linear16Resampler(rate).process(new Float32Array(rate).fill(0.25));
      for (let i = 400; i < y.length; i++) assert.ok(Math.abs(y[i]! - 0.25) < 1e-6, `${rate} Hz, sample ${i}: ${y[i]}`);
    }
  });

  it('is a plain delay of latencySeconds for a band-limited signal', () => {
    const rate = 44_100;
    const r = new Linear16Resampler(rate);
    const y = inBlocks(r, tone(440, rate, 1.1));
    const lag = r.latencySeconds;
    assert.ok(lag > 0 && lag < 0.01, `latency ${lag}`);
    for (let n = 800; n < 16_800; n += 97) {
      const expected = Math.sin(2 * Math.PI * 440 * (n / OUTPUT_RATE - lag) + 0.7);
      assert.ok(Math.abs(y[n]! - expected) < 1e-3, `sample ${n}: ${y[n]} vs ${expected}`);
    }
  });
});

describe('Linear16Resampler: streaming', () => {
  for (const rate of [48_000, 44_100, 22_050, 47_999]) {
    it(`gives the same samples in blocks as in one call at ${rate} Hz`, () => {
      const x = noise(rate + 12_345);
      const whole = new Linear16Resampler(rate).process(x);
      assert.deepEqual(inBlocks(new Linear16Resampler(rate), x, 128), whole);
      const r = new Linear16Resampler(rate);
      const parts: Float32Array[] = [];
      const sizes = [1, 7, 128, 0, 5000, 3, 127, 9000];
      for (let i = 0, k = 0; i < x.length; k++) {
        const n = sizes[k % sizes.length]!;
        parts.push(r.process(x.subarray(i, i + n)));
        i += n;
      }
      assert.deepEqual(concat(parts), whole);
    });
  }

  for (const rate of [48_000, 44_100, 32_000, 22_050, 47_999, 96_000]) {
    it(`gives exactly ⌈N·16000/${rate}⌉ samples after every block for 20 s of input`, () => {
      const r = new Linear16Resampler(rate);
      const block = new Float32Array(128);
      let inCount = 0;
      let outCount = 0;
      for (let i = 0; i < rate * 20; i += 128) {
        outCount += r.process(block).length;
        inCount += 128;
        const expected = Math.ceil((inCount * OUTPUT_RATE) / rate);
        if (outCount !== expected) assert.fail(`after ${inCount} inputs: ${outCount} outputs, expected ${expected}`);
      }
      assert.equal(outCount, Math.ceil((inCount * OUTPUT_RATE) / rate));
    });
  }

  it('forgets its input on reset()', () => {
    const r = new Linear16Resampler(48_000);
    const x = noise(4800, 7);
    const first = r.process(x);
    r.process(noise(1000, 9));
    r.reset();
    assert.deepEqual(r.process(x), first);
  });

  it('passes 16 kHz input through unchanged, as a copy', () => {
    const r = new Linear16Resampler(16_000);
    const x = noise(1000);
    const y = r.process(x);
    assert.notEqual(y, x);
    assert.deepEqual(y, x);
    assert.equal(r.latencySeconds, 0);
  });

  it('uses the exact ratio in lowest terms', () => {
    const a = new Linear16Resampler(48_000);
    assert.deepEqual([a.up, a.down], [1, 3]);
    const b = new Linear16Resampler(44_100);
    assert.deepEqual([b.up, b.down], [160, 441]);
  });

  it('refuses rates below 16 kHz, fractional rates and nonsense designs', () => {
    assert.throws(() => new Linear16Resampler(8000), RangeError);
    assert.throws(() => new Linear16Resampler(44_100.5), RangeError);
    assert.throws(() => new Linear16Resampler(Number.NaN), RangeError);
    assert.throws(() => new Linear16Resampler(48_000, { stopbandHz: 9000 }), RangeError);
    assert.throws(() => new Linear16Resampler(48_000, { passbandHz: 8000, stopbandHz: 7000 }), RangeError);
  });
});

describe('PCM helpers', () => {
  it('downmix averages channels and returns a lone channel as it is', () => {
    const l = Float32Array.of(1, 0.5, -1);
    const r = Float32Array.of(0, 0.5, 1);
    assert.deepEqual(downmix([l, r]), Float32Array.of(0.5, 0.5, 0));
    assert.equal(downmix([l]), l);
    assert.equal(downmix([]).length, 0);
  });

  it('floatToInt16 scales, rounds to nearest and clamps', () => {
    const f = Float32Array.of(0, 0.5, -0.5, 1, -1, 1.5, -1.5, Number.NaN, 0.3 / 32768, 0.6 / 32768, -0.6 / 32768);
    assert.deepEqual(floatToInt16(f), Int16Array.of(0, 16384, -16384, 32767, -32768, 32767, -32768, 0, 0, 1, -1));
  });

  it('FrameAccumulator makes frames of 20–100 ms at 16 kHz', () => {
    assert.equal(new FrameAccumulator().frameSamples, 1600);
    assert.equal(new FrameAccumulator(20).frameSamples, 320);
    assert.equal(new FrameAccumulator(50).frameSamples, 800);
    assert.throws(() => new FrameAccumulator(10), RangeError);
    assert.throws(() => new FrameAccumulator(250), RangeError);

    const acc = new FrameAccumulator(20);
    const samples = Int16Array.from({ length: 1000 }, (_, i) => i - 500);
    const frames = [...acc.push(samples.subarray(0, 300)), ...acc.push(samples.subarray(300, 1000))];
    assert.deepEqual(
      frames.map((f) => f.byteLength),
      [640, 640, 640],
    );
    assert.equal(acc.pending, 40);
    // Frames handed out earlier are not overwritten by later pushes.
    assert.equal(new DataView(frames[0]!).getInt16(0, true), -500);
    assert.equal(new DataView(frames[2]!).getInt16(638, true), 459);
    const rest = acc.flush();
    assert.equal(rest?.byteLength, 80);
    assert.equal(new DataView(rest!).getInt16(0, true), 460);
    assert.equal(acc.flush(), null);
    acc.push(samples.subarray(0, 10));
    acc.reset();
    assert.equal(acc.flush(), null);
  });

  it('FrameAccumulator writes little-endian bytes', () => {
    const acc = new FrameAccumulator(20);
    const frames = acc.push(Int16Array.from({ length: 320 }, (_, i) => [0x1234, -2, 32767, -32768][i % 4]!));
    assert.equal(frames.length, 1);
    assert.deepEqual([...new Uint8Array(frames[0]!, 0, 8)], [0x34, 0x12, 0xfe, 0xff, 0xff, 0x7f, 0x00, 0x80]);
  });

  it('frameLevelDb gives RMS dBFS: −3 dB for a full-scale sine, −100 for silence', () => {
    const acc = new FrameAccumulator(100);
    const [frame] = acc.push(floatToInt16(tone(1000, 16_000, 0.1)));
    assert.ok(Math.abs(frameLevelDb(frame!) + 3.01) < 0.05, `${frameLevelDb(frame!)}`);
    const [quiet] = acc.push(floatToInt16(tone(1000, 16_000, 0.1).map((v) => v / 100)));
    assert.ok(Math.abs(frameLevelDb(quiet!) + 43.01) < 0.05, `${frameLevelDb(quiet!)}`);
    assert.equal(frameLevelDb(new ArrayBuffer(3200)), -100);
  });
});
