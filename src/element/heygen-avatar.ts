import { LitElement, html, nothing, type PropertyValues } from 'lit';
import { property, query, state } from 'lit/decorators.js';
import type { AvatarProvider } from '../avatar/provider.js';
import type { Microphone } from '../capture/microphone.js';
import type { Conversation } from '../conversation/conversation.js';
import type { ChatMessage, LlmFunction } from '../conversation/llm.js';
import type { SessionRequest, SessionResponse } from '../shared/contract.js';
import type { DeepgramTranscriber } from '../transcriber/deepgram.js';
import { VERSION } from '../version.js';
import { parseAttributes, type AvatarConfig } from './config.js';
import type { AvatarErrorDetail, AvatarState, HeygenAvatarEventDetails, HeygenAvatarEventName } from './events.js';
import { styles } from './heygen-avatar.styles.js';
import type { TokenProvider } from './session-client.js';
import { stringsFor, type UiStrings } from './strings.js';

type SessionParts = typeof import('./session-parts.js');

/** Loads the session's code on first use (see session-parts.ts). */
const loadSessionParts = (): Promise<SessionParts> => import('./session-parts.js');

/** `recoverable` of our error classes, read without importing them up front. */
const isRecoverable = (error: unknown, fallback = true): boolean =>
  typeof (error as { recoverable?: unknown })?.recoverable === 'boolean' ? (error as { recoverable: boolean }).recoverable : fallback;

interface Caption {
  who: 'user' | 'avatar';
  text: string;
  interim: boolean;
}

/** Everything one session holds; torn down together. */
interface Run {
  controller: AbortController;
  session?: SessionResponse;
  avatar?: AvatarProvider;
  transcriber?: DeepgramTranscriber;
  mic?: Microphone;
  conversation?: Conversation;
  reportClosed?: SessionParts['reportSessionClosed'];
  /** Date.now() of the last task sent to the avatar (for keep-alive). */
  lastActivity: number;
  /** Frames captured before the transcriber existed. */
  early: ArrayBuffer[];
  cleanups: (() => void)[];
}

const MAX_CAPTIONS = 50;

/**
 * A live, talking video avatar: the visitor speaks, the avatar answers out loud, on video.
 *
 * @summary Embeds a HeyGen streaming avatar that listens through the microphone and answers with your LLM.
 *
 * @attr token-endpoint - URL of the session endpoint (required unless the `tokenProvider` property is set).
 * @attr avatar-id - The HeyGen avatar to start (the broker checks it against its allow-list).
 * @attr quality - `low`, `medium` (default) or `high`.
 * @attr voice-id - The avatar's voice.
 * @attr voice-rate - Speaking rate, 0.5–1.5 (default 1).
 * @attr language - BCP-47 language of the conversation; drives speech recognition and the UI strings. Default: the page's `lang`, else `ru`.
 * @attr greeting - What the avatar says when the session starts.
 * @attr system-prompt - Passed to the `llm` callback as `turn.systemPrompt`.
 * @attr llm-endpoint - An SSE LLM route to use instead of the broker's (same protocol as the broker's `/llm`).
 * @attr stt-model - Deepgram model (default `nova-2`).
 * @attr endpointing - Milliseconds of silence that end a spoken turn (default 400).
 * @attr utterance-end-ms - Deepgram `utterance_end_ms`, the fallback end of a turn (default 1000).
 * @attr layout - `inline` (default), `compact` (video and controls only) or `floating` (fixed in the corner).
 * @attr no-captions - Hides the live captions.
 * @attr no-text-input - Hides the text box.
 * @attr no-barge-in - The visitor's speech no longer interrupts the avatar; a spoken turn waits until the avatar has finished.
 * @attr push-to-talk - The microphone listens only while the talk button is held; releasing it flushes the last words.
 *
 * @fires heygen-avatar:state - The state changed (`idle`, `connecting`, `listening`, `thinking`, `speaking`, `ended`, `error`).
 * @fires heygen-avatar:transcript - The user's words so far (interim) or a final segment.
 * @fires heygen-avatar:turn - The user's completed turn, as sent to the LLM.
 * @fires heygen-avatar:reply-delta - A chunk of the LLM's reply.
 * @fires heygen-avatar:reply - The whole reply (or what came before an interruption).
 * @fires heygen-avatar:talking - The avatar started or stopped talking.
 * @fires heygen-avatar:session-start - The session is live.
 * @fires heygen-avatar:session-end - The session ended; `detail.reason` says why.
 * @fires heygen-avatar:error - Something failed; `detail.type` says what, `detail.recoverable` whether it goes on.
 *
 * @slot poster - Shown on the stage before the session starts.
 * @slot loading - Shown while connecting (default: "Connecting…").
 * @slot error - Shown when the session fails (default: the error message).
 *
 * @csspart stage - The box that holds the avatar video.
 * @csspart video - The avatar's `<video>`.
 * @csspart controls - The row of buttons.
 * @csspart start-button - Start / stop.
 * @csspart mute-button - Mute / unmute the microphone.
 * @csspart talk-button - Hold to talk (with `push-to-talk`).
 * @csspart meter - The microphone level meter.
 * @csspart status - The state line.
 * @csspart notice - A recoverable problem, shown under the controls.
 * @csspart captions - The live captions of both sides.
 * @csspart text-form - The text input and its send button.
 * @csspart sound-button - "Tap to enable sound", when the browser blocked autoplay.
 *
 * @cssprop --heygen-avatar-width - Width of the element (360px).
 * @cssprop --heygen-avatar-accent - Button and meter colour (#3b5bdb).
 * @cssprop --heygen-avatar-accent-contrast - Text on the accent colour (#fff).
 * @cssprop --heygen-avatar-background - Background (#f4f4f6).
 * @cssprop --heygen-avatar-color - Text colour (#1b1b1f).
 * @cssprop --heygen-avatar-radius - Corner radius (12px).
 * @cssprop --heygen-avatar-font - Font shorthand.
 * @cssprop --heygen-avatar-stage-background - Behind the video (#202024).
 * @cssprop --heygen-avatar-captions-height - Maximum height of the captions (8em).
 * @cssprop --heygen-avatar-offset - Distance from the corner in the floating layout (16px).
 */
