// UI languages of the script bundle: the strings of each language (English built in, the others
// loaded as a chunk when first needed, the first render waiting for them), the fallback chain,
// right-to-left layout, and the page's overrides through the `strings` property and attribute.
import { expect, fixture, html, waitUntil } from '@open-wc/testing';
import '../../dist/heygen-avatar.js';
import type { HeygenAvatar } from '../../src/element/heygen-avatar.js';
import type { UiStringTable } from '../../src/element/strings.js';
import ar from '../../src/element/strings/ar.js';
import de from '../../src/element/strings/de.js';
import en from '../../src/element/strings/en.js';
import es from '../../src/element/strings/es.js';
import fr from '../../src/element/strings/fr.js';
import he from '../../src/element/strings/he.js';
import italian from '../../src/element/strings/it.js';
import ja from '../../src/element/strings/ja.js';
import pl from '../../src/element/strings/pl.js';
import pt from '../../src/element/strings/pt.js';
import ru from '../../src/element/strings/ru.js';
import tr from '../../src/element/strings/tr.js';
import uk from '../../src/element/strings/uk.js';
import zh from '../../src/element/strings/zh.js';

const TABLES: Record<string, UiStringTable> = { en, ru, uk, de, fr, es, it: italian, pt, pl, tr, zh, ja, ar, he };

const text = (el: HeygenAvatar, part: string) => el.shadowRoot!.querySelector(`[part~="${part}"]`)!.textContent!.trim();
const status = (el: HeygenAvatar) => el.shadowRoot!.querySelector('[role="status"]')!.textContent!.trim();
/** Script chunks the page has fetched so far. */
const fetchedChunks = () => performance.getEntriesByType('resource').map((e) => e.name).filter((n) => n.includes('/dist/chunks/'));

function collect() {
  const warnings: string[] = [];
  const errors: { type: string; message: string }[] = [];
  const warn = console.warn;
  console.warn = (...args: unknown[]) => warnings.push(args.map(String).join(' '));
  const onError = (e: Event) => errors.push((e as CustomEvent).detail);
  document.addEventListener('heygen-avatar:error', onError);
  return {
    warnings,
    errors,
    restore() {
      console.warn = warn;
      document.removeEventListener('heygen-avatar:error', onError);
    },
  };
}

