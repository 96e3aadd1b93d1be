import { LitElement, html, nothing, type PropertyValues } from 'lit';
import { property, query } from 'lit/decorators.js';
import { unlockAudio } from '../avatar/unlock-audio.js';
import type { ChatMessage, LlmFunction } from '../conversation/llm.js';
import type { TokenProvider } from '../session/session-client.js';
import { conversationLanguage, pageLanguage, parseAttributes, parseElement, type AvatarConfig } from './config.js';
import type { AvatarState, HeygenAvatarEventDetails, HeygenAvatarEventName } from './events.js';
import { styles } from './heygen-avatar.styles.js';
import { renderMicButton } from './mic-button.js';
import { renderPoster } from './poster.js';
import { CaptionsFollowController } from './captions-follow.js';
import { SessionController } from './session-controller.js';
import { stringsAttribute, stringsPending, UiStringsController, type UiStringOverrides, type UiStrings } from './strings.js';

/**
 * A live, talking video avatar: the visitor speaks, the avatar answers out loud, on video.
 *
 * @summary Embeds a HeyGen avatar (LiveAvatar, or the older streaming API) that listens through the microphone and answers with your LLM.
 *
 * @tagname heygen-avatar
 *
 * @attr token-endpoint - URL of the session endpoint (required unless the `tokenProvider` property is set).
 * @attr avatar-id - The avatar to start: a LiveAvatar avatar id (a UUID) or a HeyGen streaming avatar id, as the back end's service takes (the broker checks it against its allow-list). Default: the broker's first.
 * @attr {'low' | 'medium' | 'high'} [quality=medium] - Video quality.
 * @attr voice-id - The avatar's voice. Default: the avatar's own.
 * @attr [voice-rate=1] - Speaking rate, 0.5–1.5.
 * @attr language - BCP-47 language of the conversation; drives speech recognition and the UI strings (ru, en, uk, de, fr, es, it, pt, pl, tr, zh, ja, ar, he; `pt-BR` → `pt` → `en`; ar and he right to left). Default: the nearest `lang` in the page, else `ru`.
 * @attr {string} strings - JSON object overriding any UI string, e.g. `{"start": "Поехали", "states": {"idle": "…"}}`; unknown keys are warned about and ignored.
 * @attr greeting - What the avatar says when the session starts.
 * @attr system-prompt - Passed to your `llm` callback as `turn.systemPrompt` (the broker's route uses the operator's prompt).
 * @attr llm-endpoint - An SSE LLM route to use instead of the broker's (same protocol as the broker's `/llm`). Default: the broker's.
 * @attr [stt-model=nova-2] - Deepgram model.
 * @attr [endpointing=400] - Milliseconds of silence that end a spoken turn (Deepgram's own 10 ms ends turns at every breath; 300–500 ms feels natural).
 * @attr [utterance-end-ms=1000] - Deepgram `utterance_end_ms`, the fallback end of a turn when noise keeps `speech_final` away.
 * @attr {'inline' | 'compact' | 'floating'} [layout=inline] - `compact`: video and controls only; `floating`: fixed in the corner.
 * @attr no-captions - Hides the live captions.
 * @attr no-text-input - Hides the text box.
 * @attr no-barge-in - The visitor's speech no longer interrupts the avatar; a spoken turn waits until the avatar has finished (typed turns and `send()` still interrupt).
 * @attr no-preemptive - Turns preemptive replies off: the LLM is asked only once the turn is confirmed, not already at the visitor's first pause (its reply held back until then, a wrong guess aborted).
 * @attr push-to-talk - The microphone listens only while “Hold to talk” is held (pointer, Space or Enter); releasing it ends the turn, the last words included.
 * @attr poster - An image shown on the stage before the session starts (the avatar's preview); unset: a drawn placeholder with a start button.
 * @attr debug - Logs every media-connection step to the console (default: warnings only).
 *
 * @fires {CustomEvent<AvatarStateDetail>} heygen-avatar:state - The state changed: `{state, previous}`, each `idle`, `connecting`, `listening`, `thinking`, `speaking`, `ended` or `error`.
 * @fires {CustomEvent<AvatarTranscriptDetail>} heygen-avatar:transcript - The user's words so far, or a final segment: `{text, final}`.
 * @fires {CustomEvent<AvatarTurnDetail>} heygen-avatar:turn - The user's completed turn, as sent to the LLM: `{text, source}`, source `voice` or `text`.
 * @fires {CustomEvent<AvatarReplyDeltaDetail>} heygen-avatar:reply-delta - A chunk of the LLM's reply: `{delta, text}`, `text` the reply so far.
 * @fires {CustomEvent<AvatarReplyDetail>} heygen-avatar:reply - The whole reply, or what came before an interruption: `{text, interrupted}`.
 * @fires {CustomEvent<AvatarTalkingDetail>} heygen-avatar:talking - The avatar started or stopped talking: `{talking}`.
 * @fires {CustomEvent<AvatarSessionStartDetail>} heygen-avatar:session-start - The session is live: `{sessionId}`.
 * @fires {CustomEvent<AvatarSessionEndDetail>} heygen-avatar:session-end - The session ended: `{sessionId, reason, history}`, reason `stopped`, `removed`, `pagehide`, `error`, `ended-by-service` or `duration-limit`.
 * @fires {CustomEvent<AvatarMetricsDetail>} heygen-avatar:metrics - Latency of one turn, once the avatar started talking (or the reply ended without): `{source, preemptive, cancelledSpeculativeCalls, speechEndToTurn, turnToFirstChunk, sentenceToTask, taskToTalking, speechEndToTalking}`, whole ms, `null` where a step did not happen (see “Per-turn latency” in the README).
 * @fires {CustomEvent<AvatarErrorDetail>} heygen-avatar:error - Something failed: `{type, message, recoverable, cause}`; `type` (an `AvatarErrorType`) says what, `recoverable` whether the session goes on.
 *
 * @slot poster - Shown on the stage before the session starts.
 * @slot loading - Shown while connecting (default: “Connecting…”).
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
 * @csspart sound-button - “Tap to enable sound”, when the browser blocked autoplay.
 * @csspart poster - The stage's overlay before the session starts (holds the `poster` slot).
 * @csspart loading - The stage's overlay while connecting (holds the `loading` slot).
 * @csspart error - The stage's overlay when the session failed (holds the `error` slot).
 * @csspart poster-image - The `poster` image on the idle stage.
 * @csspart poster-start - The start button on the idle stage.
 *
 * @cssprop [--heygen-avatar-width=360px] - Width of the element (240px in the compact layout).
 * @cssprop [--heygen-avatar-accent=#3b5bdb] - Button and meter colour.
 * @cssprop [--heygen-avatar-accent-contrast=#fff] - Text on the accent colour.
 * @cssprop [--heygen-avatar-background=#f4f4f6] - Background.
 * @cssprop [--heygen-avatar-color=#1b1b1f] - Text colour.
 * @cssprop [--heygen-avatar-radius=12px] - Corner radius.
 * @cssprop [--heygen-avatar-font=14px/1.4 system-ui, sans-serif] - Font shorthand.
 * @cssprop [--heygen-avatar-shadow=0 2px 12px rgb(0 0 0 / 0.12)] - Shadow around the element.
 * @cssprop [--heygen-avatar-stage-background=#202024] - Behind the video.
 * @cssprop [--heygen-avatar-captions-height=8em] - Maximum height of the captions.
 * @cssprop [--heygen-avatar-offset=16px] - Distance from the corner in the floating layout.
 * @cssprop [--heygen-avatar-z-index=2147483000] - Stacking order in the floating layout.
 * @cssprop [--heygen-avatar-button-radius=8px] - Corner radius of the buttons.
 * @cssprop [--heygen-avatar-muted=#c92a2a] - A pressed button: the muted microphone, “Hold to talk” held.
 * @cssprop [--heygen-avatar-focus=#1c7ed6] - The keyboard focus ring.
 * @cssprop [--heygen-avatar-notice-background=rgb(250 176 5 / 0.18)] - Behind a notice under the controls.
 */