export class HeygenAvatar extends LitElement {
  static override styles = styles;

  /** URL of the session endpoint the widget POSTs to for credentials. */
  @property({ attribute: 'token-endpoint' }) tokenEndpoint: string | null = null;
  /** The HeyGen avatar to start. */
  @property({ attribute: 'avatar-id' }) avatarId: string | null = null;
  /** Video quality: `low`, `medium`, `high`. */
  @property() quality: string | null = null;
  /** The avatar's voice id. */
  @property({ attribute: 'voice-id' }) voiceId: string | null = null;
  /** Speaking rate 0.5–1.5. */
  @property({ attribute: 'voice-rate' }) voiceRate: string | null = null;
  /** BCP-47 language of the conversation. */
  @property() language: string | null = null;
  /** Said by the avatar when the session starts. */
  @property() greeting: string | null = null;
  /** Given to the `llm` callback as `turn.systemPrompt`. */
  @property({ attribute: 'system-prompt' }) systemPrompt: string | null = null;
  /** An SSE LLM route speaking the broker's `/llm` protocol. */
  @property({ attribute: 'llm-endpoint' }) llmEndpoint: string | null = null;
  /** Deepgram model. */
  @property({ attribute: 'stt-model' }) sttModel: string | null = null;
  /** Milliseconds of silence that end a spoken turn. */
  @property() endpointing: string | null = null;
  /** Deepgram `utterance_end_ms`. */
  @property({ attribute: 'utterance-end-ms' }) utteranceEndMs: string | null = null;
  /** `inline`, `compact` or `floating`. */
  @property({ reflect: true }) layout: string | null = null;
  /** Hides the captions. */
  @property({ type: Boolean, attribute: 'no-captions' }) noCaptions = false;
  /** Hides the text box. */
  @property({ type: Boolean, attribute: 'no-text-input' }) noTextInput = false;
  /** Turns barge-in off: the visitor's speech no longer interrupts the avatar. */
  @property({ type: Boolean, attribute: 'no-barge-in' }) noBargeIn = false;
  /** Push-to-talk: the microphone listens only while the talk button (or Space on it) is held. */
  @property({ type: Boolean, attribute: 'push-to-talk' }) pushToTalk = false;

  /**
   * Your LLM: called with each user turn (`{text, history, signal, systemPrompt, language}`); return a
   * string, a Promise of one, or an AsyncIterable of text chunks (streamed replies start speaking at
   * the first full sentence). Stop when `signal` aborts (barge-in, stop). Unset: the broker's route.
   */
  @property({ attribute: false }) llm: LlmFunction | undefined = undefined;

