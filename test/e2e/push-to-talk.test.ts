// Push-to-talk as a visitor holds the button: the built widget against the offline world. The
// fake microphone's looping question is heard on a clone of the element's own microphone track,
// which sounds on while the element disables its own between presses. The button goes down in the
// pause before the question and up 250 ms after it: sooner than the 400 ms of silence that would
// end the turn by itself, and once it is up no audio flows at all. Only the release can end the turn.
import { expect, fixture, html, waitUntil } from '@open-wc/testing';
import { executeServerCommand } from '@web/test-runner-commands';
import '../../dist/heygen-avatar.js';
import type { HeygenAvatar } from '../../src/element/heygen-avatar.js';
import { recordMicrophoneTracks } from '../support/microphone-tracks.js';
import { AVATAR_PROVIDERS } from '../support/providers.js';

const QUESTION = 'what is the weather like today';
const handedOut = recordMicrophoneTracks();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Whether a clone of `track` is loud, every 10 ms: `lastLoudAt` and `loudSince` (Date.now()). */
function listen(track: MediaStreamTrack) {
  const clone = track.clone();
  clone.enabled = true;
  const context = new AudioContext();
  const analyser = context.createAnalyser();
  analyser.fftSize = 512;
  context.createMediaStreamSource(new MediaStream([clone])).connect(analyser);
  const samples = new Float32Array(analyser.fftSize);
  const state = { lastLoudAt: 0, loudSince: 0 };
  const timer = setInterval(() => {
    analyser.getFloatTimeDomainData(samples);
    const rms = Math.sqrt(samples.reduce((sum, v) => sum + v * v, 0) / samples.length);
    if (20 * Math.log10(rms + 1e-9) <= -45) return;
    if (Date.now() - state.lastLoudAt > 300) state.loudSince = Date.now();
    state.lastLoudAt = Date.now();
  }, 10);
  return {
    state,
    /** Resolves when speech that began after `after` has been followed by `quietMs` of quiet. */
    async speechEnded(after: number, quietMs: number): Promise<void> {
      await waitUntil(() => state.loudSince > after && Date.now() - state.lastLoudAt >= quietMs, 'the end of the question', { timeout: 15_000, interval: 5 });
    },
    stop() {
      clearInterval(timer);
      clone.stop();
      void context.close();
    },
  };
}

describe(`<heygen-avatar push-to-talk>, end to end (offline world, ${AVATAR_PROVIDERS[0]})`, function () {
  this.timeout(90_000);

  it('the question said while the button is held becomes the turn when the button is released, with no silence after it', async () => {
    const world = await executeServerCommand<{ tokenEndpoint: string }, any>('world:start', { provider: AVATAR_PROVIDERS[0] });
    const el = await fixture<HeygenAvatar>(html`<heygen-avatar token-endpoint=${world.tokenEndpoint} language="en" push-to-talk></heygen-avatar>`);
    const turns: { text: string; at: number }[] = [];
    el.addEventListener('heygen-avatar:turn', (e) => turns.push({ text: (e as CustomEvent).detail.text, at: Date.now() }));
    await el.start();
    expect(el.state).to.equal('listening');
    const mic = listen(handedOut.at(-1)!);
    const button = () => el.shadowRoot!.querySelector<HTMLButtonElement>('[part~="talk-button"]')!;
    try {
      // In a pause of the loop (300 ms after a question), the visitor presses and holds.
      await mic.speechEnded(0, 300);
      const pressedAt = Date.now();
      button().dispatchEvent(new PointerEvent('pointerdown', { bubbles: true }));
      await el.updateComplete;
      expect(button().getAttribute('aria-pressed')).to.equal('true');
      // The whole question, then up 250 ms after its last loud sound.
      await mic.speechEnded(pressedAt, 250);
      expect(turns.filter((t) => t.at > pressedAt), 'no turn while the button is held').to.deep.equal([]);
      const releasedAt = Date.now();
      button().dispatchEvent(new PointerEvent('pointerup', { bubbles: true }));

      await waitUntil(() => turns.some((t) => t.at > releasedAt), 'the turn after the release', { timeout: 5000 });
      const turn = turns.find((t) => t.at > releasedAt)!;
      console.log(`push-to-talk: the turn ${turn.at - releasedAt} ms after the release`);
      expect(turn.text.toLowerCase().replace(/[.?!]/g, '')).to.equal(QUESTION);
      expect(turn.at - releasedAt, 'ms from the release to the turn').to.be.lessThan(2000);
      await el.updateComplete;
      expect(button().getAttribute('aria-pressed')).to.equal('false');
      await sleep(1500);
      expect(turns.filter((t) => t.at > pressedAt).length, 'one turn for one press').to.equal(1);
    } finally {
      mic.stop();
      await el.stop();
    }
  });
});
