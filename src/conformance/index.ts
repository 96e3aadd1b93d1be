// The conformance kit: checks any implementation of the session endpoint contract (docs/broker.md),
// in any language, against the offline world. `runConformance` is what the
// `heygen-avatar-conformance` CLI runs; tests call it with a world of their own.
import { browserSession, type BrowserOptions } from './browser.js';
import { CHECKS, type KitContext } from './checks.js';
import { EndpointClient } from './client.js';
import type { WorldView } from './world.js';

export { startKitWorld, viewOf, worldView, worldEnvironment, DEFAULT_WORLD_PORT } from './world.js';
export type { WorldUrls, WorldView } from './world.js';
export { CHECKS } from './checks.js';

export interface ConformanceOptions {
  /** The token endpoint: `POST` here makes a session. */
  endpoint: string;
  /** A page origin the endpoint allows (the kit's page is served there for the browser check). */
  origin: string;
  /** The offline world the endpoint is configured with. */
  world: WorldView;
  /** The real browser session; `false` leaves it out. */
  browser?: BrowserOptions | false;
  /** Only these checks (ids), for debugging; default all. */
  only?: string[];
  /** Called with each result as it comes. */
  onResult?: (result: CheckResult) => void;
}

export interface CheckResult {
  id: string;
  title: string;
  status: 'passed' | 'failed' | 'skipped';
  detail?: string;
  ms: number;
}

/** Runs the checks in order; resolves with one result per check. */
export async function runConformance(options: ConformanceOptions): Promise<CheckResult[]> {
  const ctx: KitContext = {
    client: new EndpointClient(options.endpoint, options.origin.replace(/\/+$/, '')),
    world: options.world,
    opened: new Map(),
    ...(options.browser === false ? {} : { browserSession: browserSession(options.browser ?? {}) }),
  };
  const results: CheckResult[] = [];
  for (const check of CHECKS) {
    if (options.only && !options.only.includes(check.id) && !['no-open-sessions', 'key-scan'].includes(check.id)) continue;
    const t0 = performance.now();
    let result: CheckResult;
    try {
      const verdict = await check.run(ctx);
      const base = { id: check.id, title: check.title, ms: Math.round(performance.now() - t0) };
      result =
        verdict === undefined
          ? { ...base, status: 'passed' }
          : typeof verdict === 'string'
            ? { ...base, status: 'failed', detail: verdict }
            : { ...base, status: 'skipped', detail: verdict.skip };
    } catch (err) {
      result = { id: check.id, title: check.title, status: 'failed', detail: (err as Error).message, ms: Math.round(performance.now() - t0) };
    }
    results.push(result);
    options.onResult?.(result);
  }
  return results;
}

/** One line per check, as the CLI prints it: the verdict, the check, what it requires, and why it failed. */
export function formatResult(r: CheckResult): string {
  const mark = r.status === 'passed' ? 'ok  ' : r.status === 'failed' ? 'FAIL' : 'skip';
  return `${mark} ${r.id.padEnd(16)} ${r.title}${r.detail ? ` — ${r.detail}` : ''}`;
}
