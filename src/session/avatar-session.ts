// One conversation with an avatar, from credentials to teardown: asks the session endpoint for
// credentials, opens the microphone, the transcriber and the avatar provider in parallel, wires
// them to the conversation, keeps the session alive, and closes everything. No rendering, no
// knowledge of the element: it gets two media elements to play into and reports by typed events.
import { createNanoEvents } from 'nanoevents';
import { loadAvatarProvider } from '../avatar/registry.js';
import type { AvatarMedia, AvatarProvider } from '../avatar/provider.js';
import { loadLiveKit } from '../avatar/load-livekit.js';
import { setMediaDebug } from '../avatar/livekit-room.js';
import { loadMicrophone } from '../capture/load-microphone.js';
import type { Microphone } from '../capture/microphone.js';
import { Conversation } from '../conversation/conversation.js';
import { llmRoute, type ChatMessage, type LlmFunction } from '../conversation/llm.js';
import { DEFAULT_MIN_PAUSE_MS } from '../conversation/preemptive.js';
import type { TurnMetrics } from '../conversation/turn-metrics.js';
import type { SessionRequest, SessionResponse } from '../shared/contract.js';
import { HeygenAvatarError, LlmError, LoadError, SessionEndedError, TranscriberError, UnsupportedBrowserError, toAvatarError } from '../shared/errors.js';
import { DeepgramTranscriber } from '../transcriber/deepgram.js';
import { loadDeepgram } from '../transcriber/load-deepgram.js';
import { refreshSttToken, reportSessionClosed, requestSession, startHeartbeat, validateSessionResponse, type TokenProvider } from './session-client.js';

/** Microphone frame length (ms). */
const FRAME_MS = 20;
/** Frames per level event (the meter's ten a second). */
const LEVELS_EVERY = 100 / FRAME_MS;

/** Where a session is. `connecting` until the avatar is live; `ended` or `error` for good. */
export type SessionState = 'connecting' | 'listening' | 'thinking' | 'speaking' | 'ended' | 'error';

/** Why a session ended: `stopped`, `removed`, `pagehide`, `error`, `ended-by-service`, `duration-limit`, or the caller's own. */
export type SessionEndReason = string;

export interface AvatarSessionOptions {
  /** URL of the session endpoint (POST). Either this or `tokenProvider`. */
  tokenEndpoint?: string;
  /** Supplies the session endpoint's answer instead of `tokenEndpoint`. */
  tokenProvider?: TokenProvider;
  /** What the session endpoint is asked for (avatar, quality, voice, language, STT model). */
  request: SessionRequest;
  /** Where the avatar's video and voice play. */
  media: AvatarMedia;
  /** BCP-47 language of the conversation (Deepgram's `language`, `turn.language`). */
  language: string;
  /** Deepgram model. */
  sttModel: string;
  /** Milliseconds of silence that end a spoken turn. */
  endpointing: number;
  /** Deepgram `utterance_end_ms`. */
  utteranceEndMs: number;
  /** The page's LLM; unset: `llmEndpoint`, else the broker's route from the session answer. */
  llm?: LlmFunction;
  /** An SSE route speaking the broker's `/llm` protocol. */
  llmEndpoint?: string;
  systemPrompt?: string;
  /** Said by the avatar once the session is live. */
  greeting?: string;
  /** The visitor's speech interrupts the avatar (default true). */
  bargeIn?: boolean;
  /** Preemptive replies: the LLM is asked at the visitor's first pause, before the turn is confirmed (default true). */
  preemptive?: boolean;
  /** The microphone is muted except while `talk(true)` holds it open. */
  pushToTalk?: boolean;
  /** Start with the microphone muted. */
  muted?: boolean;
  /** Let the media library log every connection step (default: warnings only). */
  debug?: boolean;
}

