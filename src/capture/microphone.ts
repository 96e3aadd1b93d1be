// Microphone capture for Deepgram: getUserMedia → AudioContext (at the device's rate) → the
// 'heygen-avatar-capture' AudioWorklet → 16 kHz mono Int16 little-endian frames on the main thread.
import captureWorkletUrl from './capture-worklet.ts?worklet';
import { MicrophoneError } from '../shared/errors.js';
import type { CaptureCommand, CaptureMessage, CaptureProcessorOptions } from './protocol.js';

export { MicrophoneError, type MicrophoneErrorReason } from '../shared/errors.js';

export interface MicrophoneOptions {
  /** Called with each frame: `frameMs` of 16 kHz mono signed 16-bit little-endian PCM. */
  onFrame(frame: ArrayBuffer): void;
  /** Called with the RMS level of each frame in dBFS (−100 for silence and when muted), for a meter. */
  onLevel?(db: number): void;
  /** Called once if capture ends by itself (the device went away, the audio processor failed). */
  onEnded?(error: MicrophoneError): void;
  /** Frame length, 20–100 ms. Default 100 (1600 samples, 3200 bytes). */
  frameMs?: number;
  /** Aborting it cancels a start in progress (rejecting with the signal's reason) or stops capture. */
  signal?: AbortSignal;
  /**
   * The browser's echo cancellation, noise suppression and automatic gain control. Default true:
   * echo cancellation keeps the avatar's own voice out of the transcript. Turn off only to receive
   * the microphone's signal unaltered (measurement, tests).
   */
  audioProcessing?: boolean;
  /** Force the AudioContext's rate (≥ 16000). Default: the device's rate. Firefox refuses a context
   * whose rate differs from the microphone's, which is why 16 kHz is not asked of the browser. */
  contextSampleRate?: number;
  /** Where to load the worklet script from. Default: the file the build emitted beside this module. */
  workletUrl?: string | URL;
}

export interface Microphone {
  readonly context: AudioContext;
  readonly stream: MediaStream;
  /** The AudioContext's rate: the rate the worklet resamples from. */
  readonly sampleRate: number;
  readonly muted: boolean;
  /** While muted the track is disabled and no frames are sent; muting sends the partial frame first. */
  mute(muted: boolean): void;
  /** Sends the partial frame now; resolves once it has been delivered to `onFrame`. */
  flush(): Promise<void>;
  /** Stops the tracks and closes the AudioContext. Idempotent. */
  stop(): Promise<void>;
}

