// iOS Safari's audio rules as far as a Chromium page can show them: the video plays inline, and
// when the browser refuses the avatar's voice (the autoplay policy), "Tap to enable sound" appears,
// and a tap resumes the audio through the provider and takes the button away. The element from the
// npm build with the test avatar provider (test/support/fake-avatar.ts); in WebKit, with real taps
// and iOS's rule on, test/webkit/webkit.test.ts shows the Start tap unlocking the <audio>.
import { expect, fixture, html, waitUntil } from '@open-wc/testing';
import '../../dist/npm/element/define.js';
import type { HeygenAvatar } from '../../dist/npm/element/heygen-avatar.js';
import { FakeAvatar, answer } from '../support/fake-avatar.js';

const part = (el: HeygenAvatar, name: string) => el.shadowRoot!.querySelector<HTMLElement>(`[part~="${name}"]`);

describe('<heygen-avatar> and the browser’s audio rules', function () {
  this.timeout(60_000);

  afterEach(() => {
    FakeAvatar.made = [];
  });

  it('the video plays inline and muted; the voice has its own <audio>', async () => {
    const el = await fixture<HeygenAvatar>(html`<heygen-avatar language="en"></heygen-avatar>`);
    const video = el.shadowRoot!.querySelector('video')!;
    expect(video.hasAttribute('playsinline')).to.be.true;
    expect(video.muted).to.be.true;
    expect(el.shadowRoot!.querySelectorAll('audio').length).to.equal(1);
  });

  it('audio refused by the browser: "Tap to enable sound", and a tap resumes it and removes the button', async () => {
    const el = await fixture<HeygenAvatar>(html`<heygen-avatar language="en"></heygen-avatar>`);
    el.tokenProvider = () => answer();
    el.llm = () => 'Fine.';
    el.mute();
    await el.start();
    expect(part(el, 'sound-button'), 'no button while sound plays').to.be.null;
    const avatar = FakeAvatar.made[0]!;
    avatar.emit('audioPlayback', false);
    await el.updateComplete;
    const button = part(el, 'sound-button') as HTMLButtonElement;
    expect(button.textContent!.trim()).to.equal('Tap to enable sound');
    await expect(el).shadowDom.to.be.accessible();
    button.click();
    await waitUntil(() => !part(el, 'sound-button'), 'the button goes once sound is on');
    expect(avatar.calls.filter((c) => c === 'startAudio').length).to.equal(1);
    expect(el.state).to.equal('listening');
    await el.stop();
  });
});
