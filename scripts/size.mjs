#!/usr/bin/env node
// Prints the gzip size of the script-tag bundle's up-front file and of its lazy chunks, from the
// real build in dist/ (run `npm run build` first). `--json` prints the figures as JSON.
import { readFileSync, readdirSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));
/** Gzip budgets in bytes: the file a page loads up front, and everything one session loads. */
export const BUDGETS = { upFront: Math.floor(13.7 * 1024), session: 175 * 1024 };
/** The built-in avatar providers: a session loads its own provider's chunk and never another's. */
export const PROVIDERS = ['liveavatar', 'heygen-streaming'];
/** The UI languages loaded on demand (one chunk each, named after its file in src/element/strings/): a widget loads one at most. */
export const LAZY_LANGUAGES = readdirSync(fileURLToPath(new URL('../src/element/strings/', import.meta.url)))
  .map((f) => f.replace(/\.ts$/, ''))
  .filter((l) => l !== 'en');

export function measureBundle() {
  const file = (name) => {
    const bytes = readFileSync(dist + name);
    return { name, bytes: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
  };
  const upFront = file('heygen-avatar.js');
  const chunks = readdirSync(dist + 'chunks')
    .filter((f) => f.endsWith('.js'))
    .map((f) => file(`chunks/${f}`))
    .sort((a, b) => b.gzip - a.gzip);
  const all = upFront.gzip + chunks.reduce((s, c) => s + c.gzip, 0);
  const providerOf = (chunk) => PROVIDERS.find((p) => chunk.name.startsWith(`chunks/${p}-`));
  const languageChunks = chunks.filter((c) => LAZY_LANGUAGES.some((l) => c.name.startsWith(`chunks/${l}-`)));
  /** A session's UI language is built in or one of these chunks: count the largest, not all of them. */
  const otherLanguages = languageChunks.reduce((s, c) => s + c.gzip, 0) - Math.max(0, ...languageChunks.map((c) => c.gzip));
  /** Everything one session with `provider` loads: all but the other providers' chunks and the other languages'. */
  const sessions = Object.fromEntries(
    PROVIDERS.map((provider) => [provider, all - otherLanguages - chunks.filter((c) => providerOf(c) && providerOf(c) !== provider).reduce((s, c) => s + c.gzip, 0)]),
  );
  return { upFront, chunks, languageChunks, sessions, session: Math.max(...Object.values(sessions)) };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const m = measureBundle();
  if (process.argv.includes('--json')) {
    console.log(JSON.stringify(m, null, 2));
  } else {
    const kb = (n) => `${(n / 1024).toFixed(1).padStart(7)} KB`;
    console.log(`${'file'.padEnd(48)}${'raw'.padStart(10)}${'gzip'.padStart(11)}`);
    for (const f of [m.upFront, ...m.chunks]) console.log(`${f.name.padEnd(48)}${kb(f.bytes)}${kb(f.gzip)}`);
    console.log(`up-front (gzip): ${kb(m.upFront.gzip)}   budget ${kb(BUDGETS.upFront)}`);
    for (const [provider, bytes] of Object.entries(m.sessions)) console.log(`whole session, ${provider} (gzip): ${kb(bytes)}   budget ${kb(BUDGETS.session)}`);
  }
}
