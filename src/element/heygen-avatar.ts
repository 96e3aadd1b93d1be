import { LitElement, html } from 'lit';
import { property, state } from 'lit/decorators.js';
import { loadLiveKit } from '../avatar/load-livekit.js';
import { loadDeepgram } from '../transcriber/load-deepgram.js';
import { VERSION } from '../version.js';
import type { AvatarErrorDetail, AvatarState, HeygenAvatarEventDetails, HeygenAvatarEventName } from './events.js';
import { styles } from './heygen-avatar.styles.js';

/**
 * A live, talking video avatar.
 *
 * @summary Embeds a HeyGen streaming avatar that listens through the microphone and answers out loud.
 *
 * @attr token-endpoint - URL of the session endpoint (see README, "Session endpoint contract").
 * @attr avatar-id - The HeyGen avatar to start.
 *
 * @fires heygen-avatar:state - The state changed.
 * @fires heygen-avatar:error - Something failed; `detail.type` says what, `detail.recoverable` whether it goes on.
 *
 * @csspart stage - The box that holds the avatar video.
 * @csspart controls - The row of buttons.
 * @csspart status - The state line.
 *
 * @cssprop --heygen-avatar-width - Width of the element (360px).
 * @cssprop --heygen-avatar-accent - Button colour.
 */
export class HeygenAvatar extends LitElement {
  static override styles = styles;

  /** URL of the session endpoint the widget POSTs to for credentials. */
  @property({ attribute: 'token-endpoint' }) tokenEndpoint = '';

  /** The HeyGen avatar to start. */
  @property({ attribute: 'avatar-id' }) avatarId = '';

  @state() private _state: AvatarState = 'idle';

  /** The current state of the conversation. */
  get state(): AvatarState {
    return this._state;
  }

  /** Fires a typed, bubbling, composed event with the package prefix. */
  protected emit<K extends HeygenAvatarEventName>(name: K, detail: HeygenAvatarEventDetails[K]): boolean {
    return this.dispatchEvent(new CustomEvent(name, { detail, bubbles: true, composed: true, cancelable: false }));
  }

  protected setState(next: AvatarState): void {
    const previous = this._state;
    if (previous === next) return;
    this._state = next;
    this.emit('heygen-avatar:state', { state: next, previous });
  }

  protected reportError(detail: AvatarErrorDetail): void {
    console.warn(`heygen-avatar ${VERSION}: ${detail.message}`);
    this.emit('heygen-avatar:error', detail);
  }

  /**
   * Starts a session. Loads the session's heavy parts (LiveKit, Deepgram) on first use.
   * Resolves once the element is connected and listening.
   */
  async start(): Promise<void> {
    if (this._state !== 'idle' && this._state !== 'ended' && this._state !== 'error') return;
    this.setState('connecting');
    try {
      await Promise.all([loadLiveKit(), loadDeepgram()]);
    } catch (cause) {
      this.setState('error');
      this.reportError({ type: 'load', message: 'could not load the session code', recoverable: true, cause });
      return;
    }
    if (!this.tokenEndpoint) {
      this.setState('error');
      this.reportError({ type: 'attribute', message: 'token-endpoint is not set', recoverable: false });
    }
  }

  override render() {
    return html`
      <div part="stage"></div>
      <div part="controls">
        <button type="button" part="start-button" @click=${() => void this.start()}>Start</button>
        <span part="status" role="status" aria-live="polite">${this._state}</span>
      </div>
    `;
  }
}
