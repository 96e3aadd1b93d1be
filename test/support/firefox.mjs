// Debian's Firefox ESR and the preferences every test launches it with (never a downloaded browser),
// driven over WebDriver BiDi by puppeteer-core.
import { existsSync } from 'node:fs';

export const firefoxPath =
  process.env.FIREFOX_PATH || ['/usr/bin/firefox-esr', '/usr/bin/firefox'].find((p) => existsSync(p));

export const firefoxPrefs = {
  // getUserMedia without a prompt. Firefox's own fake device is a tone, not a file: the page gets the
  // speech fixture from test/support/engine-microphone.ts instead.
  'media.navigator.permission.disabled': true,
  'media.navigator.streams.fake': true,
  // Media and Web Audio may start without a gesture, as Chromium's --autoplay-policy flag allows.
  'media.autoplay.default': 0,
  'media.autoplay.block-webaudio': false,
  // Firefox's mock audio backend. With no sound device (CI, containers) the content process crashes
  // as soon as an AudioContext resumes; Chromium falls back to a fake output by itself.
  'media.cubeb.force_mock_context': true,
  // Loopback ICE candidates, as Chromium's --allow-loopback-in-peer-connection: LiveKit runs on 127.0.0.1.
  'media.peerconnection.ice.loopback': true,
  'media.peerconnection.ice.obfuscate_host_addresses': false,
};
