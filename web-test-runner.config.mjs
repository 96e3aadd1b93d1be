// Browser and e2e tests in Debian's Chromium (never a downloaded browser). Run through
// scripts/test.mjs, which builds first, makes the speech fixtures and loads tsx so this
// config can import the TypeScript test plugin.
import { esbuildPlugin } from '@web/dev-server-esbuild';
import { defaultReporter } from '@web/test-runner';
import { chromeLauncher } from '@web/test-runner-chrome';
import { fileURLToPath } from 'node:url';
import { chromiumArgs, chromiumPath } from './test/support/chromium.mjs';
import { countReporter } from './test/support/count-reporter.mjs';
import { cspMiddleware, e2ePlugin, recorderMiddleware, tokenFaultMiddleware } from './test/support/e2e-plugin.ts';

/** The unbundled npm build imports `ws` through the Deepgram SDK: give it what bundlers give a browser. */
const browserWs = {
  name: 'browser-ws',
  resolveImport({ source }) {
    if (source === 'ws') return '/test/support/ws-browser.js';
  },
};

export default {
  rootDir: '.',
  files: ['test/browser/**/*.test.ts', 'test/e2e/**/*.test.ts'],
  nodeResolve: { browser: true },
  concurrency: 1,
  concurrentBrowsers: 1,
  testsFinishTimeout: 10 * 60_000,
  testFramework: { config: { timeout: 60_000 } },
  browsers: [
    chromeLauncher({
      launchOptions: { executablePath: chromiumPath, headless: true, args: chromiumArgs },
    }),
  ],
  middleware: [tokenFaultMiddleware, recorderMiddleware, cspMiddleware],
  plugins: [
    esbuildPlugin({ ts: true, target: 'es2022', tsconfig: fileURLToPath(new URL('./tsconfig.json', import.meta.url)) }),
    browserWs,
    e2ePlugin(),
  ],
  reporters: [defaultReporter(), countReporter({ outFile: process.env.HEYGEN_AVATAR_WTR_COUNTS })],
};
