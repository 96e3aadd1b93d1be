// What a visitor sees of <heygen-avatar> during a session: captions that follow the conversation,
// the greeting captioned, one error message in one place, text mode said plainly, the history kept
// after stop, the idle poster, and a browser without WebRTC refused before any session is asked
// for. The element from the npm build, with the test avatar provider (test/support/fake-avatar.ts),
// a Deepgram stand-in, and the fake microphone playing the espeak-ng question.
import { expect, fixture, html, oneEvent, waitUntil } from '@open-wc/testing';
import { executeServerCommand } from '@web/test-runner-commands';
import '../../dist/npm/element/define.js';
import type { HeygenAvatar } from '../../dist/npm/element/heygen-avatar.js';
import { FakeAvatar, answer, type Recorded } from '../support/fake-avatar.js';

function quietly<T>(fn: () => Promise<T>): Promise<T> {
  const warn = console.warn;
  console.warn = () => undefined;
  return fn().finally(() => (console.warn = warn));
}

async function live(attrs: { greeting?: string; muted?: boolean } = {}): Promise<HeygenAvatar> {
  const el = await fixture<HeygenAvatar>(html`<heygen-avatar language="en" greeting=${attrs.greeting ?? ''}></heygen-avatar>`);
  el.tokenProvider = () => answer();
  el.llm = () => 'Fine, thanks.';
  if (attrs.muted !== false) el.mute();
  await el.start();
  expect(['listening', 'speaking']).to.include(el.state);
  return el;
}

const part = (el: HeygenAvatar, name: string) => el.shadowRoot!.querySelector<HTMLElement>(`[part~="${name}"]`);
const captionTexts = (el: HeygenAvatar) => [...part(el, 'captions')!.querySelectorAll('li')].map((li) => li.textContent!.trim());
const atBottom = (list: HTMLElement) => list.scrollHeight - list.scrollTop - list.clientHeight <= 2;

