import { css } from 'lit';

export const styles = css`
  :host {
    display: inline-block;
    box-sizing: border-box;
    width: var(--heygen-avatar-width, 360px);
    font: var(--heygen-avatar-font, 14px/1.4 system-ui, sans-serif);
    color: var(--heygen-avatar-color, #1b1b1f);
    background: var(--heygen-avatar-background, #f4f4f6);
    border-radius: var(--heygen-avatar-radius, 12px);
    overflow: hidden;
  }
  :host([hidden]) {
    display: none;
  }
  [part='stage'] {
    position: relative;
    aspect-ratio: 16 / 9;
    background: var(--heygen-avatar-stage-background, #202024);
  }
  [part='controls'] {
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
    background: var(--heygen-avatar-accent, #3b5bdb);
    color: var(--heygen-avatar-accent-contrast, #fff);
    cursor: pointer;
  }
  button:focus-visible {
    outline: 2px solid var(--heygen-avatar-focus, #1c7ed6);
    outline-offset: 2px;
  }
  [part='status'] {
    flex: 1;
  }
`;
