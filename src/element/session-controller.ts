// A Lit reactive controller that drives one AvatarSession for the element: it loads the session
// code on the first start, holds the state the element renders (captions, notices, the meter),
// and ties the session to the element's life in the page (removal, pagehide). How the session's
// events become DOM events and that state is session-binding.ts, loaded with the session code,
// so none of it is in the up-front script.
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { ChatMessage } from '../conversation/llm.js';
import type { AvatarSession, AvatarSessionOptions } from '../session/avatar-session.js';
import { VERSION } from '../version.js';
import type { AvatarErrorDetail, AvatarState, HeygenAvatarEventDetails, HeygenAvatarEventName } from './events.js';
import type { UiStrings } from './strings.js';

type SessionBinding = typeof import('./session-binding.js');

/** What the controller needs of the element. */
export interface SessionHost extends ReactiveControllerHost, HTMLElement {
  emit<K extends HeygenAvatarEventName>(name: K, detail: HeygenAvatarEventDetails[K]): boolean;
  /** The UI strings of the current language. */
  readonly strings: UiStrings;
}

export interface Caption {
  who: 'user' | 'avatar';
  text: string;
  interim: boolean;
}

const MAX_CAPTIONS = 50;

/** The visitor-facing message for an error. */
export function messageFor(error: Pick<AvatarErrorDetail, 'type'> & { reason?: string }, t: UiStrings): string {
  if (error.type === 'microphone' && error.reason === 'denied') return t.errors.microphoneDenied;
  if (error.type === 'attribute' || error.type === 'token-endpoint') return t.errors.tokenEndpoint;
  return t.errors[error.type];
}

export class SessionController implements ReactiveController {
  readonly #host: SessionHost;
  /** What the element renders. */
  state: AvatarState = 'idle';
  /** A problem that ended the session, shown on the stage. */
  fatal = '';
  /** A problem the session survives, shown under the controls. */
  notice = '';
  captions: Caption[] = [];
  /** Microphone level, 0–1. */
  level = 0;
  hasMic = false;
  soundBlocked = false;
  /** The running session, from the first start() until it ends. */
  session: AvatarSession | undefined;
  /** The conversation of the running session, or of the last one until the next start. */
  get history(): readonly ChatMessage[] {
    return this.session?.history ?? this.#lastHistory;
  }
  #lastHistory: readonly ChatMessage[] = [];
  /** Keeps a finished session's conversation readable until the next start. */
  set lastHistory(history: readonly ChatMessage[]) {
    this.#lastHistory = history;
  }
  #starting: Promise<void> | undefined;
  /** Set by stop() while the session code is still loading. */
  #cancelled = false;
  #teardownTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(host: SessionHost) {
    this.#host = host;
    host.addController(this);
  }

  hostConnected(): void {
    // Moved within the DOM: keep the session.
    clearTimeout(this.#teardownTimer);
    window.addEventListener('pagehide', this.#onPageHide);
  }

  hostDisconnected(): void {
    window.removeEventListener('pagehide', this.#onPageHide);
    // A move is a disconnect followed by a connect in the same task: wait a tick before ending.
    this.#teardownTimer = setTimeout(() => {
      if (!this.#host.isConnected) void this.stop('removed');
    }, 0);
  }

  /** Starts a session with the options `options(binding)` gives (read once the session code is loaded). */
  start(options: (binding: SessionBinding) => AvatarSessionOptions): Promise<void> {
    if (this.#starting) return this.#starting;
    if (this.session) return Promise.resolve();
    // Resolves once the element shows the state reached, so a caller reads what the visitor sees.
    this.#starting = this.#start(options)
      .then(() => this.#host.updateComplete)
      .then(() => undefined)
      .finally(() => (this.#starting = undefined));
    return this.#starting;
  }

  async stop(reason = 'stopped'): Promise<void> {
    if (this.#starting && !this.session) this.#cancelled = true;
    await this.session?.stop(reason);
    await this.#host.updateComplete;
  }

  /**
   * One console warning and one error event, and the visitor's message in one place: on the stage
   * when the problem ended the session (`stage`), under the controls when it goes on (`notice`).
   */
  report(detail: AvatarErrorDetail & { reason?: string }, show: 'stage' | 'notice' | 'nowhere'): void {
    console.warn(`heygen-avatar ${VERSION}: ${detail.type}: ${detail.message}`);
    this.#host.emit('heygen-avatar:error', { type: detail.type, message: detail.message, recoverable: detail.recoverable, cause: detail.cause });
    if (show === 'nowhere') return;
    const text = messageFor(detail, this.#host.strings);
    this.set(show === 'stage' ? { fatal: text, notice: '' } : { notice: text });
  }

  /** The running session, for a method that needs one (`say()`, `send()`): throws without. */
  running(method: string): AvatarSession {
    if (!this.session) throw new Error(`heygen-avatar: ${method}() needs a running session; call start() first`);
    return this.session;
  }

  /** A start that cannot begin (no endpoint): the element shows why. */
  refuse(detail: AvatarErrorDetail): void {
    this.fatal = '';
    this.notice = '';
    this.setState('error');
    this.report(detail, 'stage');
  }

  async #start(options: (binding: SessionBinding) => AvatarSessionOptions): Promise<void> {
    this.fatal = '';
    this.notice = '';
    this.captions = [];
    this.#lastHistory = [];
    this.#cancelled = false;
    this.setState('connecting');
    let module: typeof import('../session/avatar-session.js');
    let binding: typeof import('./session-binding.js');
    try {
      [module, binding] = await Promise.all([import('../session/avatar-session.js'), import('./session-binding.js')]);
    } catch (cause) {
      this.report({ type: 'load', message: 'the session code could not be loaded', recoverable: true, cause }, 'stage');
      this.setState('error');
      return;
    }
    if (this.#cancelled) {
      this.setState('ended');
      return;
    }
    const session = new module.AvatarSession(options(binding));
    this.session = session;
    binding.bindSession(session, this, this.#host);
    await session.start().catch(() => undefined);
  }

  /** Sets the state the element shows, and fires the state event. */
  setState(next: AvatarState): void {
    const previous = this.state;
    if (previous === next) return;
    this.state = next;
    this.#host.requestUpdate();
    this.#host.emit('heygen-avatar:state', { state: next, previous });
  }

  /** Changes what the element shows. */
  set(changes: Partial<Pick<SessionController, 'notice' | 'fatal' | 'level' | 'hasMic' | 'soundBlocked'>>): void {
    Object.assign(this, changes);
    this.#host.requestUpdate();
  }

  /** Adds a caption, or updates the last one while it is interim. */
  caption(who: Caption['who'], text: string, interim: boolean): void {
    const list = this.captions.slice();
    const last = list.at(-1);
    if (last && last.who === who && last.interim) list[list.length - 1] = { who, text, interim };
    else list.push({ who, text, interim });
    if (!text) list.pop();
    this.captions = list.slice(-MAX_CAPTIONS);
    this.#host.requestUpdate();
  }

  #onPageHide = (): void => {
    // The page is going away: the beacon reaches the broker, which stops the avatar session.
    void this.stop('pagehide');
  };
}
