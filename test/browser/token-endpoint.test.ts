// The token endpoint's failures, as the element shows them: one token-endpoint error, one message
// on the stage. The script-tag bundle, no session. These need a browser that can run one (WebRTC):
// elsewhere Start stops at the capability check before any request (test/webkit/webkit.test.ts).
import { expect, fixture, html, oneEvent } from '@open-wc/testing';
import '../../dist/heygen-avatar.js';
import type { HeygenAvatar } from '../../src/element/heygen-avatar.js';
import { warnings } from '../support/console-warnings.js';

describe('<heygen-avatar> when the token endpoint fails', () => {
  for (const [kind, status, recoverable] of [
    ['500', 500, true],
    ['401', 401, false],
    ['bad-json', 200, false],
    ['not-json', 502, true],
  ] as const) {
    it(`a token endpoint answering ${kind} ends in a visible message and one token-endpoint error`, async () => {
      const el = await fixture<HeygenAvatar>(html`<heygen-avatar language="en" token-endpoint="/_token-fault/${kind}"></heygen-avatar>`);
      const errors: any[] = [];
      el.addEventListener('heygen-avatar:error', (e) => errors.push(e.detail));
      const w = warnings();
      await el.start();
      w.restore();
      expect(errors.length).to.equal(1);
      expect(errors[0].type).to.equal('token-endpoint');
      expect(errors[0].recoverable).to.equal(recoverable);
      if (kind !== 'bad-json') expect(errors[0].message).to.include(String(status));
      expect(el.state).to.equal('error');
      const shown = el.shadowRoot!.querySelector('[part~="error"]')!;
      expect(shown.hasAttribute('hidden')).to.be.false;
      expect(shown.textContent!.trim()).to.equal('Could not start the conversation. Please try again later.');
      expect(w.seen.length).to.be.greaterThan(0);
      expect(el.shadowRoot!.querySelector('[part~="start-button"]')!.textContent!.trim()).to.equal('Start');
    });
  }

  it('a token endpoint that cannot be reached is a recoverable token-endpoint error', async () => {
    const el = await fixture<HeygenAvatar>(html`<heygen-avatar language="en" token-endpoint="http://127.0.0.1:9/session"></heygen-avatar>`);
    const error = oneEvent(el, 'heygen-avatar:error');
    const w = warnings();
    await el.start();
    w.restore();
    const { detail } = await error;
    expect(detail.type).to.equal('token-endpoint');
    expect(detail.recoverable).to.be.true;
    expect(detail.message).to.include('could not be reached');
  });

  it('start() right after creating the element sees the attributes set before the first render', async () => {
    const el = document.createElement('heygen-avatar') as HeygenAvatar;
    el.setAttribute('language', 'en');
    el.setAttribute('token-endpoint', '/_token-fault/500');
    document.body.append(el);
    const errors: any[] = [];
    el.addEventListener('heygen-avatar:error', (e) => errors.push(e.detail));
    const w = warnings();
    await el.start();
    w.restore();
    el.remove();
    expect(errors.map((e) => e.type)).to.deep.equal(['token-endpoint']);
    expect(errors[0].message).to.include('500');
  });
});
