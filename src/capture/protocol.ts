// Messages between the capture AudioWorkletNode (main thread) and its processor (audio thread).

/** `processorOptions` of the 'heygen-avatar-capture' processor. */
export interface CaptureProcessorOptions {
  /** Frame length in ms, 20–100 (default 100 = 1600 samples at 16 kHz). */
  frameMs?: number;
}

/** Main thread → processor. */
export type CaptureCommand =
  /** Post the partial frame now (if any), then `{type: 'flushed', id}`. */
  | { type: 'flush'; id?: number }
  /** While muted, input is dropped: no frames, no levels. Muting posts the partial frame first. */
  | { type: 'mute'; muted: boolean }
  /** End the processor (its `process` returns false). */
  | { type: 'stop' };

/** Processor → main thread. */
export type CaptureMessage =
  /** 16 kHz mono signed 16-bit little-endian PCM (transferred), and its RMS level in dBFS. */
  | { type: 'frame'; frame: ArrayBuffer; level: number }
  /** A level without a frame (−100 when muting). */
  | { type: 'level'; db: number }
  | { type: 'flushed'; id?: number };
