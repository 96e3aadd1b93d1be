// The microphone button: mute / unmute, or, with push-to-talk, a button held while speaking
// (pointer, or Space / Enter on the keyboard).
import { html } from 'lit';
import type { UiStrings } from './strings.js';

export interface MicButtonState {
  pushToTalk: boolean;
  /** Push-to-talk: the button is held. */
  talking: boolean;
  muted: boolean;
  disabled: boolean;
}

/** `onTalk` gets pointer and key events, down and up: it tells pressing from releasing. */
export function renderMicButton(s: MicButtonState, t: UiStrings, onMute: () => void, onTalk: (e: Event) => void) {
  if (s.pushToTalk) {
    return html`<button
      type="button"
      part="talk-button"
      aria-pressed=${s.talking ? 'true' : 'false'}
      ?disabled=${s.disabled}
      @pointerdown=${onTalk}
      @pointerup=${onTalk}
      @pointerleave=${onTalk}
      @keydown=${onTalk}
      @keyup=${onTalk}
    >
      ${t.holdToTalk}
    </button>`;
  }
  return html`<button
    type="button"
    part="mute-button"
    aria-pressed=${s.muted ? 'true' : 'false'}
    aria-label=${s.muted ? t.unmuteLabel : t.muteLabel}
    ?disabled=${s.disabled}
    @click=${onMute}
  >
    ${s.muted ? t.unmute : t.mute}
  </button>`;
}