export class HeygenAvatar extends LitElement {
  static override styles = styles;

  /** URL of the session endpoint the widget POSTs to for credentials. */
  @property({ attribute: 'token-endpoint' }) tokenEndpoint: string | null = null;
  /** The avatar to start (the back end's avatar service's id). */
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
  /** Turns preemptive replies off: the LLM is asked only once the turn is confirmed. */
  @property({ type: Boolean, attribute: 'no-preemptive' }) noPreemptive = false;
  /** Push-to-talk: the microphone listens only while the talk button (or Space on it) is held. */
  @property({ type: Boolean, attribute: 'push-to-talk' }) pushToTalk = false;
  /** An image shown on the stage before the session starts (the avatar's preview); unset: a drawn placeholder. */
  @property() poster: string | null = null;
  /** Logs every media-connection step to the console (default: warnings only). */
  @property({ type: Boolean }) debug = false;

  /**
   * Your LLM: called with each user turn (`{text, history, signal, systemPrompt, language, preemptive}`); return a
   * string, a Promise of one, or an AsyncIterable of text chunks (streamed replies start speaking at
   * the first full sentence). Stop when `signal` aborts (barge-in, stop, a preemptive call that
   * turned out wrong). `preemptive` is true for a call made before the turn was confirmed (see
   * `no-preemptive`). Unset: the broker's route.
   */
  @property({ attribute: false }) llm: LlmFunction | undefined = undefined;

