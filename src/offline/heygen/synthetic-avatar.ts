// The synthetic avatar: a LiveKit participant that speaks queued tasks in order, with a face whose
// mouth follows the audio, and HeyGen's data messages around each task.
import { publishMedia, type MediaPublisher } from '../livekit/media-publisher.js';
import { FacePainter } from './face.js';

const SAMPLE_RATE = 48_000;

export interface AvatarTask {
  taskId: string;
  text: string;
  pcm: Int16Array;
}

export interface SyntheticAvatarOptions {
  url: string;
  token: string;
  sessionId: string;
  width?: number;
  height?: number;
  fps?: number;
}

/** HeyGen's avatar events, as sent on the LiveKit data channel. */
export type AvatarDataMessage =
  | { type: 'avatar_start_talking'; session_id: string; task_id: string }
  | { type: 'avatar_stop_talking'; session_id: string; task_id: string; duration_ms: number }
  | { type: 'avatar_talking_message'; session_id: string; task_id: string; message: string }
  | { type: 'avatar_end_message'; session_id: string; task_id: string };

export class SyntheticAvatar {
  #publisher!: MediaPublisher;
  readonly #queue: AvatarTask[] = [];
  #current: { task: AvatarTask; offset: number } | undefined;
  #level = 0;
  readonly #sessionId: string;
  readonly #finished = new Map<string, () => void>();

  private constructor(sessionId: string) {
    this.#sessionId = sessionId;
  }

  /** Joins the room and starts publishing the (silent, still) avatar. */
  static async join(options: SyntheticAvatarOptions): Promise<SyntheticAvatar> {
    const width = options.width ?? 640;
    const height = options.height ?? 360;
    const avatar = new SyntheticAvatar(options.sessionId);
    const face = new FacePainter(width, height);
    avatar.#publisher = await publishMedia({
      url: options.url,
      token: options.token,
      width,
      height,
      fps: options.fps ?? 25,
      sampleRate: SAMPLE_RATE,
      paint: (rgba) => face.paint(rgba, avatar.#level),
      pull: (pcm) => avatar.#pull(pcm),
    });
    return avatar;
  }

  /** True while a task is being spoken or waits in the queue. */
  get busy(): boolean {
    return !!this.#current || this.#queue.length > 0;
  }

  /** Queues a task; resolves when it has been spoken (or interrupted). */
  speak(task: AvatarTask): Promise<void> {
    return new Promise((resolve) => {
      this.#finished.set(task.taskId, resolve);
      this.#queue.push(task);
    });
  }

  /** Stops the current speech at once and drops the queue. */
  interrupt(): void {
    const current = this.#current;
    const dropped = this.#queue.splice(0);
    this.#current = undefined;
    this.#level = 0;
    this.#publisher.clearAudio();
    if (current) this.#stopTalking(current.task, current.offset);
    for (const t of dropped) this.#finished.get(t.taskId)?.();
  }

  async close(): Promise<void> {
    this.interrupt();
    await this.#publisher.close();
  }

  #send(message: AvatarDataMessage): void {
    this.#publisher.sendJson(message).catch(() => undefined);
  }

  #stopTalking(task: AvatarTask, samples: number): void {
    const duration_ms = Math.round((samples / SAMPLE_RATE) * 1000);
    this.#send({ type: 'avatar_end_message', session_id: this.#sessionId, task_id: task.taskId });
    this.#send({ type: 'avatar_stop_talking', session_id: this.#sessionId, task_id: task.taskId, duration_ms });
    this.#finished.get(task.taskId)?.();
    this.#finished.delete(task.taskId);
  }

  /** Fills 10 ms of audio from the current task; sets the mouth from its loudness. */
  #pull(pcm: Int16Array): void {
    if (!this.#current) {
      const next = this.#queue.shift();
      if (!next) {
        this.#level = 0;
        return;
      }
      this.#current = { task: next, offset: 0 };
      this.#send({ type: 'avatar_start_talking', session_id: this.#sessionId, task_id: next.taskId });
      this.#send({ type: 'avatar_talking_message', session_id: this.#sessionId, task_id: next.taskId, message: next.text });
    }
    const cur = this.#current;
    const part = cur.task.pcm.subarray(cur.offset, cur.offset + pcm.length);
    pcm.set(part);
    cur.offset += part.length;
    let sum = 0;
    for (const s of part) sum += s * s;
    const rms = Math.sqrt(sum / pcm.length);
    this.#level = Math.min(1, rms / 4000);
    if (cur.offset >= cur.task.pcm.length) {
      this.#current = undefined;
      this.#stopTalking(cur.task, cur.task.pcm.length);
    }
  }
}

export { SAMPLE_RATE as AVATAR_SAMPLE_RATE };
