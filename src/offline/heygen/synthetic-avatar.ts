// HeyGen's synthetic avatar: the shared speaking avatar, sending HeyGen's data messages around each
// task from the avatar participant itself, as HeyGen's avatar does.
import { AVATAR_SAMPLE_RATE, SpeakingAvatar, type Utterance } from '../avatar/speaking-avatar.js';

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
  readonly #avatar: SpeakingAvatar;

  private constructor(avatar: SpeakingAvatar) {
    this.#avatar = avatar;
  }

  /** Joins the room and starts publishing the (silent, still) avatar. */
  static async join(options: SyntheticAvatarOptions): Promise<SyntheticAvatar> {
    const session_id = options.sessionId;
    const send = (message: AvatarDataMessage) => avatar.sendJson(message).catch(() => undefined);
    const avatar: SpeakingAvatar = await SpeakingAvatar.join({
      ...options,
      onStart: ({ id: task_id, text }) => {
        send({ type: 'avatar_start_talking', session_id, task_id });
        send({ type: 'avatar_talking_message', session_id, task_id, message: text });
      },
      onEnd: ({ id: task_id }, { spokenSamples }) => {
        const duration_ms = Math.round((spokenSamples / AVATAR_SAMPLE_RATE) * 1000);
        send({ type: 'avatar_end_message', session_id, task_id });
        send({ type: 'avatar_stop_talking', session_id, task_id, duration_ms });
      },
    });
    return new SyntheticAvatar(avatar);
  }

  /** True while a task is being spoken or waits in the queue. */
  get busy(): boolean {
    return this.#avatar.busy;
  }

  /** Queues a task; resolves when it has been spoken (or interrupted). */
  speak(task: AvatarTask): Promise<void> {
    const utterance: Utterance = { id: task.taskId, text: task.text, pcm: task.pcm };
    return this.#avatar.speak(utterance);
  }

  /** Stops the current speech at once and drops the queue. */
  interrupt(): void {
    this.#avatar.interrupt();
  }

  close(): Promise<void> {
    return this.#avatar.close();
  }
}

export { AVATAR_SAMPLE_RATE };