  /**
   * Supplies session credentials instead of POSTing to `token-endpoint`: `(request, signal) => Promise<SessionResponse>`;
   * the answer is checked as an endpoint's is.
   */
  @property({ attribute: false }) tokenProvider: TokenProvider | undefined = undefined;

  @query('video') private _video!: HTMLVideoElement;
  @query('audio') private _audio!: HTMLAudioElement;

  readonly #session = new SessionController(this);
  readonly #ui = new UiStringsController(this, (problem) => this.#warn(problem));
  #config: AvatarConfig = parseAttributes({}).config;
  #warned = new Set<string>();
  #muted = false;
  #talking = false; // push-to-talk: the talk button is held

  constructor() {
    super();
    new CaptionsFollowController(this, () => this.renderRoot.querySelector('[part~="captions"]'));
  }

  /** The current state of the conversation: `idle`, `connecting`, `listening`, `thinking`, `speaking`, `ended` or `error`. */
  get state(): AvatarState {
    return this.#session.state;
  }

  /** The avatar session's id while a session runs. */
  get sessionId(): string | undefined {
    return this.#session.session?.sessionId;
  }

  /** The conversation so far, oldest first. */
  get history(): readonly ChatMessage[] {
    return this.#session.history;
  }

  /**
   * The UI strings in use: the conversation language's, with the page's overrides on top. Set it
   * (or the `strings` attribute, as JSON) to override any of them: `{start: 'Go', states: {idle: '…'}}`;
   * `endingSoon` takes `{seconds}`. Unknown keys are warned about and ignored.
   */
  @property({ attribute: 'strings', converter: stringsAttribute })
  get strings(): UiStrings {
    return this.#ui.strings;
  }
  set strings(overrides: UiStringOverrides | null | undefined) {
    this.#ui.overrides = overrides;
  }

  /** Until a session runs, a render waits for its language's strings (again if it changed meanwhile): no English first. */
  protected override scheduleUpdate(): void | Promise<unknown> {
    const pending = this.#session.session ? undefined : stringsPending(conversationLanguage(this.language, pageLanguage(this)));
    return pending ? pending.then(() => this.scheduleUpdate()) : super.scheduleUpdate();
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    const attrs = ['tokenEndpoint', 'avatarId', 'quality', 'voiceId', 'voiceRate', 'language', 'sttModel', 'endpointing', 'utteranceEndMs', 'layout', 'llmEndpoint', 'noPreemptive'] as const;
    if (!attrs.some((a) => changed.has(a)) && this.hasUpdated) return;
    const { config, problems } = parseElement(this);
    this.#config = config;
    this.#ui.language = config.language;
    for (const problem of problems) this.#warn(problem);
  }

  /** One warning and one error event per distinct problem with the page's settings. */
  #warn(problem: string): void {
    if (this.#warned.has(problem)) return;
    this.#warned.add(problem);
    this.#session.report({ type: 'attribute', message: problem, recoverable: true }, 'nowhere');
  }

  /**
   * Starts a session: credentials, microphone, avatar and speech recognition, in parallel.
   * Resolves when the avatar is live and listening (or when starting failed: see the error event).
   */
  async start(): Promise<void> {
    // Still within the visitor's tap: iOS plays the avatar's voice later only if this happened now.
    unlockAudio(this._audio);
    // Attributes set just before start() are parsed in the pending update: let it run first.
    await this.updateComplete;
    if (!this.tokenProvider && !this.#config.tokenEndpoint) {
      this.#session.refuse({ type: 'attribute', message: 'token-endpoint is not set (nor the tokenProvider property)', recoverable: false });
      return;
    }
    await this.#session.start((b) => b.sessionOptions(this, this.#config, { video: this._video, audio: this._audio }, this.#muted));
  }

  /** Ends the session and releases everything. Resolves when it has ended. */
  async stop(): Promise<void> {
    await this.#session.stop('stopped');
  }

