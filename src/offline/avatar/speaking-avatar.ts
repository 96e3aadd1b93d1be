// A synthetic avatar in a LiveKit room: one participant publishing a drawn face and speech audio.
// It speaks queued utterances in order, its mouth following the loudness, and reports when each one
// starts and ends; each stand-in turns those reports into its own service's messages (HeyGen's
// data messages from the avatar itself, LiveAvatar's events from its agent participant).
import { publishMedia, type MediaPublisher } from '../livekit/media-publisher.js';
import { FacePainter } from './face.js';

/** The audio track's rate (48 kHz, as the real avatars' Opus tracks). */
export const AVATAR_SAMPLE_RATE = 48_000;

export interface Utterance {
  id: string;
  text: string;
  /** Mono Int16 at AVATAR_SAMPLE_RATE. */
  pcm: Int16Array;
}

export interface UtteranceEnd {
  /** Samples actually played (all of them unless interrupted). */
  spokenSamples: number;
  interrupted: boolean;
}

export interface SpeakingAvatarOptions {
  url: string;
  token: string;
  width?: number;
  height?: number;
  fps?: number;
  /** Called (synchronously, from the audio loop) when an utterance's first samples are played. */
  onStart?: (utterance: Utterance) => void;
  /** Called when an utterance has been played to its end, or cut off by `interrupt()`. */
  onEnd?: (utterance: Utterance, end: UtteranceEnd) => void;
}

export class SpeakingAvatar {
  #publisher!: MediaPublisher;
  readonly #options: SpeakingAvatarOptions;
  readonly #queue: Utterance[] = [];
  #current: { utterance: Utterance; offset: number } | undefined;
  #level = 0;
  readonly #finished = new Map<Utterance, () => void>();

  private constructor(options: SpeakingAvatarOptions) {
    this.#options = options;
  }

  /** Joins the room and starts publishing the (silent, still) avatar. */
  static async join(options: SpeakingAvatarOptions): Promise<SpeakingAvatar> {
    const width = options.width ?? 640;
    const height = options.height ?? 360;
    const avatar = new SpeakingAvatar(options);
    const face = new FacePainter(width, height);
    avatar.#publisher = await publishMedia({
      url: options.url,
      token: options.token,
      width,
      height,
      fps: options.fps ?? 25,
      sampleRate: AVATAR_SAMPLE_RATE,
      paint: (rgba) => face.paint(rgba, avatar.#level),
      pull: (pcm) => avatar.#pull(pcm),
    });
    return avatar;
  }

  /** True while an utterance is being spoken or waits in the queue. */
  get busy(): boolean {
    return !!this.#current || this.#queue.length > 0;
  }

  /** Sends a UTF-8 JSON data message from the avatar participant (reliable). */
  sendJson(message: unknown, topic?: string): Promise<void> {
    return this.#publisher.sendJson(message, topic);
  }

  /** Queues an utterance; resolves when it has been spoken, interrupted or dropped. */
  speak(utterance: Utterance): Promise<void> {
    return new Promise((resolve) => {
      this.#finished.set(utterance, resolve);
      this.#queue.push(utterance);
    });
  }

  /** Stops the current speech at once (the audio already queued in the source too) and drops the queue. */
  interrupt(): void {
    const current = this.#current;
    const dropped = this.#queue.splice(0);
    this.#current = undefined;
    this.#level = 0;
    this.#publisher.clearAudio();
    if (current) this.#end(current.utterance, { spokenSamples: current.offset, interrupted: true });
    for (const u of dropped) this.#settle(u);
  }

  async close(): Promise<void> {
    this.interrupt();
    await this.#publisher.close();
  }

  #settle(utterance: Utterance): void {
    this.#finished.get(utterance)?.();
    this.#finished.delete(utterance);
  }

  #end(utterance: Utterance, end: UtteranceEnd): void {
    this.#options.onEnd?.(utterance, end);
    this.#settle(utterance);
  }

  /** Fills 10 ms of audio from the current utterance; sets the mouth from its loudness. */
  #pull(pcm: Int16Array): void {
    if (!this.#current) {
      const next = this.#queue.shift();
      if (!next) {
        this.#level = 0;
        return;
      }
      this.#current = { utterance: next, offset: 0 };
      this.#options.onStart?.(next);
    }
    const cur = this.#current;
    const part = cur.utterance.pcm.subarray(cur.offset, cur.offset + pcm.length);
    pcm.set(part);
    cur.offset += part.length;
    let sum = 0;
    for (const s of part) sum += s * s;
    const rms = Math.sqrt(sum / pcm.length);
    this.#level = Math.min(1, rms / 4000);
    if (cur.offset >= cur.utterance.pcm.length) {
      this.#current = undefined;
      this.#end(cur.utterance, { spokenSamples: cur.utterance.pcm.length, interrupted: false });
    }
  }
}