export interface AvatarSessionEvents {
  state(state: SessionState, previous: SessionState): void;
  /** Something failed; `fatal` when it ends the session (the session then ends by itself). */
  error(error: HeygenAvatarError, fatal: boolean): void;
  /** The user's words so far (`final` false) or a final segment. */
  transcript(text: string, final: boolean): void;
  /** The user's completed turn, as sent to the LLM. */
  turn(text: string, source: 'voice' | 'text'): void;
  /** Text the avatar was given to say outside the LLM (the greeting, `say()`). */
  said(text: string): void;
  replyDelta(delta: string, text: string): void;
  reply(text: string, interrupted: boolean): void;
  talking(talking: boolean): void;
  /** The session is live. */
  started(sessionId: string): void;
  /** The session is over (fired only when the session endpoint had answered). */
  ended(sessionId: string, reason: SessionEndReason, history: readonly ChatMessage[]): void;
  /** Microphone level, 0–1, for a meter. */
  level(level: number): void;
  /** Whether the microphone delivers speech to the transcriber. */
  microphone(available: boolean): void;
  /** The browser blocked the avatar's audio until a user gesture (see `startAudio()`). */
  audioBlocked(blocked: boolean): void;
  /** The media connection: `reconnecting` while it recovers by itself, then `connected`. */
  connection(state: 'connected' | 'reconnecting' | 'disconnected'): void;
  /** The session's duration limit is near: it ends in `seconds`. */
  endingSoon(seconds: number): void;
  /** Latency figures of one turn (see `TurnMetrics`). */
  metrics(metrics: TurnMetrics): void;
}

/**
 * What this browser lacks of what a session needs to show the avatar: WebRTC for its live video
 * and voice. (No microphone, AudioWorklet or WebSocket leaves a session in text mode instead.)
 */
export function missingCapabilities(): string[] {
  return typeof RTCPeerConnection === 'function' ? [] : ['WebRTC'];
}

/** Keep-alive and duration-limit timers, the early-frame buffer and everything to undo at the end. */
interface Run {
  controller: AbortController;
  session?: SessionResponse;
  avatar?: AvatarProvider;
  transcriber?: DeepgramTranscriber;
  mic?: Microphone;
  conversation?: Conversation;
  /** Date.now() of the last thing sent to the avatar (for keep-alive). */
  lastActivity: number;
  /** Frames captured before the transcriber existed. */
  early: ArrayBuffer[];
  cleanups: (() => void)[];
}

/**
 * One avatar session. `start()` once; `stop()` (or a failure, or the service) ends it for good.
 * Make a new one to talk again.
 */
export class AvatarSession {
  readonly #events = createNanoEvents<AvatarSessionEvents>();
  readonly #options: AvatarSessionOptions;
  readonly #run: Run = { controller: new AbortController(), early: [], cleanups: [], lastActivity: Date.now() };
  #state: SessionState = 'connecting';
  #starting: Promise<void> | undefined;
  #ended: Promise<void> | undefined;
  #muted: boolean;
  #textTurn = false;

  constructor(options: AvatarSessionOptions) {
    if (!options.tokenEndpoint && !options.tokenProvider) throw new TypeError('AvatarSession needs a tokenEndpoint or a tokenProvider');
    this.#options = options;
    this.#muted = options.muted ?? false;
  }

  on<E extends keyof AvatarSessionEvents>(event: E, listener: AvatarSessionEvents[E]): () => void {
    return this.#events.on(event, listener);
  }

  get state(): SessionState {
    return this.#state;
  }

  /** The avatar service's session id, once the session endpoint has answered. */
  get sessionId(): string | undefined {
    return this.#run.session?.sessionId;
  }

  /** The conversation so far, oldest first. */
  get history(): readonly ChatMessage[] {
    return this.#run.conversation?.history ?? [];
  }

  /** Whether the session was stopped or failed. */
  get ended(): boolean {
    return this.#ended !== undefined;
  }

  /**
   * Starts the session: credentials, microphone, avatar and speech recognition, in parallel.
   * Resolves when the avatar is live and listening, or right away if `stop()` ended the session
   * meanwhile; rejects with the HeygenAvatarError that ended it (also fired as `error`).
   */
  start(): Promise<void> {
    this.#starting ??= this.#start();
    return this.#starting;
  }

  /** Ends the session and releases everything. Resolves when it has ended. */
  stop(reason: SessionEndReason = 'stopped'): Promise<void> {
    this.#ended ??= this.#end(reason);
    return this.#ended;
  }

