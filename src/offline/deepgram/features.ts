// Acoustic features for the stand-in's phrase matcher: MFCCs (25 ms frames every 10 ms, 26 mel
// bands, cepstra 1–12) with their deltas, silent frames dropped, mean and variance normalised per
// utterance. Normalising per utterance takes out what differs between two renderings of the same
// words (level, channel colour, the Opus round trip); dropping silence takes out pauses, so a comma
// spoken as a pause still matches the same words spoken without one.

const SAMPLE_RATE = 16_000;
const FRAME = 400;
/** Samples between frame starts (10 ms). */
const HOP = 160;
const FFT_SIZE = 512;
const MEL_BANDS = 26;
const CEPSTRA = 12;
const LOW_HZ = 100;
const HIGH_HZ = 7000;
/** Frames more than this far below the loudest frame are silence. */
const SILENCE_BELOW_PEAK_DB = 35;
/** …and frames below this absolute level (dBFS) always are. */
const SILENCE_FLOOR_DBFS = -55;

/** Per-frame feature vectors of one utterance's voiced frames. */
export interface Features {
  /** `frames × dims` values, row-major. */
  data: Float32Array;
  frames: number;
  dims: number;
  /** For each row, the index of its 10 ms frame in the audio (silent frames are skipped). */
  frameIndex: Int32Array;
}

/** Seconds from the start of the audio to the start of 10 ms frame `index`. */
export function frameSeconds(index: number): number {
  return (index * HOP) / SAMPLE_RATE;
}

const hamming = Float32Array.from({ length: FRAME }, (_, i) => 0.54 - 0.46 * Math.cos((2 * Math.PI * i) / (FRAME - 1)));
const melFilters = buildMelFilters();
const dct = Float32Array.from({ length: CEPSTRA * MEL_BANDS }, (_, k) => {
  const c = Math.floor(k / MEL_BANDS) + 1;
  const m = k % MEL_BANDS;
  return Math.cos((Math.PI * c * (m + 0.5)) / MEL_BANDS);
});
const { cos: twiddleCos, sin: twiddleSin, reversed } = fftTables(FFT_SIZE);

/** MFCC + delta features of 16 kHz mono audio; empty when nothing in it is louder than silence. */
export function extractFeatures(audio: Int16Array): Features {
  const count = audio.length < FRAME ? 0 : 1 + Math.floor((audio.length - FRAME) / HOP);
  const cepstra = new Float32Array(count * CEPSTRA);
  const levels = new Float32Array(count);
  const re = new Float64Array(FFT_SIZE);
  const im = new Float64Array(FFT_SIZE);
  const power = new Float64Array(FFT_SIZE / 2 + 1);
  const mel = new Float64Array(MEL_BANDS);
  for (let f = 0; f < count; f++) {
    const start = f * HOP;
    let energy = 0;
    let previous = start > 0 ? audio[start - 1] / 32768 : 0;
    re.fill(0);
    im.fill(0);
    for (let i = 0; i < FRAME; i++) {
      const x = audio[start + i] / 32768;
      energy += x * x;
      re[i] = (x - 0.97 * previous) * hamming[i];
      previous = x;
    }
    levels[f] = 10 * Math.log10(energy / FRAME + 1e-12);
    fft(re, im);
    for (let k = 0; k <= FFT_SIZE / 2; k++) power[k] = re[k] * re[k] + im[k] * im[k];
    for (let b = 0; b < MEL_BANDS; b++) {
      const { from, weights } = melFilters[b];
      let sum = 0;
      for (let k = 0; k < weights.length; k++) sum += weights[k] * power[from + k];
      mel[b] = Math.log(sum + 1e-10);
    }
    for (let c = 0; c < CEPSTRA; c++) {
      let sum = 0;
      for (let b = 0; b < MEL_BANDS; b++) sum += dct[c * MEL_BANDS + b] * mel[b];
      cepstra[f * CEPSTRA + c] = sum;
    }
  }
  // Deltas are taken over neighbouring frames of the audio, before silence is dropped.
  const dims = 2 * CEPSTRA;
  const full = new Float32Array(count * dims);
  for (let f = 0; f < count; f++) {
    for (let c = 0; c < CEPSTRA; c++) {
      const at = (g: number) => cepstra[Math.min(count - 1, Math.max(0, g)) * CEPSTRA + c];
      full[f * dims + c] = cepstra[f * CEPSTRA + c];
      full[f * dims + CEPSTRA + c] = (at(f + 1) - at(f - 1) + 2 * (at(f + 2) - at(f - 2))) / 10;
    }
  }
  const peak = levels.reduce((max, v) => Math.max(max, v), -Infinity);
  const threshold = Math.max(peak - SILENCE_BELOW_PEAK_DB, SILENCE_FLOOR_DBFS);
  const kept: number[] = [];
  for (let f = 0; f < count; f++) if (levels[f] > threshold) kept.push(f);
  const data = new Float32Array(kept.length * dims);
  kept.forEach((f, row) => data.set(full.subarray(f * dims, (f + 1) * dims), row * dims));
  normalize(data, kept.length, dims);
  return { data, frames: kept.length, dims, frameIndex: Int32Array.from(kept) };
}

