// A Lit reactive controller that drives one AvatarSession for the element: it loads the session
// code on the first start, turns the session's events into the element's DOM events and into the
// state the element renders (captions, notices, the meter), and ties the session to the element's
// life in the page (removal, pagehide). The session code itself stays out of the up-front script.
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { ChatMessage } from '../conversation/llm.js';
import type { AvatarSession, AvatarSessionOptions } from '../session/avatar-session.js';
import type { HeygenAvatarError } from '../shared/errors.js';
import { VERSION } from '../version.js';
import type { AvatarErrorDetail, AvatarState, HeygenAvatarEventDetails, HeygenAvatarEventName } from './events.js';
import type { UiStrings } from './strings.js';

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
function messageFor(error: Pick<AvatarErrorDetail, 'type'> & { reason?: string }, t: UiStrings): string {
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

  /** Starts a session with the options `options()` gives (read once the session code is loaded). */
  start(options: () => AvatarSessionOptions): Promise<void> {
    if (this.#starting) return this.#starting;
    if (this.session) return Promise.resolve();
    this.#starting = this.#start(options).finally(() => (this.#starting = undefined));
    return this.#starting;
  }

  async stop(reason = 'stopped'): Promise<void> {
    if (this.#starting && !this.session) this.#cancelled = true;
    await this.session?.stop(reason);
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
    this.#set(show === 'stage' ? { fatal: text, notice: '' } : { notice: text });
  }

  /** A start that cannot begin (no endpoint): the element shows why. */
  refuse(detail: AvatarErrorDetail): void {
    this.fatal = '';
    this.notice = '';
    this.#setState('error');
    this.report(detail, 'stage');
  }

  async #start(options: () => AvatarSessionOptions): Promise<void> {
    this.fatal = '';
    this.notice = '';
    this.captions = [];
    this.#lastHistory = [];
    this.#cancelled = false;
    this.#setState('connecting');
    let module: typeof import('../session/avatar-session.js');
    try {
      module = await import('../session/avatar-session.js');
    } catch (cause) {
      this.report({ type: 'load', message: 'the session code could not be loaded', recoverable: true, cause }, 'stage');
      this.#setState('error');
      return;
    }
    if (this.#cancelled) {
      this.#setState('ended');
      return;
    }
    const session = new module.AvatarSession(options());
    this.session = session;
    this.#wire(session);
    await session.start().catch(() => undefined);
  }

  #setState(next: AvatarState): void {
    const previous = this.state;
    if (previous === next) return;
    this.state = next;
    this.#host.requestUpdate();
    this.#host.emit('heygen-avatar:state', { state: next, previous });
  }

  #set(changes: Partial<Pick<SessionController, 'notice' | 'fatal' | 'level' | 'hasMic' | 'soundBlocked'>>): void {
    Object.assign(this, changes);
    this.#host.requestUpdate();
  }

  #wire(session: AvatarSession): void {
    const host = this.#host;
    const t = () => host.strings;
    session.on('state', (state) => {
      // The session is over: the next start() makes a new one.
      if (state === 'ended' || state === 'error') {
        this.#lastHistory = session.history;
        this.session = undefined;
        this.#set({ level: 0, hasMic: false, soundBlocked: false });
      }
      this.#setState(state);
    });
    session.on('error', (error: HeygenAvatarError & { reason?: string }, fatal) => {
      // A failure that ends the session shows on the stage, whatever its own `recoverable` says.
      const detail = { type: error.type, message: error.message, recoverable: error.recoverable, cause: error };
      this.report(error.reason ? { ...detail, reason: error.reason } : detail, fatal ? 'stage' : 'notice');
    });
    session.on('transcript', (text, final) => {
      if (!final) this.#caption('user', text, true);
      host.emit('heygen-avatar:transcript', { text, final });
    });
    session.on('turn', (text, source) => {
      this.#caption('user', text, false);
      host.emit('heygen-avatar:turn', { text, source });
      this.#set({ notice: '' });
    });
    session.on('said', (text) => this.#caption('avatar', text, false));
    session.on('replyDelta', (delta, text) => {
      this.#caption('avatar', text, true);
      host.emit('heygen-avatar:reply-delta', { delta, text });
    });
    session.on('reply', (text, interrupted) => {
      if (text) this.#caption('avatar', text, false);
      host.emit('heygen-avatar:reply', { text, interrupted });
    });
    session.on('talking', (talking) => host.emit('heygen-avatar:talking', { talking }));
    session.on('metrics', (metrics) => host.emit('heygen-avatar:metrics', metrics));
    session.on('started', (sessionId) => host.emit('heygen-avatar:session-start', { sessionId }));
    session.on('level', (level) => this.#set({ level }));
    session.on('microphone', (hasMic) => this.#set({ hasMic }));
    session.on('audioBlocked', (soundBlocked) => this.#set({ soundBlocked }));
    session.on('connection', (state) => {
      const reconnecting = t().states.connecting;
      if (state === 'reconnecting') this.#set({ notice: reconnecting });
      else if (state === 'connected' && this.notice === reconnecting) this.#set({ notice: '' });
    });
    session.on('endingSoon', (seconds) => this.#set({ notice: t().endingSoon(seconds) }));
    session.on('ended', (sessionId, reason, history) => {
      if (reason === 'duration-limit') this.#set({ fatal: t().timeUp });
      host.emit('heygen-avatar:session-end', { sessionId, reason, history });
    });
  }

  #caption(who: Caption['who'], text: string, interim: boolean): void {
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
