/// <reference types="mocha" />
// Microphone capture in real Chromium, from the built files (the dev server does not run the rollup
// plugin that bundles and emits the worklet). The browser's fake microphone loops
// test/.fixtures/mic.wav: espeak-ng speech at 48 kHz with 1.5 s of silence either side.
import { expect } from '@open-wc/testing';

type MicrophoneModule = typeof import('../../src/capture/microphone.js');
const BUILT = '/dist/npm/capture/microphone.js';
const { startMicrophone, MicrophoneError } = (await import(BUILT)) as MicrophoneModule;

const RATE = 16_000;

interface Capture {
  samples: Float32Array;
  frames: ArrayBuffer[];
  levels: number[];
  sampleRate: number;
  trackRate: number | undefined;
  contextSeconds: number;
}

/** Records `seconds` of the fake microphone. */
async function capture(seconds: number, options: Partial<Parameters<MicrophoneModule['startMicrophone']>[0]>): Promise<Capture> {
  const frames: ArrayBuffer[] = [];
  const levels: number[] = [];
  let have = 0;
  let done!: () => void;
  const enough = new Promise<void>((resolve) => (done = resolve));
  const mic = await startMicrophone({
    ...options,
    onFrame(frame) {
      frames.push(frame);
      have += frame.byteLength / 2;
      if (have >= seconds * RATE) done();
    },
    onLevel: (db) => levels.push(db),
  });
  const t0 = mic.context.currentTime;
  await enough;
  const contextSeconds = mic.context.currentTime - t0;
  const trackRate = mic.stream.getAudioTracks()[0]?.getSettings().sampleRate;
  await mic.stop();
  return { samples: framesToFloat(frames), frames, levels, sampleRate: mic.sampleRate, trackRate, contextSeconds };
}

/** Concatenates little-endian Int16 frames into floats. */
function framesToFloat(frames: ArrayBuffer[]): Float32Array {
  const out = new Float32Array(frames.reduce((n, f) => n + f.byteLength / 2, 0));
  let o = 0;
  for (const f of frames) {
    const view = new DataView(f);
    for (let i = 0; i < f.byteLength; i += 2) out[o++] = view.getInt16(i, true) / 32768;
  }
  return out;
}

/** The fixture, decoded from its WAV bytes (16-bit PCM, mono). */
async function loadWav(): Promise<{ rate: number; samples: Float32Array }> {
  const bytes = await (await fetch('/test/.fixtures/mic.wav')).arrayBuffer();
  const view = new DataView(bytes);
  const tag = (at: number) => String.fromCharCode(...new Uint8Array(bytes, at, 4));
  expect(tag(0) + tag(8)).to.equal('RIFFWAVE');
  let rate = 0;
  for (let at = 12; at + 8 <= bytes.byteLength; ) {
    const id = tag(at);
    const size = view.getUint32(at + 4, true);
    if (id === 'fmt ') {
      expect(view.getUint16(at + 8, true), 'PCM').to.equal(1);
      expect(view.getUint16(at + 10, true), 'channels').to.equal(1);
      expect(view.getUint16(at + 22, true), 'bits').to.equal(16);
      rate = view.getUint32(at + 12, true);
    } else if (id === 'data') {
      const samples = new Float32Array(size / 2);
      for (let i = 0; i < samples.length; i++) samples[i] = view.getInt16(at + 8 + i * 2, true) / 32768;
      return { rate, samples };
    }
    at += 8 + size + (size & 1);
  }
  throw new Error('mic.wav has no data chunk');
}

/**
 * The reference: an independent, long windowed-sinc resampler evaluated at any instant. Output k is
 * the band-limited (7.5 kHz, the capture filter's −6 dB point) value of x at input position
 * `start + k·rate/16000`, with a ±256-sample Kaiser window (β 12, ~110 dB) and no delay.
 */