/** Opens the microphone and streams 16 kHz Int16 frames. Call it from a user gesture (a click). */
export async function startMicrophone(options: MicrophoneOptions): Promise<Microphone> {
  const { frameMs = 100, signal, audioProcessing = true, contextSampleRate } = options;
  if (!(frameMs >= 20 && frameMs <= 100)) throw new RangeError(`startMicrophone: frameMs must be 20–100, got ${frameMs}`);
  if (contextSampleRate !== undefined && !(contextSampleRate >= 16_000)) {
    throw new RangeError(`startMicrophone: contextSampleRate must be ≥ 16000, got ${contextSampleRate}`);
  }
  signal?.throwIfAborted();
  if (!globalThis.navigator?.mediaDevices?.getUserMedia || typeof AudioWorkletNode === 'undefined') {
    throw new MicrophoneError('unsupported', 'This browser (or an insecure http: page) offers no microphone capture with AudioWorklet');
  }

  let stream: MediaStream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({
      audio: {
        echoCancellation: audioProcessing,
        noiseSuppression: audioProcessing,
        autoGainControl: audioProcessing,
        channelCount: 1,
      },
    });
  } catch (error) {
    throw toMicrophoneError(error);
  }

  let context: AudioContext | undefined;
  const release = () => {
    for (const track of stream.getTracks()) track.stop();
    if (context && context.state !== 'closed') return context.close().catch(() => {});
    return Promise.resolve();
  };
  let node: AudioWorkletNode;
  let source: MediaStreamAudioSourceNode;
  let sink: GainNode;
  try {
    signal?.throwIfAborted();
    context = new AudioContext({ latencyHint: 'interactive', ...(contextSampleRate ? { sampleRate: contextSampleRate } : {}) });
    try {
      await context.audioWorklet.addModule(String(options.workletUrl ?? captureWorkletUrl));
    } catch (error) {
      throw new MicrophoneError('failed', 'The capture AudioWorklet could not be loaded (blocked by a Content-Security-Policy?)', {
        cause: error,
      });
    }
    signal?.throwIfAborted();
    source = context.createMediaStreamSource(stream);
    const processorOptions: CaptureProcessorOptions = { frameMs };
    node = new AudioWorkletNode(context, 'heygen-avatar-capture', {
      numberOfInputs: 1,
      numberOfOutputs: 1,
      outputChannelCount: [1],
      processorOptions,
    });
    // The worklet outputs silence through a zero gain, so every browser keeps pulling it.
    sink = context.createGain();
    sink.gain.value = 0;
    source.connect(node).connect(sink).connect(context.destination);
  } catch (error) {
    await release();
    throw error instanceof MicrophoneError || signal?.aborted ? error : toMicrophoneError(error);
  }
  const ctx = context;

  let muted = false;
  let stopped = false;
  let nextFlush = 0;
  const flushes = new Map<number, () => void>();
  const send = (cmd: CaptureCommand) => node.port.postMessage(cmd);

  node.port.onmessage = (e: MessageEvent<CaptureMessage>) => {
    const msg = e.data;
    if (msg.type === 'frame') {
      if (stopped) return;
      options.onLevel?.(msg.level);
      options.onFrame(msg.frame);
    } else if (msg.type === 'level') {
      if (!stopped) options.onLevel?.(msg.db);
    } else if (msg.type === 'flushed' && msg.id !== undefined) {
      flushes.get(msg.id)?.();
      flushes.delete(msg.id);
    }
  };

  const stop = async () => {
    if (stopped) return;
    stopped = true;
    signal?.removeEventListener('abort', onAbort);
    for (const track of stream.getAudioTracks()) track.removeEventListener('ended', onTrackEnded);
    node.onprocessorerror = null;
    send({ type: 'stop' });
    source.disconnect();
    node.disconnect();
    sink.disconnect();
    for (const resolve of flushes.values()) resolve();
    flushes.clear();
    await release();
  };
  const endWith = (error: MicrophoneError) => {
    if (stopped) return;
    void stop();
    options.onEnded?.(error);
  };
  const onAbort = () => void stop();
  const onTrackEnded = () => endWith(new MicrophoneError('failed', 'The microphone stopped (unplugged, or permission revoked)'));
  node.onprocessorerror = () => endWith(new MicrophoneError('failed', 'The capture AudioWorklet failed'));
  signal?.addEventListener('abort', onAbort, { once: true });
  for (const track of stream.getAudioTracks()) track.addEventListener('ended', onTrackEnded);

  // Not awaited: without a user gesture Chrome keeps the promise pending until there is one.
  if (ctx.state === 'suspended') ctx.resume().catch(() => {});

  return {
    context: ctx,
    stream,
    sampleRate: ctx.sampleRate,
    get muted() {
      return muted;
    },
    mute(value: boolean) {
      if (stopped || value === muted) return;
      muted = value;
      for (const track of stream.getAudioTracks()) track.enabled = !value;
      send({ type: 'mute', muted: value });
    },
    flush() {
      if (stopped) return Promise.resolve();
      const id = nextFlush++;
      return new Promise<void>((resolve) => {
        flushes.set(id, resolve);
        send({ type: 'flush', id });
      });
    },
    stop,
  };
}

/** Maps a getUserMedia / Web Audio failure to a {@link MicrophoneError}. */
export function toMicrophoneError(error: unknown): MicrophoneError {
  if (error instanceof MicrophoneError) return error;
  const name = (error as { name?: unknown } | null)?.name;
  const text = (error as { message?: unknown } | null)?.message;
  const detail = typeof text === 'string' && text ? `: ${text}` : '';
  switch (name) {
    case 'NotAllowedError':
    case 'PermissionDeniedError':
    case 'SecurityError':
      return new MicrophoneError('denied', `Microphone permission was denied${detail}`, { cause: error });
    case 'NotFoundError':
    case 'DevicesNotFoundError':
    case 'OverconstrainedError':
      return new MicrophoneError('not-found', `No microphone was found${detail}`, { cause: error });
    case 'NotSupportedError':
      return new MicrophoneError('unsupported', `Microphone capture is not supported here${detail}`, { cause: error });
    default:
      return new MicrophoneError('failed', `The microphone could not be started${detail}`, { cause: error });
  }
}
