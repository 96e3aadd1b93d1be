// `heygen-avatar-conformance <token-endpoint-url>`: checks a session endpoint (the shipped broker,
// the WordPress plugin, your own) against the contract, one line per check, then `N passed, N failed`.
import type { OfflineWorld } from '../offline/world.js';
import { DEFAULT_WORLD_PORT, formatResult, runConformance, startKitWorld, worldEnvironment, worldView, type WorldUrls, type WorldView } from './index.js';

const HELP = `heygen-avatar-conformance — checks a session endpoint against the heygen-avatar contract

Usage: heygen-avatar-conformance <token-endpoint-url> [options]

The endpoint must use the offline world (started here, or one you run) instead of the real
services: its avatar service, Deepgram and LLM base URLs and keys are the stand-ins' (--print-env
shows them), and it must allow the kit's page origin. It is then checked for: the session answer
(JSON Schema), CORS, bad requests, STT refresh, heartbeat, the LLM route's SSE and its abort, body
limits, close as a beacon and as JSON, close after the browser stopped the session, origin refusal,
the concurrency cap, a real browser session through the built widget, the rate limit, sessions left
open, and a key scan of every answer.

Options:
  --origin URL      a page origin the endpoint allows; the kit's page is served there
                    (default http://127.0.0.1:8790)
  --world-port N    start the offline world with its stand-ins on ports N…N+3 (default ${DEFAULT_WORLD_PORT})
  --world LIST      use a running world instead: heygen=URL,liveavatar=URL,deepgram=URL,llm=URL
  --print-env       print the settings the endpoint needs (shipped broker's variable names) and exit
  --page URL        run the browser session on this page of your site (it has a <heygen-avatar>)
  --chromium PATH   Chromium to drive (default: CHROMIUM_PATH, /usr/bin/chromium)
  --no-browser      leave out the browser session
  --only IDS        run only these checks (comma-separated ids), for debugging`;

export async function main(argv: string[] = process.argv.slice(2)): Promise<number> {
  const value = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const flags = new Set(['--origin', '--world-port', '--world', '--page', '--chromium', '--only']);
  const endpoint = argv.find((a, i) => !a.startsWith('--') && !flags.has(argv[i - 1]));
  if (argv.includes('--help') || argv.includes('-h') || (!endpoint && !argv.includes('--print-env'))) {
    console.log(HELP);
    return endpoint || argv.includes('--help') || argv.includes('-h') ? 0 : 2;
  }
  const port = Number(value('--world-port') ?? DEFAULT_WORLD_PORT);
  const given = value('--world');
  const urls: WorldUrls = given
    ? (Object.fromEntries(given.split(',').map((kv) => kv.split('=', 2))) as WorldUrls)
    : { heygen: `http://127.0.0.1:${port}`, liveavatar: `http://127.0.0.1:${port + 1}`, deepgram: `http://127.0.0.1:${port + 2}`, llm: `http://127.0.0.1:${port + 3}` };
  if (argv.includes('--print-env')) {
    for (const [k, v] of Object.entries(worldEnvironment(urls))) console.log(`${k}=${v}`);
    return 0;
  }
  let world: OfflineWorld | undefined;
  let view: WorldView = worldView(urls);
  if (!given) {
    console.log(`starting the offline world on ports ${port}–${port + 3} …`);
    ({ world, view } = await startKitWorld(port));
  }
  const origin = value('--origin') ?? 'http://127.0.0.1:8790';
  const page = value('--page');
  const chromium = value('--chromium');
  console.log(`checking ${endpoint} (page origin ${origin})`);
  try {
    const results = await runConformance({
      endpoint: endpoint!,
      origin,
      world: view,
      browser: argv.includes('--no-browser') ? false : { ...(page ? { page } : {}), ...(chromium ? { chromium } : {}) },
      ...(value('--only') ? { only: value('--only')!.split(',') } : {}),
      onResult: (r) => console.log(formatResult(r)),
    });
    const passed = results.filter((r) => r.status === 'passed').length;
    const failed = results.filter((r) => r.status === 'failed').length;
    console.log(`${passed} passed, ${failed} failed`);
    return failed ? 1 : 0;
  } finally {
    await world?.close();
  }
}
