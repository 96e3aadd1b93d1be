// The synthetic avatar's picture: a drawn face on a plain background whose mouth opens with the
// loudness of the speech. The still parts are drawn once; each frame copies them and draws the mouth,
// so a silent avatar sends identical frames and a talking one sends changing frames.

type Rgb = readonly [number, number, number];

const BACKGROUND: Rgb = [46, 52, 72];
const SKIN: Rgb = [238, 196, 160];
const HAIR: Rgb = [70, 44, 32];
const EYE: Rgb = [40, 40, 48];
const MOUTH: Rgb = [120, 30, 40];
const SHIRT: Rgb = [59, 91, 219];

export class FacePainter {
  readonly #base: Uint8Array;
  readonly #width: number;
  readonly #height: number;

  constructor(width: number, height: number) {
    this.#width = width;
    this.#height = height;
    this.#base = new Uint8Array(width * height * 4);
    this.#drawBase();
  }

  /** Paints the face with the mouth open by `openness` (0 closed … 1 wide open). */
  paint(rgba: Uint8Array, openness: number): void {
    rgba.set(this.#base);
    const w = this.#width;
    const h = this.#height;
    const cx = w / 2;
    const cy = h * 0.66;
    const rx = w * 0.07;
    const ry = Math.max(1.5, h * 0.008 + h * 0.09 * Math.min(1, Math.max(0, openness)));
    this.#ellipse(rgba, cx, cy, rx, ry, MOUTH);
  }

  #drawBase(): void {
    const b = this.#base;
    const w = this.#width;
    const h = this.#height;
    for (let i = 0; i < w * h; i++) b.set([...BACKGROUND, 255], i * 4);
    this.#ellipse(b, w / 2, h * 1.08, w * 0.26, h * 0.3, SHIRT);
    this.#ellipse(b, w / 2, h * 0.42, w * 0.17, h * 0.36, HAIR);
    this.#ellipse(b, w / 2, h * 0.5, w * 0.145, h * 0.33, SKIN);
    this.#ellipse(b, w / 2 - w * 0.055, h * 0.43, w * 0.018, h * 0.03, EYE);
    this.#ellipse(b, w / 2 + w * 0.055, h * 0.43, w * 0.018, h * 0.03, EYE);
  }

  #ellipse(rgba: Uint8Array, cx: number, cy: number, rx: number, ry: number, [r, g, bl]: Rgb): void {
    const w = this.#width;
    const y0 = Math.max(0, Math.floor(cy - ry));
    const y1 = Math.min(this.#height - 1, Math.ceil(cy + ry));
    for (let y = y0; y <= y1; y++) {
      const dy = (y - cy) / ry;
      if (dy * dy > 1) continue;
      const half = rx * Math.sqrt(1 - dy * dy);
      const x0 = Math.max(0, Math.round(cx - half));
      const x1 = Math.min(w - 1, Math.round(cx + half));
      for (let x = x0; x <= x1; x++) {
        const o = (y * w + x) * 4;
        rgba[o] = r;
        rgba[o + 1] = g;
        rgba[o + 2] = bl;
        rgba[o + 3] = 255;
      }
    }
  }
}