function referenceResample(x: Float32Array, rate: number, start: number, n: number): Float32Array {
  const W = 256;
  const R = 256; // table points per input sample, interpolated linearly
  const s = (2 * 7500) / rate;
  const beta = 12;
  const i0 = (v: number) => {
    let sum = 1;
    let term = 1;
    for (let k = 1; k < 100; k++) {
      term *= (v * v) / 4 / (k * k);
      sum += term;
    }
    return sum;
  };
  const table = (referenceResample as { table?: Float64Array }).table ??= (() => {
    const t = new Float64Array(W * R + 2);
    for (let i = 0; i <= W * R; i++) {
      const u = i / R;
      const z = u / W;
      const sinc = u === 0 ? 1 : Math.sin(Math.PI * s * u) / (Math.PI * s * u);
      t[i] = s * sinc * (i0(beta * Math.sqrt(Math.max(0, 1 - z * z))) / i0(beta));
    }
    return t;
  })();
  const out = new Float32Array(n);
  const step = rate / RATE;
  for (let k = 0; k < n; k++) {
    const tau = start + k * step;
    const lo = Math.max(0, Math.ceil(tau - W));
    const hi = Math.min(x.length - 1, Math.floor(tau + W));
    let acc = 0;
    for (let j = lo; j <= hi; j++) {
      const p = Math.abs(tau - j) * R;
      const i = p | 0;
      acc += x[j]! * (table[i]! + (p - i) * (table[i + 1]! - table[i]!));
    }
    out[k] = acc;
  }
  return out;
}

/** In-place iterative radix-2 FFT (inverse when `inverse`, unscaled). */
function fft(re: Float64Array, im: Float64Array, inverse = false): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j]!, re[i]!];
      [im[i], im[j]] = [im[j]!, im[i]!];
    }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const ang = ((inverse ? 2 : -2) * Math.PI) / len;
    const wr = Math.cos(ang);
    const wi = Math.sin(ang);
    for (let i = 0; i < n; i += len) {
      let cr = 1;
      let ci = 0;
      for (let k = 0; k < len / 2; k++) {
        const a = i + k;
        const b = a + len / 2;
        const tr = re[b]! * cr - im[b]! * ci;
        const ti = re[b]! * ci + im[b]! * cr;
        re[b] = re[a]! - tr;
        im[b] = im[a]! - ti;
        re[a]! += tr;
        im[a]! += ti;
        [cr, ci] = [cr * wr - ci * wi, cr * wi + ci * wr];
      }
    }
  }
}

/** The lag in [0, maxLag) at which Σ c[n]·r[n + lag] peaks. */
function bestLag(c: Float32Array, r: Float32Array, maxLag: number): number {
  let n = 1;
  while (n < maxLag + c.length) n <<= 1;
  const ar = new Float64Array(n);
  const ai = new Float64Array(n);
  const br = new Float64Array(n);
  const bi = new Float64Array(n);
  ar.set(r.subarray(0, Math.min(r.length, n)));
  br.set(c);
  fft(ar, ai);
  fft(br, bi);
  for (let i = 0; i < n; i++) {
    // R · conj(C)
    const xr = ar[i]! * br[i]! + ai[i]! * bi[i]!;
    const xi = ai[i]! * br[i]! - ar[i]! * bi[i]!;
    ar[i] = xr;
    ai[i] = xi;
  }
  fft(ar, ai, true);
  let best = 0;
  for (let lag = 1; lag < maxLag; lag++) if (ar[lag]! > ar[best]!) best = lag;
  return best;
}

/** Signal-to-noise ratio of `c` against `ref` in dB, with unit gain and with the least-squares gain. */
function snr(c: Float32Array, ref: Float32Array): { unit: number; fitted: number; gainDb: number } {
  let cc = 0;
  let rr = 0;
  let cr = 0;
  let diff = 0;
  for (let i = 0; i < c.length; i++) {
    cc += c[i]! * c[i]!;
    rr += ref[i]! * ref[i]!;
    cr += c[i]! * ref[i]!;
    diff += (c[i]! - ref[i]!) ** 2;
  }
  const g = cr / rr;
  return { unit: 10 * Math.log10(rr / diff), fitted: 10 * Math.log10((g * g * rr) / (cc - g * cr)), gainDb: 20 * Math.log10(g) };
}

/** The `x` in [a, b] where `f` peaks (golden-section search; `f` unimodal there). */
function argmax(f: (x: number) => number, a: number, b: number, tolerance: number): number {
  const phi = (Math.sqrt(5) - 1) / 2;
  let x1 = b - phi * (b - a);
  let x2 = a + phi * (b - a);
  let f1 = f(x1);
  let f2 = f(x2);
  while (b - a > tolerance) {
    if (f1 > f2) {
      [b, x2, f2] = [x2, x1, f1];
      x1 = b - phi * (b - a);
      f1 = f(x1);
    } else {
      [a, x1, f1] = [x1, x2, f2];
      x2 = a + phi * (b - a);
      f2 = f(x2);
    }
  }
  return (a + b) / 2;
}