/** Zero mean and unit variance per dimension. */
function normalize(data: Float32Array, frames: number, dims: number): void {
  if (frames < 2) return;
  for (let d = 0; d < dims; d++) {
    let sum = 0;
    let squares = 0;
    for (let f = 0; f < frames; f++) {
      const v = data[f * dims + d];
      sum += v;
      squares += v * v;
    }
    const mean = sum / frames;
    const sd = Math.sqrt(Math.max(squares / frames - mean * mean, 1e-6));
    for (let f = 0; f < frames; f++) data[f * dims + d] = (data[f * dims + d] - mean) / sd;
  }
}

function buildMelFilters(): Array<{ from: number; weights: Float32Array }> {
  const toMel = (hz: number) => 2595 * Math.log10(1 + hz / 700);
  const toHz = (m: number) => 700 * (10 ** (m / 2595) - 1);
  const low = toMel(LOW_HZ);
  const high = toMel(HIGH_HZ);
  const bin = (hz: number) => (hz * FFT_SIZE) / SAMPLE_RATE;
  const edges = Array.from({ length: MEL_BANDS + 2 }, (_, i) => bin(toHz(low + ((high - low) * i) / (MEL_BANDS + 1))));
  return Array.from({ length: MEL_BANDS }, (_, b) => {
    const [left, centre, right] = [edges[b], edges[b + 1], edges[b + 2]];
    const from = Math.ceil(left);
    const to = Math.floor(right);
    const weights = Float32Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => {
      const k = from + i;
      return k <= centre ? (k - left) / (centre - left) : (right - k) / (right - centre);
    });
    return { from, weights };
  });
}

function fftTables(n: number) {
  const bits = Math.log2(n);
  const reversed = Uint32Array.from({ length: n }, (_, i) => {
    let r = 0;
    for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
    return r;
  });
  const cos = Float64Array.from({ length: n / 2 }, (_, i) => Math.cos((-2 * Math.PI * i) / n));
  const sin = Float64Array.from({ length: n / 2 }, (_, i) => Math.sin((-2 * Math.PI * i) / n));
  return { cos, sin, reversed };
}

/** In-place radix-2 FFT of length FFT_SIZE. */
function fft(re: Float64Array, im: Float64Array): void {
  const n = FFT_SIZE;
  for (let i = 0; i < n; i++) {
    const j = reversed[i];
    if (j > i) {
      [re[i], re[j]] = [re[j], re[i]];
      [im[i], im[j]] = [im[j], im[i]];
    }
  }
  for (let size = 2; size <= n; size *= 2) {
    const half = size / 2;
    const step = n / size;
    for (let start = 0; start < n; start += size) {
      for (let k = 0; k < half; k++) {
        const wr = twiddleCos[k * step];
        const wi = twiddleSin[k * step];
        const a = start + k;
        const b = a + half;
        const tr = re[b] * wr - im[b] * wi;
        const ti = re[b] * wi + im[b] * wr;
        re[b] = re[a] - tr;
        im[b] = im[a] - ti;
        re[a] += tr;
        im[a] += ti;
      }
    }
  }
}
