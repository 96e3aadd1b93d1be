import { HeygenAvatar } from './heygen-avatar.js';

/** Registers `<heygen-avatar>` unless something already did. */
export function defineHeygenAvatar(tagName = 'heygen-avatar'): void {
  if (!customElements.get(tagName)) customElements.define(tagName, tagName === 'heygen-avatar' ? HeygenAvatar : class extends HeygenAvatar {});
}

defineHeygenAvatar();

declare global {
  interface HTMLElementTagNameMap {
    'heygen-avatar': HeygenAvatar;
  }
}