describe('<heygen-avatar> as a visitor sees it', function () {
  this.timeout(60_000);

  afterEach(() => {
    FakeAvatar.made = [];
  });

  it('captions the greeting and say() text', async () => {
    const el = await live({ greeting: 'Hello there.' });
    await el.say('Said verbatim.');
    await waitUntil(() => captionTexts(el).length === 2, 'two captions');
    expect(captionTexts(el)).to.deep.equal(['Avatar:Hello there.', 'Avatar:Said verbatim.']);
    await el.stop();
  });

  it('captions follow the newest line, unless the visitor scrolled up to read', async () => {
    const el = await live();
    const list = part(el, 'captions')!;
    for (let i = 1; i <= 12; i++) await el.say(`Line number ${i} of a conversation that goes on and on.`);
    await el.updateComplete;
    expect(list.scrollHeight, 'the list overflows').to.be.greaterThan(list.clientHeight + 20);
    expect(atBottom(list), 'scrolled to the newest line').to.be.true;

    list.scrollTop = 0;
    await oneEvent(list, 'scroll');
    await el.say('One more line.');
    await el.updateComplete;
    expect(list.scrollTop, 'left where the visitor is reading').to.equal(0);

    list.scrollTop = list.scrollHeight;
    await oneEvent(list, 'scroll');
    await el.say('And the last one.');
    await el.updateComplete;
    expect(atBottom(list), 'following again').to.be.true;
    expect(captionTexts(el).at(-1)).to.equal('Avatar:And the last one.');
    await el.stop();
  });

  it('keeps the history after stop, until the next start', async () => {
    const el = await live();
    await el.send('How are you?');
    await waitUntil(() => el.history.length === 2, 'the reply in the history');
    await el.stop();
    expect(el.state).to.equal('ended');
    expect(el.history.map((m) => m.content)).to.deep.equal(['How are you?', 'Fine, thanks.']);
    await el.start();
    expect(el.history).to.deep.equal([]);
    await el.stop();
  });

  it('a failure that ends the session is said once, on the stage: no notice, no "something went wrong"', async () => {
    const el = await fixture<HeygenAvatar>(html`<heygen-avatar language="en" token-endpoint="/_token-fault/500"></heygen-avatar>`);
    await quietly(() => el.start());
    expect(el.state).to.equal('error');
    const shown = [...el.shadowRoot!.querySelectorAll<HTMLElement>('[role="alert"], [role="status"]')]
      .filter((n) => !n.hidden && n.textContent!.trim())
      .map((n) => n.textContent!.trim());
    expect(shown).to.deep.equal(['Could not start the conversation. Please try again later.']);
    expect(part(el, 'notice')).to.be.null;
  });

  it('without a microphone: one notice, inset from the edge, and the status says to type', async () => {
    const wrapped = navigator.mediaDevices.getUserMedia;
    navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('Permission denied', 'NotAllowedError'));
    let el: HeygenAvatar;
    try {
      el = await quietly(() => live({ muted: false }));
    } finally {
      navigator.mediaDevices.getUserMedia = wrapped;
    }
    const notice = part(el, 'notice')!;
    expect(notice.textContent!.trim()).to.equal('Microphone access was blocked. You can type instead, or allow the microphone and start again.');
    const card = el.getBoundingClientRect();
    const box = notice.getBoundingClientRect();
    expect(box.left - card.left, 'notice inset from the card edge').to.be.at.least(8);
    expect(parseFloat(getComputedStyle(notice).paddingLeft), 'padding inside the notice').to.be.at.least(8);
    expect(part(el, 'status')!.textContent!.trim()).to.equal('Type your message');
    expect(part(el, 'error')!.hidden, 'nothing on the stage').to.be.true;
    await el.stop();
  });

  it('the idle stage shows a placeholder with a start button, or the page’s poster image', async () => {
    const el = await fixture<HeygenAvatar>(html`<heygen-avatar language="en"></heygen-avatar>`);
    const poster = part(el, 'poster')!;
    expect(poster.hidden).to.be.false;
    expect(poster.querySelector('svg.silhouette'), 'drawn placeholder').to.exist;
    const start = part(el, 'poster-start') as HTMLButtonElement;
    expect(start.textContent!.trim()).to.equal('Start');
    await expect(el).shadowDom.to.be.accessible();

    el.tokenProvider = () => answer();
    el.mute();
    const started = oneEvent(el, 'heygen-avatar:session-start');
    start.click();
    await started;
    expect(poster.hidden, 'hidden while the session runs').to.be.true;
    await el.stop();

    const withImage = await fixture<HeygenAvatar>(html`<heygen-avatar language="en" poster="/test/support/poster.svg"></heygen-avatar>`);
    const img = part(withImage, 'poster-image') as HTMLImageElement;
    expect(img.getAttribute('src')).to.equal('/test/support/poster.svg');
    expect(part(withImage, 'poster')!.querySelector('svg.silhouette')).to.be.null;
  });

  it('a browser without WebRTC: an unsupported error saying so, and no session is asked for', async () => {
    const real = window.RTCPeerConnection;
    (window as { RTCPeerConnection?: unknown }).RTCPeerConnection = undefined;
    await executeServerCommand('recorder:take');
    const el = await fixture<HeygenAvatar>(html`<heygen-avatar language="en" token-endpoint="/_recorder/session"></heygen-avatar>`);
    const errors: { type: string; recoverable: boolean; message: string }[] = [];
    el.addEventListener('heygen-avatar:error', (e) => errors.push(e.detail));
    try {
      await quietly(() => el.start());
    } finally {
      window.RTCPeerConnection = real;
    }
    expect(errors.map((e) => [e.type, e.recoverable])).to.deep.equal([['unsupported', false]]);
    expect(errors[0].message).to.include('WebRTC');
    expect(el.state).to.equal('error');
    expect(part(el, 'error')!.textContent!.trim()).to.equal('This browser cannot play the live avatar. Please open this page in a current Chrome, Edge, Firefox or Safari.');
    const asked = (await executeServerCommand<Recorded[], any>('recorder:take')).filter((r) => r.name === 'session');
    expect(asked, 'session requests').to.deep.equal([]);
  });
});
