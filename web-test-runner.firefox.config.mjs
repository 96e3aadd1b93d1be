// The browser tests and the spoken e2e conversations (conversation, barge-in) again in Debian's
// Firefox ESR: WebDriver BiDi through puppeteer-core, the launcher web-test-runner's Chrome launcher
// becomes with a custom puppeteer. Same servers, plugins and middleware as the Chromium config; the
// page's microphone is the espeak-ng fixture through test/support/engine-microphone.ts. Not here: the
// LiveKit round trip (it samples frames at Chromium's pace) and the site-embedding pages (an iframe
// and a second tab, both with Firefox's own fake microphone, a tone). Run through
// `node scripts/test.mjs firefox`.
import { defaultReporter } from '@web/test-runner';
import { chromeLauncher, puppeteerCore } from '@web/test-runner-chrome';
import chromium from './web-test-runner.config.mjs';
import { countReporter } from './test/support/count-reporter.mjs';
import { firefoxPath, firefoxPrefs } from './test/support/firefox.mjs';
import { otherEngineHtml } from './test/support/other-engines.mjs';

export default {
  ...chromium,
  files: ['test/browser/**/*.test.ts', 'test/e2e/conversation.test.ts', 'test/e2e/barge-in.test.ts'],
  testRunnerHtml: otherEngineHtml,
  browsers: [
    chromeLauncher({
      puppeteer: puppeteerCore,
      launchOptions: { browser: 'firefox', executablePath: firefoxPath, headless: true, extraPrefsFirefox: firefoxPrefs },
    }),
  ],
  reporters: [defaultReporter(), countReporter({ outFile: process.env.HEYGEN_AVATAR_WTR_COUNTS, layer: 'firefox' })],
};
