// Dynamic time warping between two feature sequences: how far apart two utterances are once their
// timing is allowed to differ, and which frames of one line up with which of the other.
import type { Features } from './features.js';

/** Neither sequence may run more than this many times faster than the other along the path. */
const MAX_SLOPE = 2;
/** Frames of slack around the slope limit (short words, a stretched vowel). */
const SLACK = 8;

export interface Alignment {
  /** Mean frame distance along the path (symmetric steps, normalised by both lengths). */
  distance: number;
  /** Frames of `b` used: all of them for `alignWhole`, the best-matching prefix for `alignPrefix`. */
  bFrames: number;
  /** For each frame of `b` up to `bFrames`, the first frame of `a` aligned with it. */
  aFrameOf: Int32Array;
  /**
   * The worst stretch of the path: the highest mean frame distance over any WINDOW consecutive
   * steps. A different word inside otherwise matching speech shows here, not in the mean.
   */
  worst: number;
}

/** Path steps (about 10 ms each) over which `worst` is taken. */
const WINDOW = 20;

/** Aligns all of `a` with all of `b`; `undefined` when their lengths are too far apart to align. */
export function alignWhole(a: Features, b: Features): Alignment | undefined {
  if (!a.frames || !b.frames) return undefined;
  if (a.frames > MAX_SLOPE * b.frames + SLACK || b.frames > MAX_SLOPE * a.frames + SLACK) return undefined;
  const table = fill(a, b);
  const end = table.cost[(a.frames - 1) * b.frames + b.frames - 1];
  if (!Number.isFinite(end)) return undefined;
  return { distance: end / (a.frames + b.frames), bFrames: b.frames, ...trace(table, a.frames - 1, b.frames - 1, b.frames) };
}

/**
 * Aligns all of `a` with the beginning of `b` that fits it best (`a` is speech still going on,
 * `b` a whole phrase); `undefined` when no beginning of `b` can align.
 */
export function alignPrefix(a: Features, b: Features): Alignment | undefined {
  if (!a.frames || !b.frames) return undefined;
  const table = fill(a, b);
  const last = (a.frames - 1) * b.frames;
  let best = -1;
  let bestScore = Infinity;
  for (let j = 0; j < b.frames; j++) {
    const score = table.cost[last + j] / (a.frames + j + 1);
    if (score < bestScore) {
      bestScore = score;
      best = j;
    }
  }
  if (best < 0) return undefined;
  return { distance: bestScore, bFrames: best + 1, ...trace(table, a.frames - 1, best, best + 1) };
}

interface Table {
  cost: Float64Array;
  /** 0 diagonal, 1 from (i-1, j), 2 from (i, j-1). */
  step: Uint8Array;
  /** Frame distance of each cell. */
  local: Float32Array;
  columns: number;
}

function fill(a: Features, b: Features): Table {
  const n = a.frames;
  const m = b.frames;
  const dims = a.dims;
  const cost = new Float64Array(n * m).fill(Infinity);
  const step = new Uint8Array(n * m);
  const local = new Float32Array(n * m);
  for (let i = 0; i < n; i++) {
    // The band where neither side runs more than MAX_SLOPE times faster than the other.
    const from = Math.max(0, Math.floor((i - SLACK) / MAX_SLOPE));
    const to = Math.min(m - 1, MAX_SLOPE * i + SLACK);
    for (let j = from; j <= to; j++) {
      let d = 0;
      const ai = i * dims;
      const bj = j * dims;
      for (let k = 0; k < dims; k++) {
        const diff = a.data[ai + k] - b.data[bj + k];
        d += diff * diff;
      }
      d = Math.sqrt(d);
      const cell = i * m + j;
      local[cell] = d;
      if (i === 0 && j === 0) {
        cost[cell] = 2 * d;
        continue;
      }
      let best = Infinity;
      let from3 = 0;
      if (i > 0 && j > 0 && cost[cell - m - 1] + 2 * d < best) best = cost[cell - m - 1] + 2 * d;
      if (i > 0 && cost[cell - m] + d < best) {
        best = cost[cell - m] + d;
        from3 = 1;
      }
      if (j > 0 && cost[cell - 1] + d < best) {
        best = cost[cell - 1] + d;
        from3 = 2;
      }
      cost[cell] = best;
      step[cell] = from3;
    }
  }
  return { cost, step, local, columns: m };
}

function trace(table: Table, i: number, j: number, bFrames: number): { aFrameOf: Int32Array; worst: number } {
  const aFrameOf = new Int32Array(bFrames).fill(-1);
  const costs: number[] = [];
  for (;;) {
    aFrameOf[j] = i;
    const cell = i * table.columns + j;
    costs.push(table.local[cell]);
    if (i === 0 && j === 0) break;
    const s = table.step[cell];
    if (s === 0) {
      i--;
      j--;
    } else if (s === 1) i--;
    else j--;
  }
  const window = Math.min(WINDOW, costs.length);
  let sum = 0;
  for (let k = 0; k < window; k++) sum += costs[k];
  let worst = sum;
  for (let k = window; k < costs.length; k++) {
    sum += costs[k] - costs[k - window];
    worst = Math.max(worst, sum);
  }
  return { aFrameOf, worst: worst / window };
}