  /** The avatar says `text` verbatim (no LLM). Resolves when the avatar service accepted it. */
  async say(text: string): Promise<void> {
    await this.#say(this.#requireConversation('say'), String(text));
  }

  #say(conversation: Conversation, text: string): Promise<void> {
    if (text.trim()) this.#events.emit('said', text.trim());
    return conversation.say(text);
  }

  /** Sends `text` as the user's turn, as if spoken. Resolves when the reply has been handed out. */
  async send(text: string): Promise<void> {
    const conversation = this.#requireConversation('send');
    this.#textTurn = true;
    await conversation.send(String(text));
  }

  /** Stops the avatar's current reply. */
  async interrupt(): Promise<void> {
    await this.#run.conversation?.interrupt();
  }

  /** Mutes or unmutes the microphone (speech recognition stays open). Muting ends the turn with what was said before it. */
  mute(muted: boolean): void {
    this.#muted = muted;
    if (!muted) {
      this.#run.mic?.mute(false);
      return;
    }
    this.#events.emit('level', 0);
    void this.#closeMicrophone();
  }

  /**
   * Push-to-talk: `true` opens the microphone; `false` sends the last partial frame, mutes, and
   * asks the transcriber to flush, so the last words are not lost: they end the turn.
   */
  async talk(pressed: boolean): Promise<void> {
    if (pressed) this.#run.mic?.mute(false);
    else await this.#closeMicrophone();
  }

  /**
   * Mutes the microphone and ends the turn with what was said: no audio follows, so Deepgram would
   * not end it. Muting sends the last partial frame; once it is out, the transcriber flushes.
   */
  async #closeMicrophone(): Promise<void> {
    const { mic, transcriber } = this.#run;
    mic?.mute(true);
    await mic?.flush();
    transcriber?.finalize(true);
  }

  /** Resumes the avatar's audio after a user gesture, when the browser had blocked it. */
  async startAudio(): Promise<void> {
    await this.#run.avatar?.startAudio();
    this.#events.emit('audioBlocked', false);
  }

  #requireConversation(method: string): Conversation {
    const conversation = this.#ended ? undefined : this.#run.conversation;
    if (!conversation) throw new Error(`heygen-avatar: ${method}() needs a running session; call start() first`);
    return conversation;
  }

  #setState(next: SessionState): void {
    const previous = this.#state;
    if (previous === next) return;
    this.#state = next;
    this.#events.emit('state', next, previous);
  }

  /** Reports a failure that ends the session, then ends it. */
  async #fail(error: HeygenAvatarError): Promise<never> {
    this.#events.emit('error', error, true);
    await this.stop('error');
    throw error;
  }

  async #start(): Promise<void> {
    const run = this.#run;
    const { signal } = run.controller;
    const o = this.#options;
    setMediaDebug(o.debug ?? false);
    // Before anything is asked of the back end: a session this browser cannot show is not created (it would be billed).
    const missing = missingCapabilities();
    if (missing.length) return this.#fail(new UnsupportedBrowserError(missing));

    // The slow steps, all at once: credentials, the microphone, the LiveKit and Deepgram code.
    const answerP = (async () => validateSessionResponse(await (o.tokenProvider ? o.tokenProvider(o.request, signal) : requestSession(o.tokenEndpoint!, o.request, signal))))();
    const micP = this.#openMicrophone();
    const codeP = Promise.all([loadLiveKit(), loadDeepgram()]);
    answerP.catch(() => undefined);
    codeP.catch(() => undefined);

    let avatar: AvatarProvider;
    try {
      const session = await answerP;
      // Stopped while the answer was on its way (a tokenProvider may ignore the signal): close it.
      if (signal.aborted) return reportSessionClosed(session, false);
      run.session = session;
      const provider = await loadAvatarProvider(session.avatar.provider);
      if (signal.aborted) return;
      avatar = provider.createAvatar(session.avatar, { sessionId: session.sessionId });
      await codeP.catch((cause) => {
        throw new LoadError('the session code could not be loaded', true, { cause });
      });
    } catch (err) {
      if (signal.aborted) return;
      return this.#fail(toAvatarError(err, 'token-endpoint'));
    }
    if (signal.aborted) return;
    const session = run.session!;
    run.avatar = avatar;

    const conversation = new Conversation({
      llm: this.#pickLlm(session),
      speak: async (text) => {
        run.lastActivity = Date.now();
        try {
          await avatar.speak(text);
        } catch (err) {
          // A transient failure (network, 429, 5xx) is retried once.
          if (!(err instanceof HeygenAvatarError && err.recoverable) || signal.aborted) throw err;
          await new Promise((r) => setTimeout(r, 300));
          await avatar.speak(text);
        }
      },
      interrupt: () => avatar.interrupt(),
      language: o.language,
      bargeIn: o.bargeIn === false ? false : { minWords: 2 },
      ...(o.preemptive === false ? { preemptive: false as const } : {}),
      ...(o.systemPrompt ? { systemPrompt: o.systemPrompt } : {}),
    });
    run.conversation = conversation;
    this.#wireConversation(conversation);
    this.#wireAvatar(avatar, conversation);

    const transcriber = new DeepgramTranscriber({
      url: session.stt.url,
      token: session.stt.token,
      language: o.language,
      model: o.sttModel,
      endpointing: o.endpointing,
      utteranceEndMs: o.utteranceEndMs,
      flushOnPauseMs: DEFAULT_MIN_PAUSE_MS,
      refreshToken: async () => (await refreshSttToken(session, signal)).token,
    });
    run.transcriber = transcriber;
    // Frames captured so far go first; the transcriber keeps everything in order until it is open.
    for (const frame of run.early.splice(0)) transcriber.send(frame);
    transcriber.on('transcript', (u) => conversation.handleTranscript(u));
    transcriber.on('utteranceEnd', () => conversation.handleUtteranceEnd());
    transcriber.on('endOfSpeech', () => conversation.handleUtteranceEnd());
    transcriber.on('error', (error) => {
      this.#events.emit('error', error, false);
      if (error.closed) this.#events.emit('microphone', false);
    });

    const [avatarResult, sttResult] = await Promise.allSettled([avatar.start(o.media, signal), transcriber.open(), micP]);
    if (signal.aborted) return;
    if (avatarResult.status === 'rejected') {
      // Ours say what failed (the service, or the media connection); anything else came from the media library.
      return this.#fail(toAvatarError(avatarResult.reason, 'livekit'));
    }
    if (sttResult.status === 'rejected') {
      const reason = sttResult.reason as Error;
      this.#events.emit('error', new TranscriberError(`speech recognition could not start: ${reason?.message ?? reason}`, false, { cause: reason }), false);
    }

    startHeartbeat(session, signal);
    this.#watchLimits(session, avatar);
    if (o.pushToTalk) run.mic?.mute(true);
    this.#setState('listening');
    this.#events.emit('started', session.sessionId);
    if (o.greeting) void this.#say(conversation, o.greeting).catch(() => undefined);
  }

  async #openMicrophone(): Promise<void> {
    const run = this.#run;
    try {
      const { startMicrophone } = await loadMicrophone();
      // 20 ms frames: the transcriber hears a pause (and Deepgram the last word) within 20 ms of it.
      // The meter needs no more than ten levels a second: the loudest frame of each 100 ms.
      let loudest = -100;
      let frames = 0;
      run.mic = await startMicrophone({
        frameMs: FRAME_MS,
        signal: run.controller.signal,
        onFrame: (frame) => {
          if (run.transcriber) run.transcriber.send(frame);
          else run.early.push(frame);
        },
        onLevel: (db) => {
          // Muted (−100): the meter drops at once.
          if (db <= -100) [loudest, frames] = [-100, LEVELS_EVERY - 1];
          loudest = Math.max(loudest, db);
          if (++frames < LEVELS_EVERY) return;
          this.#events.emit('level', Math.max(0, Math.min(1, (loudest + 60) / 60)));
          loudest = -100;
          frames = 0;
        },
        onEnded: (error) => {
          this.#events.emit('microphone', false);
          this.#events.emit('error', error, false);
        },
      });
      if (this.#muted) run.mic.mute(true);
      this.#events.emit('microphone', true);
    } catch (err) {
      if (run.controller.signal.aborted) return;
      this.#events.emit('error', toAvatarError(err, 'microphone'), false);
    }
  }

  #pickLlm(session: SessionResponse): LlmFunction {
    const { llm, llmEndpoint } = this.#options;
    if (llm) return llm;
    const url = llmEndpoint ?? session.llm?.url;
    if (url) return llmRoute(url, session.sessionKey);
    return () => {
      throw new LlmError('no LLM: set the llm property, the llm-endpoint attribute, or enable the broker’s LLM route', false);
    };
  }

  #wireConversation(c: Conversation): void {
    c.on('state', (s) => {
      if (!this.#ended) this.#setState(s);
    });
    c.on('interim', (text) => this.#events.emit('transcript', text, false));
    c.on('final', (text) => this.#events.emit('transcript', text, true));
    c.on('turn', (text) => {
      const source = this.#textTurn ? 'text' : 'voice';
      this.#textTurn = false;
      this.#events.emit('turn', text, source);
    });
    c.on('replyDelta', (delta, text) => this.#events.emit('replyDelta', delta, text));
    c.on('reply', (text, interrupted) => this.#events.emit('reply', text, interrupted));
    c.on('error', (error) => this.#events.emit('error', error, false));
    c.on('metrics', (metrics) => this.#events.emit('metrics', metrics));
  }

  #wireAvatar(avatar: AvatarProvider, c: Conversation): void {
    avatar.on('talking', (talking) => {
      c.avatarTalking(talking);
      this.#events.emit('talking', talking);
    });
    avatar.on('audioPlayback', (allowed) => this.#events.emit('audioBlocked', !allowed));
    avatar.on('connection', (state) => this.#events.emit('connection', state));
    avatar.on('ended', (reason) => {
      if (this.#ended || this.#state === 'connecting') return;
      // The service's own time limit ends the session as ours would.
      if (reason === 'duration-limit') return void this.stop('duration-limit');
      this.#events.emit('error', new SessionEndedError(`the avatar session ended (${reason})`), true);
      void this.stop('ended-by-service');
    });
  }

  /**
   * Keeps the avatar session from idling out while the visitor is on the page, warns before the
   * session's duration limit, and ends it cleanly at the limit.
   */
  #watchLimits(session: SessionResponse, avatar: AvatarProvider): void {
    const run = this.#run;
    const idle = session.limits.idleTimeoutSeconds > 0 ? session.limits.idleTimeoutSeconds : 120;
    const every = Math.max(10, Math.min(60, idle / 3)) * 1000;
    const keepAlive = setInterval(() => {
      if (document.visibilityState !== 'visible' || Date.now() - run.lastActivity < every) return;
      run.lastActivity = Date.now();
      avatar.keepAlive().catch(() => undefined);
    }, every);
    const limitMs = session.limits.sessionDurationSeconds * 1000;
    const warnAt = Math.max(0, limitMs - Math.min(30_000, limitMs / 5));
    const warn = setTimeout(() => this.#events.emit('endingSoon', Math.round((limitMs - warnAt) / 1000)), warnAt);
    const end = setTimeout(() => void this.stop('duration-limit'), limitMs);
    run.cleanups.push(() => {
      clearInterval(keepAlive);
      clearTimeout(warn);
      clearTimeout(end);
    });
  }

  async #end(reason: SessionEndReason): Promise<void> {
    const run = this.#run;
    run.controller.abort();
    run.conversation?.dispose();
    run.transcriber?.close();
    for (const cleanup of run.cleanups) cleanup();
    // On pagehide the report goes first, before anything awaits: the page may be gone a moment later.
    // The broker then stops the avatar session.
    const pagehide = reason === 'pagehide';
    if (pagehide && run.session) reportSessionClosed(run.session, true);
    await Promise.allSettled([run.mic?.stop(), pagehide ? undefined : run.avatar?.stop()]);
    if (!pagehide && run.session) reportSessionClosed(run.session, false);
    this.#events.emit('level', 0);
    this.#setState(reason === 'error' ? 'error' : 'ended');
    if (run.session) this.#events.emit('ended', run.session.sessionId, reason, run.conversation?.history ?? []);
  }
}