  /** Supplies session credentials instead of POSTing to `token-endpoint`. */
  @property({ attribute: false }) tokenProvider: TokenProvider | undefined = undefined;

  @state() private _state: AvatarState = 'idle';
  @state() private _fatal = '';
  @state() private _notice = '';
  @state() private _captions: Caption[] = [];
  @state() private _level = 0;
  @state() private _muted = false;
  @state() private _hasMic = false;
  @state() private _soundBlocked = false;
  @state() private _talking = false;

  @query('video') private _video!: HTMLVideoElement;
  @query('audio') private _audio!: HTMLAudioElement;

  #config: AvatarConfig = parseAttributes({}).config;
  #warned = new Set<string>();
  #run: Run | undefined;
  #starting: Promise<void> | undefined;
  #teardownTimer: ReturnType<typeof setTimeout> | undefined;

  /** The current state of the conversation. */
  get state(): AvatarState {
    return this._state;
  }

  /** The avatar session's id while a session runs. */
  get sessionId(): string | undefined {
    return this.#run?.session?.sessionId;
  }

  /** The conversation so far, oldest first. */
  get history(): readonly ChatMessage[] {
    return this.#run?.conversation?.history ?? [];
  }

  get #t(): UiStrings {
    return stringsFor(this.#config.language);
  }

  override connectedCallback(): void {
    super.connectedCallback();
    // Moved within the DOM: keep the session.
    clearTimeout(this.#teardownTimer);
    window.addEventListener('pagehide', this.#onPageHide);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    window.removeEventListener('pagehide', this.#onPageHide);
    // A move is a disconnect followed by a connect in the same task: wait a tick before ending.
    this.#teardownTimer = setTimeout(() => {
      if (!this.isConnected) void this.#end('removed');
    }, 0);
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    const attrs = ['tokenEndpoint', 'avatarId', 'quality', 'voiceId', 'voiceRate', 'language', 'sttModel', 'endpointing', 'utteranceEndMs', 'layout', 'llmEndpoint'] as const;
    if (!attrs.some((a) => changed.has(a)) && this.hasUpdated) return;
    const pageLang = this.closest('[lang]')?.getAttribute('lang') ?? document.documentElement.lang;
    const { config, problems } = parseAttributes(this, pageLang);
    this.#config = config;
    for (const problem of problems) {
      if (this.#warned.has(problem)) continue;
      this.#warned.add(problem);
      this.#error({ type: 'attribute', message: problem, recoverable: true }, false);
    }
  }

  /**
   * Starts a session: credentials, microphone, avatar and speech recognition, in parallel.
   * Resolves when the avatar is live and listening (or when starting failed: see the error event).
   */
  start(): Promise<void> {
    if (this.#starting) return this.#starting;
    if (this.#run) return Promise.resolve();
    this.#starting = this.#start().finally(() => (this.#starting = undefined));
    return this.#starting;
  }

  /** Ends the session and releases everything. Resolves when it has ended. */
  async stop(): Promise<void> {
    await this.#end('stopped');
  }

  /** The avatar says `text` verbatim (no LLM). Resolves when the avatar service accepted it. */
  async say(text: string): Promise<void> {
    await this.#requireConversation('say').say(String(text));
  }

  /** Sends `text` as the user's turn, as if spoken. Resolves when the reply has been handed out. */
  async send(text: string): Promise<void> {
    const conversation = this.#requireConversation('send');
    this.#textTurn = true;
    await conversation.send(String(text));
  }

  /** Stops the avatar's current reply. */
  async interrupt(): Promise<void> {
    await this.#run?.conversation?.interrupt();
  }

  /** Mutes the microphone (speech recognition is kept alive). */
  mute(): void {
    this.#run?.mic?.mute(true);
    this._muted = true;
    this._level = 0;
  }

  /** Unmutes the microphone. */
  unmute(): void {
    this.#run?.mic?.mute(false);
    this._muted = false;
  }

  #textTurn = false;

  #requireConversation(method: string): Conversation {
    const conversation = this.#run?.conversation;
    if (!conversation) throw new Error(`heygen-avatar: ${method}() needs a running session; call start() first`);
    return conversation;
  }

  protected emit<K extends HeygenAvatarEventName>(name: K, detail: HeygenAvatarEventDetails[K]): boolean {
    return this.dispatchEvent(new CustomEvent(name, { detail, bubbles: true, composed: true }));
  }

  #setState(next: AvatarState): void {
    const previous = this._state;
    if (previous === next) return;
    this._state = next;
    this.emit('heygen-avatar:state', { state: next, previous });
  }

  /** One console warning and one error event; `visible` shows the message in the element. */
  #error(detail: AvatarErrorDetail, visible = true, text = detail.message): void {
    console.warn(`heygen-avatar ${VERSION}: ${detail.type}: ${detail.message}`);
    this.emit('heygen-avatar:error', detail);
    if (!visible) return;
    if (detail.recoverable) this._notice = text;
    else this._fatal = text;
  }

