// What the stage shows before a session: the page's poster image (the avatar's preview), else a
// drawn placeholder, with the start affordance on top. Inline SVG with presentation attributes
// only, so it passes a strict style-src CSP.
import { html, svg } from 'lit';

const silhouette = svg`
  <svg class="silhouette" viewBox="0 0 160 90" aria-hidden="true" focusable="false">
    <circle cx="80" cy="36" r="17" fill="currentColor" opacity="0.35"></circle>
    <path d="M44 90c2-20 17-32 36-32s34 12 36 32z" fill="currentColor" opacity="0.35"></path>
  </svg>`;

export function renderPoster(src: string | null, startLabel: string, onStart: () => void) {
  return html`
    ${src ? html`<img part="poster-image" src=${src} alt="" />` : silhouette}
    <button type="button" class="poster-start" part="poster-start" @click=${onStart}>
      <svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M8 5v14l11-7z" fill="currentColor"></path></svg>
      <span>${startLabel}</span>
    </button>
  `;
}
