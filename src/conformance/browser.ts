// The kit's real browser session: headless Chromium (Debian's, driven with puppeteer-core) opens a
// page with the built widget (the kit's own page on the allowed origin, or a page of the site with
// `--page`), its fake microphone says the question, and the endpoint, the offline world and a real
// LiveKit server carry the rest. A visitor's whole session: start → turn → reply → the avatar
// talking → stop, and then the avatar session must be stopped at the service.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { synthesizeSpeech } from '../offline/avatar/speech.js';
import { stoppedWithin, type KitContext } from './checks.js';

export interface BrowserOptions {
  /** Chromium's executable; default `CHROMIUM_PATH`, else /usr/bin/chromium or chromium-browser. */
  chromium?: string;
  /** A page of the site with a `<heygen-avatar>` on it; default: the kit's own page on the kit's origin. */
  page?: string;
}

/** What the visitor says; the Deepgram stand-in knows these words. */
const QUESTION = 'what is the weather like today';
const SAMPLE_RATE = 48_000;

/** The question as a mono 16-bit WAV with 1.5 s of silence around it (the fake microphone loops it). */
async function questionWav(dir: string): Promise<string> {
  const speech = await synthesizeSpeech(QUESTION, { language: 'en', rate: 150 / 175, sampleRate: SAMPLE_RATE });
  const pad = new Int16Array(SAMPLE_RATE * 1.5);
  const pcm = new Int16Array(pad.length * 2 + speech.length);
  pcm.set(speech, pad.length);
  const header = Buffer.alloc(44);
  header.write('RIFF', 0);
  header.writeUInt32LE(36 + pcm.byteLength, 4);
  header.write('WAVEfmt ', 8);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(SAMPLE_RATE, 24);
  header.writeUInt32LE(SAMPLE_RATE * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36);
  header.writeUInt32LE(pcm.byteLength, 40);
  const file = join(dir, 'question.wav');
  writeFileSync(file, Buffer.concat([header, Buffer.from(pcm.buffer)]));
  return file;
}

/** The built script bundle (dist/heygen-avatar.js) and its chunks, found through the package's exports. */
function widgetFiles(): Map<string, Buffer> {
  const bundle = createRequire(import.meta.url).resolve('heygen-avatar/script');
  const files = new Map<string, Buffer>([['/heygen-avatar.js', readFileSync(bundle)]]);
  const chunks = join(dirname(bundle), 'chunks');
  for (const name of existsSync(chunks) ? readdirSync(chunks) : []) if (name.endsWith('.js')) files.set(`/chunks/${name}`, readFileSync(join(chunks, name)));
  return files;
}

/** Serves the kit's page and the widget on `origin` (which the endpoint allows). */
async function startPageServer(origin: string, endpoint: string): Promise<Server> {
  const files = widgetFiles();
  const page = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>heygen-avatar conformance</title>
<script type="module" src="/heygen-avatar.js"></script></head>
<body><heygen-avatar token-endpoint="${endpoint.replace(/"/g, '&quot;')}" language="en"></heygen-avatar></body></html>`;
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', origin).pathname;
    const body = path === '/' ? Buffer.from(page) : files.get(path);
    if (!body || req.method !== 'GET') return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': path === '/' ? 'text/html; charset=utf-8' : 'text/javascript', 'cache-control': 'no-store' });
    res.end(body);
  });
  const { hostname, port } = new URL(origin);
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(Number(port || 80), hostname.replace(/^\[|\]$/g, ''), resolve));
  return server;
}

function chromiumPath(given?: string): string {
  const path = given ?? process.env.CHROMIUM_PATH ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
  if (!path) throw new Error('no Chromium found: install it (Debian: apt-get install chromium) or pass --chromium PATH');
  return path;
}