  async #start(): Promise<void> {
    // Attributes set just before start() are parsed in the pending update: let it run first.
    await this.updateComplete;
    const config = this.#config;
    const t = this.#t;
    this._fatal = '';
    this._notice = '';
    this._captions = [];
    if (!this.tokenProvider && !config.tokenEndpoint) {
      this.#setState('error');
      this.#error({ type: 'attribute', message: 'token-endpoint is not set (nor the tokenProvider property)', recoverable: false }, true, t.errors.tokenEndpoint);
      return;
    }
    const run: Run = { controller: new AbortController(), early: [], cleanups: [], lastActivity: Date.now() };
    this.#run = run;
    const { signal } = run.controller;
    this.#setState('connecting');
    await this.updateComplete;

    const request: SessionRequest = { quality: config.quality, voiceRate: config.voiceRate, language: config.language, sttModel: config.sttModel };
    if (config.avatarId) request.avatarId = config.avatarId;
    if (config.voiceId) request.voiceId = config.voiceId;

    let parts: SessionParts;
    try {
      parts = await loadSessionParts();
    } catch (err) {
      await this.#fail({ type: 'load', message: 'the session code could not be loaded', recoverable: true, cause: err }, t.errors.load);
      return;
    }
    const { Conversation, HeygenStreamingAvatar, DeepgramTranscriber, refreshSttToken } = parts;
    run.reportClosed = parts.reportSessionClosed;

    // The slow steps, all at once: credentials, the microphone, the LiveKit and Deepgram chunks.
    const sessionP = this.tokenProvider ? this.tokenProvider(request, signal) : parts.requestSession(config.tokenEndpoint!, request, signal);
    const micP = this.#openMicrophone(run, parts);
    const chunksP = Promise.all([parts.loadLiveKit(), parts.loadDeepgram()]);
    sessionP.catch(() => undefined);
    chunksP.catch(() => undefined);

    try {
      run.session = await sessionP;
    } catch (err) {
      if (signal.aborted) return;
      const recoverable = isRecoverable(err);
      await this.#fail({ type: 'token-endpoint', message: (err as Error)?.message ?? String(err), recoverable, cause: err }, t.errors.tokenEndpoint);
      return;
    }
    try {
      await chunksP;
    } catch (err) {
      if (signal.aborted) return;
      await this.#fail({ type: 'load', message: 'the session code could not be loaded', recoverable: true, cause: err }, t.errors.load);
      return;
    }
    if (signal.aborted) return;
    const session = run.session;

    const conversation = new Conversation({
      llm: this.#pickLlm(session, parts),
      speak: async (text) => {
        const avatar = this.#run?.avatar;
        if (!avatar) return;
        run.lastActivity = Date.now();
        try {
          await avatar.speak(text);
        } catch (err) {
          // A transient failure (network, 429, 5xx) is retried once.
          if (!isRecoverable(err, false) || signal.aborted) throw err;
          await new Promise((r) => setTimeout(r, 300));
          await avatar.speak(text);
        }
      },
      interrupt: async () => {
        await this.#run?.avatar?.interrupt();
      },
      language: config.language,
      bargeIn: this.noBargeIn ? false : { minWords: 2 },
      ...(this.systemPrompt ? { systemPrompt: this.systemPrompt } : {}),
    });
    run.conversation = conversation;
    this.#wireConversation(conversation);

    const avatar = new HeygenStreamingAvatar({
      apiBase: session.heygen.apiBase,
      token: session.heygen.token,
      sessionId: session.sessionId,
      livekitUrl: session.livekit.url,
      livekitToken: session.livekit.token,
    });
    run.avatar = avatar;
    this.#wireAvatar(avatar, conversation);