interface Segment {
  /** Start in the capture, s. */
  at: number;
  /** Shift from the whole capture's alignment, in 16 kHz samples (non-zero after a dropout). */
  slip: number;
  /** The two halves of the segment align at different shifts: audio was dropped or repeated inside it. */
  glitch: boolean;
  /** Energy of the reference and of the difference (capture − reference, unit gain). */
  signal: number;
  noise: number;
}

/**
 * Compares the capture with the reference resampling of the looping fixture, in quarter-second
 * segments of speech. The fake microphone starts the file at an unknown point and the clocks meet at
 * an unknown sub-sample offset, so: integer lag of the whole capture by FFT cross-correlation; then,
 * per segment, the integer lag again within ±25 ms and the sub-sample offset by golden-section search.
 * On a loaded machine Chromium's audio path now and then drops or repeats a few ms (seen here: a
 * segment suddenly off by tens of samples); a segment whose halves align at different lags holds such
 * a discontinuity and is reported, not scored. Everything here is independent of the code under test.
 */
async function measureAgainstFixture(samples: Float32Array): Promise<Segment[]> {
  const wav = await loadWav();
  expect(wav.rate).to.equal(48_000);
  const loops = 4;
  const looped = new Float32Array(wav.samples.length * loops);
  for (let i = 0; i < loops; i++) looped.set(wav.samples, i * wav.samples.length);
  const period = Math.ceil((wav.samples.length * RATE) / wav.rate); // 16 kHz samples per loop of the file
  const SEG = RATE / 4;
  const SLIP = 400;
  // The reference on the 16 kHz grid from one loop in: c[n] ≈ r0[lag + n].
  const r0 = referenceResample(looped, wav.rate, wav.samples.length, period + samples.length + SLIP);
  const lag = bestLag(samples, r0, period);
  /** The shift within ±SLIP that best aligns c with r0 from `base` (normalised correlation). */
  const slipOf = (c: Float32Array, base: number) => {
    let slip = 0;
    let best = -Infinity;
    for (let d = Math.max(-SLIP, -base); d <= SLIP; d++) {
      let v = 0;
      let e = 0;
      for (let k = 0; k < c.length; k++) {
        v += c[k]! * r0[base + d + k]!;
        e += r0[base + d + k]! ** 2;
      }
      v /= Math.sqrt(e) || 1; // normalised, or louder stretches nearby would win
      if (v > best) [best, slip] = [v, d];
    }
    return slip;
  };
  const segments: Segment[] = [];
  for (let at = 0; at + SEG <= samples.length; at += SEG) {
    const c = samples.subarray(at, at + SEG);
    const base = lag + at;
    let energy = 0;
    for (let k = 0; k < SEG; k++) energy += r0[base + k]! ** 2;
    if (10 * Math.log10(energy / SEG) < -45) continue; // the fixture's silent pads
    const slip = slipOf(c.subarray(0, SEG / 2), base);
    const glitch = slipOf(c.subarray(SEG / 2), base + SEG / 2) !== slip;
    const ref = (eps: number) => referenceResample(looped, wav.rate, wav.samples.length + ((base + slip + eps) * wav.rate) / RATE, SEG);
    const r = ref(argmax((e) => snr(c, ref(e)).fitted, -1.5, 1.5, 0.002));
    let signal = 0;
    let noise = 0;
    for (let k = 0; k < SEG; k++) {
      signal += r[k]! ** 2;
      noise += (c[k]! - r[k]!) ** 2;
    }
    segments.push({ at: at / RATE, slip, glitch, signal, noise });
  }
  return segments;
}

