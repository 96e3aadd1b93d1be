// An avatar provider that exists only in the tests (what a third avatar service would be), registered
// with the npm build's registry, plus a session endpoint's answer naming it with a real Deepgram
// token and recorder URLs (see the e2e plugin's /_recorder middleware).
import { executeServerCommand } from '@web/test-runner-commands';
import { registerAvatarProvider } from '../../dist/npm/avatar/registry.js';
import type { AvatarMedia, AvatarProvider, AvatarProviderEvents } from '../../dist/npm/avatar/provider.js';
import type { SessionResponse } from '../../dist/npm/shared/contract.js';

export interface Grant {
  url: string;
  token: string;
  expiresIn: number;
}
export interface Recorded {
  name: string;
  method: string;
  authorization: string | null;
  body: string;
}

/** A provider for an avatar service that exists only in the tests: what a third service would be. */
export class FakeAvatar implements AvatarProvider {
  static made: FakeAvatar[] = [];
  readonly spoken: string[] = [];
  readonly calls: string[] = [];
  #listeners: { [E in keyof AvatarProviderEvents]?: AvatarProviderEvents[E][] } = {};
  #canvas?: HTMLCanvasElement;

  constructor(
    readonly access: Record<string, unknown>,
    readonly sessionId: string,
    /** What start() waits for; a rejection fails the start. */
    readonly gate: () => Promise<void> = () => Promise.resolve(),
  ) {
    FakeAvatar.made.push(this);
  }

  on<E extends keyof AvatarProviderEvents>(event: E, listener: AvatarProviderEvents[E]): () => void {
    const list = (this.#listeners[event] ??= []) as AvatarProviderEvents[E][];
    list.push(listener);
    return () => list.splice(list.indexOf(listener), 1);
  }

  emit<E extends keyof AvatarProviderEvents>(event: E, ...args: Parameters<AvatarProviderEvents[E]>): void {
    for (const listener of this.#listeners[event] ?? []) (listener as (...a: unknown[]) => void)(...args);
  }

  async start(media: AvatarMedia, signal: AbortSignal): Promise<void> {
    this.calls.push('start');
    // The face: a canvas stream into the video element the session was given.
    this.#canvas = document.createElement('canvas');
    this.#canvas.width = 64;
    this.#canvas.height = 64;
    this.#canvas.getContext('2d')!.fillRect(0, 0, 64, 64);
    media.video.srcObject = this.#canvas.captureStream(10);
    await this.gate();
    if (signal.aborted) throw signal.reason;
    this.emit('connection', 'connected');
  }

  async speak(text: string) {
    this.calls.push('speak');
    this.spoken.push(text);
    this.emit('talking', true);
    setTimeout(() => this.emit('talking', false), 100);
    return { taskId: `task-${this.spoken.length}` };
  }

  async interrupt() {
    this.calls.push('interrupt');
  }

  async keepAlive() {
    this.calls.push('keepAlive');
  }

  async startAudio() {
    this.calls.push('startAudio');
  }

  async stop() {
    this.calls.push('stop');
  }
}

/** What the next fake avatars' start() waits for; a rejection fails their start. */
export const fakeGate: { next: () => Promise<void> } = { next: () => Promise.resolve() };
registerAvatarProvider('test-fake', {
  createAvatar: (access, session) => new FakeAvatar(access as unknown as Record<string, unknown>, session.sessionId, () => fakeGate.next()),
});

export let sessionCount = 0;
/** A session endpoint's answer naming `provider`, with a real Deepgram token and recorder URLs. */
export async function answer(provider = 'test-fake', extra: Record<string, unknown> = {}): Promise<SessionResponse> {
  const grant = await executeServerCommand<Grant, any>('deepgram:grant');
  sessionCount++;
  return {
    sessionId: `fake-session-${sessionCount}`,
    sessionKey: `key-${sessionCount}`,
    avatar: { provider, room: 'made-up', ...extra } as unknown as SessionResponse['avatar'],
    stt: { provider: 'deepgram', url: grant.url, token: grant.token, expiresIn: grant.expiresIn, refreshUrl: '/_recorder/stt-token' },
    limits: { sessionDurationSeconds: 600, idleTimeoutSeconds: 120 },
    heartbeat: { url: '/_recorder/heartbeat', intervalSeconds: 60 },
    closeUrl: '/_recorder/close',
  };
}

/**
 * The close reports received for `sessionId` (each session has its own id): waits up to 3 s for the
 * first (the report is a fire-and-forget request), then 200 ms more for any duplicate.
 */
export async function closes(sessionId: string | undefined): Promise<Recorded[]> {
  const seen: Recorded[] = [];
  const take = async () =>
    seen.push(...(await executeServerCommand<Recorded[], any>('recorder:take')).filter((r) => r.name === 'close' && JSON.parse(r.body).sessionId === sessionId));
  for (let i = 0; i < 30 && !seen.length; i++) {
    await take();
    if (!seen.length) await new Promise((r) => setTimeout(r, 100));
  }
  await new Promise((r) => setTimeout(r, 200));
  await take();
  return seen;
}
