// Energy-based voice activity detection over 20 ms frames, with an adaptive noise floor, a short
// onset requirement and a silence hangover. Sample positions are absolute (counted from the first
// sample pushed), so the stream can turn them into Deepgram's audio-time fields.

const FRAME_MS = 20;

export type SpeechEvent =
  /** Speech began at `sample` (the start of its first voiced frame). */
  | { type: 'start'; sample: number }
  /**
   * Speech ended at `sample` (the end of its last voiced frame); detected at `detectedAt`, once
   * `minSilenceMs` of silence had followed.
   */
  | { type: 'end'; sample: number; detectedAt: number };

export interface SpeechDetectorOptions {
  sampleRate: number;
  /** Silence that ends speech; shorter pauses (between words, in stop consonants) stay inside it. */
  minSilenceMs: number;
  /** Consecutive voiced frames that start speech (default 3, i.e. 60 ms), so clicks do not. */
  onsetFrames?: number;
}

/** A frame is voiced when its level is this far above the noise floor… */
const MARGIN_DB = 12;
/** …and above this absolute level (dBFS), so digital silence plus dither is never speech. */
const MIN_SPEECH_DBFS = -50;
/** How fast the noise floor follows a louder background (per unvoiced frame, as a fraction). */
const FLOOR_RISE = 0.02;

export class SpeechDetector {
  readonly #frameSamples: number;
  readonly #minSilenceFrames: number;
  readonly #onsetFrames: number;
  #frame: Float32Array;
  #filled = 0;
  /** Absolute index of the next sample pushed. */
  #position = 0;
  #noiseFloorDb = -70;
  #inSpeech = false;
  #voicedRun = 0;
  #voicedRunStart = 0;
  #silentRun = 0;
  #lastVoicedEnd = 0;

  constructor(options: SpeechDetectorOptions) {
    this.#frameSamples = Math.round((options.sampleRate * FRAME_MS) / 1000);
    this.#minSilenceFrames = Math.max(1, Math.ceil(options.minSilenceMs / FRAME_MS));
    this.#onsetFrames = options.onsetFrames ?? 3;
    this.#frame = new Float32Array(this.#frameSamples);
  }

  get inSpeech(): boolean {
    return this.#inSpeech;
  }

  /** Feeds samples; returns the speech starts and ends they complete, in order. */
  push(samples: Float32Array): SpeechEvent[] {
    const events: SpeechEvent[] = [];
    let offset = 0;
    while (offset < samples.length) {
      const take = Math.min(this.#frameSamples - this.#filled, samples.length - offset);
      this.#frame.set(samples.subarray(offset, offset + take), this.#filled);
      this.#filled += take;
      offset += take;
      this.#position += take;
      if (this.#filled === this.#frameSamples) {
        this.#filled = 0;
        const event = this.#classify(this.#position - this.#frameSamples);
        if (event) events.push(event);
      }
    }
    return events;
  }

  /** Forgets the current speech (after a Finalize flushed it); the noise floor is kept. */
  reset(): void {
    this.#inSpeech = false;
    this.#voicedRun = 0;
    this.#silentRun = 0;
  }

  #classify(frameStart: number): SpeechEvent | undefined {
    let energy = 0;
    for (const v of this.#frame) energy += v * v;
    const levelDb = 10 * Math.log10(energy / this.#frameSamples + 1e-12);
    const voiced = levelDb > Math.max(this.#noiseFloorDb + MARGIN_DB, MIN_SPEECH_DBFS);
    if (!voiced) {
      this.#noiseFloorDb = levelDb < this.#noiseFloorDb ? levelDb : this.#noiseFloorDb + (levelDb - this.#noiseFloorDb) * FLOOR_RISE;
    }
    const frameEnd = frameStart + this.#frameSamples;
    if (voiced) {
      if (this.#voicedRun === 0) this.#voicedRunStart = frameStart;
      this.#voicedRun++;
      this.#silentRun = 0;
      this.#lastVoicedEnd = frameEnd;
      if (!this.#inSpeech && this.#voicedRun >= this.#onsetFrames) {
        this.#inSpeech = true;
        return { type: 'start', sample: this.#voicedRunStart };
      }
      return undefined;
    }
    this.#voicedRun = 0;
    if (!this.#inSpeech) return undefined;
    this.#silentRun++;
    if (this.#silentRun < this.#minSilenceFrames) return undefined;
    this.#inSpeech = false;
    this.#silentRun = 0;
    return { type: 'end', sample: this.#lastVoicedEnd, detectedAt: frameEnd };
  }
}
