// The script-tag bundle (dist/heygen-avatar.js, built from src/) registers <heygen-avatar>.
import { expect, fixture, html, oneEvent } from '@open-wc/testing';
import '../../dist/heygen-avatar.js';

describe('<heygen-avatar> from the script bundle', () => {
  it('is registered as a custom element', () => {
    const ctor = customElements.get('heygen-avatar');
    expect(ctor, 'customElements.get').to.be.a('function');
    expect(document.createElement('heygen-avatar')).to.be.instanceOf(ctor!);
  });

  it('renders a start button and an idle status, and passes an accessibility audit', async () => {
    const el = await fixture<HTMLElement>(html`<heygen-avatar></heygen-avatar>`);
    const button = el.shadowRoot!.querySelector('button[part~="start-button"]');
    expect(button?.textContent?.trim()).to.equal('Start');
    expect(el.shadowRoot!.querySelector('[role="status"]')?.textContent?.trim()).to.equal('idle');
    await expect(el).shadowDom.to.be.accessible();
  });

  it('reports a missing token-endpoint with an error event instead of throwing', async () => {
    const el = await fixture<HTMLElement & { start(): Promise<void>; state: string }>(html`<heygen-avatar></heygen-avatar>`);
    const error = oneEvent(el, 'heygen-avatar:error');
    await el.start();
    const { detail } = await error;
    expect(detail.type).to.equal('attribute');
    expect(detail.recoverable).to.equal(false);
    expect(el.state).to.equal('error');
  });
});
