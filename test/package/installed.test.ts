// The package as a user gets it: the tarball installed into an empty project with production
// dependencies only. Each export imports (or, for types and the script, exists), each CLI answers
// --help and starts, the offline world's optional peers are asked for by name until installed, and
// the script build loads from a CDN-style origin in Chromium, its chunks by URLs relative to it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import serveStatic from 'serve-static';
import { npm } from '../../scripts/examples.mjs';
import { freeTcpPort } from '../../scripts/livekit.mjs';
import { createNodeListener } from '../../src/broker/index.js';
import { startOfflineBroker } from '../support/offline-broker.js';
import { converse, launchChromium, start, stopAll, tarball } from '../support/packed-package.js';

const project = mkdtempSync(join(tmpdir(), 'heygen-avatar-consumer-'));
const installed = join(project, 'node_modules', 'heygen-avatar');
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
const bin = (name: string) => join(project, 'node_modules', '.bin', name);
/** A LiveAvatar avatar id (the broker checks its shape). */
const AVATAR = '4c7e3c3e-5a8f-4e8e-9b8e-2f5d3c1a7b90';

/** Runs an ES module in the consumer project (so imports resolve as the user's do); its stdout as JSON. */
function inProject(code: string): { status: number | null; json: any; stderr: string } {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd: project, encoding: 'utf8' });
  let json: unknown;
  try {
    json = JSON.parse(r.stdout);
  } catch {
    json = undefined;
  }
  return { status: r.status, json, stderr: r.stderr };
}

