// The AudioWorkletProcessor 'heygen-avatar-capture': input channels → mono → 16 kHz → Int16 LE frames.
// Runs in the AudioWorkletGlobalScope. The build bundles this file with the resampler into one
// self-contained script (no imports at run time) and emits it next to the code that loads it.
import { FrameAccumulator, Linear16Resampler, downmix, floatToInt16, frameLevelDb } from './resampler.js';
import type { CaptureCommand, CaptureMessage, CaptureProcessorOptions } from './protocol.js';

// The AudioWorkletGlobalScope's globals (TypeScript's DOM library does not describe that scope).
declare const sampleRate: number;
declare function registerProcessor(name: string, ctor: new (options: AudioWorkletNodeOptions) => AudioWorkletProcessorBase): void;
declare const AudioWorkletProcessor: new (options: AudioWorkletNodeOptions) => AudioWorkletProcessorBase;
interface AudioWorkletProcessorBase {
  readonly port: MessagePort;
}

class CaptureProcessor extends AudioWorkletProcessor {
  readonly #resampler = new Linear16Resampler(sampleRate);
  readonly #frames: FrameAccumulator;
  #muted = false;
  #stopped = false;

  constructor(options: AudioWorkletNodeOptions) {
    super(options);
    const { frameMs = 100 } = (options.processorOptions ?? {}) as CaptureProcessorOptions;
    this.#frames = new FrameAccumulator(frameMs);
    this.port.onmessage = (e: MessageEvent<CaptureCommand>) => this.#command(e.data);
  }

  #command(cmd: CaptureCommand): void {
    switch (cmd.type) {
      case 'flush':
        this.#postPartial();
        this.#post({ type: 'flushed', id: cmd.id });
        break;
      case 'mute':
        if (cmd.muted === this.#muted) break;
        this.#muted = cmd.muted;
        if (cmd.muted) {
          // What was said before the mute still goes out; then the meter drops to silence.
          this.#postPartial();
          this.#post({ type: 'level', db: -100 });
        } else {
          // Start afresh rather than splice old filter history onto new sound.
          this.#resampler.reset();
        }
        break;
      case 'stop':
        this.#stopped = true;
        break;
    }
  }

  process(inputs: Float32Array[][]): boolean {
    if (this.#stopped) return false;
    const channels = inputs[0];
    if (this.#muted || !channels || channels.length === 0) return true;
    const pcm = floatToInt16(this.#resampler.process(downmix(channels)));
    for (const frame of this.#frames.push(pcm)) this.#postFrame(frame);
    return true;
  }

  #postPartial(): void {
    const frame = this.#frames.flush();
    if (frame) this.#postFrame(frame);
  }

  #postFrame(frame: ArrayBuffer): void {
    this.#post({ type: 'frame', frame, level: frameLevelDb(frame) }, [frame]);
  }

  #post(message: CaptureMessage, transfer: Transferable[] = []): void {
    this.port.postMessage(message, transfer);
  }
}

registerProcessor('heygen-avatar-capture', CaptureProcessor);
