// Speech fixtures for tests and benchmarks, synthesised with espeak-ng and converted with sox.
// Written under test/.fixtures/ (not committed) and reused while their text is unchanged.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const FIXTURES_DIR = fileURLToPath(new URL('../test/.fixtures/', import.meta.url));

/**
 * Writes `text` spoken by espeak-ng as a mono 16-bit WAV at `rate` Hz, with `padMs` of silence
 * before and after (a fake microphone loops its file, so the pad separates the repeats).
 */
export function speechWav(text, file, { rate = 48_000, voice = 'en-us', padMs = 500, wpm = 150 } = {}) {
  const out = join(FIXTURES_DIR, file);
  const stamp = `${out}.txt`;
  const key = JSON.stringify({ text, rate, voice, padMs, wpm });
  if (existsSync(out) && existsSync(stamp) && readFileSync(stamp, 'utf8') === key) return out;
  mkdirSync(dirname(out), { recursive: true });
  const raw = `${out}.espeak.wav`;
  execFileSync('espeak-ng', ['-v', voice, '-s', String(wpm), '-w', raw, text]);
  const pad = String(padMs / 1000);
  execFileSync('sox', [raw, '-r', String(rate), '-c', '1', '-b', '16', '-e', 'signed-integer', out, 'pad', pad, pad]);
  writeFileSync(stamp, key);
  return out;
}

/** The fixtures the test suites expect. */
export function makeTestFixtures() {
  return {
    mic: speechWav('what is the weather like today', 'mic.wav', { padMs: 1500 }),
    /** The Russian question of the Russian e2e test (one of the Deepgram stand-in's Russian phrases). */
    micRu: speechWav('Какая сегодня погода?', 'mic-ru.wav', { voice: 'ru', padMs: 1500 }),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(makeTestFixtures());
}