    const transcriber = new DeepgramTranscriber({
      url: session.stt.url,
      token: session.stt.token,
      language: config.language,
      model: config.sttModel,
      endpointing: config.endpointing,
      utteranceEndMs: config.utteranceEndMs,
      refreshToken: async () => (await refreshSttToken(session, signal)).token,
    });
    run.transcriber = transcriber;
    // Frames captured so far go first; the transcriber keeps everything in order until it is open.
    for (const frame of run.early.splice(0)) transcriber.send(frame);
    this.#wireTranscriber(transcriber, conversation);

    const [avatarResult, sttResult] = await Promise.allSettled([avatar.start(this._video, this._audio, signal), transcriber.open(), micP]);
    if (signal.aborted) return;
    if (avatarResult.status === 'rejected') {
      const err = avatarResult.reason;
      const type = err instanceof parts.AvatarError ? 'avatar' : 'livekit';
      await this.#fail({ type, message: (err as Error)?.message ?? String(err), recoverable: isRecoverable(err), cause: err }, type === 'avatar' ? t.errors.avatar : t.errors.livekit);
      return;
    }
    if (sttResult.status === 'rejected') {
      this.#error({ type: 'transcriber', message: `speech recognition could not start: ${(sttResult.reason as Error)?.message ?? sttResult.reason}`, recoverable: true, cause: sttResult.reason }, true, t.errors.transcriber);
    }

