import { css } from 'lit';

export const styles = css`
  :host {
    --_accent: var(--heygen-avatar-accent, #3b5bdb);
    --_accent-contrast: var(--heygen-avatar-accent-contrast, #fff);
    --_background: var(--heygen-avatar-background, #f4f4f6);
    --_color: var(--heygen-avatar-color, #1b1b1f);
    --_radius: var(--heygen-avatar-radius, 12px);
    display: inline-flex;
    flex-direction: column;
    box-sizing: border-box;
    width: var(--heygen-avatar-width, 360px);
    max-width: 100%;
    font: var(--heygen-avatar-font, 14px/1.4 system-ui, sans-serif);
    color: var(--_color);
    background: var(--_background);
    border-radius: var(--_radius);
    overflow: hidden;
    box-shadow: var(--heygen-avatar-shadow, 0 2px 12px rgb(0 0 0 / 0.12));
  }
  :host([hidden]) {
    display: none;
  }
  :host([layout='floating']) {
    position: fixed;
    z-index: var(--heygen-avatar-z-index, 2147483000);
    inset-inline-end: var(--heygen-avatar-offset, 16px);
    bottom: var(--heygen-avatar-offset, 16px);
  }
  :host([layout='compact']) {
    --heygen-avatar-width: 240px;
  }
  :host([layout='compact']) [part~='captions'],
  :host([layout='compact']) [part~='text-form'] {
    display: none;
  }
  [part~='stage'] {
    position: relative;
    aspect-ratio: 16 / 9;
    background: var(--heygen-avatar-stage-background, #202024);
  }
  video {
    width: 100%;
    height: 100%;
    object-fit: cover;
    display: block;
  }
  .overlay {
    position: absolute;
    inset: 0;
    display: grid;
    place-items: center;
    text-align: center;
    padding: 12px;
    color: #fff;
  }
  [part~='poster'] {
    color: #fff;
  }
  .silhouette,
  [part~='poster-image'] {
    position: absolute;
    inset: 0;
    width: 100%;
    height: 100%;
    object-fit: cover;
  }
  .poster-start {
    position: relative;
    display: inline-flex;
    align-items: center;
    gap: 6px;
    padding-block: 10px;
    padding-inline: 14px 18px;
    border-radius: 999px;
    border: 0;
    font: inherit;
    font-weight: 600;
    color: var(--_accent-contrast);
    background: var(--_accent);
    cursor: pointer;
    box-shadow: 0 2px 10px rgb(0 0 0 / 0.3);
  }
  .poster-start svg {
    width: 20px;
    height: 20px;
  }
  .overlay[hidden] {
    display: none;
  }
  [part~='error'] {
    background: rgb(20 20 24 / 0.8);
  }
  [part~='controls'] {
    display: flex;
    gap: 8px;
    align-items: center;
    padding: 8px;
  }
  button {
    font: inherit;
    padding: 6px 14px;
    border: 0;
    border-radius: var(--heygen-avatar-button-radius, 8px);
    background: var(--_accent);
    color: var(--_accent-contrast);
    cursor: pointer;
  }
  button[aria-pressed='true'] {
    background: var(--heygen-avatar-muted, #c92a2a);
  }
  button:disabled {
    opacity: 0.5;
    cursor: default;
  }
  button:focus-visible,
  input:focus-visible {
    outline: 2px solid var(--heygen-avatar-focus, #1c7ed6);
    outline-offset: 2px;
  }
  [part~='status'] {
    flex: 1;
  }
  [part~='meter'] {
    width: 48px;
    height: 6px;
    border-radius: 3px;
    background: rgb(0 0 0 / 0.12);
    overflow: hidden;
  }
  [part~='meter'] > span {
    display: block;
    height: 100%;
    background: var(--_accent);
    transform-origin: left;
    transform: scaleX(0);
    transition: transform 80ms linear;
  }
  :host(:dir(rtl)) [part~='meter'] > span {
    transform-origin: right;
  }
  [part~='notice'] {
    margin: 0 8px 8px;
    padding: 8px 10px;
    border-radius: 8px;
    background: var(--heygen-avatar-notice-background, rgb(250 176 5 / 0.18));
  }
  [part~='captions'] {
    max-height: var(--heygen-avatar-captions-height, 8em);
    overflow-y: auto;
    padding: 0 8px;
    margin: 0;
    list-style: none;
  }
  [part~='captions'] li {
    margin: 2px 0;
  }
  [part~='captions'] .who {
    font-weight: 600;
    margin-inline-end: 4px;
  }
  [part~='captions'] .interim {
    opacity: 0.65;
  }
  [part~='text-form'] {
    display: flex;
    gap: 8px;
    padding: 8px;
  }
  [part~='text-form'] input {
    flex: 1;
    font: inherit;
    padding: 6px 8px;
    border: 1px solid rgb(0 0 0 / 0.25);
    border-radius: 6px;
    background: #fff;
    color: inherit;
  }
  .visually-hidden {
    position: absolute;
    width: 1px;
    height: 1px;
    overflow: hidden;
    clip: rect(0 0 0 0);
    white-space: nowrap;
  }
  @media (prefers-reduced-motion: reduce) {
    [part~='meter'] > span {
      transition: none;
    }
  }
`;
