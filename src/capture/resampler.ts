// Microphone audio → Deepgram's "linear16": mono, 16 kHz, signed 16-bit little-endian PCM.
// DOM-free, so it runs in the AudioWorkletGlobalScope, in Node for the unit tests and in benchmarks.

/** The sample rate Deepgram is sent: 16 kHz. */
export const OUTPUT_RATE = 16_000;

/** Filter design of a {@link Linear16Resampler}. The defaults suit speech recognition. */
export interface ResamplerDesign {
  /** Highest frequency passed unchanged, in Hz. Default 7000. */
  passbandHz?: number;
  /** Lowest frequency rejected by `attenuationDb`, in Hz; at most 8000 so nothing folds back. Default 8000. */
  stopbandHz?: number;
  /** Stopband rejection the Kaiser window is designed for, in dB. Default 90. */
  attenuationDb?: number;
}

/** Rates whose numerator L (16000 / gcd) is at most this get one exact phase table per output phase. */
const MAX_EXACT_PHASES = 512;
/** Otherwise the kernel is tabulated at this many phases per input sample and interpolated linearly. */
const INTERPOLATED_PHASES = 256;
/** Input is taken in slices of at most this many samples, so the working buffer stays small. */
const SLICE = 4096;

/**
 * Converts mono Float32 audio at `inputRate` (any integer rate ≥ 16000: 48000, 44100, 32000, 22050…)
 * to 16 kHz with a polyphase windowed-sinc (Kaiser) low-pass filter.
 *
 * The ratio is kept as the exact fraction L/M = 16000/inputRate in lowest terms (1/3 for 48 kHz,
 * 160/441 for 44.1 kHz), and the position of each output sample is tracked in integers, so
 * N input samples always give exactly ⌈N·16000/inputRate⌉ outputs: no drift, however long it runs.
 * The filter state is kept across calls: feeding 128-sample blocks gives the same output, sample for
 * sample, as one call with everything. At 16 kHz input, samples pass through unchanged.
 */
export class Linear16Resampler {
  /** The input rate, in Hz. */
  readonly inputRate: number;
  /** Upsampling factor L of the ratio L/M. */
  readonly up: number;
  /** Downsampling factor M of the ratio L/M. */
  readonly down: number;
  /** Filter taps applied per output sample (0 when passing through). */
  readonly taps: number;
  /** How far the output lags the input, in seconds (the filter's group delay). */
  readonly latencySeconds: number;

  readonly #passthrough: boolean;
  /** Phase rows: row r holds the K taps for fractional position r / #phases, oldest sample first. */
  readonly #table: Float32Array;
  readonly #phases: number;
  readonly #exact: boolean;
  /** The last K−1 input samples followed by new input. */
  readonly #buf: Float32Array;
  #len = 0;
  /** Index in #buf of the newest input sample the next output needs. */
  #idx = 0;
  /** Sub-sample position of the next output, in units of 1/L of an input sample (0 ≤ #phase < L). */
  #phase = 0;

