// The widget on a real site's terms: a page with a strict Content-Security-Policy (a whole spoken
// conversation, no violation), and a visitor closing the tab mid-session (the close report reaches
// the broker every time, so the avatar session is stopped at once, not by the reaper). The CSP page
// is loaded in an iframe; the closing tab is a second page of the same Chromium, closed the way a
// browser closes a tab (beforeunload and pagehide run). The widget is the built script bundle.
import { expect, waitUntil } from '@open-wc/testing';
import { executeServerCommand } from '@web/test-runner-commands';
import type { HeygenAvatar } from '../../src/element/heygen-avatar.js';

interface World {
  tokenEndpoint: string;
}
interface Recorded {
  name: string;
  body: string;
}

/** Loads `src` in a new iframe and resolves with its element once the widget is defined there. */
async function frameWithWidget(src: string): Promise<{ frame: HTMLIFrameElement; el: HeygenAvatar }> {
  const frame = document.createElement('iframe');
  frame.allow = 'microphone; autoplay';
  frame.style.width = '480px';
  frame.style.height = '640px';
  const loaded = new Promise((r) => frame.addEventListener('load', r, { once: true }));
  frame.src = src;
  document.body.append(frame);
  await loaded;
  await frame.contentWindow!.customElements.whenDefined('heygen-avatar');
  return { frame, el: frame.contentDocument!.querySelector('heygen-avatar') as HeygenAvatar };
}

const take = () => executeServerCommand<Recorded[], any>('recorder:take');

describe('the widget on a site with a strict CSP (offline world, liveavatar)', function () {
  this.timeout(120_000);

  it('holds a whole spoken conversation with zero policy violations', async () => {
    const world = await executeServerCommand<World, any>('world:start', { provider: 'liveavatar' });
    await take();
    const { frame, el } = await frameWithWidget('/test/e2e/pages/widget.html?csp=strict');
    const seen: string[] = [];
    frame.contentDocument!.addEventListener('securitypolicyviolation', (e) => seen.push(`${e.violatedDirective} ${e.blockedURI} ${e.sample}`));
    el.setAttribute('token-endpoint', world.tokenEndpoint);
    const replies: string[] = [];
    el.addEventListener('heygen-avatar:turn', () => el.mute(), { once: true });
    el.addEventListener('heygen-avatar:reply', (e) => replies.push((e as CustomEvent).detail.text));
    await el.start();
    expect(el.state).to.be.oneOf(['listening', 'thinking', 'speaking']);
    await waitUntil(() => replies.length > 0, 'a reply to the spoken question', { timeout: 60_000 });
    const meter = el.shadowRoot!.querySelector<HTMLElement>('[part~="meter"] > span')!;
    expect(meter.style.transform, 'the meter is drawn').to.match(/^scaleX\(/);
    await el.stop();
    expect(el.state).to.equal('ended');
    await new Promise((r) => setTimeout(r, 500));
    const reports = (await take()).filter((r) => r.name === 'csp-report');
    expect(seen, 'violations seen in the page').to.deep.equal([]);
    expect(reports.map((r) => r.body), 'violation reports').to.deep.equal([]);

    // The control: the policy is in force, and a violation would have been seen and reported.
    frame.contentDocument!.body.firstElementChild!.setAttribute('style', 'color: red');
    await waitUntil(async () => (await take()).some((r) => r.name === 'csp-report'), 'the control violation reported', { timeout: 5000 });
    expect(seen.length, 'the control violation seen').to.equal(1);
    frame.remove();
  });
});

describe('a visitor closing the tab mid-session (offline world, heygen-streaming)', function () {
  this.timeout(120_000);

  it('the close report reaches the broker every time (6 of 6): the avatar session stops within 3 s', async () => {
    const world = await executeServerCommand<World, any>('world:start', { provider: 'heygen-streaming' });
    const stoppedAfter: number[] = [];
    for (let i = 0; i < 6; i++) {
      const { sessionId } = await executeServerCommand<{ sessionId: string | null }, any>('page:close-mid-session', {
        path: '/test/e2e/pages/widget.html',
        tokenEndpoint: world.tokenEndpoint,
      });
      expect(sessionId, `run ${i + 1}: a session was live`).to.be.a('string');
      const closedAt = Date.now();
      await waitUntil(async () => (await executeServerCommand<number, any>('world:open-sessions')) === 0, `run ${i + 1}: session stopped`, { timeout: 3000, interval: 50 });
      stoppedAfter.push(Date.now() - closedAt);
    }
    console.log(`page exit: avatar session stopped ${stoppedAfter.join(', ')} ms after the tab closed`);
    expect(stoppedAfter.length).to.equal(6);
  });
});
