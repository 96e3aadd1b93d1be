// The script-tag bundle (dist/heygen-avatar.js, built from src/) registers <heygen-avatar>; these
// tests need no session, nor a browser that could run one (they run in WebKitGTK too): attributes,
// UI, accessibility, and errors before anything is asked of the back end. The token endpoint's
// failures are in token-endpoint.test.ts.
import { expect, fixture, html, oneEvent } from '@open-wc/testing';
import '../../dist/heygen-avatar.js';
import type { HeygenAvatar } from '../../src/element/heygen-avatar.js';
import { warnings } from '../support/console-warnings.js';

describe('<heygen-avatar> from the script bundle', () => {
  it('is registered as a custom element', () => {
    const ctor = customElements.get('heygen-avatar');
    expect(ctor, 'customElements.get').to.be.a('function');
    expect(document.createElement('heygen-avatar')).to.be.instanceOf(ctor!);
  });

  it('renders start, mute, meter, status, captions and text box, and passes an accessibility audit', async () => {
    const el = await fixture<HeygenAvatar>(html`<heygen-avatar language="en"></heygen-avatar>`);
    const root = el.shadowRoot!;
    expect(root.querySelector('[part~="start-button"]')!.textContent!.trim()).to.equal('Start');
    expect(root.querySelector('[part~="mute-button"]')!.hasAttribute('disabled')).to.be.true;
    expect(root.querySelector('[role="status"]')!.textContent!.trim()).to.equal('Press start to talk');
    expect(root.querySelector('[part~="captions"]')!.getAttribute('aria-live')).to.equal('polite');
    expect(root.querySelector('input[name="message"]')).to.exist;
    expect(el.state).to.equal('idle');
    await expect(el).shadowDom.to.be.accessible();
  });

  it('speaks Russian by default and follows the page language', async () => {
    const ru = await fixture<HeygenAvatar>(html`<heygen-avatar></heygen-avatar>`);
    expect(ru.shadowRoot!.querySelector('[part~="start-button"]')!.textContent!.trim()).to.equal('Начать');
    const wrapper = await fixture<HTMLElement>(html`<div lang="en-GB"><heygen-avatar></heygen-avatar></div>`);
    const en = wrapper.querySelector('heygen-avatar')!;
    await en.updateComplete;
    expect(en.shadowRoot!.querySelector('[part~="start-button"]')!.textContent!.trim()).to.equal('Start');
  });

  it('hides captions and the text box on request', async () => {
    const el = await fixture<HeygenAvatar>(html`<heygen-avatar no-captions no-text-input></heygen-avatar>`);
    expect(el.shadowRoot!.querySelector('[part~="captions"]')).to.be.null;
    expect(el.shadowRoot!.querySelector('[part~="text-form"]')).to.be.null;
  });

  it('warns once and fires an attribute error for each bad value, never throwing, and keeps the defaults', async () => {
    const w = warnings();
    const errors: string[] = [];
    const listener = (e: Event) => errors.push((e as CustomEvent).detail.message);
    document.addEventListener('heygen-avatar:error', listener);
    try {
      const el = await fixture<HeygenAvatar>(html`<heygen-avatar quality="ultra" voice-rate="9" endpointing="soon" language="en"></heygen-avatar>`);
      expect(errors.length).to.equal(3);
      expect(errors.some((m) => m.startsWith('quality="ultra"'))).to.be.true;
      expect(errors.some((m) => m.startsWith('voice-rate="9"'))).to.be.true;
      expect(errors.some((m) => m.startsWith('endpointing="soon"'))).to.be.true;
      expect(w.seen.filter((m) => m.startsWith('heygen-avatar ')).length).to.equal(3);
      el.setAttribute('quality', 'high');
      el.setAttribute('layout', 'diagonal');
      await el.updateComplete;
      expect(errors.length).to.equal(4);
      expect(errors[3]).to.match(/^layout="diagonal"/);
    } finally {
      w.restore();
      document.removeEventListener('heygen-avatar:error', listener);
    }
  });

  it('reports a missing token-endpoint with a message and an error event instead of throwing', async () => {
    const el = await fixture<HeygenAvatar>(html`<heygen-avatar language="en"></heygen-avatar>`);
    const w = warnings();
    const error = oneEvent(el, 'heygen-avatar:error');
    await el.start();
    w.restore();
    const { detail } = await error;
    expect(detail.type).to.equal('attribute');
    expect(detail.recoverable).to.equal(false);
    expect(el.state).to.equal('error');
    expect(el.shadowRoot!.querySelector('[part~="error"]')!.textContent!.trim()).to.equal('Could not start the conversation. Please try again later.');
  });

  it('say() and send() before start() reject with a clear message', async () => {
    const el = await fixture<HeygenAvatar>(html`<heygen-avatar></heygen-avatar>`);
    let message = '';
    await el.say('hi').catch((e: Error) => (message = e.message));
    expect(message).to.equal('heygen-avatar: say() needs a running session; call start() first');
    await el.send('hi').catch((e: Error) => (message = e.message));
    expect(message).to.equal('heygen-avatar: send() needs a running session; call start() first');
  });
});
