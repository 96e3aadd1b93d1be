#!/usr/bin/env node
// The examples under examples/, built against the packed package as a user installs it: `npm pack`,
// then each example's copy in the cache gets the tarball installed (its other dependencies from its
// package-lock.json) and runs its own `npm run build`. The copies keep their node_modules between
// runs, so a run reinstalls only the package under test.
//   node scripts/examples.mjs [name…]          pack dist/ as built, install and build each example
//   node scripts/examples.mjs --lock [name…]   rewrite the examples' package-lock.json files
// Programmatic: packPackage, installExample, buildExample (the `package` test layer uses them).
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
export const EXAMPLES = ['html', 'react', 'vue', 'svelte', 'nextjs'];
/** What an example's build or install makes: never copied from examples/ into the cached copy. */
const MADE = new Set(['node_modules', 'dist', 'public', '.next', 'next-env.d.ts']);

/** Runs npm in `cwd`; throws with its output when it fails. */
export function npm(cwd, args, env = {}) {
  const r = spawnSync('npm', args, { cwd, encoding: 'utf8', env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1', ...env } });
  if (r.status !== 0) throw new Error(`npm ${args.join(' ')} in ${cwd} failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** `npm pack` of the repository as built (dist/ must be current) into `dest`; the tarball's path. */
export function packPackage(dest = mkdtempSync(join(tmpdir(), 'heygen-avatar-pack-'))) {
  const name = npm(root, ['pack', '--silent', '--pack-destination', dest]).trim().split('\n').pop();
  return join(dest, name);
}

/** The example's copy in $HEYGEN_AVATAR_CACHE (default ~/.cache/heygen-avatar). */
export function exampleCopy(name) {
  return join(process.env.HEYGEN_AVATAR_CACHE || join(homedir(), '.cache', 'heygen-avatar'), 'examples', name);
}

/**
 * Lays examples/<name> over its cached copy (what an earlier run installed stays) and installs
 * `tarball` there, the other dependencies as the example's package-lock.json pins them. Returns the copy.
 */
export function installExample(name, tarball) {
  const dir = exampleCopy(name);
  mkdirSync(dir, { recursive: true });
  for (const entry of readdirSync(dir)) if (entry !== 'node_modules' && entry !== '.next') rmSync(join(dir, entry), { recursive: true, force: true });
  cpSync(join(root, 'examples', name), dir, { recursive: true, filter: (src) => !MADE.has(src.split(/[\\/]/).pop()) });
  // The same version number as last time: without this npm may keep the old extraction.
  rmSync(join(dir, 'node_modules', 'heygen-avatar'), { recursive: true, force: true });
  npm(dir, ['install', '--no-save', '--no-audit', '--no-fund', '--prefer-offline', tarball]);
  return dir;
}

/** `npm run build` in an installed copy; its output. */
export function buildExample(dir) {
  return npm(dir, ['run', 'build']);
}

/**
 * Rewrites examples/<name>/package-lock.json: the example's dependencies resolved with the packed
 * package in place of the published one, then `heygen-avatar` recorded by version only, as the
 * registry will serve it.
 */
function lockExample(name, tarball) {
  const work = mkdtempSync(join(tmpdir(), `heygen-avatar-lock-${name}-`));
  cpSync(join(root, 'examples', name), work, { recursive: true, filter: (src) => !MADE.has(src.split(/[\\/]/).pop()) && !src.endsWith('package-lock.json') });
  npm(work, ['install', '--package-lock-only', '--no-audit', '--no-fund', tarball]);
  const lock = JSON.parse(readFileSync(join(work, 'package-lock.json'), 'utf8'));
  const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  lock.packages[''].dependencies['heygen-avatar'] = version;
  const entry = lock.packages['node_modules/heygen-avatar'];
  delete entry.resolved;
  delete entry.integrity;
  lock.name = JSON.parse(readFileSync(join(root, 'examples', name, 'package.json'), 'utf8')).name;
  lock.packages[''].name = lock.name;
  writeFileSync(join(root, 'examples', name, 'package-lock.json'), `${JSON.stringify(lock, null, 2)}\n`);
  rmSync(work, { recursive: true, force: true });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const lock = process.argv.includes('--lock');
  const names = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const tarball = packPackage();
  for (const name of names.length ? names : EXAMPLES) {
    if (!existsSync(join(root, 'examples', name))) throw new Error(`no example ${name}: ${EXAMPLES.join(', ')}`);
    if (lock) {
      lockExample(name, tarball);
      console.log(`examples/${name}/package-lock.json rewritten`);
      continue;
    }
    const started = Date.now();
    const dir = installExample(name, tarball);
    process.stdout.write(buildExample(dir));
    console.log(`${name}: built in ${dir} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
  }
}
