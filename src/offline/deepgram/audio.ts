// Audio plumbing of the Deepgram stand-in: linear16 frames off the socket → mono float samples →
// 16 kHz for the speech detector and the recogniser.

/** The sample rate the speech detector and the recogniser work at. */
export const RECOGNIZER_SAMPLE_RATE = 16_000;

/**
 * Decodes Deepgram `linear16` (signed 16-bit little-endian PCM, channels interleaved) into mono
 * float samples in [-1, 1), averaging the channels. WebSocket frames need not hold whole sample
 * frames: a partial one is kept for the next chunk.
 */
export class Linear16Decoder {
  readonly #channels: number;
  readonly #frameBytes: number;
  #carry: Buffer = Buffer.alloc(0);
  #frames = 0;

  constructor(channels: number) {
    if (!Number.isInteger(channels) || channels < 1) throw new RangeError(`channels must be a positive integer, got ${channels}`);
    this.#channels = channels;
    this.#frameBytes = 2 * channels;
  }

  /** Sample frames (one sample per channel) decoded so far. */
  get frames(): number {
    return this.#frames;
  }

  decode(chunk: Buffer): Float32Array {
    const bytes = this.#carry.length ? Buffer.concat([this.#carry, chunk]) : chunk;
    const count = Math.floor(bytes.length / this.#frameBytes);
    const out = new Float32Array(count);
    const scale = 1 / (32768 * this.#channels);
    for (let i = 0, offset = 0; i < count; i++) {
      let sum = 0;
      for (let c = 0; c < this.#channels; c++, offset += 2) sum += bytes.readInt16LE(offset);
      out[i] = sum * scale;
    }
    this.#carry = Buffer.from(bytes.subarray(count * this.#frameBytes));
    this.#frames += count;
    return out;
  }
}

/** Taps of the windowed-sinc kernel on each side, counted in zero crossings of the sinc. */
const KERNEL_ZERO_CROSSINGS = 16;
/** Kernel table resolution: values per zero crossing (linearly interpolated between). */
const KERNEL_TABLE_STEPS = 512;
/** The pass band ends this far below the lower Nyquist frequency, leaving room for the transition band. */
const PASS_BAND = 0.92;

/**
 * Streaming sample-rate converter with a Blackman-windowed sinc low-pass (about 70 dB of stop-band
 * rejection): any input rate to any output rate, fed in chunks of any size. Output sample k is
 * input position k · inRate / outRate, so after `flush()` exactly floor(n · outRate / inRate)
 * samples have come out for n samples in.
 */
export class Resampler {
  readonly #step: number;
  readonly #cutoff: number;
  readonly #halfWidth: number;
  readonly #table: Float32Array;
  #buffer = new Float32Array(4096);
  /** Absolute input index of #buffer[0]. */
  #bufferStart = 0;
  /** Input samples received so far. */
  #received = 0;
  /** Absolute index of the next output sample. */
  #next = 0;

  constructor(
    readonly inputRate: number,
    readonly outputRate: number,
  ) {
    if (!(inputRate > 0) || !(outputRate > 0)) throw new RangeError('sample rates must be positive');
    this.#step = inputRate / outputRate;
    // Cutoff relative to the input Nyquist frequency: below the output Nyquist when downsampling.
    this.#cutoff = Math.min(1, outputRate / inputRate) * PASS_BAND;
    this.#halfWidth = Math.ceil(KERNEL_ZERO_CROSSINGS / this.#cutoff);
    this.#table = new Float32Array(KERNEL_ZERO_CROSSINGS * KERNEL_TABLE_STEPS + 2);
    for (let i = 0; i < this.#table.length; i++) {
      const x = i / KERNEL_TABLE_STEPS; // in zero crossings
      const u = Math.min(1, x / KERNEL_ZERO_CROSSINGS);
      const window = 0.42 + 0.5 * Math.cos(Math.PI * u) + 0.08 * Math.cos(2 * Math.PI * u);
      const sinc = x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
      this.#table[i] = sinc * window * this.#cutoff;
    }
  }

  /** Adds input samples; returns every output sample that can now be computed. */
  push(input: Float32Array): Float32Array {
    this.#append(input);
    return this.#produce(this.#received);
  }

  /** Ends the stream (push no more after it): returns the remaining output samples, zero-padding the input. */
  flush(): Float32Array {
    const outputTotal = Math.floor((this.#received * this.outputRate) / this.inputRate);
    this.#append(new Float32Array(this.#halfWidth + 1));
    return this.#produce(this.#received, outputTotal);
  }

  #append(input: Float32Array): void {
    const used = this.#received - this.#bufferStart;
    if (used + input.length > this.#buffer.length) {
      // Drop the input no future output needs, then grow if that is not enough.
      const keepFrom = Math.max(0, Math.floor(this.#next * this.#step) - this.#halfWidth - this.#bufferStart);
      const kept = this.#buffer.subarray(keepFrom, used);
      const size = Math.max(this.#buffer.length, 2 ** Math.ceil(Math.log2(kept.length + input.length)));
      const next = new Float32Array(size);
      next.set(kept);
      this.#buffer = next;
      this.#bufferStart += keepFrom;
    }
    this.#buffer.set(input, this.#received - this.#bufferStart);
    this.#received += input.length;
  }

  #produce(available: number, limit = Infinity): Float32Array {
    const out: number[] = [];
    const tableScale = this.#cutoff * KERNEL_TABLE_STEPS;
    for (;;) {
      if (this.#next >= limit) break;
      const t = this.#next * this.#step;
      const center = Math.floor(t);
      if (center + this.#halfWidth >= available) break;
      let sum = 0;
      for (let n = center - this.#halfWidth + 1; n <= center + this.#halfWidth; n++) {
        if (n < 0) continue;
        const pos = Math.abs(t - n) * tableScale;
        const i = Math.floor(pos);
        if (i + 1 >= this.#table.length) continue;
        const h = this.#table[i] + (this.#table[i + 1] - this.#table[i]) * (pos - i);
        sum += this.#buffer[n - this.#bufferStart] * h;
      }
      out.push(sum);
      this.#next++;
    }
    return Float32Array.from(out);
  }
}

/** Converts float samples to 16-bit PCM, clipping. */
export function toInt16(samples: Float32Array): Int16Array {
  const out = new Int16Array(samples.length);
  for (let i = 0; i < samples.length; i++) {
    const v = Math.round(samples[i] * 32768);
    out[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
  }
  return out;
}

/**
 * The recent 16-bit samples of a stream, addressed by absolute sample index, so a speech segment
 * (and the pre-roll before it) can be cut out once its end is known.
 */
export class PcmHistory {
  #samples = new Int16Array(16_000);
  /** Absolute index of #samples[0]. */
  #start = 0;
  #length = 0;

  /** Absolute index one past the last sample. */
  get end(): number {
    return this.#start + this.#length;
  }

  /** Absolute index of the oldest sample kept. */
  get start(): number {
    return this.#start;
  }

  append(samples: Int16Array): void {
    if (this.#length + samples.length > this.#samples.length) {
      const grown = new Int16Array(2 ** Math.ceil(Math.log2(this.#length + samples.length)));
      grown.set(this.#samples.subarray(0, this.#length));
      this.#samples = grown;
    }
    this.#samples.set(samples, this.#length);
    this.#length += samples.length;
  }

  /** A copy of the samples in [from, to), clamped to what is kept. */
  slice(from: number, to: number): Int16Array {
    const a = Math.max(from, this.#start) - this.#start;
    const b = Math.min(to, this.end) - this.#start;
    return this.#samples.slice(a, Math.max(a, b));
  }

  /** Forgets the samples before absolute index `index`. */
  discardBefore(index: number): void {
    const drop = Math.min(Math.max(0, index - this.#start), this.#length);
    if (!drop) return;
    this.#samples.copyWithin(0, drop, this.#length);
    this.#start += drop;
    this.#length -= drop;
  }
}
