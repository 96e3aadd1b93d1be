// Each example under examples/ builds against the packed package as its users would build it
// (type checks included: React's tsc and Vue's vue-tsc read the package's framework typings), and
// the React one, served by `vite preview`, holds a conversation in Chromium against the offline world.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { EXAMPLES, buildExample, installExample } from '../../scripts/examples.mjs';
import { freeTcpPort } from '../../scripts/livekit.mjs';
import { startOfflineBroker } from '../support/offline-broker.js';
import { converse, launchChromium, start, stopAll, tarball } from '../support/packed-package.js';

const repoScript = readFileSync(new URL('../../dist/heygen-avatar.js', import.meta.url));
/** Where each example's build puts the page, and a file that shows the package went into it. */
const outputs: Record<string, (dir: string) => string[]> = {
  html: (dir) => [join(dir, 'public/index.html'), join(dir, 'public/heygen-avatar/heygen-avatar.js')],
  react: (dir) => [join(dir, 'dist/index.html'), ...assets(join(dir, 'dist/assets'))],
  vue: (dir) => [join(dir, 'dist/index.html'), ...assets(join(dir, 'dist/assets'))],
  svelte: (dir) => [join(dir, 'dist/index.html'), ...assets(join(dir, 'dist/assets'))],
  nextjs: (dir) => [join(dir, '.next/BUILD_ID'), join(dir, '.next/server/app/api/avatar/[...route]/route.js')],
};
const assets = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.js')).map((f) => join(dir, f)) : []);
const built: Record<string, string> = {};

describe('the examples, against the packed package', () => {
  after(stopAll);

  for (const name of EXAMPLES) {
    it(`${name} installs the tarball and builds`, () => {
      const dir = installExample(name, tarball());
      assert.deepEqual(readFileSync(join(dir, 'node_modules/heygen-avatar/dist/heygen-avatar.js')), repoScript, 'the package under test, not an earlier one');
      buildExample(dir);
      const files = outputs[name](dir);
      for (const file of files) assert.ok(existsSync(file), file);
      if (name !== 'nextjs' && name !== 'html') {
        assert.ok(files.some((f) => readFileSync(f, 'utf8').includes('heygen-avatar:session-start')), 'the element is bundled');
      }
      built[name] = dir;
    });
  }

  it('the React example holds a spoken turn against the offline world, answered by its llm property', async () => {
    const dir = built.react;
    assert.ok(dir, 'the React example built');
    const port = await freeTcpPort();
    const origin = `http://127.0.0.1:${port}`;
    const offline = await startOfflineBroker([origin]);
    const browser = await launchChromium();
    try {
      const preview = start(process.execPath, [join(dir, 'node_modules/vite/bin/vite.js'), 'preview', '--host', '127.0.0.1', '--port', String(port), '--strictPort'], {
        cwd: dir,
        env: { ...process.env, HEYGEN_AVATAR_BROKER: offline.broker.url },
      });
      await preview.waitFor(new RegExp(`127\\.0\\.0\\.1:${port}`), 30_000);
      // The page's own `llm` (set by React as a property) answers the spoken question, not the broker's route.
      const log = await converse(await browser.newPage(), `${origin}/`, /^reply You said: what is the weather like today\W*$/i);
      assert.match(log.find((l) => l.startsWith('session-start')) ?? '', /^session-start \S+/, log.join('\n'));
      await preview.stop();
    } finally {
      await browser.close();
      await offline.close();
    }
  });
});
