#!/usr/bin/env node
// Runs every test layer and ends with the plain line `N passed, N failed`.
//   node scripts/test.mjs                  build, then unit + browser + e2e + firefox + webkit + conformance + wordpress + package
//   node scripts/test.mjs unit browser     only those layers
//   node scripts/test.mjs e2e --no-build   skip the build (dist/ must be current)
// browser and e2e run in Chromium; firefox runs the browser tests and the spoken e2e conversations
// in Firefox ESR; webkit what WebKitGTK can run (it has no WebRTC), under xvfb-run.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packPackage } from './examples.mjs';
import { makeTestFixtures } from './fixtures.mjs';
import { installLiveKit } from './livekit.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const build = !args.includes('--no-build');
const asked = args.filter((a) => !a.startsWith('--'));
const layers = asked.length ? asked : ['unit', 'browser', 'e2e', 'firefox', 'webkit', 'conformance', 'wordpress', 'package'];
const work = mkdtempSync(join(tmpdir(), 'heygen-avatar-test-'));
const results = {};

function run(cmd, argv, env = {}) {
  const r = spawnSync(cmd, argv, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  return r.status ?? 1;
}

if (build && run('npm', ['run', '--silent', 'build']) !== 0) {
  console.log('build failed\n0 passed, 1 failed');
  process.exit(1);
}
makeTestFixtures();

// Types are part of the contract: a type error fails the run (rollup only warns about them).
const typecheckFailed = build && run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.check.json']) !== 0;
if (typecheckFailed) console.log('typecheck failed');
// …and the built .d.ts as a TypeScript user imports them (test/types/consumer.ts).
const typesFailed = build && run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'test/types']) !== 0;
if (typesFailed) console.log('type test failed');

/** Runs the node:test files of `test/<layer>/` and counts their results. */
function nodeTestLayer(layer, env = {}) {
  const files = readdirSync(join(root, `test/${layer}`)).filter((f) => f.endsWith('.test.ts')).map((f) => `test/${layer}/${f}`);
  const tap = join(work, `${layer}.tap`);
  const status = run(process.execPath, [
    '--import', 'tsx', '--test', '--test-concurrency=1',
    '--test-reporter=spec', '--test-reporter-destination=stdout',
    '--test-reporter=tap', `--test-reporter-destination=${tap}`,
    ...files,
  ], env);
  const text = existsSync(tap) ? readFileSync(tap, 'utf8') : '';
  const num = (name) => Number(text.match(new RegExp(`^# ${name} (\\d+)$`, 'm'))?.[1] ?? 0);
  results[layer] = { passed: num('pass'), failed: num('fail') + num('cancelled'), skipped: num('skipped') + num('todo') };
  if (status !== 0 && results[layer].failed === 0) results[layer].failed = 1;
}

/** Seconds each layer took, printed with its counts. */
const seconds = {};
function timed(layer, fn) {
  const started = Date.now();
  fn();
  seconds[layer] = Math.round((Date.now() - started) / 1000);
}

if (layers.includes('unit')) timed('unit', () => nodeTestLayer('unit'));

const browserLayers = layers.filter((l) => l === 'browser' || l === 'e2e');
if (browserLayers.length) {
  if (browserLayers.includes('e2e')) installLiveKit();
  const counts = join(work, 'wtr.json');
  const status = run(
    process.execPath,
    [
      '--import', 'tsx',
      join(root, 'node_modules/@web/test-runner/dist/bin.js'),
      '--config', 'web-test-runner.config.mjs',
      ...browserLayers.map((l) => `test/${l}/**/*.test.ts`),
    ],
    { HEYGEN_AVATAR_WTR_COUNTS: counts },
  );
  const byLayer = existsSync(counts) ? JSON.parse(readFileSync(counts, 'utf8')) : {};
  for (const l of browserLayers) {
    results[l] = byLayer[l] ?? { passed: 0, failed: 0, skipped: 0 };
  }
  const failedSeen = browserLayers.some((l) => results[l].failed > 0);
  if (status !== 0 && !failedSeen) results[browserLayers[0]].failed += 1;
}

// The other browser engines, each with its own web-test-runner config (test/support/firefox.mjs,
// test/support/webkit.mjs); WebKitGTK needs an X display.
for (const engine of ['firefox', 'webkit'].filter((l) => layers.includes(l))) {
  if (engine === 'firefox') installLiveKit();
  const counts = join(work, `${engine}.json`);
  const wtr = ['--import', 'tsx', join(root, 'node_modules/@web/test-runner/dist/bin.js'), '--config', `web-test-runner.${engine}.config.mjs`];
  const env = { HEYGEN_AVATAR_WTR_COUNTS: counts };
  timed(engine, () => {
    const status = engine === 'webkit' ? run('xvfb-run', ['--auto-servernum', process.execPath, ...wtr], env) : run(process.execPath, wtr, env);
    results[engine] = (existsSync(counts) ? JSON.parse(readFileSync(counts, 'utf8'))[engine] : undefined) ?? { passed: 0, failed: 0, skipped: 0 };
    if (status !== 0 && results[engine].failed === 0) results[engine].failed = 1;
  });
}

// The conformance kit against the shipped broker (and broken endpoints), with the offline world.
if (layers.includes('conformance')) {
  installLiveKit();
  timed('conformance', () => nodeTestLayer('conformance'));
}

// The package as users install it: one `npm pack` for the layer's files (the installed package,
// the examples built against it); the examples' installs are cached between runs (scripts/examples.mjs).
if (layers.includes('package')) {
  installLiveKit();
  try {
    const tarball = packPackage(work);
    timed('package', () => nodeTestLayer('package', { HEYGEN_AVATAR_TARBALL: tarball }));
  } catch (err) {
    console.log(`npm pack failed: ${err.message}`);
    results.package = { passed: 0, failed: 1, skipped: 0 };
  }
}

// The WordPress plugin: its PHPUnit tests (Debian's phpunit), then real WordPress end to end.
if (layers.includes('wordpress')) {
  installLiveKit();
  const junit = join(work, 'phpunit.xml');
  const status = run('phpunit', ['-c', 'integrations/wordpress/phpunit.xml', '--log-junit', junit]);
  const suite = existsSync(junit) ? (readFileSync(junit, 'utf8').match(/<testsuite [^>]*>/)?.[0] ?? '') : '';
  const count = (name) => Number(suite.match(new RegExp(` ${name}="(\\d+)"`))?.[1] ?? NaN);
  const php = suite ? { tests: count('tests'), failed: count('failures') + count('errors') + count('skipped') } : { tests: 1, failed: 1 };
  if (status !== 0 && php.failed === 0) php.failed = 1;
  nodeTestLayer('wordpress');
  results.wordpress.passed += php.tests - php.failed;
  results.wordpress.failed += php.failed;
}

rmSync(work, { recursive: true, force: true });
let passed = 0;
let failed = 0;
console.log('');
for (const l of layers) {
  const r = results[l] ?? { passed: 0, failed: 1, skipped: 0 };
  // A layer that ran nothing is a failure: a green run must have tested something.
  if (r.passed + r.failed === 0) r.failed = 1;
  // Skipped tests are defects here: they count as failures.
  r.failed += r.skipped ?? 0;
  console.log(`${l}: ${r.passed} passed, ${r.failed} failed${seconds[l] === undefined ? '' : ` (${seconds[l]} s)`}`);
  passed += r.passed;
  failed += r.failed;
}
if (typecheckFailed) {
  console.log('typecheck: 0 passed, 1 failed');
  failed += 1;
}
if (typesFailed) {
  console.log('types: 0 passed, 1 failed');
  failed += 1;
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