  /** The avatar says `text` verbatim (no LLM). Resolves when the avatar service accepted it. */
  async say(text: string): Promise<void> {
    await this.#session.running('say').say(text);
  }

  /** Sends `text` as the user's turn, as if spoken. Resolves when the reply has been handed out. */
  async send(text: string): Promise<void> {
    await this.#session.running('send').send(text);
  }

  /** Stops the avatar's current reply. */
  async interrupt(): Promise<void> {
    await this.#session.session?.interrupt();
  }

  /** Mutes the microphone (speech recognition is kept alive); what the visitor said before it ends the turn. */
  mute(): void {
    this.#mute(true);
  }

  /** Unmutes the microphone. */
  unmute(): void {
    this.#mute(false);
  }

  #mute(muted: boolean): void {
    this.#muted = muted;
    this.#session.session?.mute(muted);
    this.requestUpdate();
  }

  /** Fires one of the element's events (bubbling, composed): the element's parts call it. @internal */
  emit<K extends HeygenAvatarEventName>(name: K, detail: HeygenAvatarEventDetails[K]): boolean {
    return this.dispatchEvent(new CustomEvent(name, { detail, bubbles: true, composed: true }));
  }

  #onStartClick = (): void => {
    if (this.#session.session) void this.stop();
    else void this.start();
  };

  #onMuteClick = (): void => {
    if (!this.pushToTalk) this.#mute(!this.#muted);
  };

  /** Push-to-talk: pointer or Space/Enter down opens the microphone; up (or leaving) flushes and closes it. */
  #talk = (event: Event): void => {
    const pressed = event.type === 'pointerdown' || event.type === 'keydown';
    if (!this.pushToTalk || (event instanceof KeyboardEvent && event.key !== ' ' && event.key !== 'Enter') || pressed === this.#talking) return;
    if (pressed) event.preventDefault();
    this.#talking = pressed;
    this.requestUpdate();
    void this.#session.session?.talk(pressed);
  };

  #onSubmit = (event: SubmitEvent): void => {
    event.preventDefault();
    const input = (event.target as HTMLFormElement).elements.namedItem('message') as HTMLInputElement;
    const text = input.value.trim();
    if (!text || !this.#session.session) return;
    input.value = '';
    void this.send(text);
  };

  protected override updated(): void {
    // The meter is drawn through the CSSOM: a style attribute would break under a strict style-src CSP.
    this.renderRoot.querySelector<HTMLElement>('[part~="meter"] > span')?.style.setProperty('transform', `scaleX(${this.#session.level})`);
  }

  override render() {
    const t = this.strings;
    const view = this.#session;
    const running = view.state !== 'idle' && view.state !== 'ended' && view.state !== 'error';
    const live = running && view.state !== 'connecting';
    return html`
      <div part="stage">
        <video part="video" playsinline autoplay muted aria-hidden=${live ? 'false' : 'true'}></video>
        <audio autoplay></audio>
        <div class="overlay" part="poster" ?hidden=${running || !!view.fatal}>
          <slot name="poster">${renderPoster(this.poster, t.start, this.#onStartClick)}</slot>
        </div>
        <div class="overlay" part="loading" ?hidden=${view.state !== 'connecting'}><slot name="loading">${t.states.connecting}</slot></div>
        <div class="overlay" part="error" role="alert" ?hidden=${!view.fatal}><slot name="error">${view.fatal}</slot></div>
        ${view.soundBlocked ? html`<div class="overlay"><button type="button" part="sound-button" @click=${() => void this.#session.session?.startAudio()}>${t.enableSound}</button></div>` : nothing}
      </div>
      <div part="controls">
        <button type="button" part="start-button" ?disabled=${view.state === 'connecting'} @click=${this.#onStartClick}>${running ? t.stop : t.start}</button>
        ${renderMicButton({ pushToTalk: this.pushToTalk, talking: this.#talking, muted: this.#muted, disabled: !live || !view.hasMic }, t, this.#onMuteClick, this.#talk)}
        <span part="meter" role="meter" aria-label=${t.micLevel} aria-valuemin="0" aria-valuemax="100" aria-valuenow=${Math.round(view.level * 100)}>
          <span></span>
        </span>
        <span part="status" role="status" aria-live="polite">${view.fatal ? '' : live && !view.hasMic ? t.textMode : t.states[view.state]}</span>
      </div>
      ${view.notice ? html`<div part="notice" role="alert">${view.notice}</div>` : nothing}
      ${this.noCaptions
        ? nothing
        : html`<ol part="captions" aria-live="polite" aria-label=${t.captions}>
            ${view.captions.map(
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
