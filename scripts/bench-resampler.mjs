#!/usr/bin/env node
// CPU cost and alias rejection of the capture resampler, against naive linear interpolation run in
// the same process as the baseline.
//   node --import tsx scripts/bench-resampler.mjs [seconds]     (default 60 s of audio per rate)
// Cost is the time to resample the audio in 128-sample blocks (as the AudioWorklet does), as a
// percentage of the audio's duration on one core. Alias rejection is the output level of full-scale
// tones from 8 to 20 kHz relative to a 1 kHz tone (worst tone shown): they must vanish at 16 kHz.
import { Linear16Resampler, OUTPUT_RATE } from '../src/capture/resampler.ts';

const seconds = Number(process.argv[2] ?? 60);
const RATES = [48_000, 44_100];
const ALIAS_TONES = [8000, 8250, 8500, 9000, 10_000, 12_000, 14_000, 16_000, 18_000, 20_000];

/** The baseline: streaming linear interpolation between neighbouring input samples, no filter. */
class LinearInterpolation {
  #step;
  #pos = 0; // position of the next output, in input samples, relative to #prev
  #prev = 0;
  constructor(rate) {
    this.#step = rate / OUTPUT_RATE;
  }
  process(input) {
    const out = new Float32Array(Math.ceil(input.length / this.#step) + 1);
    let o = 0;
    let pos = this.#pos;
    const prev = this.#prev;
    while (pos < input.length) {
      const i = Math.floor(pos);
      const a = pos - i;
      const x0 = i === 0 ? prev : input[i - 1];
      out[o++] = x0 + a * (input[i] - x0);
      pos += this.#step;
    }
    this.#pos = pos - input.length;
    if (input.length) this.#prev = input[input.length - 1];
    return out.subarray(0, o);
  }
}

function tone(freq, rate, secs) {
  const x = new Float32Array(Math.round(rate * secs));
  for (let i = 0; i < x.length; i++) x[i] = Math.sin((2 * Math.PI * freq * i) / rate + 0.7);
  return x;
}

function runBlocks(r, x) {
  const parts = [];
  let n = 0;
  for (let i = 0; i < x.length; i += 128) {
    const y = r.process(x.subarray(i, i + 128));
    parts.push(y);
    n += y.length;
  }
  const out = new Float32Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function steadyRms(y) {
  let s = 0;
  for (let i = 800; i < 16_800; i++) s += y[i] * y[i];
  return Math.sqrt(s / 16_000);
}

/** Worst (highest) output level of the alias tones, in dB relative to a 1 kHz tone. */
function worstAlias(make, rate) {
  const level = (f) => steadyRms(runBlocks(make(rate), tone(f, rate, 1.1)));
  const ref = level(1000);
  let worst = { freq: 0, db: -Infinity };
  for (const f of ALIAS_TONES.filter((f) => f < rate / 2)) {
    const db = 20 * Math.log10(level(f) / ref);
    if (db > worst.db) worst = { freq: f, db };
  }
  return worst;
}

/** Best of three runs, as % of real time on one core. */
function cost(make, rate) {
  const x = new Float32Array(rate * seconds);
  for (let i = 0; i < x.length; i++) x[i] = 0.5 * Math.sin(i * 0.013) + 0.1 * Math.sin(i * 0.9);
  let best = Infinity;
  for (let run = 0; run < 3; run++) {
    const r = make(rate);
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < x.length; i += 128) r.process(x.subarray(i, i + 128));
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return { ms: best, percent: (best / (seconds * 1000)) * 100 };
}

const contenders = [
  ['polyphase Kaiser FIR (Linear16Resampler)', (rate) => new Linear16Resampler(rate)],
  ['linear interpolation (baseline)', (rate) => new LinearInterpolation(rate)],
];

console.log(`Resampling ${seconds} s of audio to ${OUTPUT_RATE} Hz in 128-sample blocks, node ${process.version}`);
console.log(`${'resampler'.padEnd(42)}${'input'.padStart(8)}${'taps'.padStart(6)}${'time'.padStart(10)}${'CPU'.padStart(9)}   worst alias (8–20 kHz)`);
for (const rate of RATES) {
  const results = [];
  for (const [name, make] of contenders) {
    const c = cost(make, rate);
    const alias = worstAlias(make, rate);
    const taps = make(rate).taps ?? 2;
    results.push(c);
    console.log(
      `${name.padEnd(42)}${String(rate).padStart(8)}${String(taps).padStart(6)}${`${c.ms.toFixed(0)} ms`.padStart(10)}` +
        `${`${c.percent.toFixed(3)} %`.padStart(9)}   ${alias.db.toFixed(1)} dB at ${alias.freq} Hz`,
    );
  }
  console.log(`  → at ${rate} Hz the FIR costs ${(results[0].ms / results[1].ms).toFixed(1)}× linear interpolation`);
}
