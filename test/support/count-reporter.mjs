// A web-test-runner reporter that counts passed and failed tests per layer (the first folder under
// test/) and writes the totals to a JSON file for scripts/test.mjs, and prints the plain line
// `N passed, N failed`. A test file that failed to load or errored outside a test counts as one failure.
// With `layer`, every test counts in that layer (another engine's run of browser and e2e tests).
import { writeFileSync } from 'node:fs';
import { relative } from 'node:path';

function countResults(suite, into) {
  if (!suite) return;
  for (const t of suite.tests ?? []) {
    if (t.skipped) into.skipped++;
    else if (t.passed) into.passed++;
    else into.failed++;
  }
  for (const s of suite.suites ?? []) countResults(s, into);
}

export function countReporter({ outFile, layer: fixedLayer } = {}) {
  return {
    onTestRunFinished({ sessions }) {
      const layers = {};
      for (const session of sessions) {
        const layer = fixedLayer ?? relative(process.cwd(), session.testFile).split(/[\\/]/)[1] ?? 'browser';
        const c = (layers[layer] ??= { passed: 0, failed: 0, skipped: 0 });
        const before = c.failed + c.passed;
        countResults(session.testResults, c);
        const sessionBroken = !session.passed && (session.errors?.length ?? 0) > 0;
        if (sessionBroken || (!session.passed && c.failed + c.passed === before)) c.failed++;
      }
      if (outFile) writeFileSync(outFile, JSON.stringify(layers));
      const total = Object.values(layers).reduce((a, c) => ({ passed: a.passed + c.passed, failed: a.failed + c.failed }), { passed: 0, failed: 0 });
      for (const [layer, c] of Object.entries(layers)) console.log(`${layer}: ${c.passed} passed, ${c.failed} failed`);
      console.log(`${total.passed} passed, ${total.failed} failed`);
    },
  };
}