describe('the package installed from its tarball with production dependencies only', () => {
  before(() => {
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    npm(project, ['install', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline', tarball()]);
  });
  after(async () => {
    await stopAll();
    rmSync(project, { recursive: true, force: true });
  });

  it('holds the builds, the manifest, the typings, the CLIs and the broker docs, and no sources or tests', () => {
    for (const file of [
      'README.md',
      'custom-elements.json',
      'dist/heygen-avatar.js',
      'dist/npm/index.js',
      'dist/npm/index.d.ts',
      'dist/npm/element/define.js',
      'dist/node/broker/index.js',
      'dist/node/broker/index.d.ts',
      'dist/node/offline/index.js',
      'dist/node/offline/index.d.ts',
      'dist/types/attributes.d.ts',
      'types/react.d.ts',
      'types/vue.d.ts',
      'bin/heygen-avatar-dev.mjs',
      'bin/heygen-avatar-broker.mjs',
      'docs/broker.md',
    ]) {
      assert.ok(existsSync(join(installed, file)), file);
    }
    assert.ok(readdirSync(join(installed, 'dist/chunks')).filter((f) => f.endsWith('.js')).length >= 5, 'the lazy chunks');
    for (const dir of ['src', 'test', 'examples', 'scripts/test.mjs']) assert.ok(!existsSync(join(installed, dir)), dir);
    // The offline world's optional peers (a native WebRTC build among them) are not installed for a page's needs.
    for (const peer of ['@livekit/rtc-node', 'livekit-server-sdk']) assert.ok(!existsSync(join(project, 'node_modules', peer)), `${peer} installed`);
  });

  it('resolves every export in package.json to a file it ships', () => {
    const targets = Object.entries(pkg.exports as Record<string, string | Record<string, string>>).flatMap(([name, target]) =>
      (typeof target === 'string' ? [target] : Object.values(target)).map((file) => [name, file]),
    );
    for (const [name, file] of targets) assert.ok(existsSync(join(installed, file)), `${name}: ${file}`);
  });

  it("imports in Node: the element, the session layer, the errors and the package's version", () => {
    const r = inProject(`
      const m = await import('heygen-avatar');
      const d = await import('heygen-avatar/define');
      console.log(JSON.stringify({
        element: typeof m.HeygenAvatar, session: typeof m.AvatarSession, error: new m.MicrophoneError('denied').type,
        version: m.VERSION, define: typeof d.defineHeygenAvatar, registered: customElements.get('heygen-avatar') === m.HeygenAvatar,
      }));`);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.json, { element: 'function', session: 'function', error: 'microphone', version: pkg.version, define: 'function', registered: true });
  });

  it('runs the broker as a Fetch-API handler', () => {
    const r = inProject(`
      const { createSessionBroker } = await import('heygen-avatar/broker');
      const broker = createSessionBroker({ liveavatar: { apiKey: 'k' }, deepgram: { apiKey: 'k' }, avatarIds: ['${AVATAR}'], allowedOrigins: ['https://shop.example'] });
      const res = await broker.handle(new Request('https://shop.example/api/avatar/healthz'));
      console.log(JSON.stringify({ status: res.status }));
      await broker.close();`);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.json, { status: 200 });
  });

  it('ships custom-elements.json under its export, naming the tag', () => {
    const r = inProject(`
      import { createRequire } from 'node:module';
      const manifest = createRequire(import.meta.url)('heygen-avatar/custom-elements.json');
      console.log(JSON.stringify(manifest.modules.flatMap((m) => m.exports ?? []).filter((e) => e.kind === 'custom-element-definition').map((e) => e.name)));`);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.json, ['heygen-avatar']);
  });

  it('heygen-avatar/dev asks for its optional peers by name until they are installed', () => {
    const peers = ['@livekit/rtc-node', 'livekit-server-sdk', 'ws'].map((name) => [name, pkg.peerDependencies[name] as string]);
    const withoutPeers = spawnSync(bin('heygen-avatar-dev'), ['--help'], { encoding: 'utf8' });
    assert.equal(withoutPeers.status, 1);
    assert.match(withoutPeers.stderr, /is not installed/);
    for (const [name] of peers) assert.ok(withoutPeers.stderr.includes(name), `the hint names ${name}: ${withoutPeers.stderr}`);

    npm(project, ['install', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline', ...peers.map(([name, range]) => `${name}@${range}`)]);
    const imported = inProject(`const m = await import('heygen-avatar/dev'); console.log(JSON.stringify(typeof m.startOfflineWorld));`);
    assert.equal(imported.json, 'function', imported.stderr);
  });

  it('every CLI answers --help', () => {
    for (const name of Object.keys(pkg.bin)) {
      const help = spawnSync(bin(name), ['--help'], { encoding: 'utf8' });
      assert.equal(help.status, 0, `${name}: ${help.stderr}`);
      assert.match(help.stdout, new RegExp(name), `${name} --help names itself`);
    }
  });

  it('heygen-avatar-broker starts with its keys in the environment and answers', async () => {
    const broker = start(bin('heygen-avatar-broker'), [], {
      env: { ...process.env, LIVEAVATAR_API_KEY: 'k', DEEPGRAM_API_KEY: 'k', AVATAR_IDS: AVATAR, ALLOWED_ORIGINS: 'https://shop.example', PORT: '0' },
    });
    const [, url] = await broker.waitFor(/"url":"(http:\/\/[^"]+)"/, 20_000);
    assert.equal((await fetch(`${url}/api/avatar/healthz`)).status, 200);
    assert.equal(await broker.stop('SIGTERM'), 0, broker.output());
  });

  it('heygen-avatar-dev starts the offline world, whose stand-ins answer', async () => {
    const dev = start(bin('heygen-avatar-dev'), []);
    const [, deepgram] = await dev.waitFor(/Deepgram stand-in\s+(http:\/\/\S+)/);
    const [, key] = await dev.waitFor(/DEEPGRAM_API_KEY=(\S+)/);
    const grant = await fetch(`${deepgram}/v1/auth/grant`, { method: 'POST', headers: { authorization: `Token ${key}`, 'content-type': 'application/json' }, body: '{}' });
    assert.equal(grant.status, 200, await grant.clone().text());
    assert.equal(typeof (await grant.json()).access_token, 'string');
    assert.equal(await dev.stop('SIGINT'), 0, dev.output());
  });

  describe('dist/heygen-avatar.js from the package on a CDN-style origin, in Chromium', () => {
    const servers: Server[] = [];
    after(async () => {
      for (const s of servers) s.close();
    });

    it('registers the element; a spoken question loads the chunks beside the script and gets a reply', async () => {
      const [cdnPort, pagePort] = [await freeTcpPort(), await freeTcpPort()];
      const page = `http://127.0.0.1:${pagePort}`;
      const base = `/npm/heygen-avatar@${pkg.version}/`;
      const offline = await startOfflineBroker([page]);
      const fetched: string[] = [];
      // The CDN: the installed package's files under /npm/heygen-avatar@<version>/, readable from any origin.
      const files = serveStatic(installed, { setHeaders: (res) => res.setHeader('access-control-allow-origin', '*') });
      const cdn = createServer((req, res) => {
        fetched.push(req.url ?? '');
        if (!req.url?.startsWith(base)) return void res.writeHead(404).end();
        req.url = req.url.slice(base.length - 1);
        files(req, res, () => void res.writeHead(404).end());
      });
      // The site: one page that loads the script from the CDN, and the broker under /api/avatar/.
      const api = createNodeListener(offline.broker.broker);
      const html = `<!doctype html><html lang="en"><title>shop</title>
        <script type="module" src="http://127.0.0.1:${cdnPort}${base}dist/heygen-avatar.js"></script>
        <heygen-avatar token-endpoint="/api/avatar/session" language="en"></heygen-avatar><ol></ol>
        <script type="module">
          const avatar = document.querySelector('heygen-avatar');
          for (const name of ['session-start', 'reply', 'error'])
            avatar.addEventListener('heygen-avatar:' + name, (e) => document.querySelector('ol').append(Object.assign(document.createElement('li'), { textContent: name + ' ' + JSON.stringify(e.detail) })));
        </script>`;
      const site = createServer((req, res) => (req.url === '/' ? void res.writeHead(200, { 'content-type': 'text/html' }).end(html) : void api(req, res)));
      for (const [server, port] of [[cdn, cdnPort], [site, pagePort]] as const) {
        servers.push(server);
        await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
      }
      const browser = await launchChromium();
      try {
        // The offline LLM's whole reply to the spoken question.
        const log = await converse(await browser.newPage(), `${page}/`, /^reply \{"text":"[^"]+","interrupted":false\}$/);
        assert.match(log.find((l) => l.startsWith('session-start')) ?? '', /^session-start \{"sessionId":"[^"]+"\}$/, log.join('\n'));
        assert.ok(!log.some((l) => l.startsWith('error') && l.includes('"recoverable":false')), log.join('\n'));
      } finally {
        await browser.close();
        await offline.close();
      }
      const chunks = fetched.filter((u) => u.startsWith(`${base}dist/chunks/`)).map((u) => u.slice(`${base}dist/chunks/`.length));
      const loaded = (chunk: string) => chunks.some((c) => c.startsWith(`${chunk}-`) && c.endsWith('.js'));
      for (const chunk of ['avatar-session', 'livekit', 'liveavatar', 'deepgram-listen-slim', 'microphone', 'capture-worklet']) {
        assert.ok(loaded(chunk), `${chunk} loaded from the CDN: ${chunks.join(', ')}`);
      }
      assert.ok(!loaded('heygen-streaming'), 'the other avatar provider stays unloaded');
    });
  });
});