  constructor(inputRate: number, design: ResamplerDesign = {}) {
    const rate = Math.round(inputRate);
    if (!Number.isFinite(inputRate) || Math.abs(rate - inputRate) > 1e-6 || rate < OUTPUT_RATE) {
      throw new RangeError(`Linear16Resampler: input rate must be an integer ≥ ${OUTPUT_RATE} Hz, got ${inputRate}`);
    }
    this.inputRate = rate;
    const g = gcd(OUTPUT_RATE, rate);
    this.up = OUTPUT_RATE / g;
    this.down = rate / g;
    this.#passthrough = rate === OUTPUT_RATE;
    if (this.#passthrough) {
      this.taps = 0;
      this.latencySeconds = 0;
      this.#table = new Float32Array(0);
      this.#phases = 1;
      this.#exact = true;
      this.#buf = new Float32Array(0);
      return;
    }

    const pass = design.passbandHz ?? 7000;
    const stop = design.stopbandHz ?? 8000;
    const atten = design.attenuationDb ?? 90;
    if (!(pass > 0 && pass < stop && stop <= OUTPUT_RATE / 2 && atten > 21)) {
      throw new RangeError('Linear16Resampler: need 0 < passbandHz < stopbandHz ≤ 8000 and attenuationDb > 21');
    }
    // Kaiser's estimates: length for the transition width, β for the attenuation.
    const transition = (2 * Math.PI * (stop - pass)) / rate;
    const K = Math.ceil((atten - 7.95) / (2.285 * transition)) + 1;
    const beta = atten > 50 ? 0.1102 * (atten - 8.7) : 0.5842 * (atten - 21) ** 0.4 + 0.07886 * (atten - 21);
    const s = (pass + stop) / rate; // 2·cutoff / inputRate
    const centre = K / 2;
    const i0Beta = besselI0(beta);

    this.taps = K;
    this.latencySeconds = centre / rate;
    this.#exact = this.up <= MAX_EXACT_PHASES;
    this.#phases = this.#exact ? this.up : INTERPOLATED_PHASES;
    const rows = this.#exact ? this.#phases : this.#phases + 1;
    this.#table = new Float32Array(rows * K);
    const row = new Float64Array(K);
    for (let r = 0; r < rows; r++) {
      // Output at fractional position φ after the newest sample x[i] weighs x[i−k] by g(φ + k).
      const phi = r / this.#phases;
      let sum = 0;
      for (let k = 0; k < K; k++) {
        const u = phi + k - centre;
        const z = u / centre;
        const w = Math.abs(z) >= 1 ? 0 : besselI0(beta * Math.sqrt(1 - z * z)) / i0Beta;
        const v = s * sinc(s * u) * w;
        row[K - 1 - k] = v;
        sum += v;
      }
      // Every phase gets exactly unit gain at DC, so a constant input gives a constant output.
      for (let j = 0; j < K; j++) this.#table[r * K + j] = row[j]! / sum;
    }
    this.#buf = new Float32Array(K - 1 + SLICE);
    this.reset();
  }

