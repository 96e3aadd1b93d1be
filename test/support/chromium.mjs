// Debian's Chromium and the flags every test and check launches it with (never a downloaded browser).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const chromiumPath =
  process.env.CHROMIUM_PATH || ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));

/** The fake microphone plays this file (made by scripts/fixtures.mjs). */
export const fakeMicWav = fileURLToPath(new URL('../.fixtures/mic.wav', import.meta.url));

export const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--autoplay-policy=no-user-gesture-required',
  '--use-fake-ui-for-media-stream',
  '--use-fake-device-for-media-stream',
  `--use-file-for-fake-audio-capture=${fakeMicWav}`,
  '--allow-loopback-in-peer-connection',
  '--disable-features=WebRtcHideLocalIpsWithMdns',
];