    parts.startHeartbeat(session, signal);
    this.#watchLimits(run, session, avatar);
    if (this.pushToTalk) run.mic?.mute(true);
    this.#setState('listening');
    this.emit('heygen-avatar:session-start', { sessionId: session.sessionId });
    if (this.greeting) void conversation.say(this.greeting).catch(() => undefined);
  }

  /**
   * Keeps the avatar session from idling out while the visitor is on the page, warns before the
   * session's duration limit, and ends it cleanly at the limit.
   */
  #watchLimits(run: Run, session: SessionResponse, avatar: AvatarProvider): void {
    const t = this.#t;
    const idle = session.limits.idleTimeoutSeconds > 0 ? session.limits.idleTimeoutSeconds : 120;
    const every = Math.max(10, Math.min(60, idle / 3)) * 1000;
    const keepAlive = setInterval(() => {
      if (document.visibilityState !== 'visible' || Date.now() - run.lastActivity < every) return;
      run.lastActivity = Date.now();
      avatar.keepAlive().catch(() => undefined);
    }, every);
    const limitMs = session.limits.sessionDurationSeconds * 1000;
    const warnAt = Math.max(0, limitMs - Math.min(30_000, limitMs / 5));
    const warn = setTimeout(() => {
      this._notice = t.endingSoon(Math.round((limitMs - warnAt) / 1000));
    }, warnAt);
    const end = setTimeout(() => {
      this._fatal = t.timeUp;
      void this.#end('duration-limit');
    }, limitMs);
    run.cleanups.push(() => {
      clearInterval(keepAlive);
      clearTimeout(warn);
      clearTimeout(end);
    });
  }

  async #openMicrophone(run: Run, parts: SessionParts): Promise<void> {
    const t = this.#t;
    try {
      const { startMicrophone } = await parts.loadMicrophone();
      run.mic = await startMicrophone({
        frameMs: 100,
        signal: run.controller.signal,
        onFrame: (frame) => {
          if (run.transcriber) run.transcriber.send(frame);
          else run.early.push(frame);
        },
        onLevel: (db) => {
          this._level = Math.max(0, Math.min(1, (db + 60) / 60));
        },
        onEnded: (error) => {
          this._hasMic = false;
          this.#error({ type: 'microphone', message: error.message, recoverable: true, cause: error }, true, t.errors.microphone);
        },
      });
      if (this._muted) run.mic.mute(true);
      this._hasMic = true;
    } catch (err) {
      if (run.controller.signal.aborted) return;
      const reason = (err as { reason?: string })?.reason;
      this.#error(
        { type: 'microphone', message: (err as Error)?.message ?? String(err), recoverable: true, cause: err },
        true,
        reason === 'denied' ? t.errors.microphoneDenied : t.errors.microphone,
      );
    }
  }

  #pickLlm(session: SessionResponse, parts: SessionParts): LlmFunction {
    if (this.llm) return (turn) => this.llm!(turn);
    const url = this.#config.llmEndpoint ?? session.llm?.url;
    if (url) return parts.llmRoute(url, session.sessionKey);
    return () => {
      throw new parts.LlmError('no LLM: set the llm property, the llm-endpoint attribute, or enable the broker’s LLM route', false);
    };
  }

  #wireConversation(c: Conversation): void {
    const t = this.#t;
    c.on('state', (s) => {
      if (this.#run?.conversation === c) this.#setState(s);
    });
    c.on('interim', (text) => {
      this.#caption('user', text, true);
      this.emit('heygen-avatar:transcript', { text, final: false });
    });
    c.on('final', (text) => this.emit('heygen-avatar:transcript', { text, final: true }));
    c.on('turn', (text) => {
      this.#caption('user', text, false);
      this.emit('heygen-avatar:turn', { text, source: this.#textTurn ? 'text' : 'voice' });
      this.#textTurn = false;
      this._notice = '';
    });
    c.on('replyDelta', (delta, text) => {
      this.#caption('avatar', text, true);
      this.emit('heygen-avatar:reply-delta', { delta, text });
    });
    c.on('reply', (text, interrupted) => {
      if (text) this.#caption('avatar', text, false);
      this.emit('heygen-avatar:reply', { text, interrupted });
    });
    c.on('error', (error, where) => {
      this.#error({ type: where, message: error.message, recoverable: isRecoverable(error), cause: error }, true, where === 'llm' ? t.errors.llm : t.errors.avatar);
    });
  }

  #wireAvatar(avatar: AvatarProvider, c: Conversation): void {
    const t = this.#t;
    avatar.on('talking', (talking) => {
      c.avatarTalking(talking);
      this.emit('heygen-avatar:talking', { talking });
    });
    avatar.on('audioPlayback', (allowed) => (this._soundBlocked = !allowed));
    avatar.on('connection', (s) => {
      if (s === 'reconnecting') this._notice = t.states.connecting;
      else if (s === 'connected' && this._notice === t.states.connecting) this._notice = '';
    });
    avatar.on('ended', (reason) => {
      if (this.#run?.avatar !== avatar || this._state === 'connecting') return;
      this.#error({ type: 'session', message: `the avatar session ended (${reason})`, recoverable: false }, true, t.errors.session);
      void this.#end('ended-by-service');
    });
  }

  #wireTranscriber(tr: DeepgramTranscriber, c: Conversation): void {
    const t = this.#t;
    tr.on('transcript', (u) => c.handleTranscript(u));
    tr.on('utteranceEnd', () => c.handleUtteranceEnd());
    tr.on('error', (error, recoverable) => {
      this.#error({ type: 'transcriber', message: error.message, recoverable: true, cause: error }, true, t.errors.transcriber);
      if (!recoverable) this._hasMic = false;
    });
  }

  #caption(who: Caption['who'], text: string, interim: boolean): void {
    const list = this._captions.slice();
    const last = list.at(-1);
    if (last && last.who === who && last.interim) list[list.length - 1] = { who, text, interim };
    else list.push({ who, text, interim });
    if (!text) list.pop();
    this._captions = list.slice(-MAX_CAPTIONS);
  }

  async #fail(detail: AvatarErrorDetail, text: string): Promise<void> {
    this.#error({ ...detail, recoverable: detail.recoverable }, true, text);
    this._fatal = text;
    await this.#end('error');
  }

  /** Tears the session down; `reason` goes into the session-end event. */
  async #end(reason: string): Promise<void> {
    const run = this.#run;
    if (!run) return;
    this.#run = undefined;
    run.controller.abort();
    run.conversation?.dispose();
    run.transcriber?.close();
    for (const cleanup of run.cleanups) cleanup();
    const pagehide = reason === 'pagehide';
    await Promise.allSettled([run.mic?.stop(), pagehide ? undefined : run.avatar?.stop()]);
    if (run.session) run.reportClosed?.(run.session, pagehide);
    this._level = 0;
    this._hasMic = false;
    this._soundBlocked = false;
    this.#setState(reason === 'error' ? 'error' : 'ended');
    if (run.session) {
      this.emit('heygen-avatar:session-end', { sessionId: run.session.sessionId, reason, history: run.conversation?.history ?? [] });
    }
  }

  #onPageHide = (): void => {
    // The page is going away: the beacon reaches the broker, which stops the avatar session.
    void this.#end('pagehide');
  };

  #onStartClick = (): void => {
    if (this.#run) void this.stop();
    else void this.start();
  };

  #onMuteClick = (): void => {
    if (this.pushToTalk) return;
    if (this._muted) this.unmute();
    else this.mute();
  };

  #talkDown = (event: Event): void => {
    if (!this.pushToTalk || (event instanceof KeyboardEvent && event.key !== ' ' && event.key !== 'Enter') || this._talking) return;
    event.preventDefault();
    this._talking = true;
    this.#run?.mic?.mute(false);
  };

  #talkUp = (event: Event): void => {
    if (!this.pushToTalk || !this._talking || (event instanceof KeyboardEvent && event.key !== ' ' && event.key !== 'Enter')) return;
    this._talking = false;
    const run = this.#run;
    // Send the last partial frame, then ask Deepgram to flush, so the last words are not lost.
    void run?.mic?.flush().then(() => {
      run.mic?.mute(true);
      run.transcriber?.finalize();
    });
  };

  #onSubmit = (event: SubmitEvent): void => {
    event.preventDefault();
    const input = (event.target as HTMLFormElement).elements.namedItem('message') as HTMLInputElement;
    const text = input.value.trim();
    if (!text || !this.#run?.conversation) return;
    input.value = '';
    void this.send(text);
  };

  #onSoundClick = (): void => {
    void this.#run?.avatar?.startAudio().then(() => (this._soundBlocked = false));
  };

  override render() {
    const t = this.#t;
    const running = this._state !== 'idle' && this._state !== 'ended' && this._state !== 'error';
    const live = running && this._state !== 'connecting';
    const level = Math.round(this._level * 100);
    return html`
      <div part="stage">
        <video part="video" playsinline autoplay muted aria-hidden=${live ? 'false' : 'true'}></video>
        <audio autoplay></audio>
        <div class="overlay" part="poster" ?hidden=${running || !!this._fatal}><slot name="poster"></slot></div>
        <div class="overlay" part="loading" ?hidden=${this._state !== 'connecting'}><slot name="loading">${t.states.connecting}</slot></div>
        <div class="overlay" part="error" role="alert" ?hidden=${!this._fatal}><slot name="error">${this._fatal}</slot></div>
        ${this._soundBlocked ? html`<div class="overlay"><button type="button" part="sound-button" @click=${this.#onSoundClick}>${t.enableSound}</button></div>` : nothing}
      </div>
      <div part="controls">
        <button type="button" part="start-button" ?disabled=${this._state === 'connecting'} @click=${this.#onStartClick}>${running ? t.stop : t.start}</button>
        ${this.pushToTalk
          ? html`<button
              type="button"
              part="talk-button"
              aria-pressed=${this._talking ? 'true' : 'false'}
              ?disabled=${!live || !this._hasMic}
              @pointerdown=${this.#talkDown}
              @pointerup=${this.#talkUp}
              @pointerleave=${this.#talkUp}
              @keydown=${this.#talkDown}
              @keyup=${this.#talkUp}
            >
              ${t.holdToTalk}
            </button>`
          : html`<button
              type="button"
              part="mute-button"
              aria-pressed=${this._muted ? 'true' : 'false'}
              aria-label=${this._muted ? t.unmuteLabel : t.muteLabel}
              ?disabled=${!live || !this._hasMic}
              @click=${this.#onMuteClick}
            >
              ${this._muted ? t.unmute : t.mute}
            </button>`}
        <span part="meter" role="meter" aria-label=${t.micLevel} aria-valuemin="0" aria-valuemax="100" aria-valuenow=${level}>
          <span style="transform: scaleX(${this._level})"></span>
        </span>
        <span part="status" role="status" aria-live="polite">${t.states[this._state]}</span>
      </div>
      ${this._notice ? html`<div part="notice" role="alert">${this._notice}</div>` : nothing}
      ${this.noCaptions
        ? nothing
        : html`<ol part="captions" aria-live="polite" aria-label=${t.captions}>
            ${this._captions.map(
              (c) => html`<li class=${c.interim ? 'interim' : ''}><span class="who">${c.who === 'user' ? t.you : t.avatar}:</span>${c.text}</li>`,
            )}
          </ol>`}
      ${this.noTextInput
        ? nothing
        : html`<form part="text-form" @submit=${this.#onSubmit}>
            <label class="visually-hidden" for="message">${t.typeHere}</label>
            <input id="message" name="message" autocomplete="off" placeholder=${t.typeHere} ?disabled=${!live} />
            <button type="submit" ?disabled=${!live}>${t.send}</button>
          </form>`}
    `;
  }
}
