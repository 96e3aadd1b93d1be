// Browser tests again in Debian's WebKitGTK (Safari's engine family): MiniBrowser through
// WebKitWebDriver, under xvfb-run. Debian's build has no WebRTC (no RTCPeerConnection), so no
// session can run; what runs here is what does not need one: capture and the resampler, rendering,
// attributes, errors, the capability message, and the iOS gesture rules. Same servers, plugins and
// middleware as the Chromium config; the microphone is the espeak-ng fixture through
// test/support/engine-microphone.ts. Run through `node scripts/test.mjs webkit`.
import { defaultReporter } from '@web/test-runner';
import chromium from './web-test-runner.config.mjs';
import { countReporter } from './test/support/count-reporter.mjs';
import { otherEngineHtml } from './test/support/other-engines.mjs';
import { webdriverClickPlugin, webkitLauncher } from './test/support/webkit.mjs';

const launcher = webkitLauncher();

export default {
  ...chromium,
  files: ['test/browser/capture.test.ts', 'test/browser/heygen-avatar.test.ts', 'test/webkit/**/*.test.ts'],
  testRunnerHtml: otherEngineHtml,
  browsers: [launcher],
  plugins: [...chromium.plugins, webdriverClickPlugin(launcher)],
  reporters: [defaultReporter(), countReporter({ outFile: process.env.HEYGEN_AVATAR_WTR_COUNTS, layer: 'webkit' })],
};