describe('<heygen-avatar> UI languages', () => {
  it('renders a language loaded on demand from the first render on: never English first', async () => {
    for (const [language, table] of [['ru', ru], ['it', italian]] as const) {
      expect(fetchedChunks().filter((n) => n.includes(`/chunks/${language}-`)), `${language} not loaded yet`).to.deep.equal([]);
      const el = document.createElement('heygen-avatar') as HeygenAvatar;
      el.setAttribute('language', language);
      // Every start button the widget ever renders, from the moment it is in the page.
      const seen: string[] = [];
      const observer = new MutationObserver(() => {
        const label = el.shadowRoot?.querySelector('[part~="start-button"]')?.textContent?.trim();
        if (label && seen.at(-1) !== label) seen.push(label);
      });
      document.body.append(el);
      observer.observe(el.shadowRoot!, { subtree: true, childList: true, characterData: true });
      await el.updateComplete;
      expect(text(el, 'start-button'), `${language}: the first render`).to.equal(table.start);
      observer.disconnect();
      expect(seen.filter((label) => label !== table.start), `${language}: labels before its own`).to.deep.equal([]);
      expect(fetchedChunks().filter((n) => n.includes(`/chunks/${language}-`)).length).to.equal(1);
      el.remove();
    }
    // The language changed while the render waited: it waits again, for the new one.
    const el = document.createElement('heygen-avatar') as HeygenAvatar;
    el.setAttribute('language', 'fr');
    document.body.append(el);
    const seen: string[] = [];
    const observer = new MutationObserver(() => seen.push(text(el, 'start-button')));
    observer.observe(el.shadowRoot!, { subtree: true, childList: true, characterData: true });
    el.setAttribute('language', 'tr');
    await el.updateComplete;
    observer.disconnect();
    expect(text(el, 'start-button')).to.equal(tr.start);
    expect(seen.filter((label) => label !== tr.start), 'labels before the Turkish one').to.deep.equal([]);
    el.remove();
  });

  it('loads a language other than English only when a widget needs it', async () => {
    expect(fetchedChunks().filter((n) => /\/chunks\/de-/.test(n))).to.deep.equal([]);
    const el = await fixture<HeygenAvatar>(html`<heygen-avatar language="de-AT"></heygen-avatar>`);
    await waitUntil(() => text(el, 'start-button') === de.start, 'German strings', { timeout: 5000 });
    expect(fetchedChunks().filter((n) => /\/chunks\/de-/.test(n)).length).to.equal(1);
    expect(fetchedChunks().filter((n) => /\/chunks\/(fr|ja|ar)-/.test(n)), 'other languages').to.deep.equal([]);
  });

  for (const [language, table] of Object.entries(TABLES)) {
    it(`shows every visible string in ${language}`, async () => {
      const el = await fixture<HeygenAvatar>(html`<heygen-avatar language=${language}></heygen-avatar>`);
      await waitUntil(() => text(el, 'start-button') === table.start, `${language} start button`, { timeout: 5000 });
      expect(status(el)).to.equal(table.states.idle);
      expect(el.shadowRoot!.querySelector('[part~="captions"]')!.getAttribute('aria-label')).to.equal(table.captions);
      expect(el.shadowRoot!.querySelector('input[name="message"]')!.getAttribute('placeholder')).to.equal(table.typeHere);
      expect(el.strings.errors.microphoneDenied).to.equal(table.errors.microphoneDenied);
      expect(el.strings.endingSoon(7)).to.equal(table.endingSoon.replace('{seconds}', '7'));
      expect(el.getAttribute('dir')).to.equal(language === 'ar' || language === 'he' ? 'rtl' : 'ltr');
    });
  }

  it('falls back along the language chain: pt-BR → pt, zh-TW → zh, en-GB → en, an unknown language → en', async () => {
    const cases: [string, string][] = [
      ['pt-BR', pt.start],
      ['zh-TW', zh.start],
      ['en-GB', en.start],
      ['sw', en.start],
      ['RU-ru', ru.start],
    ];
    for (const [language, start] of cases) {
      const el = await fixture<HeygenAvatar>(html`<heygen-avatar language=${language}></heygen-avatar>`);
      await waitUntil(() => text(el, 'start-button') === start, `${language} → ${start}`, { timeout: 5000 });
    }
  });

  it('lays out right to left in Arabic and Hebrew, and keeps a dir the page set', async () => {
    const el = await fixture<HeygenAvatar>(html`<heygen-avatar language="ar"></heygen-avatar>`);
    await waitUntil(() => text(el, 'start-button') === ar.start, 'Arabic strings', { timeout: 5000 });
    const controls = el.shadowRoot!.querySelector('[part~="controls"]')!;
    expect(getComputedStyle(controls).direction).to.equal('rtl');
    const start = el.shadowRoot!.querySelector('[part~="start-button"]')!.getBoundingClientRect();
    const meter = el.shadowRoot!.querySelector('[part~="meter"]')!.getBoundingClientRect();
    expect(start.left, 'the first control sits on the right').to.be.greaterThan(meter.left);
    await expect(el).shadowDom.to.be.accessible();

    el.language = 'en';
    await el.updateComplete;
    expect(el.getAttribute('dir')).to.equal('ltr');
    expect(getComputedStyle(controls).direction).to.equal('ltr');

    const own = await fixture<HeygenAvatar>(html`<heygen-avatar language="he" dir="ltr"></heygen-avatar>`);
    await waitUntil(() => text(own, 'start-button') === he.start, 'Hebrew strings', { timeout: 5000 });
    expect(own.getAttribute('dir'), "the page's dir").to.equal('ltr');
  });

  it('takes overrides of any string from the strings property, on top of the language, and reads back what it shows', async () => {
    const el = await fixture<HeygenAvatar>(html`<heygen-avatar language="ru"></heygen-avatar>`);
    el.strings = { start: 'Поехали', states: { idle: 'Готов слушать' }, endingSoon: 'Осталось {seconds} с' };
    await el.updateComplete;
    expect(text(el, 'start-button')).to.equal('Поехали');
    expect(status(el)).to.equal('Готов слушать');
    expect(el.strings.start).to.equal('Поехали');
    expect(el.strings.states.listening, 'the rest stays Russian').to.equal(ru.states.listening);
    expect(el.strings.endingSoon(30)).to.equal('Осталось 30 с');
    el.strings = null;
    await el.updateComplete;
    expect(text(el, 'start-button')).to.equal(ru.start);
  });

  it('takes overrides as JSON in the strings attribute, also for a language loaded later', async () => {
    const el = await fixture<HeygenAvatar>(html`<heygen-avatar language="fr" strings='{"send": "Envoyer !", "errors": {"llm": "Oups."}}'></heygen-avatar>`);
    await waitUntil(() => text(el, 'start-button') === fr.start, 'French strings', { timeout: 5000 });
    expect(el.shadowRoot!.querySelector('[part~="text-form"] button')!.textContent!.trim()).to.equal('Envoyer !');
    expect(el.strings.errors.llm).to.equal('Oups.');
    expect(el.strings.errors.livekit).to.equal(fr.errors.livekit);
    el.setAttribute('strings', '{"start": "Allez"}');
    await el.updateComplete;
    expect(text(el, 'start-button')).to.equal('Allez');
    expect(el.strings.send, 'a new attribute replaces the old overrides').to.equal(fr.send);
  });

  it('warns clearly about unknown keys, wrong types and bad JSON, once each, with an attribute error event, and keeps the rest', async () => {
    const seen = collect();
    try {
      const el = await fixture<HeygenAvatar>(html`<heygen-avatar language="en" strings='{"strat": "Go", "start": "Begin", "states": {"idel": "x"}, "send": 5}'></heygen-avatar>`);
      expect(text(el, 'start-button')).to.equal('Begin');
      expect(el.strings.send).to.equal(en.send);
      expect(seen.errors.map((e) => e.type)).to.deep.equal(['attribute', 'attribute', 'attribute']);
      const messages = seen.errors.map((e) => e.message);
      expect(messages[0]).to.match(/^strings: unknown key "strat" ignored; known keys: start, stop, /);
      expect(messages[1]).to.match(/^strings\.states: unknown key "idel" ignored; known keys: idle, connecting, /);
      expect(messages[2]).to.equal('strings.send must be a string, got number; ignored');
      expect(seen.warnings.filter((w) => w.includes('unknown key "strat"')).length).to.equal(1);
      el.setAttribute('strings', '{start: Begin}');
      await el.updateComplete;
      expect(seen.errors.at(-1)!.message).to.match(/^strings attribute is not JSON/);
      expect(text(el, 'start-button')).to.equal(en.start);
      el.strings = { strat: 'Go' } as never;
      await el.updateComplete;
      expect(seen.warnings.filter((w) => w.includes('unknown key "strat"')).length, 'said once').to.equal(1);
    } finally {
      seen.restore();
    }
  });
});