describe('microphone capture (built dist/npm/capture)', () => {
  for (const contextRate of [48_000, 44_100]) {
    it(`delivers the fake microphone's speech at 16 kHz from a ${contextRate} Hz AudioContext, SNR ≥ 30 dB`, async () => {
      // Echo cancellation, noise suppression and AGC are adaptive, non-linear processing that
      // change the waveform on purpose; with them on this would measure Chromium's DSP, not ours.
      const frameMs = contextRate === 48_000 ? 100 : 50;
      // Where the microphone is the file player of test/support/engine-microphone.ts (Firefox, WebKit),
      // it plays at this rate: one clock from the source to the worklet, as in Chromium.
      const player = (globalThis as { fileMicrophone?: { sampleRate: number | undefined } }).fileMicrophone;
      const db = (x: Segment[]) => 10 * Math.log10(x.reduce((a, g) => a + g.signal, 0) / x.reduce((a, g) => a + g.noise, 0));
      // The engine's path from the microphone to the AudioContext may drop or repeat audio now and
      // then (Chromium under load). A capture that lost more than the measure tolerates is taken
      // again, up to 3 times: a fault of ours would recur in every one. WebKitGTK's MediaStream to
      // Web Audio transport drops or repeats whole 128-frame blocks, in about half its captures here,
      // 1 to 5 times in 5 s and anywhere in them (seen as slips in multiples of 46 samples): there the
      // measure asks for 5 speech segments at ≥ 30 dB each, however many others had a dropout.
      const webkit = /AppleWebKit/.test(navigator.userAgent) && !/Chrome|Firefox/.test(navigator.userAgent);
      const good = (x: Segment[]) => x.filter((g) => db([g]) >= 30).length;
      let got!: Capture;
      let segments: Segment[] = [];
      let clean: Segment[] = [];
      const enough = () =>
        webkit ? good(clean) >= 5 : segments.length >= 6 && segments.length - clean.length <= 2 && clean.length >= 5 && db(clean) >= 30;
      for (let attempt = 1; attempt <= 3; attempt++) {
        if (player) player.sampleRate = contextRate;
        got = await capture(5.3, { contextSampleRate: contextRate, audioProcessing: false, frameMs }).finally(() => {
          if (player) player.sampleRate = undefined;
        });
        expect(got.sampleRate).to.equal(contextRate);

        // Frames: all full (frameMs at 16 kHz, 16-bit), and as many samples as the context's time.
        for (const f of got.frames) expect(f.byteLength).to.equal((frameMs * RATE * 2) / 1000);
        const expected = got.contextSeconds * RATE;
        expect(got.samples.length, `samples vs context time ${got.contextSeconds.toFixed(3)} s`).to.be.within(
          expected - 0.25 * RATE,
          expected + 0.25 * RATE,
        );

        const skip = 0.3 * RATE; // the pipeline's startup
        segments = await measureAgainstFixture(got.samples.subarray(skip));
        clean = segments.filter((x) => !x.glitch);
        const each = clean.map((x) => db([x])).sort((a, b) => a - b);
        console.log(
          `capture at ${contextRate} Hz (track ${got.trackRate} Hz), attempt ${attempt}: SNR ${db(clean).toFixed(1)} dB over ${clean.length} ` +
            `speech segments of 0.25 s (each ${each[0]?.toFixed(1)}…${each.at(-1)?.toFixed(1)} dB); ` +
            `dropouts in segments at [${segments.filter((x) => x.glitch).map((x) => `${x.at} s`)}]; ` +
            `slips ${segments.map((x) => x.slip).join(' ')}`,
        );
        if (enough()) break;
      }
      if (webkit) {
        expect(good(clean), 'speech segments without a dropout at ≥ 30 dB').to.be.at.least(5);
      } else {
        // The capture is 5 s after startup and the fixture's longest silence 3 s: ≥ 2 s of it is speech.
        expect(segments.length, 'speech segments').to.be.at.least(6);
        expect(segments.length - clean.length, 'segments with a dropout (ours would recur)').to.be.at.most(2);
        expect(clean.length, 'speech segments without a dropout').to.be.at.least(5);
        expect(db(clean), 'SNR at unit gain, dB').to.be.at.least(30);
      }

      // The meter hears the speech and the silence around it (the fixture's pads are digital zero).
      const max = Math.max(...got.levels);
      const min = Math.min(...got.levels);
      expect(max, 'loudest frame, dBFS').to.be.above(-30);
      expect(min, 'quietest frame, dBFS').to.be.below(-60);
      expect(got.levels.length).to.equal(got.frames.length);
    });
  }

  it('works with the browser audio processing on (the default): 20 ms frames, level, mute, flush, stop', async () => {
    const frames: ArrayBuffer[] = [];
    const levels: number[] = [];
    const mic = await startMicrophone({ frameMs: 20, onFrame: (f) => frames.push(f), onLevel: (db) => levels.push(db) });
    expect(mic.sampleRate).to.be.at.least(16_000);
    const until = async (ok: () => boolean, ms: number) => {
      const end = performance.now() + ms;
      while (!ok() && performance.now() < end) await new Promise((r) => setTimeout(r, 20));
    };
    // 3.5 s: any stretch that long of the looping fixture holds speech.
    await until(() => frames.length >= 175, 10_000);
    expect(frames.length).to.be.at.least(175);
    for (const f of frames) expect(f.byteLength).to.equal(640);
    expect(Math.max(...levels), 'loudest frame, dBFS').to.be.above(-40);

    await mic.flush();
    const partial = frames.at(-1)!.byteLength;
    expect(partial).to.be.within(2, 640);

    mic.mute(true);
    expect(mic.muted).to.equal(true);
    expect(mic.stream.getAudioTracks()[0]!.enabled).to.equal(false);
    await mic.flush();
    const whenMuted = frames.length;
    expect(levels.at(-1), 'meter drops on mute').to.equal(-100);
    await new Promise((r) => setTimeout(r, 300));
    expect(frames.length, 'no frames while muted').to.equal(whenMuted);
    mic.mute(false);
    await until(() => frames.length >= whenMuted + 10, 5000);
    expect(frames.length, 'frames again after unmute').to.be.at.least(whenMuted + 10);

    await mic.stop();
    expect(mic.context.state).to.equal('closed');
    expect(mic.stream.getTracks().every((t) => t.readyState === 'ended')).to.equal(true);
    const afterStop = frames.length;
    await mic.flush();
    await new Promise((r) => setTimeout(r, 100));
    expect(frames.length).to.equal(afterStop);
  });

  it('stops when its AbortSignal fires, and refuses to start on an aborted one', async () => {
    const ac = new AbortController();
    const mic = await startMicrophone({ signal: ac.signal, onFrame: () => {} });
    ac.abort();
    await new Promise((r) => setTimeout(r, 100));
    expect(mic.context.state).to.equal('closed');
    expect(mic.stream.getTracks()[0]!.readyState).to.equal('ended');

    const err = await startMicrophone({ signal: AbortSignal.abort(), onFrame: () => {} }).catch((e: unknown) => e);
    expect((err as Error).name).to.equal('AbortError');
  });

  describe('errors', () => {
    const real = navigator.mediaDevices.getUserMedia;
    let streams: MediaStream[] = [];
    afterEach(() => {
      navigator.mediaDevices.getUserMedia = real;
      streams = [];
    });
    const failWith = (name: string) => {
      navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('no', name));
    };
    const startError = async (options: Partial<Parameters<MicrophoneModule['startMicrophone']>[0]> = {}) => {
      const e = await startMicrophone({ onFrame: () => {}, ...options }).then(
        () => expect.fail('startMicrophone resolved'),
        (error: unknown) => error,
      );
      expect(e).to.be.instanceOf(MicrophoneError);
      return e as InstanceType<MicrophoneModule['MicrophoneError']>;
    };

    it('a refused permission is a MicrophoneError with reason "denied"', async () => {
      failWith('NotAllowedError');
      expect((await startError()).reason).to.equal('denied');
    });

    it('no microphone is reason "not-found"', async () => {
      failWith('NotFoundError');
      expect((await startError()).reason).to.equal('not-found');
    });

    it('a worklet that cannot load is reason "failed", and the microphone is released', async () => {
      navigator.mediaDevices.getUserMedia = async (c) => {
        const s = await real.call(navigator.mediaDevices, c);
        streams.push(s);
        return s;
      };
      const e = await startError({ workletUrl: '/dist/npm/capture/no-such-worklet.js' });
      expect(e.reason).to.equal('failed');
      expect(streams).to.have.length(1);
      expect(streams[0]!.getTracks()[0]!.readyState).to.equal('ended');
    });

    it('frameMs outside 20–100 is a RangeError', async () => {
      const e = await startMicrophone({ frameMs: 10, onFrame: () => {} }).catch((error: unknown) => error);
      expect(e).to.be.instanceOf(RangeError);
    });
  });

  it('the emitted worklet file is self-contained (no imports) and registers the processor', async () => {
    const text = await (await fetch('/dist/npm/capture/capture-worklet.js')).text();
    expect(text).to.match(/registerProcessor\(['"]heygen-avatar-capture['"]/);
    expect(text).not.to.match(/^\s*(import|export)\b/m);
  });
});