  /** Forgets all input: the next call starts from silence. */
  reset(): void {
    if (this.#passthrough) return;
    this.#buf.fill(0);
    this.#len = this.taps - 1;
    this.#idx = this.taps - 1;
    this.#phase = 0;
  }

  /** Feeds mono samples at the input rate; returns the 16 kHz samples they complete. */
  process(input: Float32Array): Float32Array {
    if (this.#passthrough) return input.slice();
    const out = new Float32Array(Math.ceil(((this.#len - this.#idx + input.length) * this.up) / this.down) + 1);
    let o = 0;
    for (let from = 0; from < input.length; from += SLICE) {
      const slice = input.subarray(from, Math.min(from + SLICE, input.length));
      this.#buf.set(slice, this.#len);
      this.#len += slice.length;
      o = this.#run(out, o);
      // Keep the K−1 samples before the next output's newest sample.
      const drop = Math.min(this.#idx - (this.taps - 1), this.#len);
      if (drop > 0) {
        this.#buf.copyWithin(0, drop, this.#len);
        this.#len -= drop;
        this.#idx -= drop;
      }
    }
    return out.subarray(0, o);
  }

  #run(out: Float32Array, o: number): number {
    const K = this.taps;
    const L = this.up;
    const stepIdx = Math.floor(this.down / L);
    const stepPhase = this.down % L;
    const buf = this.#buf;
    const table = this.#table;
    const len = this.#len;
    let idx = this.#idx;
    let phase = this.#phase;
    while (idx < len) {
      const start = idx - (K - 1);
      if (this.#exact) {
        out[o++] = dot(buf, start, table, phase * K, K);
      } else {
        const pos = (phase * this.#phases) / L;
        const r = Math.floor(pos);
        const a = pos - r;
        const y0 = dot(buf, start, table, r * K, K);
        const y1 = dot(buf, start, table, (r + 1) * K, K);
        out[o++] = y0 + a * (y1 - y0);
      }
      phase += stepPhase;
      idx += stepIdx;
      if (phase >= L) {
        phase -= L;
        idx++;
      }
    }
    this.#idx = idx;
    this.#phase = phase;
    return o;
  }
}

function dot(x: Float32Array, xi: number, h: Float32Array, hi: number, n: number): number {
  let a0 = 0;
  let a1 = 0;
  let a2 = 0;
  let a3 = 0;
  let k = 0;
  for (; k + 3 < n; k += 4) {
    a0 += x[xi + k]! * h[hi + k]!;
    a1 += x[xi + k + 1]! * h[hi + k + 1]!;
    a2 += x[xi + k + 2]! * h[hi + k + 2]!;
    a3 += x[xi + k + 3]! * h[hi + k + 3]!;
  }
  for (; k < n; k++) a0 += x[xi + k]! * h[hi + k]!;
  return a0 + a1 + a2 + a3;
}

function sinc(x: number): number {
  if (x === 0) return 1;
  const px = Math.PI * x;
  return Math.sin(px) / px;
}

/** Modified Bessel function of the first kind, order 0 (power series). */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const q = (x * x) / 4;
  for (let k = 1; k < 200; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/**
 * Mixes channels down to mono by averaging them. A single channel is returned as it is (not copied);
 * no channels give an empty array.
 */
export function downmix(channels: readonly Float32Array[]): Float32Array {
  if (channels.length === 0) return new Float32Array(0);
  if (channels.length === 1) return channels[0]!;
  const n = Math.min(...channels.map((c) => c.length));
  const out = new Float32Array(n);
  for (const c of channels) for (let i = 0; i < n; i++) out[i]! += c[i]!;
  const scale = 1 / channels.length;
  for (let i = 0; i < n; i++) out[i]! *= scale;
  return out;
}

/**
 * Float samples (−1…1) → signed 16-bit, rounded to nearest, clamped to −32768…32767 (NaN → 0).
 * The result is in platform byte order; {@link FrameAccumulator} writes little-endian bytes.
 */
export function floatToInt16(f: Float32Array): Int16Array {
  const out = new Int16Array(f.length);
  for (let i = 0; i < f.length; i++) {
    const v = Math.round(f[i]! * 32768);
    out[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v || 0;
  }
  return out;
}

/**
 * Gathers 16-bit samples into frames of `frameMs` (20–100 ms; default 100 ms = 1600 samples at 16 kHz)
 * and hands each complete frame out as a little-endian ArrayBuffer (explicitly LE, whatever the host's
 * byte order), ready to send on a WebSocket or to transfer with postMessage.
 */
export class FrameAccumulator {
  /** Samples per frame. */
  readonly frameSamples: number;
  #view: DataView;
  #fill = 0;

  constructor(frameMs = 100, sampleRate = OUTPUT_RATE) {
    if (!(frameMs >= 20 && frameMs <= 100)) throw new RangeError(`FrameAccumulator: frameMs must be 20–100, got ${frameMs}`);
    this.frameSamples = Math.round((frameMs * sampleRate) / 1000);
    this.#view = new DataView(new ArrayBuffer(this.frameSamples * 2));
  }

  /** Samples waiting for the current frame to complete. */
  get pending(): number {
    return this.#fill;
  }

  /** Adds samples; returns the frames they complete (often none), oldest first. */
  push(samples: Int16Array): ArrayBuffer[] {
    const frames: ArrayBuffer[] = [];
    for (let i = 0; i < samples.length; i++) {
      this.#view.setInt16(this.#fill * 2, samples[i]!, true);
      if (++this.#fill === this.frameSamples) frames.push(this.#take());
    }
    return frames;
  }

  /** Hands out the partial frame (shorter than a full one), or null when nothing is pending. */
  flush(): ArrayBuffer | null {
    return this.#fill === 0 ? null : this.#take();
  }

  /** Drops the partial frame. */
  reset(): void {
    this.#fill = 0;
  }

  #take(): ArrayBuffer {
    const full = this.#view.buffer as ArrayBuffer;
    const frame = this.#fill === this.frameSamples ? full : full.slice(0, this.#fill * 2);
    if (frame === full) this.#view = new DataView(new ArrayBuffer(this.frameSamples * 2));
    this.#fill = 0;
    return frame;
  }
}

/**
 * RMS level of a little-endian 16-bit frame in dBFS (0 dBFS is a square wave at full scale; a
 * full-scale sine is −3 dBFS), floored at −100 so silence stays a finite number for meters.
 */
export function frameLevelDb(frame: ArrayBuffer): number {
  const view = new DataView(frame);
  const n = frame.byteLength >> 1;
  if (n === 0) return -100;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const v = view.getInt16(i * 2, true) / 32768;
    sum += v * v;
  }
  return Math.max(-100, 10 * Math.log10(sum / n));
}
