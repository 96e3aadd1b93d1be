// Where the visitor's voice was last heard in the audio sent to the transcriber, from the audio's
// own level. A transcript's words say when the last recognised word ended, but the silence after it
// may be a word still being spoken that the recogniser cannot name yet; the level tells the two
// apart. DOM-free.

const BLOCK_SECONDS = 0.01;
/** A block is voice when its level is this far above the noise floor… */
const MARGIN_DB = 12;
/** …and above this absolute level (dBFS): the microphone's own hiss and dither are never voice. */
const MIN_VOICE_DBFS = -50;
/**
 * How fast the noise floor rises towards the level (per block, as a fraction; it falls at once): a
 * steady background stops counting as voice within a few seconds, while speech, with its gaps
 * between words, keeps pulling the floor back down.
 */
const FLOOR_RISE = 0.005;

/** Energy voice detection over 10 ms blocks of 16-bit mono PCM, with an adaptive noise floor. */
export class VoiceActivity {
  readonly #sampleRate: number;
  readonly #blockSamples: number;
  #floorDb = -70;
  /** Samples pushed since the last `restart()`. */
  #position = 0;
  /** In samples. */
  #lastVoiceEnd = 0;

  constructor(sampleRate: number) {
    this.#sampleRate = sampleRate;
    this.#blockSamples = Math.round(sampleRate * BLOCK_SECONDS);
  }

  /** End (seconds into the stream) of the last block that was voice; 0 before any. */
  get lastVoiceEnd(): number {
    return this.#lastVoiceEnd / this.#sampleRate;
  }

  /** A new stream starts at 0 (the noise floor is kept: same microphone, same room). */
  restart(): void {
    this.#position = 0;
    this.#lastVoiceEnd = 0;
  }

  /** Takes the next frame of linear16 audio (a frame ends on a block boundary; a partial block is judged alone). */
  push(frame: ArrayBuffer): void {
    const samples = new Int16Array(frame, 0, frame.byteLength >> 1);
    for (let from = 0; from < samples.length; from += this.#blockSamples) {
      const to = Math.min(samples.length, from + this.#blockSamples);
      let energy = 0;
      for (let i = from; i < to; i++) energy += (samples[i] / 32768) ** 2;
      const db = 10 * Math.log10(energy / (to - from) + 1e-12);
      if (db > Math.max(this.#floorDb + MARGIN_DB, MIN_VOICE_DBFS)) this.#lastVoiceEnd = this.#position + to;
      this.#floorDb = db < this.#floorDb ? db : this.#floorDb + (db - this.#floorDb) * FLOOR_RISE;
    }
    this.#position += samples.length;
  }
}
