// Debian's WebKitGTK for web-test-runner: MiniBrowser driven by WebKitWebDriver (classic WebDriver
// over HTTP, no client library), one window reused for every test file. It needs an X display:
// scripts/test.mjs runs the whole web-test-runner under xvfb-run. Never a downloaded browser.
//
// Also a server command for the tests, `webdriver:click` {script}: a real click (a user gesture, as
// a visitor's tap) on the element the given page script returns, e.g. the start button in the
// element's shadow root.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';

export const webkitDriverPath = process.env.WEBKIT_DRIVER_PATH || ['/usr/bin/WebKitWebDriver'].find((p) => existsSync(p));
export const miniBrowserPath =
  process.env.WEBKIT_BROWSER_PATH ||
  ['/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser', '/usr/lib/aarch64-linux-gnu/webkit2gtk-4.1/MiniBrowser'].find((p) => existsSync(p));

/**
 * MiniBrowser's WebKitSettings. Mock capture devices make getUserMedia succeed (with no device it
 * fails with OverconstrainedError); the page plays the speech fixture instead of the mock's beep
 * (test/support/engine-microphone.ts). Audio needs a user gesture, as on iOS: the preference iOS has
 * on (RequiresUserGestureForAudioPlayback), where Chromium's and Firefox's test flags allow autoplay.
 * WebRTC is asked for and still absent: Debian's build has none.
 */
export const webkitArgs = [
  '--enable-media-stream=true',
  '--enable-mock-capture-devices=true',
  '--enable-webaudio=true',
  '--enable-webrtc=true',
  '--features=+RequiresUserGestureForAudioPlayback',
];

const WEB_ELEMENT = 'element-6066-11e4-a52e-4f735466cecf';

async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A web-test-runner browser launcher for WebKitGTK. */
export function webkitLauncher() {
  let driver;
  let base;
  let session;
  let starting;
  const active = new Map();

  async function call(method, path, body) {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(`WebKitWebDriver ${method} ${path}: ${res.status} ${json.value?.error ?? ''} ${json.value?.message ?? ''}`);
    return json.value;
  }

  async function start() {
    if (!process.env.DISPLAY) throw new Error('WebKitGTK needs an X display: run web-test-runner under xvfb-run');
    if (!webkitDriverPath || !miniBrowserPath) throw new Error('WebKitGTK not found: install webkit2gtk-driver');
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    driver = spawn(webkitDriverPath, [`--port=${port}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    // WebKit's processes warn at every page that there is no session bus here, and GStreamer about a
    // property; the rest is passed on.
    createInterface({ input: driver.stderr }).on('line', (line) => {
      if (!/D-Bus|dbus-launch|automatic-eos|^\s*$/.test(line)) process.stderr.write(`${line}\n`);
    });
    const until = Date.now() + 15_000;
    for (;;) {
      const ready = await fetch(`${base}/status`).then((r) => r.ok, () => false);
      if (ready) break;
      if (Date.now() > until) throw new Error('WebKitWebDriver did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
    const args = ['--automation', ...webkitArgs];
    const created = await call('POST', '/session', {
      capabilities: { alwaysMatch: { 'webkitgtk:browserOptions': { binary: miniBrowserPath, args } } },
    });
    session = created.sessionId;
    await call('POST', `/session/${session}/timeouts`, { script: 60_000, pageLoad: 60_000 });
  }

  const ensure = () => (starting ??= start());

  return {
    name: 'WebKitGTK',
    type: 'webkitgtk-webdriver',
    concurrency: 1,

    async startSession(sessionId, url) {
      await ensure();
      active.set(sessionId, url);
      await call('POST', `/session/${session}/url`, { url });
    },
    isActive: (sessionId) => active.has(sessionId),
    getBrowserUrl: (sessionId) => active.get(sessionId),
    async stopSession(sessionId) {
      active.delete(sessionId);
      await call('POST', `/session/${session}/url`, { url: 'about:blank' }).catch(() => undefined);
      return {};
    },
    startDebugSession() {
      throw new Error('WebKitGTK: no debug sessions');
    },
    async stop() {
      if (session) await call('DELETE', `/session/${session}`).catch(() => undefined);
      session = undefined;
      if (driver && driver.exitCode === null) {
        const exited = new Promise((resolve) => driver.once('exit', resolve));
        driver.kill();
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      }
    },

    /** Clicks, as a user, the element `script` (a function body run in the page) returns. */
    async click(script) {
      await ensure();
      const element = await call('POST', `/session/${session}/execute/sync`, { script, args: [] });
      if (!element?.[WEB_ELEMENT]) throw new Error(`webdriver:click: the script returned no element (${JSON.stringify(element)})`);
      await call('POST', `/session/${session}/element/${element[WEB_ELEMENT]}/click`, {});
      return true;
    },
  };
}

/** The `webdriver:click` server command, for pages in a launcher made by webkitLauncher(). */
export function webdriverClickPlugin(launcher) {
  return {
    name: 'webdriver-click',
    async executeCommand({ command, payload }) {
      if (command !== 'webdriver:click') return undefined;
      return launcher.click(String(payload?.script));
    },
  };
}
