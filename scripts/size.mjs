#!/usr/bin/env node
// Prints the gzip size of the script-tag bundle's up-front file and of its lazy chunks, from the
// real build in dist/ (run `npm run build` first). `--json` prints the figures as JSON.
import { readFileSync, readdirSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));
/** Gzip budgets in bytes: the file a page loads up front, and everything one session loads. */
export const BUDGETS = { upFront: 15 * 1024, session: 175 * 1024 };
/** The built-in avatar providers: a session loads its own provider's chunk and never another's. */
export const PROVIDERS = ['liveavatar', 'heygen-streaming'];

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
  /** Everything one session with `provider` loads: all but the other providers' chunks. */
  const sessions = Object.fromEntries(
    PROVIDERS.map((provider) => [provider, all - chunks.filter((c) => providerOf(c) && providerOf(c) !== provider).reduce((s, c) => s + c.gzip, 0)]),
  );
  return { upFront, chunks, sessions, session: Math.max(...Object.values(sessions)) };
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