/** The browser check, ready to run with the kit's context. */
export function browserSession(options: BrowserOptions = {}): (ctx: KitContext) => Promise<string | undefined> {
  return async (ctx) => {
    let puppeteer: typeof import('puppeteer-core');
    try {
      puppeteer = await import('puppeteer-core');
    } catch {
      return 'puppeteer-core is not installed: npm install puppeteer-core (or run with --no-browser)';
    }
    const dir = mkdtempSync(join(tmpdir(), 'heygen-avatar-conformance-'));
    let server: Server | undefined;
    let browser: import('puppeteer-core').Browser | undefined;
    try {
      const wav = await questionWav(dir);
      if (!options.page) server = await startPageServer(ctx.client.origin, ctx.client.endpoint);
      browser = await puppeteer.default.launch({
        executablePath: chromiumPath(options.chromium),
        headless: true,
        args: [
          '--no-sandbox',
          '--disable-gpu',
          '--disable-dev-shm-usage',
          '--no-first-run',
          '--autoplay-policy=no-user-gesture-required',
          '--use-fake-ui-for-media-stream',
          '--use-fake-device-for-media-stream',
          `--use-file-for-fake-audio-capture=${wav}`,
          '--allow-loopback-in-peer-connection',
          '--disable-features=WebRtcHideLocalIpsWithMdns',
        ],
      });
      const page = await browser.newPage();
      // What the site's origin answers the page (the page itself, the endpoint's answers) goes to the key scan.
      const siteOrigin = new URL(options.page ?? ctx.client.endpoint).origin;
      const bodies: Promise<unknown>[] = [];
      page.on('response', (res) => {
        if (new URL(res.url()).origin !== siteOrigin || /javascript|image|font|css/.test(res.headers()['content-type'] ?? '')) return;
        bodies.push(
          res.text().then(
            (text) => ctx.client.answers.push({ what: `browser: ${res.request().method()} ${res.url()}`, status: res.status(), headers: Object.entries(res.headers()), body: text }),
            () => undefined,
          ),
        );
      });
      await page.goto(options.page ?? `${ctx.client.origin}/`, { waitUntil: 'load' });
      if (ctx.opened.size === 0) return 'no session to compare with (the first check could not make one)';
      const offersLlm = [...ctx.opened.values()].some((s) => s.llm);
      const result = (await page.evaluate(`(${VISIT})(${JSON.stringify(offersLlm)})`)) as Visit;
      await Promise.all(bodies);
      if (!result.sessionId) return result.problem ?? 'the page started no session';
      // The endpoint runs one avatar service: the browser's session is of the kind the kit saw.
      const known = [...ctx.opened.values()][0];
      const session = { ...known, sessionId: result.sessionId, avatar: { ...known.avatar } };
      ctx.opened.set(result.sessionId, session);
      if (result.problem) return result.problem;
      if (!result.turn.toLowerCase().includes('weather')) return `the visitor's turn was heard as ${JSON.stringify(result.turn)}`;
      if (!(await stoppedWithin(ctx, session))) return `the ${session.avatar.provider} session ${result.sessionId} is still open after the widget stopped`;
      return undefined;
    } finally {
      await browser?.close().catch(() => undefined);
      await new Promise((r) => (server ? server.close(r) : r(undefined)));
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

/**
 * Runs in the page: one visit with the first `<heygen-avatar>` on it. Plain JavaScript in a string:
 * a function passed to `evaluate` would carry the helpers a TypeScript loader adds (`__name`).
 */
const VISIT = `async (offersLlm) => {
  await customElements.whenDefined('heygen-avatar');
  const el = document.querySelector('heygen-avatar');
  const out = { turn: '', reply: '' };
  if (!el) return { ...out, problem: 'the page has no <heygen-avatar>' };
  el.setAttribute('language', 'en');
  // Without an LLM route the page brings its own model, as a site would.
  if (!offersLlm) el.llm = () => 'It is sunny today.';
  const errors = [];
  const once = (name, ms) => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no ' + name + ' within ' + ms / 1000 + ' s' + (errors.length ? ' (errors: ' + errors.join('; ') + ')' : ''))), ms);
    el.addEventListener(name, (e) => { clearTimeout(timer); resolve(e.detail); }, { once: true });
  });
  el.addEventListener('heygen-avatar:error', (e) => errors.push(String(e.detail?.message ?? 'error')));
  el.addEventListener('heygen-avatar:session-start', (e) => { out.sessionId = e.detail?.sessionId; });
  try {
    const turn = once('heygen-avatar:turn', 40000);
    const reply = once('heygen-avatar:reply', 60000);
    const talking = new Promise((resolve) => el.addEventListener('heygen-avatar:talking', (e) => e.detail?.talking && resolve()));
    await el.start();
    out.sessionId = out.sessionId ?? el.sessionId;
    out.turn = (await turn).text;
    el.mute();
    out.reply = (await reply).text;
    await Promise.race([talking, new Promise((_, reject) => setTimeout(() => reject(new Error('the avatar never started talking')), 20000))]);
    if (!out.reply.trim()) out.problem = 'the reply was empty';
  } catch (err) {
    out.problem = err.message;
  }
  await el.stop().catch(() => undefined);
  return out;
}`;

interface Visit {
  problem?: string;
  sessionId?: string;
  turn: string;
  reply: string;
}
